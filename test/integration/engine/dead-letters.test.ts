import path from 'node:path';
import { sql } from 'kysely';
import PgBoss from 'pg-boss';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { BOSS_SCHEMA, createBoss, deadLetterQueue, QUEUES, type BossSettings } from '../../../src/runtime/boss.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/index.ts';
import { DEFAULT_JOB_HANDLERS } from '../../../src/runtime/jobs/index.ts';
import { receiveOrder } from '../../../src/runtime/orders.ts';
import { retryTicket } from '../../../src/runtime/tickets.ts';
import type { Workers } from '../../../src/runtime/worker.ts';
import { createTestDatabase, type TestDatabase } from '../../support/db.ts';
import { validOrder } from '../../fixtures/orders.ts';
import { eventually, startLatest } from './helpers.ts';

/**
 * Jobs pg-boss gives up on without a worker seeing it: one that expires on its last attempt (the worker
 * holding it died or hangs) is failed by pg-boss's maintenance, and its copy in the queue's dead-letter
 * queue must become what the engine does with a finally failed job. Real pg-boss, real maintenance (every
 * second here), expiries of two seconds.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const SETTINGS: BossSettings = { stepExpireSeconds: 2, serviceExpireSeconds: 2, maintenanceSeconds: 1 };
const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });

let database: TestDatabase;
let boss: PgBoss;
let runtime: Runtime;
let workers: Workers | null = null;
/** Lets the hanging handler go at the end, so the workers can stop. */
let release: () => void = () => {};
const hanging = new Promise<void>((resolve) => (release = resolve));

const NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ordo="urn:ordo:bpmn:1"';
const diagram = (id: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="defs-${id}" targetNamespace="urn:test">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="start" />
${body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

function ensureWorkers(): void {
  workers ??= runtime.startWorkers({ idleMs: 50, batchSize: 10, deadLetterIdleMs: 100 });
}

const start = (key: string) => startLatest(runtime, key);

async function jobsOf(name: string) {
  const { rows } = await sql<{ id: string; state: string; retry_count: number; retry_limit: number; data: Record<string, unknown> }>`
    select id, state, retry_count, retry_limit, data from pgboss.job where name = ${name}`.execute(database.db);
  return rows;
}

/** What a worker that fetched the job on its last attempt and then died leaves behind. */
async function heldByADeadWorker(name: string, id: string): Promise<void> {
  await sql`update pgboss.job set state = 'active', started_on = now(), retry_count = retry_limit where name = ${name} and id = ${id}::uuid`.execute(database.db);
}

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await createBoss(database.url, logger, { max: 4, supervise: true, settings: SETTINGS });
  runtime = createRuntime({
    db: database.db,
    boss,
    logger,
    // Intake only queues starts here, so a start job exists for the tests to lose.
    config: loadConfig({ ORDO_LIFECYCLE_START: 'worker' }),
    jobHandlers: { ...DEFAULT_JOB_HANDLERS, 'call-carrier': () => hanging.then(() => ({})) },
  });
  await runtime.deployDefaults(path.join(ROOT, 'processes'));
  const hang = diagram(
    'hang',
    `    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:serviceTask id="call" name="Call the carrier" ordo:job="call-carrier" ordo:retries="0" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />`,
  );
  const timer = diagram(
    'late-timer',
    `    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="pause" />
    <bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="pause" targetRef="end" />`,
  );
  for (const xml of [hang, timer]) expect((await runtime.deploy(xml, 'test')).processes[0]?.created).toBe(true);
}, 60_000);

afterAll(async () => {
  release();
  await workers?.stop();
  await boss?.stop({ graceful: false, wait: true, timeout: 5_000 });
  await database?.drop();
});

describe('jobs pg-boss fails for good without a worker seeing it', () => {
  it('a lifecycle start that expires on its last attempt still starts the lifecycle', async () => {
    const received = await receiveOrder(database.db, validOrder({ externalId: 'DLQ-START-1' }), 'test', runtime.intakeHooks);
    // A worker fetched the start job on its last attempt and died: nobody will ever complete it.
    const [job] = (await jobsOf(QUEUES.start)).filter((j) => j.data.orderId === received.order.id);
    await heldByADeadWorker(QUEUES.start, job!.id);
    ensureWorkers();

    const instance = await eventually(
      () => database.db.selectFrom('process_instances').select(['id', 'status', 'waiting_at']).where('order_id', '=', received.order.id).executeTakeFirst(),
      (row) => !!row,
      20_000,
    );
    expect(instance!.waiting_at).not.toContain('StartEvent_OrderReceived');
    const order = await database.db.selectFrom('orders').select('status').where('id', '=', received.order.id).executeTakeFirstOrThrow();
    expect(order.status).not.toBe('received');
    expect((await jobsOf(QUEUES.start)).find((j) => j.id === job!.id)?.state).toBe('failed');
    expect((await jobsOf(deadLetterQueue(QUEUES.start))).filter((j) => j.data.orderId === received.order.id).map((j) => j.state)).toEqual(['completed']);
  }, 40_000);

  it('a lifecycle start whose dead letter was tried before waits at its start with a technical ticket; retrying it runs the lifecycle', async () => {
    // The order is received, and its start job was dead-lettered once already without settling (the
    // last try may have crashed its worker): this time nothing is run, a ticket is raised instead.
    const received = await receiveOrder(database.db, validOrder({ externalId: 'DLQ-START-2' }), 'test');
    const id = await boss.send(deadLetterQueue(QUEUES.start), { orderId: received.order.id }, { startAfter: 1 });
    await sql`update pgboss.job set retry_count = 1 where id = ${id}::uuid`.execute(database.db);
    ensureWorkers();

    const ticket = await eventually(
      () => database.db.selectFrom('tickets').selectAll().where('order_id', '=', received.order.id).executeTakeFirst(),
      (row) => !!row,
      20_000,
    );
    expect(ticket).toMatchObject({ kind: 'technical', status: 'open', element_id: 'StartEvent_OrderReceived' });
    expect(ticket!.error).toMatch(/lifecycle did not start: its start job failed on its last attempt.*Retry this ticket/);
    expect((await database.db.selectFrom('orders').select('status').where('id', '=', received.order.id).executeTakeFirstOrThrow()).status).toBe('on_hold');

    await retryTicket(runtime.ctx, String(ticket!.id), {}, { name: 'user:op@example.com', userId: null });
    const after = await database.db.selectFrom('process_instances').select(['waiting_at']).where('order_id', '=', received.order.id).executeTakeFirstOrThrow();
    expect(after.waiting_at).not.toContain('StartEvent_OrderReceived');
    expect((await database.db.selectFrom('tickets').select('status').where('id', '=', ticket!.id).executeTakeFirstOrThrow()).status).toBe('resolved');
  }, 40_000);

  it('a service job whose handler hangs past its expiry on its last attempt ends as a technical ticket', async () => {
    ensureWorkers();
    const started = await start('hang');
    expect(started.status).toBe('active');
    // The worker runs the handler, which never answers; pg-boss takes the job back after 2 s and, with no
    // retries left, fails it.
    const ticket = await eventually(
      () => database.db.selectFrom('tickets').selectAll().where('instance_id', '=', started.instanceId).executeTakeFirst(),
      (row) => !!row,
      20_000,
    );
    expect(ticket).toMatchObject({ kind: 'technical', status: 'open', element_id: 'call' });
    expect(ticket!.error).toBe('The job "call-carrier" expired on its last attempt (the worker running it stopped or hung).');
    const row = await database.db.selectFrom('process_instances').select(['status', 'waiting_at']).where('id', '=', started.instanceId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'active', waiting_at: ['call'] });
  }, 40_000);

  it('a timer that expires on its last attempt fires', async () => {
    ensureWorkers();
    const started = await start('late-timer');
    const [job] = (await jobsOf(QUEUES.timer)).filter((j) => j.data.instanceId === started.instanceId);
    await heldByADeadWorker(QUEUES.timer, job!.id);
    const done = await eventually(
      () => database.db.selectFrom('process_instances').select('status').where('id', '=', started.instanceId).executeTakeFirstOrThrow(),
      (row) => row.status === 'completed',
      20_000,
    );
    expect(done.status).toBe('completed');
  }, 40_000);
});

describe('queues created by an older Ordo', () => {
  it('get the new expiry and their dead-letter queues on restart, and so do the jobs already waiting in them', async () => {
    const old = await createTestDatabase();
    try {
      // The queues as the previous release created them: long expiries, no dead letters.
      const previous = new PgBoss({ connectionString: old.url, schema: BOSS_SCHEMA, supervise: false, schedule: false });
      await previous.start();
      for (const name of Object.values(QUEUES)) await previous.createQueue(name, { name, retryLimit: 3, retryDelay: 10, expireInSeconds: 900 });
      const waiting = await previous.send(QUEUES.service, { instanceId: 'i', jobId: 'j', job: 'x', elementId: 'e' });
      await previous.stop({ graceful: false, wait: true });

      const restarted = await createBoss(old.url, logger, { max: 2, supervise: false, settings: { stepExpireSeconds: 45, serviceExpireSeconds: 300, maintenanceSeconds: 10 } });
      try {
        expect(await restarted.getQueue(QUEUES.service)).toMatchObject({ expireInSeconds: 300, deadLetter: 'ordo-service-dead' });
        expect(await restarted.getQueue(QUEUES.start)).toMatchObject({ expireInSeconds: 45, retryLimit: 5, deadLetter: 'ordo-start-dead' });
        for (const name of Object.values(QUEUES)) {
          expect((await restarted.getQueue(name))?.deadLetter, name).toBe(deadLetterQueue(name));
          expect(await restarted.getQueue(deadLetterQueue(name)), name).not.toBeNull();
        }
        const { rows } = await sql<{ dead_letter: string | null }>`select dead_letter from pgboss.job where id = ${waiting}::uuid`.execute(old.db);
        expect(rows[0]?.dead_letter).toBe('ordo-service-dead');
      } finally {
        await restarted.stop({ graceful: false, wait: true, timeout: 5_000 });
      }
    } finally {
      await old.drop();
    }
  }, 40_000);
});

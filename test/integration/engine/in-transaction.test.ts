import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/runtime/boss.ts';
import { DEFAULT_JOB_HANDLERS, inStepTransaction, type JobHandler } from '../../../src/runtime/jobs/index.ts';
import { createTestApp, type TestApp } from '../../support/app.ts';
import { validOrder } from '../../fixtures/orders.ts';
import { eventually } from './helpers.ts';
import { recordStatements } from '../../support/statements.ts';

/**
 * Where the lifecycle runs: a new order's first step runs in its intake transaction, and service tasks
 * whose handlers only write Ordo's own tables run in the step's transaction. Everything else still goes
 * through pg-boss: a start that cannot run at intake, a handler that throws, a handler that calls out.
 */
let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const auth = () => ({ authorization: `Bearer ${t!.token}` });
let n = 0;
const nextId = () => `INTX-${++n}-${Date.now()}`;

async function queued(name: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from pgboss.job where name = ${name}`.execute(t!.database.db);
  return Number(rows[0]!.n);
}

describe('a new order at intake', () => {
  it('answers with where the lifecycle took it, having run it to the hand-over in the same transaction, with no job queued', async () => {
    t = await createTestApp({ deployDefaults: true });
    const clean = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    expect(clean.status).toBe(201);
    expect(clean.body.status).toBe('released');
    const broken = validOrder({ externalId: nextId() });
    broken.customer.phone = null;
    const held = await t.http.post('/api/v1/orders').set(auth()).send(broken);
    expect(held.status).toBe(201);
    expect(held.body.status).toBe('on_hold');

    // No worker runs in this test: all of it happened inside the two POSTs.
    const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', clean.body.id).orderBy('job').execute();
    expect(effects.map((e) => e.job)).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
    const ticket = await t.database.db.selectFrom('tickets').select(['codes', 'status']).where('order_id', '=', held.body.id).executeTakeFirstOrThrow();
    expect(ticket).toEqual({ codes: ['PHONE_MISSING'], status: 'open' });
    expect(await queued(QUEUES.start)).toBe(0);
    expect(await queued(QUEUES.service)).toBe(0);

    // The same history as a worker would have written, service tasks included.
    const entered = await t.database.db
      .selectFrom('instance_history')
      .innerJoin('process_instances', 'process_instances.id', 'instance_history.instance_id')
      .select('instance_history.element_id')
      .where('process_instances.order_id', '=', clean.body.id)
      .where('instance_history.event', '=', 'entered')
      .execute();
    expect(entered.map((h) => h.element_id)).toEqual(expect.arrayContaining(['Task_ValidateAddress', 'Task_ReserveStock', 'Task_HandOver']));
    const statuses = await t.database.db.selectFrom('order_events').select('data').where('order_id', '=', clean.body.id).where('kind', '=', 'status').orderBy('id').execute();
    expect(statuses.map((s) => s.data)).toEqual([{ from: 'received', to: 'in_progress' }, { from: 'in_progress', to: 'released' }]);
  });

  it('queues the start for a worker when no lifecycle is deployed yet, keeping the order and nothing half-written', async () => {
    t = await createTestApp({ deployDefaults: false });
    const res = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('received');
    expect(await queued(QUEUES.start)).toBe(1);
    const instances = await t.database.db.selectFrom('process_instances').select('id').execute();
    expect(instances).toEqual([]);
  });

  it('only queues the start with ORDO_LIFECYCLE_START=worker, and a worker then runs it', async () => {
    t = await createTestApp({ deployDefaults: true, workers: true, config: { lifecycleStart: 'worker' } });
    const res = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    expect(res.body.status).toBe('received');
    await eventually(async () => (await t!.http.get(`/api/v1/orders/${res.body.id}`).set(auth())).body.status, (s) => s === 'released', 20_000);
  });
});

describe('a service task whose handler works in the step transaction', () => {
  it('hands the job to pg-boss when the handler throws, with its writes rolled back, and the retry completes it', async () => {
    let calls = 0;
    const flaky: JobHandler = inStepTransaction(async (input) => {
      calls++;
      // Written, then thrown: the savepoint must take the row back with it.
      await input.db.insertInto('job_effects').values({ key: `probe:${input.key}:${calls}`, job: 'probe', order_id: input.orderId, instance_id: input.instanceId, data: '{}' }).execute();
      // Intake tries the start three times (its batch's way, then the order alone, then alone with a
      // savepoint per job): fail all three.
      if (calls <= 3) throw new Error('stock service busy');
      return DEFAULT_JOB_HANDLERS['reserve-stock']!(input);
    });
    t = await createTestApp({ deployDefaults: true, runtime: { jobHandlers: { ...DEFAULT_JOB_HANDLERS, 'reserve-stock': flaky } } });
    const res = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('in_progress');
    expect(await queued(QUEUES.service)).toBe(1);
    const probes = await t.database.db.selectFrom('job_effects').select('key').where('job', '=', 'probe').execute();
    expect(probes).toEqual([]);

    // The worker picks the job up and runs the same handler (outside the step now): the order moves on.
    t.workers = t.runtime.startWorkers({ idleMs: 50 });
    await eventually(async () => (await t!.http.get(`/api/v1/orders/${res.body.id}`).set(auth())).body.status, (s) => s === 'released', 20_000);
    expect(calls).toBe(4);
    const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', res.body.id).where('job', '!=', 'probe').orderBy('job').execute();
    expect(effects.map((e) => e.job)).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
  });

  it('runs records-only handlers on a worker without a savepoint each, and still hands one that throws to pg-boss with its record dropped', async () => {
    let calls = 0;
    const flaky: JobHandler = inStepTransaction(
      async (input) => {
        calls++;
        // Recorded, then thrown: the record must not survive the failed attempt.
        if (input.record) await input.record('probe', { attempt: calls });
        if (calls === 1) throw new Error('stock service busy');
        return DEFAULT_JOB_HANDLERS['reserve-stock']!(input);
      },
      { recordsOnly: true },
    );
    t = await createTestApp({
      deployDefaults: true,
      workers: true,
      config: { lifecycleStart: 'worker' },
      runtime: { jobHandlers: { ...DEFAULT_JOB_HANDLERS, 'reserve-stock': flaky } },
    });
    const statements = recordStatements();
    try {
      const first = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
      await eventually(async () => (await t!.http.get(`/api/v1/orders/${first.body.id}`).set(auth())).body.status, (s) => s === 'released', 20_000);
      // The first attempt threw inside the worker's start: the job went to pg-boss and its retry ran it.
      expect(calls).toBe(2);
      expect(await t.database.db.selectFrom('job_effects').select('key').where('job', '=', 'probe').where('order_id', '=', first.body.id).execute()).toEqual([]);

      const started = statements.sent.length;
      const second = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
      await eventually(async () => (await t!.http.get(`/api/v1/orders/${second.body.id}`).set(auth())).body.status, (s) => s === 'released', 20_000);
      // Both service tasks ran in the worker's step, with no savepoint around either.
      expect(await queued(QUEUES.service)).toBe(1);
      expect(statements.sent.slice(started).filter((s) => /savepoint/i.test(s))).toEqual([]);
      const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', second.body.id).orderBy('job').execute();
      expect(effects.map((e) => e.job)).toEqual(['hand-over-to-fulfilment', 'probe', 'reserve-stock']);
    } finally {
      statements.stop();
    }
  });

  it('runs a handler that is not marked as a pg-boss job, outside the transaction', async () => {
    let calls = 0;
    const outside: JobHandler = async (input) => {
      calls++;
      return DEFAULT_JOB_HANDLERS['hand-over-to-fulfilment']!(input);
    };
    t = await createTestApp({ deployDefaults: true, runtime: { jobHandlers: { ...DEFAULT_JOB_HANDLERS, 'hand-over-to-fulfilment': outside } } });
    const res = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    // Stock was reserved in the intake transaction; the hand-over waits for a worker.
    expect(res.body.status).toBe('in_progress');
    expect(calls).toBe(0);
    expect(await queued(QUEUES.service)).toBe(1);
    t.workers = t.runtime.startWorkers({ idleMs: 50 });
    await eventually(async () => (await t!.http.get(`/api/v1/orders/${res.body.id}`).set(auth())).body.status, (s) => s === 'released', 20_000);
    expect(calls).toBe(1);
  });

  it("records a loop's second and third pass through the same service task as the first, in one session: one effect, the same answer", async () => {
    t = await createTestApp({ deployDefaults: true });
    const loop = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ordo="urn:ordo:bpmn:1" id="defs" targetNamespace="urn:test">
  <bpmn:process id="reserve-thrice" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:scriptTask id="count" scriptFormat="feel" ordo:resultVariable="n"><bpmn:script>if n = null then 1 else n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="reserve" />
    <bpmn:serviceTask id="reserve" ordo:job="reserve-stock" />
    <bpmn:sequenceFlow id="f3" sourceRef="reserve" targetRef="again" />
    <bpmn:exclusiveGateway id="again" default="f5" />
    <bpmn:sequenceFlow id="f4" sourceRef="again" targetRef="count"><bpmn:conditionExpression>n &lt; 3</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="again" targetRef="done" />
    <bpmn:userTask id="done" />
    <bpmn:sequenceFlow id="f6" sourceRef="done" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;
    const deployed = await t.http.post('/api/v1/processes').set(auth()).set('content-type', 'application/xml').send(loop);
    expect(deployed.status, deployed.text).toBe(201);
    const started = await t.http.post('/api/v1/processes/reserve-thrice/instances').set(auth()).send({ variables: { order: validOrder({ externalId: nextId() }) } });
    expect(started.status, started.text).toBe(201);
    // All three passes in the start's own transaction, no job queued.
    expect(started.body.waitingAt).toEqual(['done']);
    expect(started.body.variables.n).toBe(3);
    expect(await queued(QUEUES.service)).toBe(0);
    const effects = await t.database.db.selectFrom('job_effects').select(['key', 'data']).where('instance_id', '=', started.body.id).execute();
    expect(effects).toEqual([{ key: `reserve-stock:${started.body.id}:reserve`, data: started.body.variables.stockReservation }]);
  });
});

import path from 'node:path';
import type PgBoss from 'pg-boss';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { connect, type DbHandle } from '../../../src/db/connection.ts';
import type { EngineEvent, InstanceState } from '../../../src/engine/index.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { createBoss } from '../../../src/runtime/boss.ts';
import { latestDefinition } from '../../../src/runtime/definitions.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/index.ts';
import { applyEvent, startInstance, type StepOutcome } from '../../../src/runtime/instances.ts';
import { correlateMessage } from '../../../src/runtime/messages.ts';
import { DEFAULT_JOB_HANDLERS, type JobHandler } from '../../../src/runtime/jobs/index.ts';
import { receiveOrder } from '../../../src/runtime/orders.ts';
import type { Workers } from '../../../src/runtime/worker.ts';
import { validOrder } from '../../fixtures/orders.ts';
import { createTestDatabase, type TestDatabase } from '../../support/db.ts';
import { assertExactlyOnce, lifecycleOrder, postOrders, waitUntilSettled, type PostedOrder } from './exactly-once.ts';
import { eventually, fixture } from './helpers.ts';

/**
 * SPEC §6 and issue 4: "Two workers never step the same instance at once." Two runtimes (two pg-boss
 * instances, two worker sets, two connection pools) on one database, and events racing for the same
 * instance: exactly one applies, the others are no-ops, none is an error.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

let database: TestDatabase;
const pools: DbHandle[] = [];
const bosses: PgBoss[] = [];
const workers: Workers[] = [];
let a: Runtime;
let b: Runtime;
/** Service jobs each runtime's workers ran, to show both worker sets took part. */
const jobsRun = { a: 0, b: 0 };

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
  const make = async (name: 'a' | 'b') => {
    const pool = connect(database.url, { max: 25 });
    const boss = await createBoss(database.url, logger, { max: 3, supervise: false });
    pools.push(pool);
    bosses.push(boss);
    const jobHandlers: Record<string, JobHandler> = {};
    for (const [job, handler] of Object.entries(DEFAULT_JOB_HANDLERS)) {
      jobHandlers[job] = (input) => {
        jobsRun[name]++;
        return handler(input);
      };
    }
    return createRuntime({ db: pool.db, boss, logger, config: loadConfig({}), jobHandlers });
  };
  a = await make('a');
  b = await make('b');
  await a.deployDefaults(path.join(ROOT, 'processes'));
  await a.deploy(await fixture('deadline.bpmn'), 'test');
  // Small batches interleave the two worker sets as much as possible.
  workers.push(a.startWorkers({ idleMs: 20, batchSize: 10 }), b.startWorkers({ idleMs: 20, batchSize: 10 }));
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  for (const boss of bosses) await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
  for (const pool of pools) await pool.close();
  await database?.drop();
});

/** Apply the same event to one instance from `n` transactions at once, alternating the two runtimes. */
async function race(instanceId: string, events: Array<{ event: EngineEvent; actor: string }>): Promise<StepOutcome[]> {
  const settled = await Promise.allSettled(
    events.map(({ event, actor }, i) => {
      const ctx = (i % 2 === 0 ? a : b).ctx;
      return ctx.db.transaction().execute((trx) => applyEvent(ctx, trx, instanceId, event, actor));
    }),
  );
  const errors = settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason));
  expect(errors, 'no racing transaction may fail').toEqual([]);
  return settled.map((s) => (s as PromiseFulfilledResult<StepOutcome>).value);
}

async function lifecycleOf(orderId: string) {
  return database.db.selectFrom('process_instances').selectAll().where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow();
}

async function waitingAt(orderId: string, elementId: string) {
  return eventually(() => lifecycleOf(orderId).catch(() => null), (i) => !!i && i.waiting_at.includes(elementId), 20_000).then((i) => i!);
}

async function historyCount(instanceId: string, elementId: string, event: string): Promise<number> {
  const rows = await database.db.selectFrom('instance_history').select('id').where('instance_id', '=', instanceId).where('element_id', '=', elementId).where('event', '=', event).execute();
  return rows.length;
}

async function orderStatus(orderId: string) {
  return (await database.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status;
}

function pendingPayment(externalId: string): Order {
  const order = validOrder({ externalId });
  return { ...order, payment: { ...order.payment, method: 'bank_transfer', status: 'pending' } };
}

describe('two runtimes on one database', () => {
  it('settle the same stream of orders exactly once', async () => {
    const half = 100;
    const [fromA, fromB] = await Promise.all([postOrders(a.ctx.db, a.intakeHooks, 'TWO-A', half, 5), postOrders(b.ctx.db, b.intakeHooks, 'TWO-B', half, 5)]);
    const orders: PostedOrder[] = [...fromA, ...fromB];
    a.nudge();
    b.nudge();
    await waitUntilSettled(database.db, orders, 40_000);
    await assertExactlyOnce(database.db, orders);
    // Both worker sets took part, and without a crash pg-boss handed no job out twice.
    expect(jobsRun.a).toBeGreaterThan(0);
    expect(jobsRun.b).toBeGreaterThan(0);
    expect(jobsRun.a + jobsRun.b).toBe(orders.filter((o) => !o.broken).length * 2);
  }, 50_000);
});

describe('events racing for one instance', () => {
  it('given 20 transactions delivering the same message at once, then exactly one applies and the rest are no-ops', async () => {
    const { order } = await receiveOrder(a.ctx.db, pendingPayment('RACE-MSG-1'), 'test', a.intakeHooks);
    a.nudge();
    const instance = await waitingAt(order.id, 'Gateway_WaitForPayment');
    expect(await orderStatus(order.id)).toBe('awaiting_payment');

    const outcomes = await race(instance.id, Array.from({ length: 20 }, () => ({ event: { type: 'message', name: 'payment-confirmed', variables: {} } as EngineEvent, actor: 'bank' })));
    expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.applied)).toHaveLength(19);

    await eventually(() => orderStatus(order.id), (s) => s === 'released', 20_000);
    expect(await historyCount(instance.id, 'Task_RecordPayment', 'entered')).toBe(1);
    expect(await historyCount(instance.id, 'Gateway_WaitForPayment', 'left')).toBe(1);
    expect(await historyCount(instance.id, 'Task_ReserveStock', 'entered')).toBe(1);
    const effects = await database.db.selectFrom('job_effects').select('job').where('order_id', '=', order.id).execute();
    expect(effects.map((e) => e.job).sort()).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
  });

  it('given 20 callers correlating the same message at once through both runtimes, then one is delivered and 19 find nobody waiting', async () => {
    const { order } = await receiveOrder(b.ctx.db, pendingPayment('RACE-MSG-2'), 'test', b.intakeHooks);
    b.nudge();
    const instance = await waitingAt(order.id, 'Gateway_WaitForPayment');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => correlateMessage((i % 2 ? a : b).ctx, { name: 'payment-confirmed', businessKey: order.id, variables: {}, actor: 'bank' })),
    );
    expect(results.filter((r) => r.outcome === 'delivered')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'no_match')).toHaveLength(19);
    await eventually(() => orderStatus(order.id), (s) => s === 'released', 20_000);
    expect(await historyCount(instance.id, 'Task_RecordPayment', 'entered')).toBe(1);
  });

  it('given 20 transactions retrying the same ticket at once, then exactly one applies and the ticket is resolved once', async () => {
    const broken = lifecycleOrder('RACE-RETRY', 1, true);
    const { order } = await receiveOrder(a.ctx.db, broken, 'test', a.intakeHooks);
    a.nudge();
    const instance = await waitingAt(order.id, 'Task_ValidateAddress');
    await eventually(() => orderStatus(order.id), (s) => s === 'on_hold');
    const ticket = await database.db.selectFrom('tickets').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
    expect(ticket.codes).toEqual(['PHONE_MISSING']);

    const fixed = { ...broken, customer: { ...broken.customer, phone: '+48 601 234 567' } };
    const outcomes = await race(instance.id, Array.from({ length: 20 }, () => ({ event: { type: 'ticketRetry', waitId: ticket.wait_id, variables: { order: fixed } } as EngineEvent, actor: 'operator' })));
    expect(outcomes.filter((o) => o.applied)).toHaveLength(1);

    await eventually(() => orderStatus(order.id), (s) => s === 'released', 20_000);
    const events = await database.db.selectFrom('ticket_events').select('kind').where('ticket_id', '=', ticket.id).orderBy('id').execute();
    expect(events.map((e) => e.kind)).toEqual(['opened', 'resolved']);
    expect(await historyCount(instance.id, 'Task_ValidateAddress', 'left')).toBe(1);
    expect(await historyCount(instance.id, 'Task_ReserveStock', 'entered')).toBe(1);
    const effects = await database.db.selectFrom('job_effects').select('job').where('order_id', '=', order.id).execute();
    expect(effects).toHaveLength(2);
  });

  it('given a boundary timer firing while the user task is completed, then one of them wins and the instance ends consistently', async () => {
    const definition = (await latestDefinition(a.ctx.db, 'deadline', { executableOnly: true }))!;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const started = await a.ctx.db.transaction().execute((trx) => startInstance(a.ctx, trx, { definition, variables: { refund: i }, actor: 'test' }));
      ids.push(started.instanceId);
    }
    const winners = { timer: 0, user: 0 };
    await Promise.all(
      ids.map(async (id) => {
        const row = await database.db.selectFrom('process_instances').select('state').where('id', '=', id).executeTakeFirstOrThrow();
        const waits = (row.state as InstanceState).waits;
        const timer = waits.find((w) => w.kind === 'timer')!;
        const task = waits.find((w) => w.kind === 'userTask')!;
        // What the timer worker and the ticket "complete" action each do, at the same moment.
        const [byTimer, byUser] = await Promise.all([
          a.ctx.db.transaction().execute((trx) => applyEvent(a.ctx, trx, id, { type: 'timer', timerId: timer.timerId! }, 'timer')),
          b.ctx.db.transaction().execute((trx) => applyEvent(b.ctx, trx, id, { type: 'userTaskCompleted', waitId: task.waitId, variables: { approved: true } }, 'operator')),
        ]);
        expect([byTimer.applied, byUser.applied].filter(Boolean), `instance ${id}`).toHaveLength(1);
        const winner = byTimer.applied ? 'timer' : 'user';
        winners[winner]++;

        const done = await database.db.selectFrom('process_instances').select(['status', 'state', 'waiting_at']).where('id', '=', id).executeTakeFirstOrThrow();
        expect(done.status).toBe('completed');
        expect(done.waiting_at).toEqual([]);
        expect((done.state as InstanceState).waits).toEqual([]);
        expect(await historyCount(id, 'escalated', 'entered')).toBe(winner === 'timer' ? 1 : 0);
        expect(await historyCount(id, 'done', 'entered')).toBe(winner === 'user' ? 1 : 0);
        expect(((done.state as InstanceState).variables.approved ?? null) === true).toBe(winner === 'user');
        const tickets = await database.db.selectFrom('tickets').select(['id', 'status']).where('instance_id', '=', id).execute();
        expect(tickets).toHaveLength(1);
        expect(tickets[0]!.status).toBe(winner === 'user' ? 'resolved' : 'cancelled');
        const events = await database.db.selectFrom('ticket_events').select('kind').where('ticket_id', '=', tickets[0]!.id).orderBy('id').execute();
        expect(events.map((e) => e.kind)).toEqual(['opened', winner === 'user' ? 'resolved' : 'cancelled']);
      }),
    );
    expect(winners.timer + winners.user).toBe(20);
  });

  it('given the payment period running out as the payment is confirmed, then the lifecycle takes exactly one branch', async () => {
    const orders = await Promise.all(Array.from({ length: 10 }, (_, i) => receiveOrder(a.ctx.db, pendingPayment(`RACE-PAY-${i}`), 'test', a.intakeHooks)));
    a.nudge();
    for (const { order } of orders) {
      const instance = await waitingAt(order.id, 'Gateway_WaitForPayment');
      const timer = (instance.state as InstanceState).waits.find((w) => w.kind === 'timer')!;
      const outcomes = await race(instance.id, [
        { event: { type: 'timer', timerId: timer.timerId! }, actor: 'timer' },
        { event: { type: 'message', name: 'payment-confirmed', variables: {} }, actor: 'bank' },
      ]);
      expect(outcomes.filter((o) => o.applied), order.externalId).toHaveLength(1);
      const paid = outcomes[1]!.applied;
      expect(await historyCount(instance.id, 'Gateway_WaitForPayment', 'left')).toBe(1);
      expect(await historyCount(instance.id, 'Task_RecordPayment', 'entered')).toBe(paid ? 1 : 0);
      expect(await historyCount(instance.id, 'Task_PaymentOverdue', 'entered')).toBe(paid ? 0 : 1);
      await eventually(() => orderStatus(order.id), (s) => s === (paid ? 'released' : 'on_hold'), 20_000);
    }
  });
});

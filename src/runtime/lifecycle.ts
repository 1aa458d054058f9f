import { sql } from 'kysely';
import type { Tx } from '../db/database.ts';
import type { OrderStatus } from '../db/tables/orders.table.ts';
import type { ProcessDefinitionRow } from '../db/tables/processes.table.ts';
import { QUEUES, bossDb, deterministicJobId, type StartJobData } from './boss.ts';
import { latestDefinition } from './definitions.ts';
import { StepSession, type RuntimeContext, type StepOutcome } from './instances.ts';
import type { IntakeOrderValues, IntakeView, StoredIntakeOrder } from './orders.ts';

/** The process every received order runs through (processes/order-lifecycle.bpmn). */
export const ORDER_LIFECYCLE_KEY = 'order-lifecycle';

/** Settings the lifecycle diagram reads as `settings.*` (from the environment, see config.ts). */
export interface LifecycleSettings {
  paymentTimeout: string;
  approvalThreshold: string;
  codLimit: string;
}

/** Queue the start of an order's lifecycle inside the intake transaction: the order and its start job commit together. */
export async function enqueueLifecycleStart(ctx: Pick<RuntimeContext, 'boss'>, trx: Tx, ...orderIds: string[]): Promise<void> {
  await ctx.boss.insert(orderIds.map((orderId) => ({ id: deterministicJobId('start', orderId), name: QUEUES.start, data: { orderId } satisfies StartJobData })), { db: bossDb(trx) });
}

/** A new order as intake inserted it. */
export interface NewOrder {
  id: string;
  status: OrderStatus;
  data: unknown;
}

/**
 * Start new orders' lifecycles inside their intake transaction, so each order, its instance and
 * everything its first step did commit together, and the caller's answer already says where the order
 * stands (`on_hold` with its ticket, `released`, ...).
 *
 * `retriedAlone`: the caller receives these orders again one by one if this throws (the intake batcher
 * does), so the fast way is taken — no savepoints, in-transaction jobs without one each — and any failure
 * is left to that retry. Otherwise, in a savepoint, twice at most: first the fast way, then with a
 * savepoint per in-transaction job (a failing job goes to pg-boss); when even that fails (no lifecycle
 * deployed, an unexpected error), the starts are queued as pg-boss jobs and the intake still succeeds.
 * Returns each order's status and data after the step, or null where the start was queued.
 */
export async function startLifecyclesAtIntake(
  ctx: RuntimeContext,
  trx: Tx,
  orders: readonly NewOrder[],
  settings: LifecycleSettings,
  options: { retriedAlone?: boolean; definition?: ProcessDefinitionRow | null } = {},
): Promise<Array<{ status: OrderStatus; data?: unknown } | null>> {
  const run = async (jobSavepoints: boolean) => {
    const session = new StepSession(ctx, trx, { jobSavepoints });
    session.adoptNewOrders(orders);
    await startOrderLifecycles(session, orders.map((o) => o.id), settings, { fresh: true, ...(options.definition ? { definition: options.definition } : {}) });
    await session.flush();
    return orders.map((o) => session.order(o.id) ?? null);
  };
  if (options.retriedAlone) return run(false);
  await sql`savepoint ordo_intake_start`.execute(trx);
  for (const jobSavepoints of [false, true]) {
    try {
      const after = await run(jobSavepoints);
      await sql`release savepoint ordo_intake_start`.execute(trx);
      return after;
    } catch (err) {
      await sql`rollback to savepoint ordo_intake_start`.execute(trx);
      ctx.logger.warn({ orders: orders.length, err: (err as Error).message, jobSavepoints }, 'lifecycle could not start at intake');
    }
  }
  await sql`release savepoint ordo_intake_start`.execute(trx);
  await enqueueLifecycleStart(ctx, trx, ...orders.map((o) => o.id));
  return orders.map(() => null);
}

/**
 * Start the lifecycles of orders received in this transaction whose rows are not written yet (the intake
 * batcher's way, `IntakeHooks.receiveNew`): the session writes each order once, with the status its first
 * step leaves it in, in the statement that writes the instances. The fast way only, no savepoints: the
 * caller receives the orders again one by one the usual way if this throws. That statement fails
 * (`isStaleDefinition`) when `definition` is no longer the lifecycle's latest executable version.
 */
export async function startLifecyclesWithNewOrders(
  ctx: RuntimeContext,
  trx: Tx,
  orders: readonly IntakeOrderValues[],
  settings: LifecycleSettings,
  definition: ProcessDefinitionRow,
): Promise<Array<StoredIntakeOrder & { view: IntakeView }>> {
  const session = new StepSession(ctx, trx, { jobSavepoints: false, expectLatest: { key: definition.key, id: definition.id } });
  session.adoptUnwrittenOrders(orders);
  await startOrderLifecycles(session, orders.map((o) => o.id), settings, { fresh: true, definition });
  await session.flush({ endsTransaction: true });
  return orders.map((o) => {
    const stored = session.writtenOrder(o.id);
    if (!stored) throw new Error(`order ${o.external_id} from ${o.channel} was not written`);
    return { ...stored, view: session.newOrderView(o.id) };
  });
}

/**
 * Start the lifecycle of a received order. Runs at least once per order (pg-boss may redeliver the start
 * job): a second run finds the instance and does nothing; the unique index on process_instances.order_id
 * is the last line of defence.
 */
export async function startOrderLifecycle(ctx: RuntimeContext, trx: Tx, orderId: string, settings: LifecycleSettings): Promise<StepOutcome | null> {
  const session = new StepSession(ctx, trx);
  const [outcome] = await startOrderLifecycles(session, [orderId], settings);
  await session.flush();
  return outcome ?? null;
}

/**
 * Start the lifecycles of a batch of received orders in one session: the orders are locked and checked
 * for an existing instance with one statement each for the whole batch, in id order. Orders that are
 * gone, cancelled or already started are skipped. The caller flushes the session. With `incident`, each
 * lifecycle is created stopped at its start event with a technical ticket saying why (a start job that
 * could not be run; retrying the ticket runs the lifecycle).
 */
export async function startOrderLifecycles(
  session: StepSession,
  orderIds: readonly string[],
  settings: LifecycleSettings,
  /** `definition`: the lifecycle's latest executable version as this transaction already read it (intake's insert does). */
  options: { fresh?: boolean; incident?: string; definition?: ProcessDefinitionRow } = {},
): Promise<StepOutcome[]> {
  const ids = [...new Set(orderIds)].sort();
  if (ids.length === 0) return [];
  const trx = session.transaction;
  let pending: Array<{ id: string; data: unknown }>;
  if (options.fresh) {
    // Inserted by this transaction and adopted by the session: unseen by anyone else, not started.
    pending = ids.map((id) => ({ id, data: session.order(id)!.data }));
  } else {
    const orders = await session.lockOrders(ids);
    const started = new Set(
      (await trx.selectFrom('process_instances').select('order_id').where('order_id', 'in', ids).where('parent_id', 'is', null).execute()).map((r) => r.order_id),
    );
    pending = orders.filter((o) => o.status !== 'cancelled' && !started.has(o.id));
  }
  if (pending.length === 0) return [];
  const definition = options.definition ?? (await latestDefinition(trx, ORDER_LIFECYCLE_KEY, { executableOnly: true }));
  if (!definition) throw new Error(`No executable "${ORDER_LIFECYCLE_KEY}" process is deployed; the order waits until one is.`);
  const outcomes: StepOutcome[] = [];
  for (const order of pending) {
    outcomes.push(
      await session.start({
        definition,
        variables: { order: order.data, orderId: order.id, settings: { ...settings } },
        businessKey: order.id,
        orderId: order.id,
        actor: 'lifecycle',
        ...(options.incident === undefined ? {} : { incident: options.incident }),
      }),
    );
  }
  return outcomes;
}

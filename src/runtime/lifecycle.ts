import type { Tx } from '../db/database.ts';
import { QUEUES, bossDb, deterministicJobId, type StartJobData } from './boss.ts';
import { latestDefinition } from './definitions.ts';
import { StepSession, type RuntimeContext, type StepOutcome } from './instances.ts';

/** The process every received order runs through (processes/order-lifecycle.bpmn). */
export const ORDER_LIFECYCLE_KEY = 'order-lifecycle';

/** Settings the lifecycle diagram reads as `settings.*` (from the environment, see config.ts). */
export interface LifecycleSettings {
  paymentTimeout: string;
  approvalThreshold: string;
  codLimit: string;
}

/** Queue the start of an order's lifecycle inside the intake transaction: the order and its start job commit together. */
export async function enqueueLifecycleStart(ctx: Pick<RuntimeContext, 'boss'>, trx: Tx, orderId: string): Promise<void> {
  await ctx.boss.insert([{ id: deterministicJobId('start', orderId), name: QUEUES.start, data: { orderId } satisfies StartJobData }], { db: bossDb(trx) });
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
export async function startOrderLifecycles(session: StepSession, orderIds: readonly string[], settings: LifecycleSettings, options: { incident?: string } = {}): Promise<StepOutcome[]> {
  const ids = [...new Set(orderIds)].sort();
  if (ids.length === 0) return [];
  const trx = session.transaction;
  const orders = await session.lockOrders(ids);
  const started = new Set(
    (await trx.selectFrom('process_instances').select('order_id').where('order_id', 'in', ids).where('parent_id', 'is', null).execute()).map((r) => r.order_id),
  );
  const pending = orders.filter((o) => o.status !== 'cancelled' && !started.has(o.id));
  if (pending.length === 0) return [];
  const definition = await latestDefinition(trx, ORDER_LIFECYCLE_KEY, { executableOnly: true });
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

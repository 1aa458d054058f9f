import type { Tx } from '../db/database.ts';
import { QUEUES, bossDb, deterministicJobId, type StartJobData } from './boss.ts';
import { latestDefinition } from './definitions.ts';
import { startInstance, type RuntimeContext, type StepOutcome } from './instances.ts';

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
  const order = await trx.selectFrom('orders').select(['id', 'data', 'status']).where('id', '=', orderId).forUpdate().executeTakeFirst();
  if (!order || order.status === 'cancelled') return null;
  const existing = await trx.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirst();
  if (existing) return null;
  const definition = await latestDefinition(trx, ORDER_LIFECYCLE_KEY, { executableOnly: true });
  if (!definition) throw new Error(`No executable "${ORDER_LIFECYCLE_KEY}" process is deployed; the order waits until one is.`);
  return startInstance(ctx, trx, {
    definition,
    variables: { order: order.data, orderId, settings: { ...settings } },
    businessKey: orderId,
    orderId,
    actor: 'lifecycle',
  });
}

import type { Logger } from 'pino';
import type { Db } from '../../db/database.ts';
import type { Order } from '../../orders/schema.ts';

/**
 * Service-task handlers: what an `ordo:job="name"` does. A handler may run more than once for the same
 * job (a worker dies after doing the work but before recording it), so each records its effect under
 * the job's key and does nothing the second time.
 */
export interface JobInput {
  /** The idempotency key for whatever the handler does: one per instance and step, the same on every retry. */
  key: string;
  instanceId: string;
  orderId: string | null;
  elementId: string;
  variables: Record<string, unknown>;
  db: Db;
  logger: Logger;
  /**
   * Aborted when the worker gives up on this attempt (ORDO_SERVICE_TIMEOUT_SECONDS). Pass it on to what
   * the handler waits for (`fetch(url, { signal })`); whatever the handler does after it is ignored, and the
   * retry uses the same `key`.
   */
  signal?: AbortSignal;
  /**
   * Record this job's effect under `${job}:${key}` once, answering whether this run was the first (and the
   * effect as first recorded). Given by a step session that can answer without a round trip (an instance
   * it created itself has no effect recorded yet, and the row is written with the session's others).
   */
  record?: (job: string, data: Record<string, unknown>) => Promise<{ first: boolean; data: Record<string, unknown> }>;
}

const jobLoggers = new WeakMap<Logger, Map<string, Logger>>();

/**
 * The logger a handler is given (`{ job }` bound): one per job name and parent logger, made once, since
 * pino serializes a child's bindings on every `child()` and inline jobs would pay for it twice per order.
 */
export function jobLogger(parent: Logger, job: string): Logger {
  let byJob = jobLoggers.get(parent);
  if (!byJob) jobLoggers.set(parent, (byJob = new Map()));
  let logger = byJob.get(job);
  if (!logger) byJob.set(job, (logger = parent.child({ job })));
  return logger;
}

/** The idempotency key of a service task's job: one per instance and step, the same on every retry. */
export function jobKey(instanceId: string, elementId: string): string {
  return `${instanceId}:${elementId}`;
}

/** Output variables merged into the instance; throw to fail (pg-boss retries with the diagram's backoff). */
export type JobHandler = (input: JobInput) => Promise<Record<string, unknown> | void>;

const IN_STEP_TRANSACTION = Symbol('ordo.jobInStepTransaction');
const RECORDS_ONLY = Symbol('ordo.jobRecordsOnly');

/**
 * Mark a handler that only writes to Ordo's own database through `input.db` and calls nothing outside.
 * Such a handler runs inside the transaction of the step that reached its service task (in a savepoint),
 * so its effect and the instance moving on commit together: exactly once, with no job round trip. When it
 * throws, the savepoint is rolled back and the job goes to pg-boss as any other, with the diagram's
 * retries and backoff. Handlers that call other systems (HTTP, e-mail) must not be marked: they run as
 * pg-boss jobs, outside any transaction.
 *
 * `recordsOnly`: given `record`, the handler writes nothing through `db`. Then an order received in the
 * same transaction need not be written before the handler runs (its row goes in with the step's others,
 * already with the status the step leaves it in); for any other handler it is written first.
 */
export function inStepTransaction(handler: JobHandler, options: { recordsOnly?: boolean } = {}): JobHandler {
  return Object.assign(handler, { [IN_STEP_TRANSACTION]: true, [RECORDS_ONLY]: options.recordsOnly === true });
}

export function runsInStepTransaction(handler: JobHandler | undefined): boolean {
  return !!handler && (handler as unknown as Record<symbol, unknown>)[IN_STEP_TRANSACTION] === true;
}

export function recordsOnly(handler: JobHandler): boolean {
  return (handler as unknown as Record<symbol, unknown>)[RECORDS_ONLY] === true;
}

async function recordOnce(input: JobInput, job: string, data: Record<string, unknown>): Promise<{ first: boolean; data: Record<string, unknown> }> {
  if (input.record) return input.record(job, data);
  const inserted = await input.db
    .insertInto('job_effects')
    .values({ key: `${job}:${input.key}`, job, order_id: input.orderId, instance_id: input.instanceId, data: JSON.stringify(data) })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { first: true, data };
  const existing = await input.db.selectFrom('job_effects').select('data').where('key', '=', `${job}:${input.key}`).executeTakeFirstOrThrow();
  return { first: false, data: existing.data as Record<string, unknown> };
}

/** What reserving the order's lines records (and returns as `stockReservation`), for a job key. */
export function stockReservationFor(order: Order, key: string): { reservationId: string; lines: Array<{ sku: string; quantity: number }> } {
  return { reservationId: `RES-${key.slice(0, 12)}`, lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) };
}

/** What handing the order over records (and returns as `fulfilment`), for a job key. */
export function fulfilmentHandoverFor(order: Order, key: string): { handoverId: string; externalId: string; method: string | null } {
  return { handoverId: `FUL-${key.slice(0, 12)}`, externalId: order.externalId, method: order.delivery?.method ?? null };
}

/*
 * The default handlers log at debug: what a job did is its job_effects row and the instance's history,
 * committed with the step, while the line is written before that commit (an inline job's batch may
 * still roll back) and would add two lines per order to a busy log.
 */

/** Reserve the order's lines in stock. Local bookkeeping for now; the code path is the real one. */
const reserveStock: JobHandler = inStepTransaction(async (input) => {
  const order = input.variables.order as Order | undefined;
  if (!order?.lines?.length) throw new Error('The order has no lines to reserve.');
  const reservation = stockReservationFor(order, input.key);
  const { first, data } = await recordOnce(input, 'reserve-stock', reservation);
  input.logger.debug({ orderId: input.orderId, reservation: data.reservationId, repeated: !first }, 'stock reserved');
  return { stockReservation: data };
}, { recordsOnly: true });

/** Hand the order to fulfilment (the warehouse or 3PL). */
const handOverToFulfilment: JobHandler = inStepTransaction(async (input) => {
  const order = input.variables.order as Order | undefined;
  if (!order) throw new Error('No order to hand over.');
  const handover = fulfilmentHandoverFor(order, input.key);
  const { first, data } = await recordOnce(input, 'hand-over-to-fulfilment', handover);
  input.logger.debug({ orderId: input.orderId, handover: data.handoverId, repeated: !first }, 'order handed over to fulfilment');
  return { fulfilment: data };
}, { recordsOnly: true });

export const DEFAULT_JOB_HANDLERS: Readonly<Record<string, JobHandler>> = Object.freeze({
  'reserve-stock': reserveStock,
  'hand-over-to-fulfilment': handOverToFulfilment,
});

import { sql } from 'kysely';
import type { BulkAction } from '../db/tables/bulk.table.ts';
import type { DbOrTx } from '../db/database.ts';
import { parsePath, parseTransform, type FieldTransform } from '../tickets/fields.ts';
import { bossDb, QUEUES } from './boss.ts';
import { fixTicketField } from './group-fix.ts';
import type { RuntimeContext } from './instances.ts';
import { isUuid } from './orders.ts';
import { assignTicket, cancelOrder, getTicket, retryTicket, TicketError, type Actor } from './tickets.ts';

/**
 * Operators' bulk actions (retry, assign, cancel many tickets; patch: a group fix, one transformation
 * of one field) run as a background job: the request answers at once with the operation's id, and its
 * row is the progress bar the console polls.
 */
export const MAX_BULK_TICKETS = 10_000;
const PROGRESS_EVERY = 10;

export interface BulkJobData {
  operationId: string;
}

export interface BulkParams {
  assigneeId?: string | null;
  reason?: string;
  /** patch: the field every ticket's order gets transformed, and how. */
  field?: string;
  transform?: FieldTransform;
}

export class BulkError extends Error {
  readonly code = 'BULK_INVALID' as const;
  constructor(
    message: string,
    /** The request field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export async function startBulk(ctx: RuntimeContext, action: BulkAction, ticketIds: string[], params: BulkParams, actor: Actor): Promise<string> {
  const ids = [...new Set(ticketIds)];
  if (ids.length === 0) throw new BulkError('Select at least one ticket.', 'ticketIds');
  if (ids.length > MAX_BULK_TICKETS) throw new BulkError(`At most ${MAX_BULK_TICKETS} tickets per bulk action.`, 'ticketIds');
  if (ids.some((id) => !/^\d{1,18}$/.test(id))) throw new BulkError('Ticket ids are whole numbers of at most 18 digits.', 'ticketIds');
  if (action === 'cancel' && !params.reason?.trim()) throw new BulkError('Cancelling orders needs a reason.', 'reason');
  if (action === 'assign' && params.assigneeId && !isUuid(params.assigneeId)) throw new BulkError('The assignee is not a user id.', 'assignee');
  if (action === 'patch') {
    if (!params.field || !parsePath(params.field)) throw new BulkError('A group fix needs the field to change.');
    const t = params.transform;
    if (!t || 'error' in parseTransform(t.kind, t.kind === 'set' ? t.value : undefined)) throw new BulkError('A group fix needs a valid transformation.');
  }
  return ctx.db.transaction().execute(async (trx) => {
    const op = await trx
      .insertInto('bulk_operations')
      .values({ action, actor: JSON.stringify(actor), params: JSON.stringify(params), ticket_ids: ids, total: ids.length })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.boss.insert([{ name: QUEUES.bulk, data: { operationId: op.id } satisfies BulkJobData }], { db: bossDb(trx) });
    return op.id;
  });
}

export async function getBulk(db: DbOrTx, id: string) {
  if (!isUuid(id)) return null;
  const row = await db.selectFrom('bulk_operations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    action: row.action,
    status: row.status,
    total: row.total,
    done: row.done,
    succeeded: row.succeeded,
    failed: row.failed,
    percent: row.total === 0 ? 100 : Math.floor((row.done / row.total) * 100),
    results: row.results as Array<{ ticketId: string; ok: boolean; result?: string; error?: string }>,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/**
 * Carry out a bulk operation. Tickets already handled (a redelivered job after a crash) are skipped by
 * position: `done` is committed with each chunk's results, and the job resumes after it.
 */
export async function runBulk(ctx: RuntimeContext, operationId: string): Promise<void> {
  const op = await ctx.db.selectFrom('bulk_operations').selectAll().where('id', '=', operationId).executeTakeFirst();
  if (!op || op.status === 'done') return;
  const actor = (typeof op.actor === 'string' ? JSON.parse(op.actor) : op.actor) as Actor;
  const params = op.params as BulkParams;
  await ctx.db.updateTable('bulk_operations').set({ status: 'running' }).where('id', '=', op.id).execute();
  let results: Array<{ ticketId: string; ok: boolean; result?: string; error?: string }> = [];
  let succeeded = 0;
  let failed = 0;
  const flush = async (done: number, final: boolean) => {
    await ctx.db
      .updateTable('bulk_operations')
      .set({
        done,
        succeeded: sql<number>`succeeded + ${succeeded}`,
        failed: sql<number>`failed + ${failed}`,
        results: sql<string>`results || ${JSON.stringify(results)}::jsonb`,
        ...(final ? { status: 'done' as const, finished_at: ctx.clock() } : {}),
      })
      .where('id', '=', op.id)
      .execute();
    results = [];
    succeeded = 0;
    failed = 0;
  };
  const cancelledOrders = new Set<string>();
  for (let i = op.done; i < op.ticket_ids.length; i++) {
    const ticketId = String(op.ticket_ids[i]);
    try {
      let result: string;
      if (op.action === 'retry') result = (await retryTicket(ctx, ticketId, {}, actor)).result;
      else if (op.action === 'assign') result = (await assignTicket(ctx, ticketId, params.assigneeId ?? null, actor)).status;
      else if (op.action === 'patch') result = await fixTicketField(ctx, ticketId, params.field!, params.transform!, params.reason?.trim() || null, actor);
      else {
        const ticket = await getTicket(ctx.db, ticketId);
        if (!ticket?.orderId) throw new TicketError('NOT_FOUND', `Ticket #${ticketId} belongs to no order.`);
        if (!cancelledOrders.has(ticket.orderId)) await cancelOrder(ctx, ticket.orderId, params.reason ?? 'bulk cancel', actor);
        cancelledOrders.add(ticket.orderId);
        result = 'cancelled';
      }
      results.push({ ticketId, ok: true, result });
      succeeded++;
    } catch (err) {
      results.push({ ticketId, ok: false, error: err instanceof TicketError ? err.message : 'failed; see the log' });
      failed++;
      if (!(err instanceof TicketError)) ctx.logger.error({ err, ticketId, operationId }, 'bulk action failed on a ticket');
    }
    if ((i + 1) % PROGRESS_EVERY === 0 && i + 1 < op.ticket_ids.length) await flush(i + 1, false);
  }
  await flush(op.ticket_ids.length, true);
}

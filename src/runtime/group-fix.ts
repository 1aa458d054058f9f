import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import { transaction } from '../db/transaction.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { getPath, transformPatch, type FieldTransform } from '../tickets/fields.ts';
import type { RuntimeContext } from './instances.ts';
import { dryRunTicket, lockTicketForStep, patchOrderInTx, requireOpen, retryInTx, TicketError, type Actor } from './tickets.ts';

/**
 * Group fix: open validation tickets that fail the same way (same step, same code, same field) fixed
 * with one transformation of that field. The preview evaluates each order's step on the transformed
 * order without writing (the dry run); applying runs as a bulk operation ('patch'), one transaction per
 * ticket: lock the ticket and the order, transform the field as the order is now, patch, re-run the step.
 */

export interface TicketGroupKey {
  elementId: string;
  code: string;
  /** The issue's field path; '' for issues without one. */
  field: string;
}

export interface TicketGroup extends TicketGroupKey {
  elementName: string | null;
  queue: string;
  count: number;
  /** One of the group's messages, in the operator's words. */
  sample: string | null;
}

/** Groups shown at most; beyond that the queue's filters are the better tool. */
const MAX_GROUPS = 200;

/** Open validation tickets grouped by step + code + field, the largest groups first. */
export async function ticketGroups(db: DbOrTx, options: { since?: Date; open?: boolean; limit?: number; key?: TicketGroupKey } = {}): Promise<TicketGroup[]> {
  const key = options.key;
  const open = options.open ?? true;
  const rows = await sql<{ element_id: string; element_name: string | null; queue: string; code: string; field: string; n: number; sample: string | null }>`
    select t.element_id, max(t.element_name) as element_name, max(t.queue) as queue,
           i->>'code' as code, coalesce(i->>'field', '') as field,
           count(distinct t.id)::int as n, min(i->>'message') as sample
    from tickets t
    cross join lateral jsonb_array_elements(case when jsonb_typeof(t.issues) = 'array' then t.issues else '[]'::jsonb end) i
    where t.kind = 'validation'
      ${open ? sql`and t.status in ('open', 'in_progress')` : sql``}
      ${options.since ? sql`and t.created_at >= ${options.since}` : sql``}
      and i->>'code' is not null
      ${key ? sql`and t.element_id = ${key.elementId} and i->>'code' = ${key.code} and coalesce(i->>'field', '') = ${key.field}` : sql``}
    group by t.element_id, i->>'code', coalesce(i->>'field', '')
    order by n desc, t.element_id, code, field
    limit ${Math.min(options.limit ?? MAX_GROUPS, MAX_GROUPS)}`.execute(db);
  return rows.rows.map((r) => ({ elementId: r.element_id, elementName: r.element_name, queue: r.queue, code: r.code, field: r.field, count: r.n, sample: r.sample }));
}

function issueMatch(key: TicketGroupKey): string {
  return JSON.stringify([key.field ? { code: key.code, field: key.field } : { code: key.code }]);
}

function groupQuery(db: DbOrTx, key: TicketGroupKey) {
  return db
    .selectFrom('tickets as t')
    .where('t.status', 'in', OPEN_TICKET_STATUSES)
    .where('t.kind', '=', 'validation')
    .where('t.element_id', '=', key.elementId)
    .where(sql<boolean>`t.issues @> ${issueMatch(key)}::jsonb`);
}

/** The group's open tickets, oldest first. */
export async function groupTicketIds(db: DbOrTx, key: TicketGroupKey, limit = 10_000): Promise<string[]> {
  const rows = await groupQuery(db, key).select('t.id').orderBy('t.id').limit(limit).execute();
  return rows.map((r) => String(r.id));
}

export async function groupSize(db: DbOrTx, key: TicketGroupKey): Promise<number> {
  const row = await groupQuery(db, key).select(sql<number>`count(*)::int`.as('n')).executeTakeFirst();
  return row?.n ?? 0;
}

export interface GroupPreviewRow {
  ticketId: string;
  orderId: string;
  externalId: string;
  customerName: string | null;
  before: unknown;
  after: unknown;
  /** passes: the step would pass; fails: it would still fail (remaining says why); unchanged: nothing to change. */
  outcome: 'passes' | 'fails' | 'unchanged';
  remaining: string[];
}

/** Dry runs at once during a preview: enough to overlap the round trips, few enough for a small pool. */
const PREVIEW_CONCURRENCY = 4;

/** Before → after and would-it-pass for the group's first `limit` tickets. Writes nothing. */
export async function previewGroupFix(ctx: RuntimeContext, key: TicketGroupKey, transform: FieldTransform, limit = 100) {
  const [total, tickets] = await Promise.all([
    groupSize(ctx.db, key),
    groupQuery(ctx.db, key)
      .innerJoin('orders as o', 'o.id', 't.order_id')
      .select(['t.id', 'o.id as order_id', 'o.external_id', 'o.customer_name', 'o.data'])
      .orderBy('t.id')
      .limit(limit)
      .execute(),
  ]);
  const preview = async (t: (typeof tickets)[number]): Promise<GroupPreviewRow> => {
    const base = { ticketId: String(t.id), orderId: t.order_id, externalId: t.external_id, customerName: t.customer_name };
    const change = transformPatch(transform, t.data, key.field);
    if (!change) return { ...base, before: getPath(t.data, key.field), after: getPath(t.data, key.field), outcome: 'unchanged', remaining: [] };
    const run = await dryRunTicket(ctx, String(t.id), change.patch);
    const remaining = [...run.shapeErrors.map((e) => `${e.field}: ${e.message}`), ...run.issues.map((i) => i.message ?? i.code)];
    return { ...base, before: change.before, after: change.after, outcome: run.passes ? 'passes' : 'fails', remaining };
  };
  const rows: GroupPreviewRow[] = [];
  for (let i = 0; i < tickets.length; i += PREVIEW_CONCURRENCY) rows.push(...(await Promise.all(tickets.slice(i, i + PREVIEW_CONCURRENCY).map(preview))));
  return {
    total,
    rows,
    passes: rows.filter((r) => r.outcome === 'passes').length,
    fails: rows.filter((r) => r.outcome === 'fails').length,
    unchanged: rows.filter((r) => r.outcome === 'unchanged').length,
  };
}

/**
 * One ticket of a group fix, in one transaction: the field is transformed as the order is *now* (not as
 * it was in the preview), the order patched and audited with the reason, and the failed step re-run.
 */
export async function fixTicketField(ctx: RuntimeContext, ticketId: string, field: string, transform: FieldTransform, reason: string | null, actor: Actor): Promise<'resolved' | 'still_failing' | 'unchanged'> {
  return transaction(ctx.db, async (trx) => {
    const row = await lockTicketForStep(trx, ticketId);
    await requireOpen(trx, row);
    if (row.kind !== 'validation' || !row.order_id) throw new TicketError('WRONG_KIND', `Ticket #${row.id} is a ${row.kind} ticket; a group fix changes order data for validation tickets only.`);
    const order = await trx.selectFrom('orders').select('data').where('id', '=', row.order_id).forUpdate().executeTakeFirst();
    if (!order) throw new TicketError('NOT_FOUND', `Ticket #${row.id} belongs to no order.`);
    const change = transformPatch(transform, order.data, field);
    if (!change) return 'unchanged';
    const { order: patched, changes } = await patchOrderInTx(ctx, trx, row.order_id, change.patch, actor, reason);
    await retryInTx(ctx, trx, row, { order: patched.data }, actor, { changes, reason });
    const after = await trx.selectFrom('tickets').select('status').where('id', '=', row.id).executeTakeFirstOrThrow();
    return after.status === 'resolved' ? 'resolved' : 'still_failing';
  });
}

import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { evaluateFeel, toPlain } from '../engine/index.ts';
import type { Db, DbOrTx, Tx } from '../db/database.ts';
import { transaction } from '../db/transaction.ts';
import type { OrderRow, OrderStatus } from '../db/tables/orders.table.ts';
import type { InstanceState } from '../engine/index.ts';
import { OPEN_TICKET_STATUSES, type TicketRow, type TicketStatus } from '../db/tables/tickets.table.ts';
import { applyMergePatch, changedPaths, MergePatchError } from '../orders/merge-patch.ts';
import { checkOrderShape, type FieldError } from '../orders/shape.ts';
import type { Order } from '../orders/schema.ts';
import { appendHistory } from './history.ts';
import { applyEvent, lockInstance, type RuntimeContext } from './instances.ts';
import { searchColumns, toOrderRecord, isIsoInstant, isUuid, type OrderRecord } from './orders.ts';
import { openTicketTally } from './tallies.ts';
import { ticketQuery, toTicketView, type TicketView } from './views.ts';

/**
 * What operators do to tickets and orders: fix an order (merge patch) and re-run the failed step,
 * retry, complete a manual task, assign, cancel. Each is one transaction; the ticket row is locked
 * first, so of two operators acting on one ticket exactly one wins and the other gets NOT_OPEN.
 */

export type TicketErrorCode = 'NOT_FOUND' | 'NOT_OPEN' | 'WRONG_KIND' | 'INVALID_PATCH' | 'INVALID_CURSOR' | 'FIELDS_INVALID' | 'ORDER_CLOSED' | 'NO_LIFECYCLE';

export class TicketError extends Error {
  constructor(
    readonly code: TicketErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Actor {
  /** "user:anna@shop.example" or "system". */
  name: string;
  userId: string | null;
}

export interface RetryOutcome {
  ticket: TicketView;
  /** resolved: the step passed and the order moved on; still_failing: the remaining issues are on the ticket. */
  result: 'resolved' | 'still_failing';
  order: OrderRecord | null;
}

const CLOSED_ORDER: readonly OrderStatus[] = ['completed', 'cancelled'];

async function lockTicket(trx: Tx, id: string): Promise<TicketRow> {
  if (!/^\d{1,18}$/.test(id)) throw new TicketError('NOT_FOUND', `No ticket #${id}.`);
  const row = await trx.selectFrom('tickets').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new TicketError('NOT_FOUND', `No ticket #${id}.`);
  return row;
}

/**
 * Lock a ticket for an action that may step its instance, after what that step goes on to lock, and in
 * the same order every engine step takes its locks: the ticket's instance, then its order, then the
 * ticket. Operators, and an operator and a worker (a timer, a job's completion), acting on one ticket
 * then queue behind one another on the first lock, instead of each holding a row the other waits for:
 * a deadlock, which PostgreSQL ends by failing one of them (a 500 for an operator).
 */
async function lockTicketForStep(trx: Tx, id: string): Promise<TicketRow> {
  if (!/^\d{1,18}$/.test(id)) throw new TicketError('NOT_FOUND', `No ticket #${id}.`);
  const ref = await trx.selectFrom('tickets').select(['instance_id', 'order_id']).where('id', '=', id).executeTakeFirst();
  if (!ref) throw new TicketError('NOT_FOUND', `No ticket #${id}.`);
  await lockInstance(trx, ref.instance_id);
  if (ref.order_id) await trx.selectFrom('orders').select('id').where('id', '=', ref.order_id).forUpdate().execute();
  return lockTicket(trx, id);
}

/** Lock an order's running lifecycle, then the order: the order a step takes them in (see lockTicketForStep). */
async function lockOrderForStep(trx: Tx, orderId: string): Promise<OrderRow | undefined> {
  const lifecycle = await trx.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).where('status', '=', 'active').executeTakeFirst();
  if (lifecycle) await lockInstance(trx, lifecycle.id);
  return trx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirst();
}

async function closedBy(trx: Tx, ticketId: string): Promise<{ actor: string; at: string; kind: string } | null> {
  const e = await trx.selectFrom('ticket_events').select(['actor', 'at', 'kind']).where('ticket_id', '=', ticketId).where('kind', 'in', ['resolved', 'cancelled']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return e ? { actor: e.actor, at: e.at.toISOString(), kind: e.kind } : null;
}

async function requireOpen(trx: Tx, row: TicketRow): Promise<void> {
  if ((OPEN_TICKET_STATUSES as readonly string[]).includes(row.status)) return;
  const by = await closedBy(trx, row.id);
  throw new TicketError('NOT_OPEN', `Ticket #${row.id} is ${row.status} already${by ? ` (${by.kind} by ${by.actor} at ${by.at})` : ''}.`, { ticketStatus: row.status, closedBy: by });
}

export async function getTicket(db: DbOrTx, id: string): Promise<TicketView | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const row = await ticketQuery(db).where('tickets.id', '=', id).executeTakeFirst();
  return row ? toTicketView(row) : null;
}

export async function ticketHistory(db: DbOrTx, id: string) {
  const rows = await db.selectFrom('ticket_events').select(['at', 'actor', 'kind', 'data']).where('ticket_id', '=', id).orderBy('id').execute();
  return rows.map((r) => ({ at: r.at.toISOString(), actor: r.actor, kind: r.kind, data: r.data }));
}

/** A retry's note in the ticket's history: the fields it changed (before → after) and the reason typed. */
export interface RetryNote {
  changes: ReturnType<typeof changedPaths>;
  reason: string | null;
}

/**
 * Apply a merge patch to an order inside a transaction: shape-checked, audited (every changed path with
 * its old and new value, who and why), and handed to the order's lifecycle as its `order` variable.
 * Answers the order and what changed (nothing when the patch left the order as it was).
 */
export async function patchOrderInTx(ctx: RuntimeContext, trx: Tx, orderId: string, patch: unknown, actor: Actor, reason: string | null): Promise<{ order: OrderRecord; changes: RetryNote['changes'] }> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new TicketError('INVALID_PATCH', 'A merge patch must be a JSON object.');
  const row = await lockOrderForStep(trx, orderId);
  if (!row) throw new TicketError('NOT_FOUND', `No order with id ${orderId}.`);
  if (CLOSED_ORDER.includes(row.status)) throw new TicketError('ORDER_CLOSED', `Order ${row.external_id} is ${row.status}; it can no longer be changed.`);
  let next: unknown;
  try {
    next = applyMergePatch(row.data, patch);
  } catch (err) {
    if (err instanceof MergePatchError) throw new TicketError('INVALID_PATCH', err.message);
    throw err;
  }
  const shape = checkOrderShape(next);
  if (shape.length > 0) throw new TicketError('INVALID_PATCH', `The patched order is not well-formed: ${shape.length} field(s).`, { errors: shape });
  const order = next as Order;
  if (order.channel !== row.channel || order.externalId !== row.external_id) {
    throw new TicketError('INVALID_PATCH', 'channel and externalId identify the order and cannot be changed.', { errors: [{ field: order.channel !== row.channel ? 'channel' : 'externalId', message: 'cannot be changed' }] });
  }
  const changes = changedPaths(row.data, order);
  if (changes.length === 0) return { order: toOrderRecord(row), changes };
  const updated = await trx
    .updateTable('orders')
    .set({ data: JSON.stringify(order), ...searchColumns(order), updated_at: ctx.clock(), revision: sql<number>`revision + 1` })
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx.insertInto('order_events').values({ order_id: orderId, actor: actor.name, kind: 'patched', data: JSON.stringify({ changes, reason }) }).execute();
  await setLifecycleOrder(ctx, trx, orderId, order, actor);
  return { order: toOrderRecord(updated), changes };
}

/** The lifecycle reads the order from its `order` variable; keep the two the same after a fix. */
async function setLifecycleOrder(ctx: RuntimeContext, trx: Tx, orderId: string, order: Order, actor: Actor): Promise<void> {
  const instance = await trx.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).where('status', '=', 'active').executeTakeFirst();
  if (!instance) return;
  const locked = await lockInstance(trx, instance.id);
  if (!locked) return;
  const state = locked.state as InstanceState;
  const next: InstanceState = { ...state, variables: { ...state.variables, order } };
  await trx
    .updateTable('process_instances')
    .set({ state: JSON.stringify(next), revision: locked.revision + 1, updated_at: ctx.clock() })
    .where('id', '=', instance.id)
    .execute();
  await appendHistory(trx, instance.id, [
    { element_id: locked.process_key, element_type: 'bpmn:Process', event: 'variables', at: ctx.clock().toISOString(), actor: actor.name, data: { changed: ['order'] } },
  ]);
}

async function openValidationTickets(trx: Tx, orderId: string) {
  return trx
    .selectFrom('tickets')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('status', 'in', OPEN_TICKET_STATUSES)
    .where('kind', '=', 'validation')
    .orderBy('id')
    .forUpdate()
    .execute();
}

async function retryInTx(ctx: RuntimeContext, trx: Tx, row: TicketRow, variables: Record<string, unknown> | undefined, actor: Actor, note?: RetryNote) {
  const data = note && (note.changes.length > 0 || note.reason) ? { changes: note.changes, reason: note.reason } : {};
  await trx.insertInto('ticket_events').values({ ticket_id: row.id, actor: actor.name, kind: 'retried', data: JSON.stringify(data) }).execute();
  await applyEvent(ctx, trx, row.instance_id, { type: 'ticketRetry', waitId: row.wait_id, variables }, actor.name);
}

/** PATCH /orders/:id: fix the order, then re-run every open validation ticket's step at once. */
export async function patchOrder(ctx: RuntimeContext, orderId: string, patch: unknown, actor: Actor, reason: string | null) {
  if (!isUuid(orderId)) throw new TicketError('NOT_FOUND', `No order with id ${orderId}.`);
  return transaction(ctx.db, async (trx) => {
    const { order, changes } = await patchOrderInTx(ctx, trx, orderId, patch, actor, reason);
    const tickets = await openValidationTickets(trx, orderId);
    for (const t of tickets) await retryInTx(ctx, trx, t, { order: order.data }, actor, { changes, reason });
    const after = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    const views = tickets.length ? (await ticketQuery(trx).where('tickets.id', 'in', tickets.map((t) => t.id)).execute()).map(toTicketView) : [];
    return { order: toOrderRecord(after), retried: views };
  });
}

/** POST /tickets/:id/retry, optionally with a merge patch of the order applied first. */
export async function retryTicket(ctx: RuntimeContext, ticketId: string, input: { patch?: unknown; reason?: string | null }, actor: Actor): Promise<RetryOutcome> {
  return transaction(ctx.db, async (trx) => {
    const row = await lockTicketForStep(trx, ticketId);
    await requireOpen(trx, row);
    if (row.kind === 'manual') throw new TicketError('WRONG_KIND', `Ticket #${row.id} is a manual task; complete it instead of retrying.`);
    let order: OrderRecord | null = null;
    const note: RetryNote = { changes: [], reason: input.reason ?? null };
    if (input.patch !== undefined && row.order_id) ({ order, changes: note.changes } = await patchOrderInTx(ctx, trx, row.order_id, input.patch, actor, note.reason));
    else if (input.patch !== undefined) throw new TicketError('INVALID_PATCH', 'This ticket belongs to no order; there is nothing to patch.');
    const currentOrder = row.order_id ? ((order ?? (await trx.selectFrom('orders').selectAll().where('id', '=', row.order_id).executeTakeFirst().then((r) => (r ? toOrderRecord(r) : null)))) ?? null) : null;
    await retryInTx(ctx, trx, row, currentOrder ? { order: currentOrder.data } : undefined, actor, note);
    const view = toTicketView((await ticketQuery(trx).where('tickets.id', '=', row.id).executeTakeFirstOrThrow())!);
    const orderAfter = row.order_id ? await trx.selectFrom('orders').selectAll().where('id', '=', row.order_id).executeTakeFirst() : undefined;
    return { ticket: view, result: view.status === 'resolved' ? 'resolved' : 'still_failing', order: orderAfter ? toOrderRecord(orderAfter) : null };
  });
}

function coerceField(field: { name: string; type: string | null; required: boolean; options?: string | null }, value: unknown): { value?: unknown; error?: string } {
  const empty = value === undefined || value === null || value === '';
  if (empty) return field.required ? { error: 'is required' } : { value: undefined };
  switch (field.type) {
    case 'boolean':
      if (typeof value === 'boolean') return { value };
      if (value === 'true' || value === 'on' || value === 'yes') return { value: true };
      if (value === 'false' || value === 'off' || value === 'no') return { value: false };
      return { error: 'must be yes or no' };
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? { value: n } : { error: 'must be a number' };
    }
    case 'select': {
      const options = (field.options ?? '').split(',').map((o) => o.trim()).filter(Boolean);
      return options.includes(String(value)) ? { value: String(value) } : { error: `must be one of: ${options.join(', ')}` };
    }
    default:
      return typeof value === 'string' ? (value.length > 5000 ? { error: 'is too long (at most 5000 characters)' } : { value }) : { error: 'must be text' };
  }
}

/** POST /tickets/:id/complete: a manual task done, with its form's values as variables. */
export async function completeTicket(ctx: RuntimeContext, ticketId: string, values: Record<string, unknown>, actor: Actor): Promise<TicketView> {
  return transaction(ctx.db, async (trx) => {
    const row = await lockTicketForStep(trx, ticketId);
    await requireOpen(trx, row);
    if (row.kind !== 'manual') throw new TicketError('WRONG_KIND', `Ticket #${row.id} is a ${row.kind} ticket; fix the data and retry instead.`);
    const fields = (row.fields as Array<{ name: string; type: string | null; required: boolean; options?: string | null }>) ?? [];
    const variables: Record<string, unknown> = {};
    const errors: FieldError[] = [];
    for (const f of fields) {
      const r = coerceField(f, values[f.name]);
      if (r.error) errors.push({ field: f.name, message: r.error });
      else if (r.value !== undefined) variables[f.name] = r.value;
    }
    // A value for no field of the form would be dropped without a word: the sender meant something by it.
    const declared = new Set(fields.map((f) => f.name));
    for (const name of Object.keys(values)) {
      if (!declared.has(name)) errors.push({ field: name, message: fields.length > 0 ? `is not a field of this task's form (its fields: ${[...declared].join(', ')})` : "is not a field of this task's form (it has none)" });
    }
    if (errors.length > 0) throw new TicketError('FIELDS_INVALID', `${errors.length} field(s) are missing or not as the form expects.`, { errors });
    await trx.insertInto('ticket_events').values({ ticket_id: row.id, actor: actor.name, kind: 'completed', data: JSON.stringify({ variables }) }).execute();
    await applyEvent(ctx, trx, row.instance_id, { type: 'userTaskCompleted', waitId: row.wait_id, variables }, actor.name);
    return toTicketView((await ticketQuery(trx).where('tickets.id', '=', row.id).executeTakeFirstOrThrow())!);
  });
}

/** Assign (open → in progress) or unassign (back to open). */
export async function assignTicket(ctx: RuntimeContext, ticketId: string, assigneeId: string | null, actor: Actor): Promise<TicketView> {
  return transaction(ctx.db, async (trx) => assignInTx(ctx, trx, ticketId, assigneeId, actor));
}

async function assignInTx(ctx: RuntimeContext, trx: Tx, ticketId: string, assigneeId: string | null, actor: Actor): Promise<TicketView> {
  const row = await lockTicket(trx, ticketId);
  await requireOpen(trx, row);
  let email: string | null = null;
  if (assigneeId) {
    const user = isUuid(assigneeId) ? await trx.selectFrom('users').select(['id', 'email', 'disabled_at']).where('id', '=', assigneeId).executeTakeFirst() : undefined;
    if (!user || user.disabled_at) throw new TicketError('FIELDS_INVALID', 'No active user with that id.', { errors: [{ field: 'assignee', message: 'is not an active user' }] });
    email = user.email;
  }
  const status: TicketStatus = assigneeId ? 'in_progress' : 'open';
  await trx.updateTable('tickets').set({ assignee_id: assigneeId, status, updated_at: ctx.clock(), revision: sql<number>`revision + 1` }).where('id', '=', row.id).execute();
  await trx.insertInto('ticket_events').values({ ticket_id: row.id, actor: actor.name, kind: assigneeId ? 'assigned' : 'unassigned', data: JSON.stringify({ assignee: email }) }).execute();
  return toTicketView((await ticketQuery(trx).where('tickets.id', '=', row.id).executeTakeFirstOrThrow())!);
}

export async function commentOnTicket(ctx: RuntimeContext, ticketId: string, text: string, actor: Actor): Promise<void> {
  await transaction(ctx.db, async (trx) => {
    const row = await lockTicket(trx, ticketId);
    await trx.insertInto('ticket_events').values({ ticket_id: row.id, actor: actor.name, kind: 'comment', data: JSON.stringify({ text: text.slice(0, 5000) }) }).execute();
  });
}

/** POST /orders/:id/cancel: end the lifecycle (its open tickets are cancelled with it). */
export async function cancelOrder(ctx: RuntimeContext, orderId: string, reason: string, actor: Actor): Promise<OrderRecord> {
  if (!isUuid(orderId)) throw new TicketError('NOT_FOUND', `No order with id ${orderId}.`);
  return transaction(ctx.db, async (trx) => cancelOrderInTx(ctx, trx, orderId, reason, actor));
}

async function cancelOrderInTx(ctx: RuntimeContext, trx: Tx, orderId: string, reason: string, actor: Actor): Promise<OrderRecord> {
  const order = await lockOrderForStep(trx, orderId);
  if (!order) throw new TicketError('NOT_FOUND', `No order with id ${orderId}.`);
  if (CLOSED_ORDER.includes(order.status)) throw new TicketError('ORDER_CLOSED', `Order ${order.external_id} is ${order.status} already.`);
  await trx.insertInto('order_events').values({ order_id: orderId, actor: actor.name, kind: 'cancelled', data: JSON.stringify({ reason }) }).execute();
  const instance = await trx.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).where('status', '=', 'active').executeTakeFirst();
  if (instance) await applyEvent(ctx, trx, instance.id, { type: 'cancel', reason }, actor.name);
  // Not started yet (or already ended without a status change): the order itself says cancelled.
  const after = await trx
    .updateTable('orders')
    .set({ status: 'cancelled', updated_at: ctx.clock() })
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
  const stray = await trx
    .updateTable('tickets')
    .set({ status: 'cancelled', closed_at: ctx.clock(), updated_at: ctx.clock() })
    .where('order_id', '=', orderId)
    .where('status', 'in', OPEN_TICKET_STATUSES)
    .returning('id')
    .execute();
  for (const t of stray) await trx.insertInto('ticket_events').values({ ticket_id: t.id, actor: actor.name, kind: 'cancelled', data: JSON.stringify({ reason }) }).execute();
  return toOrderRecord(after);
}

/**
 * POST /tickets/:id/dry-run: would the failed step pass with this patch? Evaluates the step's script on
 * the patched order without writing anything (the console's live validation).
 */
export async function dryRunTicket(ctx: RuntimeContext, ticketId: string, patch: unknown) {
  const row = await ticketQuery(ctx.db).where('tickets.id', '=', /^\d{1,18}$/.test(ticketId) ? ticketId : '0').executeTakeFirst();
  if (!row) throw new TicketError('NOT_FOUND', `No ticket #${ticketId}.`);
  if (row.kind !== 'validation' || !row.order_id) throw new TicketError('WRONG_KIND', `Ticket #${row.id} is a ${row.kind} ticket; only validation tickets can be dry-run.`);
  const [order, instance] = await Promise.all([
    ctx.db.selectFrom('orders').select('data').where('id', '=', row.order_id).executeTakeFirstOrThrow(),
    ctx.db.selectFrom('process_instances').select(['state', 'definition_id']).where('id', '=', row.instance_id).executeTakeFirstOrThrow(),
  ]);
  let patched: unknown;
  try {
    patched = patch === undefined ? order.data : applyMergePatch(order.data, patch);
  } catch (err) {
    if (err instanceof MergePatchError) throw new TicketError('INVALID_PATCH', err.message);
    throw err;
  }
  const shapeErrors = checkOrderShape(patched);
  if (shapeErrors.length > 0) {
    return { passes: false, shapeErrors, issues: [] as Array<{ code: string; field?: string; message?: string }> };
  }
  const model = await ctx.models.get(ctx.db, instance.definition_id);
  const element = model.elements[row.element_id];
  if (!element || element.kind !== 'scriptTask') throw new TicketError('WRONG_KIND', `The step of ticket #${row.id} is not a script task.`);
  const variables = { ...(instance.state as InstanceState).variables, order: patched };
  const value = toPlain(evaluateFeel(element.script, variables, { functions: ctx.feelFunctions, now: ctx.clock() }));
  const issues = Array.isArray(value) ? (value.filter((i) => i && typeof i === 'object' && 'code' in i) as Array<{ code: string; field?: string; message?: string }>) : [];
  return { passes: issues.length === 0, shapeErrors: [] as FieldError[], issues };
}

export interface TicketFilters {
  status?: TicketStatus | 'active';
  queue?: string;
  code?: string;
  kind?: string;
  assigneeId?: string | null;
  unassigned?: boolean;
  orderId?: string;
  q?: string;
  olderThanMinutes?: number;
}

export type TicketSort = 'due' | 'priority' | 'newest';

/** Keyset cursor over the sort columns and the id. */
function encode(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}
function decode(cursor: string): unknown[] | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** A cursor's values go into SQL casts: each must be what encode() wrote for this sort, or PostgreSQL refuses the cast. */
function cursorFits(sort: TicketSort, c: unknown[]): boolean {
  const isId = (v: unknown) => (typeof v === 'string' || typeof v === 'number') && /^\d{1,18}$/.test(String(v));
  if (sort === 'priority') return c.length === 3 && Number.isInteger(c[0]) && Math.abs(c[0] as number) < 1_000_000 && isIsoInstant(c[1]) && isId(c[2]);
  if (sort === 'newest') return c.length === 1 && isId(c[0]);
  return c.length === 2 && isIsoInstant(c[0]) && isId(c[1]);
}

/** Tickets without a due time sort after every other (keyset cursors carry this value for them). */
const FAR = '9999-12-31T00:00:00Z';
/** The queue's due-time sort key, written exactly as the indexes of migration 0008 have it. */
const DUE = sql`coalesce(tickets.due_at, ${sql.lit(FAR)}::timestamptz)`;
/**
 * That key as a cursor carries it: text to the microsecond, as PostgreSQL keeps it. A JavaScript date
 * stops at the millisecond, and a cursor cut there would sort before its own row's due time when that
 * has microseconds (a due time written by SQL, say), so the next page would start with that row again.
 */
export const DUE_CURSOR = sql<string>`to_char(${DUE} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The WHERE and ORDER BY of a page of tickets, and how to write the cursor after its last row. */
export interface TicketPage {
  where: RawBuilder<SqlBool>;
  order: RawBuilder<unknown>;
  size: number;
  /** The cursor after a row; `due_cursor` is the row's DUE_CURSOR. */
  cursorAfter(row: { id: string; priority_rank: number; due_cursor: string }): string;
}

/**
 * A page of tickets in one of three orders, each an index order (migration 0008), so a page is a short
 * index range whatever the number of open tickets: due (soonest first, tickets without a due time
 * last), priority (most urgent first, then due) and newest. A search looks for the text in the
 * ticket's title and in its order's number, customer name and e-mail, all in the ticket's `search`
 * column (kept by triggers, migration 0008) with a trigram index over open tickets: PostgreSQL walks
 * the sort order when the text is common and looks it up in the index when it is rare.
 */
export function ticketPage(filters: TicketFilters, sort: TicketSort = 'due', limit = 50, cursor?: string): TicketPage {
  const size = Math.min(Math.max(limit, 1), 200);
  const c = cursor ? decode(cursor) : null;
  if (cursor && (!c || !cursorFits(sort, c))) throw new TicketError('INVALID_CURSOR', 'The cursor is not one this server issued.');
  const conds: Array<RawBuilder<SqlBool>> = [];
  if (filters.status === 'active' || filters.status === undefined) conds.push(sql`tickets.status in ('open', 'in_progress')`);
  else conds.push(sql`tickets.status = ${filters.status}`);
  if (filters.queue) conds.push(sql`tickets.queue = ${filters.queue}`);
  if (filters.kind) conds.push(sql`tickets.kind = ${filters.kind}`);
  if (filters.code) {
    conds.push(sql`tickets.codes @> array[${filters.code}]::text[]`);
    // Open tickets with the code (in the queue) are counted by the tally: when it says none, the
    // statement ends on this one-time test instead of walking every open ticket (of the queue) in due
    // order for a match that is not there, which the planner cannot foresee.
    if (filters.status === undefined || filters.status === 'active' || filters.status === 'open' || filters.status === 'in_progress') {
      const key = filters.queue ? sql`json_build_array(${filters.queue}::text, ${filters.code}::text)::text` : sql`${filters.code}::text`;
      conds.push(sql`(select coalesce(sum(delta), 0) from open_ticket_tally where kind = ${filters.queue ? 'queue_code' : 'code'} and key = ${key}) > 0`);
    }
  }
  if (filters.assigneeId) conds.push(sql`tickets.assignee_id = ${filters.assigneeId}`);
  if (filters.unassigned) conds.push(sql`tickets.assignee_id is null`);
  if (filters.orderId) conds.push(sql`tickets.order_id = ${filters.orderId}`);
  if (filters.olderThanMinutes) conds.push(sql`tickets.created_at < ${new Date(Date.now() - filters.olderThanMinutes * 60_000)}`);
  if (filters.q && filters.q.trim()) {
    const text = `%${filters.q.trim().replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
    conds.push(sql`tickets.search ilike ${text}`);
  }
  let order: RawBuilder<unknown>;
  if (sort === 'priority') {
    if (c) conds.push(sql`(-tickets.priority_rank, ${DUE}, tickets.id) > (${-Number(c[0])}, ${String(c[1])}::timestamptz, ${String(c[2])}::bigint)`);
    order = sql`-tickets.priority_rank, ${DUE}, tickets.id`;
  } else if (sort === 'newest') {
    if (c) conds.push(sql`tickets.id < ${String(c[0])}::bigint`);
    order = sql`tickets.id desc`;
  } else {
    if (c) conds.push(sql`(${DUE}, tickets.id) > (${String(c[0])}::timestamptz, ${String(c[1])}::bigint)`);
    order = sql`${DUE}, tickets.id`;
  }
  return {
    where: sql<SqlBool>`${sql.join(conds, sql` and `)}`,
    order,
    size,
    cursorAfter: (r) => (sort === 'priority' ? encode([r.priority_rank, r.due_cursor, r.id]) : sort === 'newest' ? encode([r.id]) : encode([r.due_cursor, r.id])),
  };
}

export async function listTickets(db: DbOrTx, filters: TicketFilters, sort: TicketSort = 'due', limit = 50, cursor?: string) {
  const p = ticketPage(filters, sort, limit, cursor);
  const rows = await ticketQuery(db).select(DUE_CURSOR.as('due_cursor')).where(p.where).orderBy(p.order).limit(p.size + 1).execute();
  const page = rows.slice(0, p.size);
  const last = page[page.length - 1];
  return { items: page.map(toTicketView), nextCursor: rows.length > p.size && last ? p.cursorAfter(last) : null };
}

/** Open tickets counted per queue and per code (queue headers and filters), from the running tally. */
export async function ticketCounts(db: DbOrTx) {
  return openTicketTally(db);
}

export { assignInTx, cancelOrderInTx, retryInTx, lockTicket, lockTicketForStep, requireOpen };
export type { Db };

import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, DbOrTx, Tx } from '../db/database.ts';
import type { OrderRow, OrderStatus } from '../db/tables/orders.table.ts';
import { bodyHash } from '../orders/canonical.ts';
import { formatMinorUnits, toMinorUnits } from '../orders/money.ts';
import type { Order } from '../orders/schema.ts';

export interface OrderRecord {
  id: string;
  channel: string;
  externalId: string;
  status: OrderStatus;
  data: Order;
  customerName: string | null;
  customerEmail: string | null;
  country: string | null;
  currency: string;
  grandTotal: string;
  tags: string[];
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export type IntakeResult =
  | { outcome: 'created'; order: OrderRecord }
  | { outcome: 'existing'; order: OrderRecord }
  | { outcome: 'conflict'; order: OrderRecord };

export interface IntakeHooks {
  /**
   * Runs inside the intake transaction right after the order row exists (starts its lifecycle). A hook
   * that changes the order row returns the order as it now is; otherwise the inserted row is answered.
   */
  afterCreate?: (trx: Tx, order: OrderRecord) => Promise<OrderRecord | void>;
}

export function toOrderRecord(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    channel: row.channel,
    externalId: row.external_id,
    status: row.status,
    data: row.data as Order,
    customerName: row.customer_name,
    customerEmail: row.customer_email,
    country: row.country,
    currency: row.currency,
    grandTotal: formatMinorUnits(BigInt(row.grand_total_minor)),
    tags: row.tags,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The columns lists filter on, copied out of the order JSON. */
export function searchColumns(order: Order) {
  const blank = (s: string | null | undefined) => (s && s.trim() !== '' ? s.trim() : null);
  return {
    customer_name: blank(order.customer?.name) ?? blank(order.shippingAddress?.name),
    customer_email: blank(order.customer?.email)?.toLowerCase() ?? null,
    country: blank(order.shippingAddress?.country)?.toUpperCase() ?? blank(order.invoice?.address?.country)?.toUpperCase() ?? null,
    currency: order.currency,
    grand_total_minor: toMinorUnits(order.totals.grandTotal).toString(),
    placed_at: order.placedAt ? new Date(order.placedAt) : null,
  };
}

/**
 * Idempotent intake: (channel, externalId) identifies an order. The first POST creates it; the same body
 * again answers with the stored order; another body under the same key is a conflict. Concurrent
 * identical POSTs serialise on the unique index (ON CONFLICT waits for the winner), so exactly one row
 * and one lifecycle start ever exist.
 */
export async function receiveOrder(db: Db, order: Order, actor: string, hooks: IntakeHooks = {}): Promise<IntakeResult> {
  const hash = bodyHash(order);
  return db.transaction().execute(async (trx) => {
    // The order and its "received" event in one statement (intake is a hot path: one round trip less).
    const inserted = await trx
      .with('o', (db) =>
        db
          .insertInto('orders')
          .values({
            channel: order.channel,
            external_id: order.externalId,
            data: JSON.stringify(order),
            body_hash: hash,
            ...searchColumns(order),
          })
          .onConflict((oc) => oc.columns(['channel', 'external_id']).doNothing())
          .returningAll(),
      )
      .with('e', (db) =>
        db
          .insertInto('order_events')
          .columns(['order_id', 'actor', 'kind', 'data'])
          .expression((eb) =>
            eb.selectFrom('o').select((s) => ['o.id', s.val(actor).as('actor'), s.val('received').as('kind'), sql<string>`${JSON.stringify({ channel: order.channel })}::jsonb`.as('data')]),
          ),
      )
      .selectFrom('o')
      .selectAll()
      .executeTakeFirst();
    if (inserted) {
      const record = toOrderRecord(inserted as OrderRow);
      const changed = await hooks.afterCreate?.(trx, record);
      return { outcome: 'created', order: changed ?? record };
    }
    const existing = await trx
      .selectFrom('orders')
      .selectAll()
      .where('channel', '=', order.channel)
      .where('external_id', '=', order.externalId)
      .executeTakeFirstOrThrow();
    return { outcome: existing.body_hash === hash ? 'existing' : 'conflict', order: toOrderRecord(existing) };
  });
}

export async function getOrder(db: DbOrTx, id: string): Promise<OrderRecord | null> {
  if (!isUuid(id)) return null;
  const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toOrderRecord(row) : null;
}

export interface OrderFilters {
  status?: OrderStatus;
  channel?: string;
  q?: string;
  from?: Date;
  to?: Date;
  tag?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

/** Keyset cursor over (created_at, id), newest first. created_at keeps microseconds, so it travels as text. */
function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`, 'utf8').toString('base64url');
}

/**
 * A UTC instant as cursors carry it (`2026-11-21T10:00:00.123456Z`), and a real one: Date.parse alone also
 * reads "1", "Tue Mar 01" and February 30th, none of which PostgreSQL takes from a forged cursor.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;
export function isIsoInstant(text: unknown): text is string {
  if (typeof text !== 'string' || !ISO_INSTANT.test(text) || text.startsWith('0000')) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [createdAt, id, ...rest] = text.split('|');
  if (!createdAt || !id || rest.length > 0 || !isUuid(id) || !isIsoInstant(createdAt)) return null;
  return { createdAt, id };
}

export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR' as const;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

export async function listOrders(db: DbOrTx, filters: OrderFilters, limit = 50, cursor?: string): Promise<Page<OrderRecord>> {
  const size = Math.min(Math.max(1, limit), MAX_PAGE_SIZE);
  let query = db
    .selectFrom('orders')
    .selectAll()
    .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'));
  if (filters.status) query = query.where('status', '=', filters.status);
  if (filters.channel) query = query.where('channel', '=', filters.channel);
  if (filters.from) query = query.where('created_at', '>=', filters.from);
  if (filters.to) query = query.where('created_at', '<', filters.to);
  if (filters.tag) query = query.where(sql<SqlBool>`tags @> array[${filters.tag}]::text[]`);
  if (filters.q && filters.q.trim() !== '') {
    const pattern = `%${escapeLike(filters.q.trim())}%`;
    query = query.where(sql<SqlBool>`(external_id || ' ' || coalesce(customer_name, '') || ' ' || coalesce(customer_email, '')) ilike ${pattern}`);
  }
  if (cursor) {
    const c = decodeCursor(cursor);
    if (!c) throw new InvalidCursorError('The cursor is not one this server issued.');
    const after: Expression<SqlBool> = sql<SqlBool>`(created_at, id) < (${c.createdAt}::timestamptz, ${c.id}::uuid)`;
    query = query.where(after);
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(size + 1).execute();
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return {
    items: page.map(toOrderRecord),
    nextCursor: rows.length > size && last ? encodeCursor(last.cursor_at, last.id) : null,
  };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db, DbOrTx, Tx } from '../db/database.ts';
import type { OrderRow, OrderStatus } from '../db/tables/orders.table.ts';
import type { ProcessDefinitionRow } from '../db/tables/processes.table.ts';
import { newId } from '../db/ids.ts';
import { timestampText } from '../db/timestamp.ts';
import { isStaleDefinition } from '../db/transaction.ts';
import { bodyHash } from '../orders/canonical.ts';
import { formatMinorUnits, toMinorUnits } from '../orders/money.ts';
import type { Order } from '../orders/schema.ts';
import { normaliseTag } from './order-annotations.ts';
import type { TicketView } from './views.ts';

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

/**
 * Where a new order stands after its first lifecycle step, as the step session wrote it: the tickets it
 * opened and the elements its lifecycle waits at. Given when intake knows it without a query (the
 * batcher's path); absent otherwise.
 */
export interface IntakeView {
  tickets: TicketView[];
  activeSteps: string[];
}

export type IntakeResult =
  | { outcome: 'created'; order: OrderRecord; view?: IntakeView }
  | { outcome: 'existing'; order: OrderRecord }
  | { outcome: 'conflict'; order: OrderRecord };

export interface IntakeHooks {
  /**
   * Runs inside the intake transaction right after the new orders' rows exist (starts their lifecycles).
   * A hook that changes order rows returns the orders as they now are, in the same order; otherwise the
   * inserted rows are answered. `retriedAlone`: if the hook throws, the caller receives these orders
   * again one by one, so the hook need not guard itself against failing.
   */
  afterCreate?: (trx: Tx, orders: OrderRecord[], options: { retriedAlone: boolean; definition: ProcessDefinitionRow | null }) => Promise<OrderRecord[] | void>;
  /**
   * The process whose latest executable version the hook will need (the order lifecycle's key): read by
   * the intake's own insert statement and handed to `afterCreate` as `definition`, one round trip less
   * than the hook looking it up itself.
   */
  definitionKey?: string;
  /**
   * Takes over writing the new orders' rows on the batcher's path (`retriedAlone`, with `definitionKey`
   * deployed): gets them unwritten, with ids made here, and writes each once together with whatever its
   * lifecycle start did, with the status that start left it in (one row version and one set of index
   * entries, not an insert and then an update). Returns each order as stored, in the same order. Throws on
   * any failure; the caller receives the orders again one by one through `afterCreate`. The caller sends
   * nothing more in the transaction, so the hook's last statement may end it (`ALONE_MARK`).
   */
  receiveNew?: (trx: Tx, orders: readonly IntakeOrderValues[], definition: ProcessDefinitionRow) => Promise<Array<StoredIntakeOrder & { view?: IntakeView }>>;
  /**
   * The lifecycle version intake saw last (kept by intake; start with `{ current: null }`). While set, a
   * batch goes to `receiveNew` without asking the database anything first; `receiveNew` must then fail
   * with `isStaleDefinition` when that version is no longer the latest, and intake asks again.
   */
  knownDefinition?: { current: ProcessDefinitionRow | null };
}

/** A received order's row as intake writes it (search columns copied out of the order), and who sent it. */
export interface IntakeOrderValues {
  id: string;
  channel: string;
  external_id: string;
  data: Order;
  body_hash: string;
  actor: string;
  customer_name: string | null;
  customer_email: string | null;
  country: string | null;
  currency: string;
  grand_total_minor: string;
  placed_at: string | null;
}

/** What `receiveNew` answers for each order: its row as written (after its first step) and stored. */
export interface StoredIntakeOrder extends Omit<IntakeOrderValues, 'actor'> {
  status: OrderStatus;
  revision: number;
  created_at: Date;
  updated_at: Date;
}

function intakeValues(id: string, item: IntakeItem, hash: string): IntakeOrderValues {
  const { order, actor } = item;
  return { id, channel: order.channel, external_id: order.externalId, data: order, body_hash: hash, actor, ...searchColumnsJson(order) };
}

export function toOrderRecord(row: Omit<OrderRow, 'placed_at'>): OrderRecord {
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

/** `searchColumns` as a JSON document carries them to `jsonb_to_recordset` (placed_at as text PostgreSQL reads). */
export function searchColumnsJson(order: Order) {
  const columns = searchColumns(order);
  return { ...columns, placed_at: columns.placed_at ? timestampText(columns.placed_at) : null };
}

/**
 * Idempotent intake: (channel, externalId) identifies an order. The first POST creates it; the same body
 * again answers with the stored order; another body under the same key is a conflict. Concurrent
 * identical POSTs serialise on the unique index (ON CONFLICT waits for the winner), so exactly one row
 * and one lifecycle start ever exist.
 */
export async function receiveOrder(db: Db, order: Order, actor: string, hooks: IntakeHooks = {}): Promise<IntakeResult> {
  const [result] = await receiveOrders(db, [{ order, actor }], hooks);
  return result!;
}

export interface IntakeItem {
  order: Order;
  actor: string;
}

/**
 * Several orders in one transaction (the intake batcher's group commit), with the same answers as one
 * `receiveOrder` each, in the same order: the new orders and their "received" events in one statement,
 * the existing ones (sent before, or twice in this batch) in one more, the hook once for all new ones.
 */
export async function receiveOrders(db: Db, items: readonly IntakeItem[], hooks: IntakeHooks = {}, options: { retriedAlone?: boolean } = {}): Promise<IntakeResult[]> {
  const hashes = items.map((i) => bodyHash(i.order));
  const key = (channel: string, externalId: string) => `${channel}\u0000${externalId}`;
  // The first of each key is inserted; a later one in the same batch is answered like a resend.
  const firsts = new Map<string, number>();
  items.forEach((i, n) => {
    const k = key(i.order.channel, i.order.externalId);
    if (!firsts.has(k)) firsts.set(k, n);
  });
  if (hooks.receiveNew && hooks.definitionKey && options.retriedAlone && firsts.size === items.length) {
    const received = await receiveAllNew(db, items, hashes, hooks.receiveNew, hooks.definitionKey, hooks.knownDefinition);
    if (received) return received;
  }
  return db.transaction().execute(async (trx) => {
    const rows = [...firsts.values()].map((n) => ({ n, ...intakeValues(newId(), items[n]!, hashes[n]!) }));
    // One statement, in the batch's order (ids and created_at follow it): the orders, and for each one
    // actually inserted its "received" event. A key that exists already is skipped (ON CONFLICT waits for
    // a concurrent insert of the same key to commit or roll back first; the id made for it goes unused).
    const { rows: inserted } = await sql<OrderRow & { intake_definition: DefinitionJson | null }>`/* prepare:ordo_intake_orders */
      with v as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(
          n int, id uuid, channel text, external_id text, data jsonb, body_hash text, actor text, customer_name text,
          customer_email text, country text, currency text, grand_total_minor bigint, placed_at timestamptz)
      ),
      o as (
        insert into orders (id, channel, external_id, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at)
        select id, channel, external_id, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at from v order by n
        on conflict (channel, external_id) do nothing
        returning *
      ),
      e as (
        insert into order_events (order_id, actor, kind, data)
        select o.id, v.actor, 'received', jsonb_build_object('channel', o.channel)
        from o join v on v.channel = o.channel and v.external_id = o.external_id
      )
      -- The definition once, on the first row: not serialised and parsed again for every order of the batch.
      select o.*, case when row_number() over () = 1 then (select row_to_json(d) from (select * from process_definitions
        where key = ${hooks.definitionKey ?? null}::text and executable order by version desc limit 1) d) end as intake_definition
      from o`.execute(trx);
    const created = new Map(inserted.map((r) => [key(r.channel, r.external_id), toOrderRecord(r)]));
    const results = new Array<IntakeResult>(items.length);
    if (created.size > 0) {
      const news = [...created.values()];
      const definition = definitionFromJson(inserted.find((r) => r.intake_definition)?.intake_definition ?? null);
      const changed = await hooks.afterCreate?.(trx, news, { retriedAlone: options.retriedAlone ?? false, definition });
      if (changed) news.forEach((o, i) => created.set(key(o.channel, o.externalId), changed[i] ?? o));
    }
    const missing: IntakeItem[] = [];
    items.forEach((item, n) => {
      const k = key(item.order.channel, item.order.externalId);
      const order = created.get(k);
      if (order && firsts.get(k) === n) results[n] = { outcome: 'created', order };
      else missing.push(item);
    });
    if (missing.length > 0) {
      const existing = await trx
        .selectFrom('orders')
        .selectAll()
        .where((eb) => eb.or(missing.map((i) => eb.and([eb('channel', '=', i.order.channel), eb('external_id', '=', i.order.externalId)]))))
        .execute();
      const byKey = new Map(existing.map((r) => [key(r.channel, r.external_id), r]));
      items.forEach((item, n) => {
        if (results[n]) return;
        const row = byKey.get(key(item.order.channel, item.order.externalId));
        if (!row) throw new Error(`order ${item.order.externalId} from ${item.order.channel} was neither inserted nor found`);
        const order = created.get(key(row.channel, row.external_id)) ?? toOrderRecord(row);
        results[n] = { outcome: row.body_hash === hashes[n] ? 'existing' : 'conflict', order };
      });
    }
    return results;
  });
}

/**
 * The batcher's fast way, when none of the orders exists yet and the lifecycle is deployed: `receiveNew`
 * writes the rows with everything their lifecycles did, in a transaction of its own. Null when an order
 * exists already (a resend) or no lifecycle is deployed: the usual insert answers those. Two batches
 * carrying the same new key at once: the later insert fails on the unique index, and its batch is
 * received again one by one.
 *
 * With the lifecycle version known from an earlier batch (`knownDefinition`), nothing is asked first: the
 * batch's one statement is its whole transaction. It fails when a key exists (a resend: the unique index)
 * or a newer version was deployed meanwhile (`isStaleDefinition`); then, and before the first batch, one
 * statement asks whether any key exists and which version is the latest, and the batch goes again.
 */
async function receiveAllNew(
  db: Db,
  items: readonly IntakeItem[],
  hashes: readonly string[],
  receiveNew: NonNullable<IntakeHooks['receiveNew']>,
  definitionKey: string,
  known: IntakeHooks['knownDefinition'],
): Promise<IntakeResult[] | null> {
  if (known?.current) {
    try {
      return await writeAllNew(db, items, hashes, receiveNew, known.current);
    } catch (err) {
      if (isStaleDefinition(err)) known.current = null;
      // Anything else (a resend, most likely) is found out by asking.
    }
  }
  // Asked outside the transaction: a key another transaction inserts meanwhile fails the write on the
  // unique index (received again one by one) as it would have anyway, and the transaction is still
  // nothing but the hook's one statement. Planned on every call, not prepared: a plan made while orders
  // was nearly empty scans the table for each key (2 ms a batch at 10,000 orders, measured); planned
  // now it looks each key up by the unique index.
  const { rows } = await sql<{ existing: boolean; definition: DefinitionJson | null }>`
    select exists (
        select 1 from unnest(${items.map((i) => i.order.channel)}::text[], ${items.map((i) => i.order.externalId)}::text[]) as k(channel, external_id)
        cross join lateral (select 1 from orders o where o.channel = k.channel and o.external_id = k.external_id limit 1) found
      ) as existing,
      (select row_to_json(d) from (select * from process_definitions where key = ${definitionKey}::text and executable order by version desc limit 1) d) as definition`.execute(db);
  const probe = rows[0];
  const definition = definitionFromJson(probe?.definition ?? null);
  if (known) known.current = definition;
  if (!probe || probe.existing || !definition) return null;
  return writeAllNew(db, items, hashes, receiveNew, definition);
}

/** A process definition row as `row_to_json` gives it (created_at as text). */
type DefinitionJson = Omit<ProcessDefinitionRow, 'created_at'> & { created_at: string };

function definitionFromJson(row: DefinitionJson | null): ProcessDefinitionRow | null {
  return row && { ...row, created_at: new Date(row.created_at) };
}

async function writeAllNew(
  db: Db,
  items: readonly IntakeItem[],
  hashes: readonly string[],
  receiveNew: NonNullable<IntakeHooks['receiveNew']>,
  definition: ProcessDefinitionRow,
): Promise<IntakeResult[]> {
  const values = items.map((item, n) => intakeValues(newId(), item, hashes[n]!));
  const stored = await db.transaction().execute((trx) => receiveNew(trx, values, definition));
  return stored.map(({ view, ...s }) => ({
    outcome: 'created',
    order: toOrderRecord({ ...s, tags: [] }),
    ...(view ? { view } : {}),
  }));
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
export function encodeCursor(createdAt: string, id: string): string {
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
  // `tags <> '{}'` is implied by the match; it lets the planner use the index over tagged orders only (migration 0009).
  // As tags are stored: `VIP` finds the orders tagged `vip`.
  if (filters.tag) query = query.where(sql<SqlBool>`tags @> array[${normaliseTag(filters.tag) ?? filters.tag}]::text[] and tags <> '{}'`);
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

/** An order's own events, oldest first: who did what to it and when (GET /api/v1/orders/:id). */
export async function orderHistory(db: DbOrTx, orderId: string, limit = 1_000): Promise<Array<{ at: string; actor: string; kind: string; data: unknown }>> {
  const rows = await db.selectFrom('order_events').select(['at', 'actor', 'kind', 'data']).where('order_id', '=', orderId).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ at: r.at.toISOString(), actor: r.actor, kind: r.kind, data: r.data }));
}

import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import type { OrderStatus } from '../db/tables/orders.table.ts';
import { isUuid } from './orders.ts';
import { openTicketTallyFrom, openTicketTallyRows, type OpenTicketTally, type OpenTicketTallyRow } from './tallies.ts';
import { DUE_CURSOR, ticketPage, type TicketFilters, type TicketSort } from './tickets.ts';
import type { TicketView } from './views.ts';

/** Read models the console's ticket queue needs beside the tickets themselves. */

export interface QueueOrder {
  id: string;
  externalId: string;
  channel: string;
  customerName: string | null;
  customerEmail: string | null;
  status: OrderStatus;
}

/** A ticket as the queue lists it: only what a row shows (its own page reads the rest). */
export type QueueTicket = Pick<TicketView, 'id' | 'orderId' | 'elementId' | 'elementName' | 'kind' | 'status' | 'priority' | 'dueAt' | 'title' | 'issues' | 'error' | 'assignee' | 'assigneeId'>;

/**
 * A page of the console's queue in one statement: the tickets (ticketPage's filters, order and cursor)
 * and, beside each, its order's number, channel, customer and status. Only the columns a row shows are
 * read: every other column (three more timestamps, ids, the revision) cost the web process a parse per
 * row for nothing.
 */
export async function queuePage(db: DbOrTx, filters: TicketFilters, sort: TicketSort, limit: number, cursor?: string): Promise<{ items: QueueTicket[]; orders: Map<string, QueueOrder>; nextCursor: string | null }> {
  const p = ticketPage(filters, sort, limit, cursor);
  const rows = await db
    .selectFrom('tickets')
    .leftJoin('users', 'users.id', 'tickets.assignee_id')
    .leftJoin('orders as o', 'o.id', 'tickets.order_id')
    .select([
      'tickets.id',
      'tickets.order_id',
      'tickets.element_id',
      'tickets.element_name',
      'tickets.kind',
      'tickets.status',
      'tickets.priority',
      'tickets.priority_rank',
      'tickets.due_at',
      'tickets.title',
      'tickets.issues',
      'tickets.error',
      'tickets.assignee_id',
      'users.email as assignee_email',
      'o.external_id',
      'o.channel',
      'o.customer_name',
      'o.customer_email',
      'o.status as order_status',
    ])
    .select(DUE_CURSOR.as('due_cursor'))
    .where(p.where)
    .orderBy(p.order)
    .limit(p.size + 1)
    .execute();
  const n = Math.min(rows.length, p.size);
  const orders = new Map<string, QueueOrder>();
  const items: QueueTicket[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.order_id && r.external_id !== null) {
      orders.set(r.order_id, { id: r.order_id, externalId: r.external_id, channel: r.channel!, customerName: r.customer_name, customerEmail: r.customer_email, status: r.order_status! });
    }
    items[i] = {
      id: String(r.id),
      orderId: r.order_id,
      elementId: r.element_id,
      elementName: r.element_name,
      kind: r.kind,
      status: r.status,
      priority: r.priority,
      dueAt: r.due_at?.toISOString() ?? null,
      title: r.title,
      issues: r.issues as QueueTicket['issues'],
      error: r.error,
      assignee: r.assignee_email ?? null,
      assigneeId: r.assignee_id,
    };
  }
  const last = n > 0 ? rows[n - 1] : undefined;
  return { items, orders, nextCursor: rows.length > p.size && last ? p.cursorAfter(last) : null };
}

/** The orders of a page of tickets, by id (one query for the page, not one per row). */
export async function ordersForTickets(db: DbOrTx, orderIds: ReadonlyArray<string | null>): Promise<Map<string, QueueOrder>> {
  const ids = [...new Set(orderIds.filter((id): id is string => !!id && isUuid(id)))];
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('orders')
    .select(['id', 'external_id', 'channel', 'customer_name', 'customer_email', 'status'])
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, { id: r.id, externalId: r.external_id, channel: r.channel, customerName: r.customer_name, customerEmail: r.customer_email, status: r.status }]));
}

export interface Assignee {
  id: string;
  email: string;
  name: string;
}

const assignableQuery = (db: DbOrTx, limit: number) =>
  db.selectFrom('users').select(['id', 'email', 'name']).where('disabled_at', 'is', null).where('role', 'in', ['operator', 'admin']).orderBy('email').limit(limit);

/** Users a ticket can be assigned to: active operators and admins. */
export async function assignableUsers(db: DbOrTx, limit = 500): Promise<Assignee[]> {
  return assignableQuery(db, limit).execute();
}

/**
 * Filtered counts stop here: "200+" tells a backlog from a handful, and a count reads at most this many
 * rows plus one, whatever the filter. At a million orders (101,351 open tickets) a count to 1,000 took
 * 17–20 ms of PostgreSQL's time alone and put 30–50 ms on the filtered pages' p95 under 16 clients; to
 * 200 it takes 6–7 ms (docs/PERFORMANCE.md, Console, session 14).
 */
export const MATCH_COUNT_CAP = 200;

/** How many tickets the queue's filters match, counted up to MATCH_COUNT_CAP (the open-ticket tally knows only the unfiltered counts). */
export interface QueueMatches {
  /** Matching tickets, the chosen queue left aside: at most MATCH_COUNT_CAP + 1, so more than the cap means "more than that". */
  total: number;
  /** Those tickets per queue: every match when `total` is within the cap, else only those the capped count met (lower bounds). */
  perQueue: Map<string, number>;
  /** In the chosen queue (capped the same way); null without a chosen queue. */
  inQueue: number | null;
}

/** Whether filters narrow the open tickets beyond a queue tab (the queue and the sort leave the tally's counts true). */
export function narrowsQueue(filters: TicketFilters): boolean {
  return (
    (filters.status !== undefined && filters.status !== 'active') ||
    !!filters.code ||
    !!filters.kind ||
    !!filters.assigneeId ||
    !!filters.unassigned ||
    !!filters.orderId ||
    !!filters.olderThanMinutes ||
    !!filters.q?.trim()
  );
}

/**
 * What the queue page shows around its rows, in one statement: the open-ticket tally (tabs, code filter,
 * navigation), the assignable users (filter and bulk assignment) and, when filters other than a problem
 * code narrow the queue, how many tickets they match (null: the tally knows). One round trip less per page than reading them apart.
 *
 * The matches are counted from the first MATCH_COUNT_CAP + 1 rows the filters find, in whatever order an
 * index finds them fastest (the page's own WHERE, without the queue and without a cursor), grouped by
 * queue: within the cap that is every match, per queue too. Beyond it, only the chosen queue is counted
 * again (with the queue, capped alike), and only then: counting every queue to its cap would read every
 * match of a filter that one queue holds a handful of.
 */
export async function queueSurroundings(db: DbOrTx, filters: TicketFilters = {}, limit = 500): Promise<{ tally: OpenTicketTally; users: Assignee[]; matches: QueueMatches | null }> {
  // A problem code alone is counted by the tally, per queue too (null matches: read them from it).
  const narrowed = narrowsQueue({ ...filters, code: undefined });
  const over = MATCH_COUNT_CAP + 1;
  // Unreferenced without filters, the CTE is then not run at all; written only when needed all the same.
  const matched = narrowed
    ? sql`with matched as (
        select s.queue, count(*)::int as n
        from (select tickets.queue from tickets where ${ticketPage({ ...filters, queue: undefined }, 'due', 1).where} limit ${over}) s
        group by s.queue)`
    : sql``;
  const inQueue = narrowed && filters.queue
    ? sql`case when (select sum(n) from matched) > ${MATCH_COUNT_CAP} then (select count(*) from (select 1 from tickets where ${ticketPage(filters, 'due', 1).where} limit ${over}) q) end`
    : sql`null::bigint`;
  const { rows } = await sql<{ tally: OpenTicketTallyRow[]; users: Assignee[]; matched: Record<string, number> | null; in_queue: string | null }>`
    ${matched}
    select (select coalesce(json_agg(t), '[]'::json) from (${openTicketTallyRows(db)}) t) as tally,
           (select coalesce(json_agg(u order by u.email), '[]'::json) from (${assignableQuery(db, limit)}) u) as users,
           ${narrowed ? sql`(select coalesce(json_object_agg(queue, n), '{}'::json) from matched)` : sql`null::json`} as matched,
           ${inQueue} as in_queue`.execute(db);
  const row = rows[0]!;
  let found: QueueMatches | null = null;
  if (row.matched) {
    const perQueue = new Map(Object.entries(row.matched));
    const total = [...perQueue.values()].reduce((a, b) => a + b, 0);
    found = { total, perQueue, inQueue: filters.queue ? (row.in_queue !== null ? Number(row.in_queue) : (perQueue.get(filters.queue) ?? 0)) : null };
  }
  return { tally: await openTicketTallyFrom(db, row.tally), users: row.users, matches: found };
}

/** The open tickets of an order other than one (after a fix: did the order stop at the next check?). */
export async function otherOpenTickets(db: DbOrTx, orderId: string, exceptTicketId: string) {
  if (!isUuid(orderId)) return [];
  const rows = await db
    .selectFrom('tickets')
    .select(['id', 'title', 'element_name', 'element_id'])
    .where('order_id', '=', orderId)
    .where('status', 'in', ['open', 'in_progress'])
    .where('id', '!=', exceptTicketId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: String(r.id), title: r.title, step: r.element_name ?? r.element_id }));
}

/** What still fails on tickets, by id (a bulk retry's "still failing" results say why, in words). */
export async function ticketProblems(db: DbOrTx, ids: readonly string[]): Promise<Map<string, Pick<TicketView, 'issues' | 'error' | 'title'>>> {
  const wanted = [...new Set(ids.filter((id) => /^\d{1,19}$/.test(id)))];
  if (wanted.length === 0) return new Map();
  const rows = await db.selectFrom('tickets').select(['id', 'issues', 'error', 'title']).where('id', 'in', wanted).execute();
  return new Map(rows.map((r) => [String(r.id), { issues: r.issues as TicketView['issues'], error: r.error, title: r.title }]));
}

import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import { ORDER_STATUSES, type OrderStatus } from '../db/tables/orders.table.ts';

/** The numbers on the console's dashboard: orders per status, open tickets per queue, ticket throughput. */

export interface OrderStatusCount {
  status: OrderStatus;
  total: number;
  today: number;
}

/** Orders per status, all of them and those received since `since` (the start of the day). */
export async function orderStatusCounts(db: DbOrTx, since: Date): Promise<OrderStatusCount[]> {
  const rows = await db
    .selectFrom('orders')
    .select(['status', sql<number>`count(*)::int`.as('total'), sql<number>`(count(*) filter (where created_at >= ${since}))::int`.as('today')])
    .groupBy('status')
    .execute();
  const by = new Map(rows.map((r) => [r.status, r]));
  return ORDER_STATUSES.map((status) => ({ status, total: by.get(status)?.total ?? 0, today: by.get(status)?.today ?? 0 }));
}

export interface QueueAge {
  queue: string;
  open: number;
  /** When the oldest open ticket of the queue was opened. */
  oldestAt: Date;
}

export interface HourBucket {
  /** Start of the hour (UTC). */
  at: Date;
  opened: number;
  resolved: number;
}

const HOUR_MS = 60 * 60 * 1000;
export const THROUGHPUT_HOURS = 24;

/** Open tickets per queue with the age of the oldest (most urgent question: what has waited longest). */
export async function openTicketsByQueue(db: DbOrTx): Promise<QueueAge[]> {
  const rows = await db
    .selectFrom('tickets')
    .select(['queue', sql<number>`count(*)::int`.as('open'), sql<Date>`min(created_at)`.as('oldest_at')])
    .where('status', 'in', ['open', 'in_progress'])
    .groupBy('queue')
    .orderBy(sql`min(created_at)`)
    .execute();
  return rows.map((r) => ({ queue: r.queue, open: r.open, oldestAt: new Date(r.oldest_at) }));
}

/** Tickets opened and resolved per hour over the last 24 hours, oldest hour first, empty hours included. */
export async function ticketThroughput(db: DbOrTx, now: Date): Promise<HourBucket[]> {
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const start = new Date(end - THROUGHPUT_HOURS * HOUR_MS);
  const [opened, resolved] = await Promise.all([
    sql<{ h: Date; n: number }>`select date_trunc('hour', created_at) as h, count(*)::int as n from tickets where created_at >= ${start} group by 1`.execute(db),
    sql<{ h: Date; n: number }>`select date_trunc('hour', closed_at) as h, count(*)::int as n from tickets where status = 'resolved' and closed_at >= ${start} group by 1`.execute(db),
  ]);
  const buckets: HourBucket[] = [];
  for (let t = start.getTime(); t < end; t += HOUR_MS) buckets.push({ at: new Date(t), opened: 0, resolved: 0 });
  const at = (h: Date) => buckets[Math.floor((new Date(h).getTime() - start.getTime()) / HOUR_MS)];
  for (const r of opened.rows) {
    const b = at(r.h);
    if (b) b.opened = r.n;
  }
  for (const r of resolved.rows) {
    const b = at(r.h);
    if (b) b.resolved = r.n;
  }
  return buckets;
}

/** The one number in the navigation: tickets waiting for an operator. */
export async function openTicketCount(db: DbOrTx): Promise<number> {
  const row = await db.selectFrom('tickets').select(sql<number>`count(*)::int`.as('n')).where('status', 'in', ['open', 'in_progress']).executeTakeFirst();
  return row?.n ?? 0;
}

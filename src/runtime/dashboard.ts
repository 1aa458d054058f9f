import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import { ORDER_STATUSES, type OrderStatus } from '../db/tables/orders.table.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { openTicketTally, orderStatusTally } from './tallies.ts';

/** The numbers on the console's dashboard: orders per status, open tickets per queue, ticket throughput. */

export interface OrderStatusCount {
  status: OrderStatus;
  total: number;
  today: number;
}

/**
 * Orders per status, all of them (the running tally) and those received since `since` (the start of
 * the day: an index range over today's orders only).
 */
export async function orderStatusCounts(db: DbOrTx, since: Date): Promise<OrderStatusCount[]> {
  const [totals, today] = await Promise.all([
    orderStatusTally(db),
    db.selectFrom('orders').select(['status', sql<number>`count(*)::int`.as('n')]).where('created_at', '>=', since).groupBy('status').execute(),
  ]);
  const todayBy = new Map(today.map((r) => [r.status, r.n]));
  return ORDER_STATUSES.map((status) => ({ status, total: totals.get(status) ?? 0, today: todayBy.get(status) ?? 0 }));
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

/**
 * Open tickets per queue with the age of the oldest (most urgent question: what has waited longest):
 * the counts from the running tally, each queue's oldest ticket from the index on open tickets by queue.
 */
export async function openTicketsByQueue(db: DbOrTx): Promise<QueueAge[]> {
  const { queues } = await openTicketTally(db);
  const oldest = await Promise.all(
    queues.map((q) =>
      db.selectFrom('tickets').select('created_at').where('queue', '=', q.queue).where('status', 'in', OPEN_TICKET_STATUSES).orderBy('created_at').limit(1).executeTakeFirst(),
    ),
  );
  return queues
    .map((q, i) => ({ queue: q.queue, open: q.count, oldestAt: oldest[i]?.created_at ?? new Date() }))
    .sort((a, b) => a.oldestAt.getTime() - b.oldestAt.getTime());
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

/** The one number in the navigation: tickets waiting for an operator (the running tally). */
export async function openTicketCount(db: DbOrTx): Promise<number> {
  return (await openTicketTally(db)).total;
}

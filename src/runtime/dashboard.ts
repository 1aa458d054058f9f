import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import { ORDER_STATUSES, type OrderStatus } from '../db/tables/orders.table.ts';

/** The numbers on the console's dashboard. Ticket figures join here when the ticket runtime lands. */

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

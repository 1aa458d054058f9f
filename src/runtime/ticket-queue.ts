import type { DbOrTx } from '../db/database.ts';
import type { OrderStatus } from '../db/tables/orders.table.ts';
import { isUuid } from './orders.ts';

/** Read models the console's ticket queue needs beside the tickets themselves. */

export interface QueueOrder {
  id: string;
  externalId: string;
  channel: string;
  customerName: string | null;
  customerEmail: string | null;
  status: OrderStatus;
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

/** Users a ticket can be assigned to: active operators and admins. */
export async function assignableUsers(db: DbOrTx, limit = 500): Promise<Assignee[]> {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'name'])
    .where('disabled_at', 'is', null)
    .where('role', 'in', ['operator', 'admin'])
    .orderBy('email')
    .limit(limit)
    .execute();
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

import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export const ORDER_STATUSES = Object.freeze(['received', 'in_progress', 'on_hold', 'awaiting_payment', 'released', 'completed', 'cancelled'] as const);
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** bigint columns arrive from pg as strings; Ordo converts at the repository edge. */
type BigIntColumn = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface OrdersTable {
  id: Generated<string>;
  channel: string;
  external_id: string;
  status: Generated<OrderStatus>;
  data: ColumnType<unknown, string, string>;
  body_hash: string;
  customer_name: string | null;
  customer_email: string | null;
  country: string | null;
  currency: string;
  grand_total_minor: BigIntColumn;
  placed_at: Date | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  revision: Generated<number>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type OrderRowUpdate = Updateable<OrdersTable>;

export interface OrderEventsTable {
  id: Generated<string>;
  order_id: string;
  at: ColumnType<Date, Date | undefined, never>;
  actor: string;
  kind: string;
  data: ColumnType<unknown, string | undefined, never>;
}
export type OrderEvent = Selectable<OrderEventsTable>;

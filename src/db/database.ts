import type { Kysely, Transaction } from 'kysely';
import type { ApiTokensTable } from './tables/api-tokens.table.ts';
import type { OrderEventsTable, OrdersTable } from './tables/orders.table.ts';
import type { UsersTable } from './tables/users.table.ts';

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Functions that only read or write one statement take either; functions that lock demand a Tx. */
export type DbOrTx = Db | Tx;

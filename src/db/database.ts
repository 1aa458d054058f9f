import type { Kysely, Transaction } from 'kysely';
import type { ApiTokensTable } from './tables/api-tokens.table.ts';
import type { BulkOperationsTable } from './tables/bulk.table.ts';
import type { OrderNotesTable } from './tables/order-notes.table.ts';
import type { OrderEventsTable, OrdersTable } from './tables/orders.table.ts';
import type { ProcessMigrationsTable } from './tables/process-migrations.table.ts';
import type { DeploymentsTable, InstanceHistoryStepsTable, InstanceHistoryTable, JobEffectsTable, ProcessDefinitionsTable, ProcessInstancesTable, ReceivedMessagesTable } from './tables/processes.table.ts';
import type { LoginAttemptsTable, SessionsTable } from './tables/sessions.table.ts';
import type { OpenTicketTallyTable, OrderStatusTallyTable } from './tables/tally.table.ts';
import type { TicketEventsTable, TicketsTable } from './tables/tickets.table.ts';
import type { UsersTable } from './tables/users.table.ts';

export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  deployments: DeploymentsTable;
  process_definitions: ProcessDefinitionsTable;
  process_instances: ProcessInstancesTable;
  instance_history: InstanceHistoryTable;
  instance_history_steps: InstanceHistoryStepsTable;
  received_messages: ReceivedMessagesTable;
  tickets: TicketsTable;
  job_effects: JobEffectsTable;
  ticket_events: TicketEventsTable;
  bulk_operations: BulkOperationsTable;
  process_migrations: ProcessMigrationsTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  order_notes: OrderNotesTable;
  open_ticket_tally: OpenTicketTallyTable;
  order_status_tally: OrderStatusTallyTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Functions that only read or write one statement take either; functions that lock demand a Tx. */
export type DbOrTx = Db | Tx;

import type { ColumnType, Generated, Selectable } from 'kysely';

export interface DeploymentsTable {
  id: Generated<string>;
  xml: string;
  hash: string;
  file_name: string | null;
  deployed_by: string;
  deployed_at: ColumnType<Date, Date | undefined, never>;
}

export interface ProcessDefinitionsTable {
  id: Generated<string>;
  deployment_id: string;
  key: string;
  version: number;
  name: string | null;
  executable: boolean;
  message_starts: ColumnType<string[], string[] | undefined, string[]>;
  hash: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type ProcessDefinitionRow = Selectable<ProcessDefinitionsTable>;

export const INSTANCE_STATUSES = Object.freeze(['active', 'completed', 'cancelled', 'failed'] as const);
export type InstanceStatusValue = (typeof INSTANCE_STATUSES)[number];

export interface ProcessInstancesTable {
  id: Generated<string>;
  definition_id: string;
  process_key: string;
  version: number;
  business_key: string | null;
  order_id: string | null;
  parent_id: string | null;
  parent_wait_id: string | null;
  status: InstanceStatusValue;
  state: ColumnType<unknown, string, string>;
  waiting_at: ColumnType<string[], string[] | undefined, string[]>;
  waiting_messages: ColumnType<string[], string[] | undefined, string[]>;
  revision: Generated<number>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  ended_at: Date | null;
}
export type ProcessInstanceRow = Selectable<ProcessInstancesTable>;

/**
 * A view (migration 0010): one row per history entry, read-only. Entries are written as one
 * `instance_history_steps` row per instance and transaction (src/runtime/history.ts).
 */
export interface InstanceHistoryTable {
  id: ColumnType<string, never, never>;
  instance_id: string;
  element_id: string;
  element_type: string;
  event: string;
  at: Date;
  actor: string | null;
  data: ColumnType<unknown, string | null, never>;
}
export type InstanceHistoryRow = Selectable<InstanceHistoryTable>;

/** The entries one transaction wrote for one instance, in order (a JSON array of `HistoryEntry`). */
export interface InstanceHistoryStepsTable {
  id: Generated<string>;
  instance_id: string;
  entries: ColumnType<unknown, string, never>;
}

export interface ReceivedMessagesTable {
  message_id: string;
  name: string;
  business_key: string | null;
  instance_id: string | null;
  received_at: ColumnType<Date, Date | undefined, never>;
}

export interface JobEffectsTable {
  key: string;
  job: string;
  order_id: string | null;
  instance_id: string | null;
  data: ColumnType<unknown, string | undefined, never>;
  at: ColumnType<Date, Date | undefined, never>;
}

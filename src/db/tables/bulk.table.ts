import type { ColumnType, Generated, Selectable } from 'kysely';

export type BulkAction = 'retry' | 'assign' | 'cancel' | 'patch';

export interface BulkOperationsTable {
  id: Generated<string>;
  action: BulkAction;
  actor: string;
  params: ColumnType<unknown, string | undefined, string>;
  ticket_ids: ColumnType<string[], string[], string[]>;
  total: number;
  done: Generated<number>;
  succeeded: Generated<number>;
  failed: Generated<number>;
  results: ColumnType<unknown, string | undefined, string>;
  status: Generated<'queued' | 'running' | 'done'>;
  created_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Date | null;
}
export type BulkOperationRow = Selectable<BulkOperationsTable>;

import type { ColumnType, Generated, Selectable } from 'kysely';

export type ProcessMigrationStatus = 'queued' | 'running' | 'done';

/** One "move the instances waiting in version k to version n" (src/runtime/migration.ts). */
export interface ProcessMigrationsTable {
  id: Generated<string>;
  process_key: string;
  from_definition_id: string;
  to_definition_id: string;
  from_version: number;
  to_version: number;
  actor: string;
  status: Generated<ProcessMigrationStatus>;
  total: number;
  done: Generated<number>;
  migrated: Generated<number>;
  skipped: Generated<number>;
  /** `[{ instanceId, reasons }]`, capped: why instances were left where they are. */
  skipped_instances: ColumnType<unknown, string | undefined, string>;
  /** Resume point of a redelivered job: instances are handled in id order. */
  last_instance_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  finished_at: Date | null;
}
export type ProcessMigrationRow = Selectable<ProcessMigrationsTable>;

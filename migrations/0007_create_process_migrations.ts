import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
export async function up(db: Kysely<any>): Promise<void> {
  // An analyst's "move the instances waiting in version k to version n", run in the background; its row is
  // the progress bar, and `last_instance_id` is where a redelivered job resumes.
  await db.schema
    .createTable('process_migrations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('process_key', 'text', (c) => c.notNull())
    .addColumn('from_definition_id', 'uuid', (c) => c.notNull().references('process_definitions.id'))
    .addColumn('to_definition_id', 'uuid', (c) => c.notNull().references('process_definitions.id'))
    .addColumn('from_version', 'integer', (c) => c.notNull())
    .addColumn('to_version', 'integer', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('queued').check(sql`status in ('queued', 'running', 'done')`))
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('migrated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped_instances', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('last_instance_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await sql`create index process_migrations_key_idx on process_migrations (process_key, created_at desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('process_migrations').execute();
}

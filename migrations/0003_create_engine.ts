import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
export async function up(db: Kysely<any>): Promise<void> {
  // One row per uploaded diagram file; the processes in it become versioned definitions.
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('xml', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text')
    .addColumn('deployed_by', 'text', (c) => c.notNull())
    .addColumn('deployed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('process_definitions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('deployment_id', 'uuid', (c) => c.notNull().references('deployments.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('executable', 'boolean', (c) => c.notNull())
    // Message names that start this process (message start events), for correlation without loading XML.
    .addColumn('message_starts', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('process_definitions_key_version_key', ['key', 'version'])
    .execute();
  await sql`create index process_definitions_key_hash_idx on process_definitions (key, hash)`.execute(db);

  await db.schema
    .createTable('process_instances')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('definition_id', 'uuid', (c) => c.notNull().references('process_definitions.id'))
    .addColumn('process_key', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('business_key', 'text')
    .addColumn('order_id', 'uuid', (c) => c.references('orders.id'))
    .addColumn('parent_id', 'uuid', (c) => c.references('process_instances.id'))
    .addColumn('parent_wait_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'completed', 'cancelled', 'failed')`))
    // The engine's state (plain JSON), rewritten by every step, and what lists and correlation need of it.
    .addColumn('state', 'jsonb', (c) => c.notNull())
    .addColumn('waiting_at', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('waiting_messages', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('ended_at', 'timestamptz')
    .execute();
  // An order has exactly one lifecycle instance: the start job may run twice, the second is a no-op.
  await sql`create unique index process_instances_order_idx on process_instances (order_id) where parent_id is null and order_id is not null`.execute(db);
  await sql`create index process_instances_business_key_idx on process_instances (business_key) where status = 'active'`.execute(db);
  await sql`create index process_instances_waiting_messages_idx on process_instances using gin (waiting_messages) where status = 'active'`.execute(db);
  await sql`create index process_instances_definition_idx on process_instances (definition_id, status)`.execute(db);
  await sql`create index process_instances_parent_idx on process_instances (parent_id) where parent_id is not null`.execute(db);

  await db.schema
    .createTable('instance_history')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('instance_id', 'uuid', (c) => c.notNull().references('process_instances.id').onDelete('cascade'))
    .addColumn('element_id', 'text', (c) => c.notNull())
    .addColumn('element_type', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('data', 'jsonb')
    .execute();
  await sql`create index instance_history_instance_idx on instance_history (instance_id, id)`.execute(db);

  // Messages delivered with a messageId: a second delivery of the same id is a no-op.
  await db.schema
    .createTable('received_messages')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('business_key', 'text')
    .addColumn('instance_id', 'uuid')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('order_id', 'uuid', (c) => c.references('orders.id'))
    .addColumn('instance_id', 'uuid', (c) => c.notNull().references('process_instances.id'))
    .addColumn('wait_id', 'text', (c) => c.notNull())
    .addColumn('element_id', 'text', (c) => c.notNull())
    .addColumn('element_name', 'text')
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('validation', 'manual', 'technical')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'in_progress', 'resolved', 'cancelled')`))
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('priority_rank', 'smallint', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('issues', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('codes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('instructions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('fields', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('error', 'text')
    .addColumn('assignee_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  // One open ticket per failing step, whatever retries, crashes or redelivered jobs do.
  await sql`create unique index tickets_open_step_idx on tickets (instance_id, wait_id) where status in ('open', 'in_progress')`.execute(db);
  await sql`create index tickets_queue_idx on tickets (status, queue, due_at, id)`.execute(db);
  await sql`create index tickets_open_due_idx on tickets (due_at, id) where status in ('open', 'in_progress')`.execute(db);
  await sql`create index tickets_open_priority_idx on tickets (priority_rank desc, due_at, id) where status in ('open', 'in_progress')`.execute(db);
  await sql`create index tickets_order_idx on tickets (order_id, id)`.execute(db);
  await sql`create index tickets_codes_idx on tickets using gin (codes) where status in ('open', 'in_progress')`.execute(db);
  await sql`create index tickets_assignee_idx on tickets (assignee_id, status) where assignee_id is not null`.execute(db);

  await db.schema
    .createTable('ticket_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('ticket_id', 'bigint', (c) => c.notNull().references('tickets.id').onDelete('cascade'))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await sql`create index ticket_events_ticket_idx on ticket_events (ticket_id, id)`.execute(db);

  // What service-task handlers did, keyed so a job that runs twice records (and does) its work once.
  await db.schema
    .createTable('job_effects')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('order_id', 'uuid', (c) => c.references('orders.id'))
    .addColumn('instance_id', 'uuid')
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index job_effects_order_idx on job_effects (order_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['job_effects', 'ticket_events', 'tickets', 'received_messages', 'instance_history', 'process_instances', 'process_definitions', 'deployments']) {
    await db.schema.dropTable(t).execute();
  }
}

import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);

  await db.schema
    .createTable('orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('received').check(sql`status in ('received', 'in_progress', 'on_hold', 'awaiting_payment', 'released', 'completed', 'cancelled')`),
    )
    // The order exactly as received (then as patched by operators), and the hash of the received body
    // that makes a resend with the same key recognisable.
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    // Columns the lists filter and show, copied out of data so they can be indexed.
    .addColumn('customer_name', 'text')
    .addColumn('customer_email', 'text')
    .addColumn('country', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('grand_total_minor', 'bigint', (c) => c.notNull())
    .addColumn('placed_at', 'timestamptz')
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('orders_channel_external_id_key', ['channel', 'external_id'])
    .execute();

  // Lists are newest first with keyset pagination on (created_at, id), optionally within a status or channel.
  await sql`create index orders_created_idx on orders (created_at desc, id desc)`.execute(db);
  await sql`create index orders_status_created_idx on orders (status, created_at desc, id desc)`.execute(db);
  await sql`create index orders_channel_created_idx on orders (channel, created_at desc, id desc)`.execute(db);
  // Free-text search over what operators type: the external id, the customer's name and e-mail.
  await sql`create index orders_search_idx on orders using gin ((external_id || ' ' || coalesce(customer_name, '') || ' ' || coalesce(customer_email, '')) gin_trgm_ops)`.execute(db);
  await sql`create index orders_tags_idx on orders using gin (tags)`.execute(db);

  await db.schema
    .createTable('order_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await sql`create index order_events_order_idx on order_events (order_id, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('order_events').execute();
  await db.schema.dropTable('orders').execute();
}

import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// What PostgreSQL does for every order that nobody needs (docs/PERFORMANCE.md, "Engine", session 3).
// Measured with pg_walinspect over 1,000 orders through the lifecycle: of ~22 kB of WAL per order,
// instance_history alone writes 10.6 kB (26 rows, each with its heap tuple and two btree entries).
//
// 1. Foreign keys on the append-only tables. instance_history, order_events, ticket_events and
//    job_effects rows are written only by the runtime (StepSession.flush, intake, tickets, migration),
//    always in the same transaction as the row they point to, which that transaction has just inserted
//    or holds locked; nothing in Ordo deletes an order, instance or ticket. The checks (33 per order, one
//    index lookup and a row lock each) protected against a writer that does not exist. What the
//    cascades did for the seeder's clean-up (scripts/seed/shapes.ts) it now does with explicit deletes.
// 2. instance_history's primary key. Every reader finds history by instance and reads it in id order,
//    which is instance_history_instance_idx (instance_id, id); no reader, writer or foreign key looks a
//    row up by id alone. The ids stay, from the same sequence, unique as before. One btree insert and
//    65 B of WAL less per history row (1.7 kB per order).
// 3. The tag index only over tagged orders. Almost no order carries a tag, yet each one put an "empty"
//    entry into the GIN index on insert and on every non-HOT update (330 B of WAL per order). The one
//    reader (listOrders' `tags @> array[tag]`) says `tags <> '{}'` too, which any match satisfies.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table instance_history drop constraint instance_history_instance_id_fkey`.execute(db);
  await sql`alter table order_events drop constraint order_events_order_id_fkey`.execute(db);
  await sql`alter table ticket_events drop constraint ticket_events_ticket_id_fkey`.execute(db);
  await sql`alter table job_effects drop constraint job_effects_order_id_fkey`.execute(db);

  await sql`alter table instance_history drop constraint instance_history_pkey`.execute(db);

  await sql`drop index orders_tags_idx`.execute(db);
  await sql`create index orders_tags_idx on orders using gin (tags) where tags <> '{}'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index orders_tags_idx`.execute(db);
  await sql`create index orders_tags_idx on orders using gin (tags)`.execute(db);

  await sql`alter table instance_history add constraint instance_history_pkey primary key (id)`.execute(db);

  await sql`alter table job_effects add constraint job_effects_order_id_fkey foreign key (order_id) references orders (id)`.execute(db);
  await sql`alter table ticket_events add constraint ticket_events_ticket_id_fkey foreign key (ticket_id) references tickets (id) on delete cascade`.execute(db);
  await sql`alter table order_events add constraint order_events_order_id_fkey foreign key (order_id) references orders (id) on delete cascade`.execute(db);
  await sql`alter table instance_history add constraint instance_history_instance_id_fkey foreign key (instance_id) references process_instances (id) on delete cascade`.execute(db);
}

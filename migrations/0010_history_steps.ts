import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// An instance's history as one row per instance and transaction, not one row per entry.
//
// The lifecycle's first step writes 26 history entries per order. As rows, each was a heap tuple and a
// btree entry: 53 of the ~100 WAL records an order cost, 6.4 kB of its 20 kB of WAL, and 43 % of the
// PostgreSQL time of the statement that writes a step (docs/PERFORMANCE.md, session 5). Written without
// them the engine ran 787 orders/s instead of 560. Every reader finds history by instance and reads it in
// order, so the entries a transaction writes for one instance go into one row, and `instance_history`
// becomes a view with the columns it always had: one row per entry, `id` ordering them as before (the
// step row's id × 1,000,000 + the entry's place; a step stops after 1,000 element entries, about 2,000
// history entries).
//
// `entries` is `json` (text, checked and kept as written: nothing to build on insert, and only the odd
// reader takes it apart), an array of entries, each an array:
//   [element_id, element_type, event, at (ISO 8601), actor, data]   (data left out when there is none)
//
// Existing rows move over one entry per step row with their own ids, so their order and ids are kept.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table instance_history_steps (
    id bigserial not null,
    instance_id uuid not null,
    entries json not null
  )`.execute(db);
  await sql`insert into instance_history_steps (id, instance_id, entries)
    select id, instance_id, json_build_array(case when data is null then json_build_array(element_id, element_type, event, at, actor)
      else json_build_array(element_id, element_type, event, at, actor, data) end)
    from instance_history`.execute(db);
  await sql`select setval(pg_get_serial_sequence('instance_history_steps', 'id'), greatest((select max(id) from instance_history_steps), 1))`.execute(db);
  await sql`create index instance_history_steps_instance_idx on instance_history_steps (instance_id, id)`.execute(db);
  await sql`drop table instance_history`.execute(db);
  await sql`create view instance_history as
    select s.id * 1000000 + e.n as id, s.instance_id, e.x ->> 0 as element_id, e.x ->> 1 as element_type, e.x ->> 2 as event,
      (e.x ->> 3)::timestamptz as at, e.x ->> 4 as actor, (e.x -> 5)::jsonb as data
    from instance_history_steps s
    cross join lateral json_array_elements(s.entries) with ordinality as e(x, n)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create table instance_history_rows as select id, instance_id, element_id, element_type, event, at, actor, data from instance_history`.execute(db);
  await sql`drop view instance_history`.execute(db);
  await sql`drop table instance_history_steps`.execute(db);
  await sql`alter table instance_history_rows rename to instance_history`.execute(db);
  await sql`create sequence instance_history_id_seq owned by instance_history.id`.execute(db);
  await sql`select setval('instance_history_id_seq', greatest((select max(id) from instance_history), 1))`.execute(db);
  await sql`alter table instance_history alter column id set default nextval('instance_history_id_seq'), alter column id set not null,
    alter column instance_id set not null, alter column element_id set not null, alter column element_type set not null,
    alter column event set not null, alter column at set not null`.execute(db);
  await sql`create index instance_history_instance_idx on instance_history (instance_id, id)`.execute(db);
}

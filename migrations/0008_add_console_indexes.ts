import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// What the console needs to answer in constant time with a million orders and a hundred thousand open
// tickets (docs/PERFORMANCE.md, "Console"):
// - the ticket queue's sort orders as index orders, so a page is an index range scan of 51 entries;
// - the open-ticket counts (per queue, per code, in total) and the orders per status kept as running
//   tallies by statement triggers, instead of counting every open ticket and every order per request;
// - the order page's timeline finding an order's instances by index.

/** The due time the queue sorts tickets without one by (runtime/tickets.ts). */
const FAR = `'9999-12-31T00:00:00Z'::timestamptz`;
const OPEN = `status in ('open', 'in_progress')`;

export async function up(db: Kysely<any>): Promise<void> {
  // ── the ticket queue ────────────────────────────────────────────────────────────────────────────────
  await sql.raw(`create index tickets_open_due_order_idx on tickets ((coalesce(due_at, ${FAR})), id) where ${OPEN}`).execute(db);
  await sql.raw(`create index tickets_open_queue_due_order_idx on tickets (queue, (coalesce(due_at, ${FAR})), id) where ${OPEN}`).execute(db);
  // "Most urgent first" pages with a row comparison on (-priority_rank, due, id): the index has exactly those.
  await sql.raw(`create index tickets_open_priority_order_idx on tickets ((-priority_rank), (coalesce(due_at, ${FAR})), id) where ${OPEN}`).execute(db);
  // Any one status (resolved, cancelled, ...) by due time.
  await sql.raw(`create index tickets_status_due_order_idx on tickets (status, (coalesce(due_at, ${FAR})), id)`).execute(db);
  // Search in the queue looks for the text in the ticket's title and its order's number, customer name
  // and e-mail. The order's part is copied onto the ticket (triggers keep it current), so the search is
  // one trigram index over open tickets rather than a join with every order. \x01 keeps a match from
  // spanning the title and the order's text.
  await sql`alter table tickets add column search text`.execute(db);
  await sql`
    create function tickets_search_text(title text, order_id uuid) returns text language sql stable as $$
      select title || E'\x01' || coalesce((select external_id || ' ' || coalesce(customer_name, '') || ' ' || coalesce(customer_email, '') from orders where id = order_id), '')
    $$`.execute(db);
  await sql`
    create function tickets_fill_search() returns trigger language plpgsql as $$
    begin
      new.search := tickets_search_text(new.title, new.order_id);
      return new;
    end $$`.execute(db);
  await sql`create trigger tickets_search before insert or update of title, order_id on tickets for each row execute function tickets_fill_search()`.execute(db);
  await sql`
    create function orders_refresh_ticket_search() returns trigger language plpgsql as $$
    begin
      update tickets set search = tickets_search_text(title, order_id) where order_id = new.id;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger orders_ticket_search after update of customer_name, customer_email on orders for each row
    when (old.customer_name is distinct from new.customer_name or old.customer_email is distinct from new.customer_email)
    execute function orders_refresh_ticket_search()`.execute(db);
  await sql`update tickets set search = tickets_search_text(title, order_id)`.execute(db);
  await sql.raw(`create index tickets_open_search_trgm_idx on tickets using gin (search gin_trgm_ops) where ${OPEN}`).execute(db);
  // Whether a search text is common (walk the sort order) or rare (ask the trigram index) is read from
  // these statistics; the default 100-entry histogram cannot tell a 1 % surname from a single order.
  await sql`alter table tickets alter column search set statistics 1000`.execute(db);
  await sql`alter index orders_search_idx alter column 1 set statistics 1000`.execute(db);
  // The dashboard: tickets opened and resolved per hour, this week's problems, the oldest open ticket per queue.
  await sql`create index tickets_created_idx on tickets (created_at)`.execute(db);
  await sql`create index tickets_resolved_closed_idx on tickets (closed_at) where status = 'resolved'`.execute(db);
  await sql.raw(`create index tickets_open_queue_created_idx on tickets (queue, created_at) where ${OPEN}`).execute(db);
  // Superseded by the indexes above (they sorted by due_at, the queue sorts by coalesce(due_at, …)).
  await sql`drop index tickets_open_due_idx`.execute(db);
  await sql`drop index tickets_open_priority_idx`.execute(db);
  await sql`drop index tickets_queue_idx`.execute(db);

  // ── the order page: every instance of an order (its lifecycle and any called processes) ─────────────
  await sql`create index process_instances_order_all_idx on process_instances (order_id)`.execute(db);

  // ── running tallies ─────────────────────────────────────────────────────────────────────────────────
  // Rows of +n / −n written by statement triggers (append-only: concurrent writers never wait on a
  // shared counter row); readers sum them, and now and then fold them into one row per key.
  await db.schema
    .createTable('open_ticket_tally')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('queue', 'code')`))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('delta', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('order_status_tally')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('delta', 'bigint', (c) => c.notNull())
    .execute();

  await sql.raw(`
    create function open_ticket_tally_capture() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into open_ticket_tally (kind, key, delta)
        select kind, key, sum(delta) from (
          select 'queue' as kind, queue as key, 1 as delta from new_rows where ${OPEN}
          union all select 'code', c, 1 from new_rows, unnest(codes) as c where ${OPEN}
        ) d group by kind, key;
      elsif tg_op = 'UPDATE' then
        insert into open_ticket_tally (kind, key, delta)
        select kind, key, sum(delta) from (
          select 'queue' as kind, queue as key, 1 as delta from new_rows where ${OPEN}
          union all select 'code', c, 1 from new_rows, unnest(codes) as c where ${OPEN}
          union all select 'queue', queue, -1 from old_rows where ${OPEN}
          union all select 'code', c, -1 from old_rows, unnest(codes) as c where ${OPEN}
        ) d group by kind, key having sum(delta) <> 0;
      else
        insert into open_ticket_tally (kind, key, delta)
        select kind, key, -sum(delta) from (
          select 'queue' as kind, queue as key, 1 as delta from old_rows where ${OPEN}
          union all select 'code', c, 1 from old_rows, unnest(codes) as c where ${OPEN}
        ) d group by kind, key;
      end if;
      return null;
    end $$`).execute(db);
  await sql`create trigger tickets_tally_insert after insert on tickets referencing new table as new_rows for each statement execute function open_ticket_tally_capture()`.execute(db);
  await sql`create trigger tickets_tally_update after update on tickets referencing old table as old_rows new table as new_rows for each statement execute function open_ticket_tally_capture()`.execute(db);
  await sql`create trigger tickets_tally_delete after delete on tickets referencing old table as old_rows for each statement execute function open_ticket_tally_capture()`.execute(db);

  await sql`
    create function order_status_tally_capture() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into order_status_tally (status, delta) select status, count(*) from new_rows group by status;
      elsif tg_op = 'UPDATE' then
        insert into order_status_tally (status, delta)
        select status, sum(delta) from (
          select status, 1 as delta from new_rows union all select status, -1 from old_rows
        ) d group by status having sum(delta) <> 0;
      else
        insert into order_status_tally (status, delta) select status, -count(*) from old_rows group by status;
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger orders_tally_insert after insert on orders referencing new table as new_rows for each statement execute function order_status_tally_capture()`.execute(db);
  await sql`create trigger orders_tally_update after update on orders referencing old table as old_rows new table as new_rows for each statement execute function order_status_tally_capture()`.execute(db);
  await sql`create trigger orders_tally_delete after delete on orders referencing old table as old_rows for each statement execute function order_status_tally_capture()`.execute(db);

  // Start from what is there. The tables are locked so no write slips between the count and the triggers.
  await sql`lock table tickets, orders in share mode`.execute(db);
  await sql.raw(`
    insert into open_ticket_tally (kind, key, delta)
    select 'queue', queue, count(*) from tickets where ${OPEN} group by queue
    union all
    select 'code', c, count(*) from tickets, unnest(codes) as c where ${OPEN} group by c`).execute(db);
  await sql`insert into order_status_tally (status, delta) select status, count(*) from orders group by status`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter index orders_search_idx alter column 1 set statistics -1`.execute(db);
  await sql`drop trigger orders_ticket_search on orders`.execute(db);
  await sql`drop trigger tickets_search on tickets`.execute(db);
  await sql`drop function orders_refresh_ticket_search()`.execute(db);
  await sql`drop function tickets_fill_search()`.execute(db);
  await sql`drop index tickets_open_search_trgm_idx`.execute(db);
  await sql`alter table tickets drop column search`.execute(db);
  await sql`drop function tickets_search_text(text, uuid)`.execute(db);
  for (const t of ['tickets_tally_insert', 'tickets_tally_update', 'tickets_tally_delete']) await sql.raw(`drop trigger ${t} on tickets`).execute(db);
  for (const t of ['orders_tally_insert', 'orders_tally_update', 'orders_tally_delete']) await sql.raw(`drop trigger ${t} on orders`).execute(db);
  await sql`drop function open_ticket_tally_capture()`.execute(db);
  await sql`drop function order_status_tally_capture()`.execute(db);
  await db.schema.dropTable('open_ticket_tally').execute();
  await db.schema.dropTable('order_status_tally').execute();
  await sql`drop index process_instances_order_all_idx`.execute(db);
  await sql`create index tickets_queue_idx on tickets (status, queue, due_at, id)`.execute(db);
  await sql`create index tickets_open_due_idx on tickets (due_at, id) where status in ('open', 'in_progress')`.execute(db);
  await sql`create index tickets_open_priority_idx on tickets (priority_rank desc, due_at, id) where status in ('open', 'in_progress')`.execute(db);
  for (const i of [
    'tickets_open_due_order_idx',
    'tickets_open_queue_due_order_idx',
    'tickets_open_priority_order_idx',
    'tickets_status_due_order_idx',
    'tickets_created_idx',
    'tickets_resolved_closed_idx',
    'tickets_open_queue_created_idx',
  ]) {
    await sql.raw(`drop index ${i}`).execute(db);
  }
}

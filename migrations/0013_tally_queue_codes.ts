import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// The open-ticket tally counts per queue and per problem code; this adds per (queue, code), kind
// 'queue_code' with the key `["<queue>","<code>"]` (JSON, so neither name needs a separator it may not
// contain). The queue filtered by a code then knows every tab's count exactly, and a page of a queue that
// holds no ticket with the code is answered from the tally instead of walking the queue's whole due index
// for a match that is not there (260–460 ms at a million orders, docs/PERFORMANCE.md, Console).
const OPEN = `status in ('open', 'in_progress')`;

/** The trigger function: +1 per key for each open row it gains, −1 for each it loses; with or without the pairs. */
function captureFunction(withPairs: boolean): string {
  const keys = (rows: string, delta: number) =>
    [
      `select 'queue' as kind, queue as key, ${delta} as delta from ${rows} where ${OPEN}`,
      `select 'code', c, ${delta} from ${rows}, unnest(codes) as c where ${OPEN}`,
      ...(withPairs ? [`select 'queue_code', json_build_array(queue, c)::text, ${delta} from ${rows}, unnest(codes) as c where ${OPEN}`] : []),
    ].join(' union all ');
  const insert = (union: string) => `insert into open_ticket_tally (kind, key, delta) select kind, key, sum(delta) from (${union}) d group by kind, key having sum(delta) <> 0;`;
  return `
    create or replace function open_ticket_tally_capture() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        ${insert(keys('new_rows', 1))}
      elsif tg_op = 'UPDATE' then
        ${insert(`${keys('new_rows', 1)} union all ${keys('old_rows', -1)}`)}
      else
        ${insert(keys('old_rows', -1))}
      end if;
      return null;
    end $$`;
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table open_ticket_tally drop constraint open_ticket_tally_kind_check`.execute(db);
  await sql`alter table open_ticket_tally add constraint open_ticket_tally_kind_check check (kind in ('queue', 'code', 'queue_code'))`.execute(db);
  // Start from what is there; the lock keeps a ticket write from slipping between the count and the trigger.
  await sql`lock table tickets in share mode`.execute(db);
  await sql.raw(captureFunction(true)).execute(db);
  await sql.raw(`
    insert into open_ticket_tally (kind, key, delta)
    select 'queue_code', json_build_array(queue, c)::text, count(*) from tickets, unnest(codes) as c where ${OPEN} group by queue, c`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`lock table tickets in share mode`.execute(db);
  await sql.raw(captureFunction(false)).execute(db);
  await sql`delete from open_ticket_tally where kind = 'queue_code'`.execute(db);
  await sql`alter table open_ticket_tally drop constraint open_ticket_tally_kind_check`.execute(db);
  await sql`alter table open_ticket_tally add constraint open_ticket_tally_kind_check check (kind in ('queue', 'code'))`.execute(db);
}

import { sql, type Kysely } from 'kysely';

// Frozen in time: imports nothing from src/.
//
// Intake starts new orders' lifecycles with the lifecycle version it saw last, without asking the
// database first; the statement that writes them checks that this version is still the latest executable
// one, and fails with SQLSTATE OR001 when a newer one was deployed meanwhile (by any process), so intake
// asks again and starts them with it. Called once per statement from a one-time filter.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create function ordo_expect_latest_definition(p_key text, p_id uuid) returns boolean language plpgsql stable as $$
    begin
      if p_key is null then
        return true;
      end if;
      if p_id is distinct from (select id from process_definitions where key = p_key and executable order by version desc limit 1) then
        raise exception 'process % was deployed again: % is no longer its latest executable version', p_key, p_id using errcode = 'OR001';
      end if;
      return true;
    end
  $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function ordo_expect_latest_definition(text, uuid)`.execute(db);
}

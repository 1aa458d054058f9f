import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type DbHandle } from '../../src/db/connection.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { validOrder } from '../fixtures/orders.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

/**
 * The step session's writes are prepared once per connection (`prepare:` in their text) so that
 * PostgreSQL plans them once. PostgreSQL still plans a prepared statement again on each call (a "custom
 * plan") when planning with the call's values looks cheaper than its plan for any values, and the
 * flush's values made it look so once the tables held production-sized statistics: an empty array of
 * ids to update is cheaper than any array. Planning the flush took longer than a small batch's writes.
 * Here intake runs on one connection with twenty thousand orders in the tables, and the session's own
 * view of its prepared statements says how they were planned.
 */
let t: TestApp | null = null;
let single: DbHandle | null = null;
afterEach(async () => {
  await single?.close();
  single = null;
  await t?.close();
  t = null;
});

describe('prepared writes', () => {
  it('keep one generic plan with production-sized tables (no planning per call)', async () => {
    t = await createTestApp({ deployDefaults: true });
    const { db } = t.database;
    // Tables of a shop that has run a while: 20,000 orders with their instances (small rows: only the
    // tables' and indexes' sizes matter to the planner), and their statistics.
    await sql`insert into orders (channel, external_id, status, data, body_hash, currency, grand_total_minor)
      select 'old', 'OLD-' || n, 'released', '{}', 'x', 'EUR', 100 from generate_series(1, 20000) as n`.execute(db);
    await sql`insert into process_instances (definition_id, process_key, version, status, state, order_id)
      select d.id, d.key, d.version, 'completed', '{}', o.id from orders o, (select id, key, version from process_definitions limit 1) d
      where o.channel = 'old'`.execute(db);
    await sql`analyze`.execute(db);
    single = connect(t.database.url, { max: 1 });
    const runtime = createRuntime({ db: single.db, boss: t.boss, logger: t.logger, config: t.config });
    await runtime.deployDefaults(new URL('../../processes/', import.meta.url).pathname);
    for (let round = 0; round < 12; round++) {
      const results = await Promise.all(
        Array.from({ length: 3 }, (_, i) => runtime.receive(validOrder({ externalId: `PLAN-${round}-${i}` }), 'channel:test')),
      );
      expect(results.every((r) => r.outcome === 'created')).toBe(true);
    }
    const { rows } = await sql<{ name: string; generic_plans: string; custom_plans: string }>`
      select name, generic_plans::text, custom_plans::text from pg_prepared_statements where name like 'ordo_flush%'`.execute(single.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      // PostgreSQL tries five custom plans before it compares; after that, every call uses the generic one.
      expect(Number(r.custom_plans), `${r.name}: ${r.generic_plans} generic, ${r.custom_plans} custom`).toBeLessThanOrEqual(5);
      expect(Number(r.generic_plans), r.name).toBeGreaterThan(0);
    }
  });
});

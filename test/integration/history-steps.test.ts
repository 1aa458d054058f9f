import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { appendHistory, historySteps } from '../../src/runtime/history.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * Migration 0010: history kept as one `instance_history_steps` row per instance and transaction, read
 * through the `instance_history` view with the columns and order it had as a table.
 */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const migrator = () => new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });

async function viewRows(instanceId: string) {
  return database.db
    .selectFrom('instance_history')
    .select(['id', 'element_id', 'element_type', 'event', 'at', 'actor', 'data'])
    .where('instance_id', '=', instanceId)
    .orderBy('id')
    .execute();
}

describe('history as steps', () => {
  it('reads back, through the view, what the runtime appended: in order, data and actor null where there were none', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const at = '2026-12-07T10:00:00.123Z';
    const steps = historySteps([
      { instance_id: a, element_id: 'Start', element_type: 'bpmn:StartEvent', event: 'entered', at, actor: 'lifecycle' },
      { instance_id: b, element_id: 'Start', element_type: 'bpmn:StartEvent', event: 'entered', at, actor: null },
      { instance_id: a, element_id: 'Check', element_type: 'bpmn:ScriptTask', event: 'left', at, actor: 'lifecycle', data: { changed: { ok: null, text: 'a "quoted" \\ value' } } },
    ]);
    expect(steps.map((s) => [s.instance_id, s.entries.length])).toEqual([
      [a, 2],
      [b, 1],
    ]);
    await database.db.transaction().execute(async (trx) => {
      for (const s of steps) await trx.insertInto('instance_history_steps').values({ instance_id: s.instance_id, entries: JSON.stringify(s.entries) }).execute();
      await appendHistory(trx, a, [{ element_id: 'order-lifecycle', element_type: 'bpmn:Process', event: 'variables', at, actor: 'anna', data: { changed: ['order'] } }]);
    });
    const rows = await viewRows(a);
    expect(rows.map((r) => [r.element_id, r.event, r.actor, r.data])).toEqual([
      ['Start', 'entered', 'lifecycle', null],
      ['Check', 'left', 'lifecycle', { changed: { ok: null, text: 'a "quoted" \\ value' } }],
      ['order-lifecycle', 'variables', 'anna', { changed: ['order'] }],
    ]);
    expect(rows.every((r) => r.at.toISOString() === at)).toBe(true);
    const ids = rows.map((r) => BigInt(r.id));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    expect((await viewRows(b)).map((r) => [r.element_id, r.actor, r.data])).toEqual([['Start', null, null]]);
  });

  it('moves rows written before it over with their ids and order, and back again on the way down', async () => {
    await migrator().migrateTo('0009_trim_write_path');
    const instance = randomUUID();
    await sql`insert into instance_history (instance_id, element_id, element_type, event, at, actor, data) values
      (${instance}, 'Start', 'bpmn:StartEvent', 'entered', '2026-01-02T03:04:05.678901Z', 'lifecycle', null),
      (${instance}, 'Check', 'bpmn:ScriptTask', 'left', '2026-01-02T03:04:06Z', null, '{"changed": {"x": [1, null]}}'),
      (${instance}, 'Flow', 'bpmn:SequenceFlow', 'taken', '2026-01-02T03:04:07Z', 'lifecycle', 'null')`.execute(database.db);
    const before = (await sql<{ element_id: string; at: Date; actor: string | null; data: unknown }>`
      select element_id, at, actor, data from instance_history where instance_id = ${instance} order by id`.execute(database.db)).rows;

    expect((await migrateToLatest(database.db)).slice(0, 2)).toEqual(['0010_history_steps', '0011_intake_definition_guard']);
    const after = await viewRows(instance);
    expect(after.map(({ element_id, at, actor, data }) => ({ element_id, at, actor, data }))).toEqual(before);
    // New entries follow the moved ones.
    await database.db.transaction().execute((trx) => appendHistory(trx, instance, [{ element_id: 'End', element_type: 'bpmn:EndEvent', event: 'entered', at: '2026-01-02T03:04:08Z', actor: 'lifecycle' }]));
    expect((await viewRows(instance)).map((r) => r.element_id)).toEqual(['Start', 'Check', 'Flow', 'End']);

    await migrator().migrateTo('0009_trim_write_path');
    const down = (await sql<{ element_id: string; actor: string | null; data: unknown }>`
      select element_id, actor, data from instance_history where instance_id = ${instance} order by id`.execute(database.db)).rows;
    expect(down.map((r) => r.element_id)).toEqual(['Start', 'Check', 'Flow', 'End']);
    expect(down[1]!.data).toEqual({ changed: { x: [1, null] } });
    // Writable again as a table, ids still from its sequence.
    await sql`insert into instance_history (instance_id, element_id, element_type, event, at) values (${instance}, 'Later', 'bpmn:Task', 'entered', now())`.execute(database.db);
    expect((await migrateToLatest(database.db)).slice(0, 2)).toEqual(['0010_history_steps', '0011_intake_definition_guard']);
    expect((await viewRows(instance)).map((r) => r.element_id)).toEqual(['Start', 'Check', 'Flow', 'End', 'Later']);
  });
});

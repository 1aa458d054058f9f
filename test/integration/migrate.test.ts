import { spawn } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as m0012 from '../../migrations/0012_hide_chosen_token_prefixes.ts';
import * as m0013 from '../../migrations/0013_tally_queue_codes.ts';
import { migrateToLatest, MigrationError } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('migrations', () => {
  it('are all applied in the template and a second run applies nothing', async () => {
    expect(await migrateToLatest(database.db)).toEqual([]);
    const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(database.db);
    expect(tables.rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(['users', 'api_tokens', 'orders', 'order_events']));
  });

  it('0012 blanks the shown start of tokens whose value was chosen, and keeps a generated token\'s', async () => {
    const user = await database.db.insertInto('users').values({ email: 'm0012@test.local', name: 'M', role: 'admin', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow();
    const tokens = [
      { prefix: 'dev-token', token_hash: 'h1' },
      { prefix: 'ordo_Ab-9', token_hash: 'h2' },
    ];
    await database.db.insertInto('api_tokens').values(tokens.map((t) => ({ ...t, user_id: user.id, name: t.prefix }))).execute();
    await m0012.up(database.db);
    const rows = await database.db.selectFrom('api_tokens').select(['name', 'prefix']).where('user_id', '=', user.id).orderBy('name').execute();
    expect(rows).toEqual([
      { name: 'dev-token', prefix: '' },
      { name: 'ordo_Ab-9', prefix: 'ordo_Ab-9' },
    ]);
  });

  it('0013 counts the open tickets already there per (queue, code); down takes those counts away again', async () => {
    await database.db.connection().execute(async (db) => {
      // As the migrator runs them: each in a transaction of its own.
      const migrate = (m: typeof m0013.up) => db.transaction().execute((trx) => m(trx));
      await migrate(m0013.down);
      // Tickets as an older Ordo left them (no orders or instances behind them: foreign keys off for the insert).
      await sql`set session_replication_role = replica`.execute(db);
      await sql`insert into tickets (instance_id, wait_id, element_id, kind, status, queue, priority, priority_rank, title, codes)
        select gen_random_uuid(), 'w' || i, 'Task', 'validation', case when i = 4 then 'resolved' else 'open' end, case when i < 3 then 'address' else 'payment' end,
          'high', 2, 'T' || i, case when i = 1 then array['PHONE_MISSING', 'EMAIL_INVALID'] else array['PHONE_MISSING'] end
        from generate_series(1, 4) i`.execute(db);
      await sql`set session_replication_role = origin`.execute(db);
      const pairs = () => sql<{ key: string; n: number }>`select key, sum(delta)::int as n from open_ticket_tally where kind = 'queue_code' group by key order by key`.execute(db).then((r) => r.rows);
      expect(await pairs()).toEqual([]);
      await migrate(m0013.up);
      expect(await pairs()).toEqual([
        { key: '["address", "EMAIL_INVALID"]', n: 1 },
        { key: '["address", "PHONE_MISSING"]', n: 2 },
        { key: '["payment", "PHONE_MISSING"]', n: 1 },
      ]);
      // Closing one moves its pairs' counts down through the trigger.
      await sql`update tickets set status = 'resolved' where title = 'T1'`.execute(db);
      expect(await pairs()).toEqual([
        { key: '["address", "EMAIL_INVALID"]', n: 0 },
        { key: '["address", "PHONE_MISSING"]', n: 1 },
        { key: '["payment", "PHONE_MISSING"]', n: 1 },
      ]);
      await migrate(m0013.down);
      expect(await pairs()).toEqual([]);
      await migrate(m0013.up);
    });
  });

  it('report the migration that failed, and leave nothing of it behind', async () => {
    // An empty database where a table the first migration creates is already in the way.
    await sql`drop schema public cascade`.execute(database.db);
    await sql`create schema public`.execute(database.db);
    await sql`create table api_tokens (id int)`.execute(database.db);
    const error = await migrateToLatest(database.db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migration).toBe('0001_create_identity');
    expect((error as Error).message).toMatch(/api_tokens.*already exists/);
    const users = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'users'`.execute(database.db);
    expect(users.rows[0]!.n).toBe(0);
  });

  it('npm run migrate applies them to an empty database and exits 0; a second run finds nothing to do', { timeout: 120_000 }, async () => {
    await sql`drop schema public cascade`.execute(database.db);
    await sql`create schema public`.execute(database.db);
    const first = await run(['scripts/migrate.ts']);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('migrations applied');
    expect(first.out).toContain('0008_add_console_indexes');
    const orders = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'orders'`.execute(database.db);
    expect(orders.rows[0]!.n).toBe(1);
    const second = await run(['scripts/migrate.ts']);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('the database is up to date');
  });

  it('a failing migration stops start-up (npm start, npm run migrate) with its error and a non-zero exit, before anything listens', { timeout: 120_000 }, async () => {
    await sql`drop schema public cascade`.execute(database.db);
    await sql`create schema public`.execute(database.db);
    await sql`create table api_tokens (id int)`.execute(database.db);
    for (const args of [['src/main.ts', 'all'], ['scripts/migrate.ts']]) {
      const { code, out } = await run(args);
      expect(code, out).not.toBe(0);
      expect(out).toMatch(/Migration 0001_create_identity failed: .*api_tokens.*already exists/);
      expect(out).not.toMatch(/listening|Server listening/i);
    }
  });
});

/** Run an Ordo entry point against the test database; its exit code and everything it printed. */
function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
    env: { ...process.env, DATABASE_URL: database.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

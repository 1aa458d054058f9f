import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});

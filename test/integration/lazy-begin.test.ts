import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALONE_MARK } from '../../src/db/connection.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { recordStatements } from '../support/statements.ts';

/**
 * Ordo's pg client holds Kysely's `begin` back until a transaction's first statement, and runs a
 * statement marked ALONE_MARK that comes first as the whole transaction. What reaches PostgreSQL is read
 * off pg.Client's own `query`, which the client calls for everything it sends.
 */
let database: TestDatabase;
let recording: ReturnType<typeof recordStatements>;
let sent: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await sql`create table lazy_probe (n int primary key)`.execute(database.db);
  recording = recordStatements();
  sent = recording.sent;
});
afterEach(async () => {
  await sql`truncate lazy_probe`.execute(database.db);
  sent.length = 0;
});
afterAll(async () => {
  recording?.stop();
  await database?.drop();
});

const rows = async () => (await sql<{ n: number }>`select n from lazy_probe order by n`.execute(database.db)).rows.map((r) => r.n);
const withoutProbe = () => sent.filter((t) => !t.includes('from lazy_probe order by n') && !t.startsWith('truncate'));

describe('a lazily begun transaction', () => {
  it('sends nothing at all when it runs no statement', async () => {
    expect(await database.db.transaction().execute(async () => 42)).toBe(42);
    await expect(database.db.transaction().execute(async () => { throw new Error('changed my mind'); })).rejects.toThrow('changed my mind');
    expect(sent).toEqual([]);
  });

  it('sends begin right before its first statement: two statements share one transaction and roll back together', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`insert into lazy_probe values (1)`.execute(trx);
        const a = await sql<{ x: string }>`select txid_current()::text as x`.execute(trx);
        const b = await sql<{ x: string }>`select txid_current()::text as x`.execute(trx);
        expect(a.rows[0]!.x).toBe(b.rows[0]!.x);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await rows()).toEqual([]);
    expect(withoutProbe()).toEqual(['begin', 'insert into lazy_probe values (1)', 'select txid_current()::text as x', 'select txid_current()::text as x', 'rollback']);
  });

  it('runs a statement marked alone that comes first as the whole transaction: no begin, no commit', async () => {
    const text = `${ALONE_MARK}insert into lazy_probe values (7), (8)`;
    await database.db.transaction().execute(async (trx) => {
      await sql.raw(text).execute(trx);
    });
    expect(await rows()).toEqual([7, 8]);
    expect(withoutProbe()).toEqual([text]);
  });

  it('refuses any statement after an alone one, and a failing alone statement writes nothing', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql.raw(`${ALONE_MARK}insert into lazy_probe values (1)`).execute(trx);
        await sql`insert into lazy_probe values (2)`.execute(trx);
      }),
    ).rejects.toThrow(/ended with a statement marked alone/);
    expect(await rows()).toEqual([1]);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql.raw(`${ALONE_MARK}insert into lazy_probe values (3), (3)`).execute(trx);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await rows()).toEqual([1]);
  });

  it('treats an alone statement after others as one more statement of the begun transaction', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`insert into lazy_probe values (1)`.execute(trx);
        await sql.raw(`${ALONE_MARK}insert into lazy_probe values (2)`).execute(trx);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await rows()).toEqual([]);
    await database.db.transaction().execute(async (trx) => {
      await sql`insert into lazy_probe values (1)`.execute(trx);
      await sql.raw(`${ALONE_MARK}insert into lazy_probe values (2)`).execute(trx);
    });
    expect(await rows()).toEqual([1, 2]);
    expect(withoutProbe().filter((t) => t === 'begin' || t === 'commit')).toEqual(['begin', 'begin', 'commit']);
  });

  it('keeps isolation levels and savepoints working', async () => {
    await database.db.transaction().setIsolationLevel('serializable').execute(async (trx) => {
      expect((await sql<{ l: string }>`select current_setting('transaction_isolation') as l`.execute(trx)).rows[0]!.l).toBe('serializable');
    });
    await database.db.transaction().execute(async (trx) => {
      await sql`savepoint first`.execute(trx);
      await sql`insert into lazy_probe values (5)`.execute(trx);
      await sql`rollback to savepoint first`.execute(trx);
      await sql`insert into lazy_probe values (6)`.execute(trx);
    });
    expect(await rows()).toEqual([6]);
  });
});

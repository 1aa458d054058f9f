import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

// Timestamps and bigint as the application expects them: int8 stays a string (exact), never a float.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/** Marks a statement that may be its transaction's only one: see `ALONE_MARK`. */
const ALONE = /^\/\* alone \*\/ /;
/** A statement to prepare, its name: the mark comes first, or right after `ALONE_MARK`. */
const PREPARE = /^(?:\/\* alone \*\/ )?\/\* prepare:([a-z0-9_]+) \*\//;

/**
 * Put first in a statement's text (before any `prepare:` mark) when nothing follows it in its transaction
 * but the commit: if the transaction has not begun yet, the statement runs as the whole transaction
 * (autocommitted, atomic as any single statement), and `begin` and `commit` are not sent at all. Two
 * round trips less for a transaction of one statement (intake's). After it, the transaction accepts
 * only `commit` or `rollback`, which have nothing left to do; any other statement fails.
 */
export const ALONE_MARK = '/* alone */ ';

const FAKE = (command: string) => Promise.resolve({ command, rowCount: null, oid: 0, fields: [], rows: [] });

/**
 * A pg client that
 * - prepares the statements marked `/* prepare:name *\/` once per connection and runs them by name
 *   afterwards: PostgreSQL parses and plans them once, not on every call. Only for statements whose text
 *   never changes (a fixed text with one JSON parameter, as the step session's writes are);
 * - begins a transaction lazily: Kysely's `begin` is held back until the transaction's first statement
 *   and sent just before it, so a transaction that sends nothing costs no round trip, and one whose only
 *   statement is marked `ALONE_MARK` runs it on its own.
 */
class PreparingClient extends pg.Client {
  /** `held`: Kysely said `begin` and nothing was sent yet; `ended`: a statement marked alone ran as the whole transaction. */
  private pending: 'none' | 'held' | 'ended' = 'none';

  override query(...args: unknown[]): any {
    const [text, values] = args;
    if (typeof text === 'string' && (args.length === 1 || (args.length === 2 && Array.isArray(values)))) {
      const params = values as unknown[] | undefined;
      if (this.pending === 'none') {
        if (text === 'begin' && !params?.length) {
          this.pending = 'held';
          return FAKE('BEGIN');
        }
        return this.send(text, params);
      }
      if (text === 'commit' || text === 'rollback') {
        this.pending = 'none';
        return FAKE(text.toUpperCase());
      }
      if (this.pending === 'ended') return Promise.reject(new Error('This transaction ended with a statement marked alone; only commit or rollback may follow it.'));
      if (ALONE.test(text)) {
        this.pending = 'ended';
        return this.send(text, params);
      }
      this.pending = 'none';
      // The statement only once `begin` succeeded: never autocommitted by mistake.
      return (super.query as (t: string) => Promise<pg.QueryResult>)('begin').then(() => this.send(text, params));
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }

  private send(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
    const m = PREPARE.exec(text);
    const query = super.query as (config: pg.QueryConfig) => Promise<pg.QueryResult>;
    return query.call(this, m ? { name: m[1]!, text, values } : { text, values });
  }
}

export interface DbHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function connect(url: string, options: { max?: number; onError?: (err: Error) => void } = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // A dead server must fail fast and visibly (readyz), not hang requests.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'ordo',
    Client: PreparingClient,
  });
  // An idle client losing its server (PostgreSQL restarted) emits 'error' on the pool; unhandled, it
  // would crash the process. The pool replaces the client on the next checkout.
  pool.on('error', (err) => options.onError?.(err));
  // A client that is checked out (inside a transaction, between two queries) also emits 'error' when its
  // server goes away, and the pool listens only to idle ones: unheard, that 'error' would end the process.
  // The query in flight fails by itself (the request answers 503), and the pool drops the broken client
  // when it comes back.
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async close() {
      await db.destroy();
    },
  };
}

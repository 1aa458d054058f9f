import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

// Timestamps and bigint as the application expects them: int8 stays a string (exact), never a float.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

const PREPARE = /^\/\* prepare:([a-z0-9_]+) \*\//;

/**
 * A pg client that prepares the statements marked `/* prepare:name *\/` once per connection and runs
 * them by name afterwards: PostgreSQL parses and plans them once, not on every call. Only for statements
 * whose text never changes (a fixed text with one JSON parameter, as the step session's writes are).
 */
class PreparingClient extends pg.Client {
  override query(...args: unknown[]): any {
    const [text, values] = args;
    if (typeof text === 'string' && (args.length === 1 || (args.length === 2 && Array.isArray(values)))) {
      const m = PREPARE.exec(text);
      if (m) return (super.query as (config: pg.QueryConfig) => Promise<pg.QueryResult>)({ name: m[1]!, text, values: values as unknown[] | undefined });
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
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

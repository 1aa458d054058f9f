import type { Db, Tx } from './database.ts';

/** SQLSTATEs of a transaction PostgreSQL aborted to let another go on: deadlock, serialization failure. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/**
 * Whether PostgreSQL refused a write because the process version it was made with is no longer the
 * latest executable one (SQLSTATE OR001, raised by `ordo_expect_latest_definition`, migration 0011).
 */
export function isStaleDefinition(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { code?: unknown }).code === 'OR001';
}

/** Attempts in all before the error reaches the caller. */
export const TRANSACTION_ATTEMPTS = 3;

export function isRetryableConflict(err: unknown): boolean {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * Run `fn` in a transaction, and again when PostgreSQL aborted it to break a deadlock or a serialization
 * conflict: nothing of it was committed, and the next attempt sees what the other transaction committed (an
 * operator who lost a race is then told so, 409, instead of getting a 500). `fn` must do nothing outside the
 * transaction that cannot be done twice.
 */
export async function transaction<T>(db: Db, fn: (trx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isRetryableConflict(err)) throw err;
    }
  }
}

import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/database.ts';

/**
 * Counts the console shows on every queue refresh and every page — open tickets per queue and per
 * code, orders per status — read from running tallies instead of counting a hundred thousand tickets
 * or a million orders each time. Statement triggers on tickets and orders (migration 0008) append
 * +n / −n rows in the writer's own transaction, so a tally is exactly as current as the rows it counts
 * (no cache to go stale) and writers never wait on a shared counter row. Reading sums the rows per key;
 * once there are more than FOLD_AFTER_ROWS of them, the reader folds them into one row per key.
 */

/** Tally rows beyond which a reader folds them (a sum over a few hundred rows costs well under a millisecond). */
export const FOLD_AFTER_ROWS = 500;

/** Transaction-level advisory lock keys: one fold per tally at a time, and nobody waits for it. */
const FOLD_LOCKS = { open_ticket_tally: 73_110_801, order_status_tally: 73_110_802 } as const;

async function fold(db: DbOrTx, table: keyof typeof FOLD_LOCKS): Promise<void> {
  const run = async (trx: DbOrTx) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${FOLD_LOCKS[table]}) as locked`.execute(trx);
    if (!rows[0]?.locked) return;
    // Delete what this snapshot sees and put back its sums; rows written meanwhile are neither deleted nor counted twice.
    if (table === 'open_ticket_tally') {
      await sql`
        with gone as (delete from open_ticket_tally returning kind, key, delta)
        insert into open_ticket_tally (kind, key, delta) select kind, key, sum(delta) from gone group by kind, key having sum(delta) <> 0`.execute(trx);
    } else {
      await sql`
        with gone as (delete from order_status_tally returning status, delta)
        insert into order_status_tally (status, delta) select status, sum(delta) from gone group by status having sum(delta) <> 0`.execute(trx);
    }
  };
  if (db.isTransaction) await run(db);
  else await (db as Db).transaction().execute(run);
}

export interface OpenTicketTally {
  total: number;
  queues: Array<{ queue: string; count: number }>;
  codes: Array<{ code: string; count: number }>;
  /** Per queue and code (pairs with tickets only), by queue then code. */
  pairs: Array<{ queue: string; code: string; count: number }>;
}

/** Open tickets in `queue` (every queue when empty) with `code`, from the tally. */
export function openWithCode(tally: OpenTicketTally, code: string, queue?: string): number {
  if (!queue) return tally.codes.find((c) => c.code === code)?.count ?? 0;
  return tally.pairs.find((p) => p.queue === queue && p.code === code)?.count ?? 0;
}

/** What the open-ticket tally reads: the tally rows summed per (kind, key), and how many rows each sum took. */
export type OpenTicketTallyRow = { kind: string; key: string; n: string | number; rows: string | number };

/** The statement behind the open-ticket tally, for callers that read it together with something else. */
export const openTicketTallyRows = (db: DbOrTx) =>
  db.selectFrom('open_ticket_tally').select(['kind', 'key', sql<string>`sum(delta)`.as('n'), sql<string>`count(*)`.as('rows')]).groupBy(['kind', 'key']);

/** Open (and in-progress) tickets per queue, largest code first; queues by name. */
export async function openTicketTally(db: DbOrTx): Promise<OpenTicketTally> {
  return openTicketTallyFrom(db, await openTicketTallyRows(db).execute());
}

/** The tally from its summed rows; folds the tally table when it has grown past FOLD_AFTER_ROWS rows. */
export async function openTicketTallyFrom(db: DbOrTx, rows: readonly OpenTicketTallyRow[]): Promise<OpenTicketTally> {
  if (rows.reduce((s, r) => s + Number(r.rows), 0) > FOLD_AFTER_ROWS) await fold(db, 'open_ticket_tally');
  const queues = rows
    .filter((r) => r.kind === 'queue' && Number(r.n) > 0)
    .map((r) => ({ queue: r.key, count: Number(r.n) }))
    .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  const codes = rows
    .filter((r) => r.kind === 'code' && Number(r.n) > 0)
    .map((r) => ({ code: r.key, count: Number(r.n) }))
    .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const pairs = rows
    .filter((r) => r.kind === 'queue_code' && Number(r.n) > 0)
    .map((r) => {
      const [queue, code] = JSON.parse(r.key) as [string, string];
      return { queue, code, count: Number(r.n) };
    })
    .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return { total: queues.reduce((s, q) => s + q.count, 0), queues, codes, pairs };
}

/** Orders per status (statuses without orders left out). */
export async function orderStatusTally(db: DbOrTx): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('order_status_tally')
    .select(['status', sql<string>`sum(delta)`.as('n'), sql<string>`count(*)`.as('rows')])
    .groupBy('status')
    .execute();
  if (rows.reduce((s, r) => s + Number(r.rows), 0) > FOLD_AFTER_ROWS) await fold(db, 'order_status_tally');
  return new Map(rows.filter((r) => Number(r.n) > 0).map((r) => [r.status, Number(r.n)]));
}

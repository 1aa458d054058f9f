import type { Tx } from '../db/database.ts';

/** One history entry as the runtime records it (read back through the `instance_history` view). */
export interface HistoryEntry {
  element_id: string;
  element_type: string;
  event: string;
  /** ISO 8601. */
  at: string;
  actor: string | null;
  data?: unknown;
}

/** How `instance_history_steps.entries` keeps an entry (migration 0010): `data` left out when there is none. */
type StoredEntry = [string, string, string, string, string | null] | [string, string, string, string, string | null, unknown];

function stored(e: HistoryEntry): StoredEntry {
  const head: [string, string, string, string, string | null] = [e.element_id, e.element_type, e.event, e.at, e.actor];
  return e.data === null || e.data === undefined ? head : [...head, e.data];
}

/**
 * The entries of several instances as `instance_history_steps` rows: one per instance, its entries in
 * the order given.
 */
export function historySteps(entries: ReadonlyArray<HistoryEntry & { instance_id: string }>): Array<{ instance_id: string; entries: StoredEntry[] }> {
  const byInstance = new Map<string, StoredEntry[]>();
  for (const e of entries) {
    let list = byInstance.get(e.instance_id);
    if (!list) byInstance.set(e.instance_id, (list = []));
    list.push(stored(e));
  }
  return [...byInstance].map(([instance_id, list]) => ({ instance_id, entries: list }));
}

/** Append entries to one instance's history in this transaction (after what is there). */
export async function appendHistory(trx: Tx, instanceId: string, entries: readonly HistoryEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await trx.insertInto('instance_history_steps').values({ instance_id: instanceId, entries: JSON.stringify(entries.map(stored)) }).execute();
}

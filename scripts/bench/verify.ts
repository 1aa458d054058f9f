/**
 * After a benchmark run: did every order end as its checks say, and did everything happen exactly once?
 * One lifecycle instance per order, one ticket per held order, and per released order one job effect for
 * each of the two service tasks (reserve-stock, hand-over-to-fulfilment), never two for the same
 * (order, job). Orders are picked by their external id prefix, so warm-up orders are left out.
 */
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.ts';

export type Settled = 'released' | 'on_hold';
export const SETTLED_STATUSES = ['released', 'on_hold'] as const;

export interface Verified {
  released: number;
  onHold: number;
}

/** Orders with this external id prefix that have settled (released, or on hold with a ticket). */
export async function countSettled(db: Db, prefix: string): Promise<number> {
  const row = await db
    .selectFrom('orders')
    .select((e) => e.fn.countAll<string>().as('n'))
    .where('status', 'in', SETTLED_STATUSES)
    .where('external_id', 'like', `${prefix}-%`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Throws with what went wrong; returns the counts when all is well. */
/** `jobsPerReleasedOrder`: the service tasks a released order has run through (two in the default lifecycle). */
export async function verifyOutcomes(db: Db, prefix: string, expected: ReadonlyMap<string, Settled>, { jobsPerReleasedOrder = 2 } = {}): Promise<Verified> {
  const like = `${prefix}-%`;
  const rows = await db.selectFrom('orders').select(['external_id', 'status']).where('external_id', 'like', like).execute();
  const statusOf = new Map(rows.map((r) => [r.external_id, r.status]));
  if (rows.length !== expected.size) throw new Error(`${rows.length} orders stored with prefix ${prefix}, ${expected.size} posted`);
  const wrong = [...expected].filter(([externalId, status]) => statusOf.get(externalId) !== status);
  if (wrong.length > 0) {
    const [externalId, status] = wrong[0]!;
    throw new Error(`${wrong.length} orders ended wrong, e.g. ${externalId}: ${statusOf.get(externalId) ?? 'missing'}, expected ${status}`);
  }
  const held = [...expected.values()].filter((s) => s === 'on_hold').length;
  const released = expected.size - held;

  const { rows: counts } = await sql<{ instances: string; orders_with_instance: string; effects: string; effect_pairs: string; tickets: string; held_with_ticket: string }>`
    with measured as (select id from orders where external_id like ${like})
    select
      (select count(*) from process_instances i join measured m on m.id = i.order_id where i.parent_id is null)::text as instances,
      (select count(distinct i.order_id) from process_instances i join measured m on m.id = i.order_id where i.parent_id is null)::text as orders_with_instance,
      (select count(*) from job_effects j join measured m on m.id = j.order_id)::text as effects,
      (select count(*) from (select distinct j.order_id, j.job from job_effects j join measured m on m.id = j.order_id) d)::text as effect_pairs,
      (select count(*) from tickets t join measured m on m.id = t.order_id)::text as tickets,
      (select count(distinct t.order_id) from tickets t join measured m on m.id = t.order_id)::text as held_with_ticket
  `.execute(db);
  const c = counts[0]!;
  const n = (s: string) => Number(s);
  const problems: string[] = [];
  if (n(c.instances) !== expected.size || n(c.orders_with_instance) !== expected.size) problems.push(`${c.instances} lifecycle instances over ${c.orders_with_instance} orders`);
  if (n(c.effects) !== n(c.effect_pairs)) problems.push(`${c.effects} job effects for ${c.effect_pairs} (order, job) pairs: some ran twice`);
  if (n(c.effects) !== jobsPerReleasedOrder * released) problems.push(`${c.effects} job effects for ${released} released orders`);
  if (n(c.tickets) !== held || n(c.held_with_ticket) !== held) problems.push(`${c.tickets} tickets on ${c.held_with_ticket} orders for ${held} held`);
  if (problems.length > 0) throw new Error(`exactly-once check failed for ${expected.size} orders: ${problems.join('; ')}`);
  return { released, onHold: held };
}

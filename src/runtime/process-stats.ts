import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { BOSS_SCHEMA, QUEUES } from './boss.ts';
import { decodeCursor, encodeCursor, InvalidCursorError } from './orders.ts';
import { elementStats } from './views.ts';

/** Read models for the analysts' process pages: the heatmap over a version, and who waits at an element. */

export interface ElementHeat {
  waiting: number;
  openTickets: number;
  failures24h: number;
  retrying: number;
}

/**
 * Per element of one version: instances waiting, open tickets, tickets opened in the last 24 h, and
 * service jobs pg-boss is still retrying (state `retry`) for instances of the version.
 */
export async function heatmap(db: DbOrTx, definitionId: string): Promise<Record<string, ElementHeat>> {
  const stats = await elementStats(db, definitionId);
  const out: Record<string, ElementHeat> = {};
  for (const [id, s] of Object.entries(stats)) out[id] = { ...s, retrying: 0 };
  // pg-boss's own table, read as it stands: Ordo's jobs carry the instance and element they run for.
  const retrying = await sql<{ element_id: string; n: string }>`
    select j.data->>'elementId' as element_id, count(*) as n
    from ${sql.table(`${BOSS_SCHEMA}.job`)} j
    join process_instances i on i.id = (j.data->>'instanceId')::uuid
    where j.name = ${QUEUES.service} and j.state = 'retry' and i.definition_id = ${definitionId}
    group by 1`.execute(db);
  for (const r of retrying.rows) {
    if (!r.element_id) continue;
    (out[r.element_id] ??= { waiting: 0, openTickets: 0, failures24h: 0, retrying: 0 }).retrying = Number(r.n);
  }
  return out;
}

export interface WaitingInstance {
  instanceId: string;
  orderId: string | null;
  externalId: string | null;
  customerName: string | null;
  orderStatus: string | null;
  /** When the instance last moved (≈ since when it waits here). */
  since: Date;
  openTickets: number;
}

/** Instances of a version waiting at an element, longest waiting first, keyset-paged on (updated_at, id). */
export async function waitingAtElement(db: DbOrTx, definitionId: string, elementId: string, limit = 50, cursor?: string): Promise<{ items: WaitingInstance[]; nextCursor: string | null }> {
  let q = db
    .selectFrom('process_instances as i')
    .leftJoin('orders as o', 'o.id', 'i.order_id')
    .select(['i.id', 'i.order_id', 'i.updated_at', 'o.external_id', 'o.customer_name', 'o.status as order_status'])
    // Microseconds survive only as text (a JS Date keeps milliseconds), so the cursor carries this.
    .select(sql<string>`to_char(i.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'))
    .select((eb) =>
      eb
        .selectFrom('tickets as t')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('t.instance_id', '=', 'i.id')
        .where('t.element_id', '=', elementId)
        .where('t.status', 'in', OPEN_TICKET_STATUSES)
        .as('open_tickets'),
    )
    .where('i.definition_id', '=', definitionId)
    .where('i.status', '=', 'active')
    .where(sql<boolean>`${elementId} = any(i.waiting_at)`);
  if (cursor) {
    const c = decodeCursor(cursor);
    if (!c) throw new InvalidCursorError();
    q = q.where(sql<boolean>`(i.updated_at, i.id) > (${c.createdAt}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await q.orderBy('i.updated_at').orderBy('i.id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      instanceId: r.id,
      orderId: r.order_id,
      externalId: r.external_id,
      customerName: r.customer_name,
      orderStatus: r.order_status,
      since: r.updated_at,
      openTickets: Number(r.open_tickets ?? 0),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last.id) : null,
  };
}

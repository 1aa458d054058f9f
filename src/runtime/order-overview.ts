import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import type { TicketStatus } from '../db/tables/tickets.table.ts';
import { isUuid } from './orders.ts';

/**
 * Read models for the console's order page: where the order's lifecycle stands, its tickets, and one
 * timeline merging what happened to the order, its process instance and its tickets.
 */

export interface OrderProcess {
  instanceId: string;
  processKey: string;
  version: number;
  status: string;
  waitingAt: string[];
  /** Elements the instance has completed at least once (for ticks on the diagram). */
  done: string[];
  /** The process version it runs (for its elements' names). */
  definitionId: string;
}

/** The order's lifecycle instance (the top-level one), if it has started. */
export async function orderProcess(db: DbOrTx, orderId: string): Promise<OrderProcess | null> {
  if (!isUuid(orderId)) return null;
  const row = await db
    .selectFrom('process_instances as i')
    .select(['i.id', 'i.process_key', 'i.version', 'i.status', 'i.waiting_at', 'i.definition_id'])
    // The elements it has left, in the same round trip.
    .select(sql<string[]>`array(select distinct h.element_id from instance_history h where h.instance_id = i.id and h.event = 'left' limit 1000)`.as('done'))
    .where('i.order_id', '=', orderId)
    .where('i.parent_id', 'is', null)
    .orderBy('i.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  return { instanceId: row.id, processKey: row.process_key, version: row.version, status: row.status, waitingAt: row.waiting_at, done: row.done, definitionId: row.definition_id };
}

/** The BPMN XML the order's lifecycle runs on, for the diagram viewer. */
export async function orderDiagram(db: DbOrTx, orderId: string): Promise<{ xml: string; processKey: string; version: number } | null> {
  if (!isUuid(orderId)) return null;
  const row = await db
    .selectFrom('process_instances as i')
    .innerJoin('process_definitions as d', 'd.id', 'i.definition_id')
    .innerJoin('deployments as dep', 'dep.id', 'd.deployment_id')
    .select(['dep.xml', 'd.key', 'd.version'])
    .where('i.order_id', '=', orderId)
    .where('i.parent_id', 'is', null)
    .orderBy('i.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { xml: row.xml, processKey: row.key, version: row.version } : null;
}

export interface OrderTicket {
  id: string;
  title: string;
  status: TicketStatus;
  queue: string;
  codes: string[];
  elementId: string;
  /** What the step found wrong, field by field (an open ticket's remaining issues). */
  issues: Array<{ code: string; field?: string; message?: string }>;
  createdAt: Date;
  closedAt: Date | null;
}

export async function orderTickets(db: DbOrTx, orderId: string, limit = 100): Promise<OrderTicket[]> {
  if (!isUuid(orderId)) return [];
  const rows = await db
    .selectFrom('tickets')
    .select(['id', 'title', 'status', 'queue', 'codes', 'element_id', 'issues', 'created_at', 'closed_at'])
    .where('order_id', '=', orderId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    title: r.title,
    status: r.status,
    queue: r.queue,
    codes: r.codes,
    elementId: r.element_id,
    issues: (r.issues as OrderTicket['issues'] | null) ?? [],
    createdAt: r.created_at,
    closedAt: r.closed_at,
  }));
}

export interface TimelineEntry {
  at: Date;
  actor: string | null;
  source: 'order' | 'process' | 'ticket';
  kind: string;
  /** The element (process entries) or ticket id (ticket entries) the entry is about. */
  subject: string | null;
  subjectType: string | null;
  data: unknown;
}

/** Process history worth an operator's attention: gateways' and flows' enter/leave noise is left out. */
const PROCESS_EVENTS = ['entered', 'failed', 'ticket', 'incident', 'error', 'withdrawn'] as const;
const QUIET_ELEMENT_TYPES = ['bpmn:ExclusiveGateway', 'bpmn:ParallelGateway', 'bpmn:InclusiveGateway', 'bpmn:EventBasedGateway', 'bpmn:SequenceFlow'];

/** Newest first, at most `limit` entries from each source. */
export async function orderTimeline(db: DbOrTx, orderId: string, limit = 200): Promise<TimelineEntry[]> {
  if (!isUuid(orderId)) return [];
  const [orderEvents, history, ticketEvents] = await Promise.all([
    db.selectFrom('order_events').select(['at', 'actor', 'kind', 'data']).where('order_id', '=', orderId).orderBy('id', 'desc').limit(limit).execute(),
    db
      .selectFrom('instance_history as h')
      .innerJoin('process_instances as i', 'i.id', 'h.instance_id')
      .select(['h.at', 'h.actor', 'h.event', 'h.element_id', 'h.element_type', 'h.data'])
      .where('i.order_id', '=', orderId)
      .where('h.event', 'in', PROCESS_EVENTS)
      .where('h.element_type', 'not in', QUIET_ELEMENT_TYPES)
      .orderBy('h.id', 'desc')
      .limit(limit)
      .execute(),
    db
      .selectFrom('ticket_events as e')
      .innerJoin('tickets as t', 't.id', 'e.ticket_id')
      .select(['e.at', 'e.actor', 'e.kind', 'e.data', 't.id as ticket_id', 't.title'])
      .where('t.order_id', '=', orderId)
      .orderBy('e.id', 'desc')
      .limit(limit)
      .execute(),
  ]);
  const entries: TimelineEntry[] = [
    ...orderEvents.map((e) => ({ at: e.at, actor: e.actor, source: 'order' as const, kind: e.kind, subject: null, subjectType: null, data: e.data })),
    ...history.map((h) => ({ at: h.at, actor: h.actor, source: 'process' as const, kind: h.event, subject: h.element_id, subjectType: h.element_type, data: h.data })),
    ...ticketEvents.map((e) => ({ at: e.at, actor: e.actor, source: 'ticket' as const, kind: e.kind, subject: String(e.ticket_id), subjectType: e.title, data: e.data })),
  ];
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
}

import { sql } from 'kysely';
import type { DbOrTx } from '../db/database.ts';
import type { TicketField } from '../engine/model/types.ts';
import type { TicketRow } from '../db/tables/tickets.table.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { isUuid } from './orders.ts';

/** Read models for the API and the console: plain data in the shapes SPEC §7 names. */

export interface InstanceView {
  id: string;
  processKey: string;
  version: number;
  businessKey: string | null;
  orderId: string | null;
  parentId: string | null;
  state: 'active' | 'completed' | 'cancelled' | 'failed';
  waitingAt: string[];
  waitingFor: string[];
  variables: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  history: Array<{ elementId: string; elementType: string; event: string; at: string; actor: string | null; data?: unknown }>;
}

export async function getInstanceView(db: DbOrTx, id: string, options: { historyLimit?: number } = {}): Promise<InstanceView | null> {
  if (!isUuid(id)) return null;
  const row = await db.selectFrom('process_instances').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const history = await db
    .selectFrom('instance_history')
    .select(['element_id', 'element_type', 'event', 'at', 'actor', 'data'])
    .where('instance_id', '=', id)
    .orderBy('id')
    .limit(options.historyLimit ?? 1000)
    .execute();
  return {
    id: row.id,
    processKey: row.process_key,
    version: row.version,
    businessKey: row.business_key,
    orderId: row.order_id,
    parentId: row.parent_id,
    state: row.status,
    waitingAt: row.waiting_at,
    waitingFor: row.waiting_messages,
    variables: (row.state as { variables: Record<string, unknown> }).variables ?? {},
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    endedAt: row.ended_at?.toISOString() ?? null,
    history: history.map((h) => ({
      elementId: h.element_id,
      elementType: h.element_type,
      event: h.event,
      at: h.at.toISOString(),
      actor: h.actor,
      ...(h.data === null ? {} : { data: h.data }),
    })),
  };
}

export interface TicketView {
  id: string;
  orderId: string | null;
  instanceId: string;
  elementId: string;
  elementName: string | null;
  waitId: string;
  kind: 'validation' | 'manual' | 'technical';
  status: 'open' | 'in_progress' | 'resolved' | 'cancelled';
  queue: string;
  priority: string;
  dueAt: string | null;
  title: string;
  issues: Array<{ code: string; field?: string; message?: string }>;
  instructions: string[];
  /** A manual task's form, as the diagram declares it; empty for other tickets. */
  fields: TicketField[];
  error: string | null;
  assignee: string | null;
  assigneeId: string | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export function toTicketView(row: TicketRow & { assignee_email?: string | null }): TicketView {
  return {
    id: String(row.id),
    orderId: row.order_id,
    instanceId: row.instance_id,
    elementId: row.element_id,
    elementName: row.element_name,
    waitId: row.wait_id,
    kind: row.kind,
    status: row.status,
    queue: row.queue,
    priority: row.priority,
    dueAt: row.due_at?.toISOString() ?? null,
    title: row.title,
    issues: row.issues as TicketView['issues'],
    instructions: row.instructions as string[],
    fields: row.fields as TicketField[],
    error: row.error,
    assignee: row.assignee_email ?? null,
    assigneeId: row.assignee_id,
    revision: row.revision,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
  };
}

export function ticketQuery(db: DbOrTx) {
  return db.selectFrom('tickets').leftJoin('users', 'users.id', 'tickets.assignee_id').selectAll('tickets').select('users.email as assignee_email');
}

export async function ticketsForOrder(db: DbOrTx, orderId: string): Promise<TicketView[]> {
  const rows = await ticketQuery(db).where('tickets.order_id', '=', orderId).orderBy('tickets.id').execute();
  return rows.map(toTicketView);
}

/** The order's lifecycle instance: where it stands (element ids) and its id. */
export async function lifecycleOf(db: DbOrTx, orderId: string) {
  return db
    .selectFrom('process_instances')
    .select(['id', 'process_key', 'version', 'status', 'waiting_at', 'definition_id'])
    .where('order_id', '=', orderId)
    .where('parent_id', 'is', null)
    .executeTakeFirst();
}

export async function listProcesses(db: DbOrTx) {
  const rows = await db
    .selectFrom('process_definitions as d')
    .innerJoin('deployments as dep', 'dep.id', 'd.deployment_id')
    .select(['d.id', 'd.key', 'd.version', 'd.name', 'd.executable', 'dep.deployed_by', 'dep.deployed_at'])
    .select((eb) => [
      eb.selectFrom('process_instances as i').select((e) => e.fn.countAll<string>().as('n')).whereRef('i.definition_id', '=', 'd.id').where('i.status', '=', 'active').as('running'),
      eb
        .selectFrom('tickets as t')
        .innerJoin('process_instances as i2', 'i2.id', 't.instance_id')
        .select((e) => e.fn.countAll<string>().as('n'))
        .whereRef('i2.definition_id', '=', 'd.id')
        .where('t.status', 'in', OPEN_TICKET_STATUSES)
        .as('open_tickets'),
    ])
    .orderBy('d.key')
    .orderBy('d.version', 'desc')
    .execute();
  type Version = { version: number; name: string | null; executable: boolean; deployedBy: string; deployedAt: string; runningInstances: number; openTickets: number };
  const byKey = new Map<string, { key: string; name: string | null; latestVersion: number; executable: boolean; versions: Version[] }>();
  for (const r of rows) {
    let p = byKey.get(r.key);
    if (!p) {
      p = { key: r.key, name: r.name, latestVersion: r.version, executable: r.executable, versions: [] };
      byKey.set(r.key, p);
    }
    p.versions.push({
      version: r.version,
      name: r.name,
      executable: r.executable,
      deployedBy: r.deployed_by,
      deployedAt: r.deployed_at.toISOString(),
      runningInstances: Number(r.running ?? 0),
      openTickets: Number(r.open_tickets ?? 0),
    });
  }
  return [...byKey.values()];
}

/** Per element of one version: tokens waiting, open tickets, failures in the last 24 h, jobs retrying. */
export async function elementStats(db: DbOrTx, definitionId: string) {
  const waiting = await sql<{ element_id: string; n: string }>`
    select unnest(waiting_at) as element_id, count(*) as n from process_instances
    where definition_id = ${definitionId} and status = 'active' group by 1`.execute(db);
  const tickets = await sql<{ element_id: string; open: string; recent: string }>`
    select t.element_id,
           count(*) filter (where t.status in ('open', 'in_progress')) as open,
           count(*) filter (where t.created_at > now() - interval '24 hours') as recent
    from tickets t join process_instances i on i.id = t.instance_id
    where i.definition_id = ${definitionId} group by 1`.execute(db);
  const out: Record<string, { waiting: number; openTickets: number; failures24h: number }> = {};
  const at = (id: string) => (out[id] ??= { waiting: 0, openTickets: 0, failures24h: 0 });
  for (const r of waiting.rows) at(r.element_id).waiting = Number(r.n);
  for (const r of tickets.rows) {
    at(r.element_id).openTickets = Number(r.open);
    at(r.element_id).failures24h = Number(r.recent);
  }
  return out;
}

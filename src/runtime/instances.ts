import { sql, type ExpressionBuilder, type Insertable } from 'kysely';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { step, waitingAt, messageSubscriptions, type CompiledProcess, type EngineEvent, type Effect, type InstanceState, type StepResult } from '../engine/index.ts';
import { addDuration, parseDuration } from '../engine/runtime/iso.ts';
import { ALONE_MARK } from '../db/connection.ts';
import { newId } from '../db/ids.ts';
import type { Database, Db, Tx } from '../db/database.ts';
import type { OrderStatus } from '../db/tables/orders.table.ts';
import type { ProcessDefinitionRow, ProcessInstanceRow } from '../db/tables/processes.table.ts';
import { OPEN_TICKET_STATUSES, type TicketRow } from '../db/tables/tickets.table.ts';
import { sameJson } from '../orders/canonical.ts';
import { checkOrderShape } from '../orders/shape.ts';
import type { Order } from '../orders/schema.ts';
import { normalPriority, priorityRank, renderInstructions, renderTemplate } from '../tickets/instructions.ts';
import { bossDb, deterministicJobId, QUEUES, type ServiceJobData, type TimerJobData } from './boss.ts';
import { latestDefinition, type ModelCache } from './definitions.ts';
import { historySteps, type HistoryEntry } from './history.ts';
import { jobLogger, recordsOnly, type JobHandler } from './jobs/index.ts';
import { searchColumns, searchColumnsJson, type IntakeOrderValues, type IntakeView, type StoredIntakeOrder } from './orders.ts';
import { toTicketView, type TicketView } from './views.ts';

/**
 * One use case, one transaction: lock an instance, step it with an event, and write everything that
 * follows — its new state, history rows, tickets, timer and job rows (through pg-boss, in the same
 * transaction), child instances and the events they send back to their parents, and the order's status.
 * A crash anywhere rolls all of it back; the event is then redelivered and replayed from the old state.
 */

export interface RuntimeContext {
  db: Db;
  boss: PgBoss;
  models: ModelCache;
  feelFunctions: Record<string, (...args: any[]) => unknown>;
  logger: Logger;
  clock: () => Date;
  stepLimit?: number;
  /**
   * Service-task handlers that run inside the step's transaction (jobs/index.ts `inStepTransaction`), by
   * job name. Any other job goes to pg-boss.
   */
  inlineJobs?: Readonly<Record<string, JobHandler>>;
}

export interface StepOutcome {
  instanceId: string;
  /** False when the event found nothing to do (instance ended, token moved on): a no-op. */
  applied: boolean;
  status: ProcessInstanceRow['status'];
  effects: Effect[];
}

interface Pending {
  instanceId: string;
  event: EngineEvent;
  actor: string;
}

/** Statuses an order shows by what its lifecycle is doing (SPEC §3). */
export function deriveOrderStatus(model: CompiledProcess, state: InstanceState, openTickets: number, history: StepResult['history'] = []): OrderStatus {
  if (state.status === 'cancelled') return 'cancelled';
  if (state.status === 'completed') {
    // The end event reached says how the order ended ("Order rejected" carries ordo:status="cancelled").
    for (let i = history.length - 1; i >= 0; i--) {
      const h = history[i]!;
      const declared = h.event === 'entered' && h.elementType === 'bpmn:EndEvent' ? model.elements[h.elementId]?.status : null;
      if (declared) return declared as OrderStatus;
    }
    return 'completed';
  }
  if (state.status === 'failed' || openTickets > 0) return 'on_hold';
  // An analyst marks waits with ordo:status ("awaiting_payment" on the payment wait, "released" after hand-over).
  for (const id of waitingAt(state)) {
    const declared = model.elements[id]?.status;
    if (declared) return declared as OrderStatus;
  }
  return 'in_progress';
}

export async function lockInstance(trx: Tx, id: string): Promise<ProcessInstanceRow | undefined> {
  return trx.selectFrom('process_instances').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** A new instance of a definition, started in this transaction; returns its id. */
export async function startInstance(ctx: RuntimeContext, trx: Tx, input: StartInput): Promise<StepOutcome> {
  const session = new StepSession(ctx, trx);
  const outcome = await session.start(input);
  await session.flush();
  return outcome;
}

/** Apply an event to one instance (and whatever it triggers) in this transaction. */
export async function applyEvent(ctx: RuntimeContext, trx: Tx, instanceId: string, event: EngineEvent, actor: string): Promise<StepOutcome> {
  const session = new StepSession(ctx, trx);
  const outcome = await session.apply(instanceId, event, actor);
  await session.flush();
  return outcome;
}

export interface StartInput {
  definition: ProcessDefinitionRow;
  variables: Record<string, unknown>;
  businessKey?: string | null;
  orderId?: string | null;
  parent?: { id: string; waitId: string };
  startEventId?: string;
  actor: string;
  /** Create the instance stopped at its start event with a technical ticket saying this (see EngineEvent `start`). */
  incident?: string;
}

/**
 * In-transaction jobs one instance may run in one session: a diagram that loops through a service task
 * without waiting anywhere else hands its jobs to pg-boss after this many, instead of never committing.
 */
const INLINE_JOBS_PER_INSTANCE = 20;

type RunJobEffect = Extract<Effect, { type: 'runJob' }>;

/**
 * The work of one transaction: a queue of (instance, event) pairs, because a step may start a child,
 * and a child's end is an event for its parent. A worker steps a whole batch of jobs in one session.
 *
 * Round trips are what a step costs (the engine itself takes microseconds), so the session writes
 * behind: it keeps every instance and order row it has locked or written as the authoritative copy for
 * the rest of the transaction, and `flush()` writes what it collected with one statement per table — new
 * instances, changed instances, order status changes, history rows, order and ticket events, pg-boss
 * jobs. Tickets are inserted at once (their ids are needed for their events), after their instance.
 * Nothing else in the transaction may read these tables before `flush()`; the public use cases below
 * flush before they return.
 */
export class StepSession {
  readonly outcomes = new Map<string, StepOutcome>();
  private readonly queue: Pending[] = [];
  private readonly jobs: PgBoss.JobInsert[] = [];
  // Rows collected for flush(), their jsonb columns as values (each table is sent as one JSON document).
  private readonly history: Array<HistoryEntry & { instance_id: string }> = [];
  private readonly orderEvents: Array<{ order_id: string; actor: string; kind: string; data: unknown }> = [];
  private readonly ticketEvents: Array<{ ticket_id: string; actor: string; kind: string; data: unknown }> = [];
  private readonly pendingTickets: Array<{
    actor: string;
    opened: { issues: unknown; error: string | null };
    values: Omit<Insertable<Database['tickets']>, 'issues' | 'instructions' | 'fields'> & { instance_id: string; wait_id: string; issues: unknown; instructions: unknown; fields: unknown };
  }> = [];
  /** Instance rows locked (FOR UPDATE) in this transaction, as last written. */
  private readonly rows = new Map<string, ProcessInstanceRow>();
  /** Orders locked in this transaction: their status and open tickets, kept current as the session writes. */
  private readonly orders = new Map<string, { status: OrderStatus; openTickets: number; data?: unknown }>();
  /** Instances created ('insert') or stepped ('update') here and not written yet, in the order they came. */
  private readonly unwritten = new Map<string, 'insert' | 'update'>();
  /** Order changes not written yet: the new status, and the new data when a step changed the order. */
  private readonly orderPatches = new Map<string, { status?: OrderStatus; data?: Order }>();
  /** Orders received in this transaction whose rows go in with the session's next write (`adoptNewOrders`). */
  private readonly unwrittenOrders = new Map<string, IntakeOrderValues>();
  /** Those rows as written: what the insert set, the status and data they went in with, and changes since. */
  private readonly writtenOrders = new Map<string, StoredIntakeOrder>();
  /** Jobs this step reached whose handlers run in this transaction, run once the step is recorded. */
  private readonly inlinePending: Array<{ row: ProcessInstanceRow; effect: RunJobEffect }> = [];
  private readonly inlineRuns = new Map<string, number>();
  /** Tickets opened for new orders (`newOrderView`), by order, once written. */
  private readonly openedTickets = new Map<string, TicketView[]>();
  /** Instances created in this session: no job can have recorded an effect for them yet. */
  private readonly created = new Set<string>();
  private readonly jobEffects: Array<{ key: string; job: string; order_id: string | null; instance_id: string; data: Record<string, unknown> }> = [];
  /** The effects recorded so far in this session by key, written or not: a key is recorded once. */
  private readonly recordedEffects = new Map<string, Record<string, unknown>>();
  private readonly now: Date;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly trx: Tx,
    /**
     * `jobSavepoints: false` runs in-transaction jobs without a savepoint each: a throwing handler then
     * fails the whole session, and the caller retries it with savepoints (intake does).
     */
    private readonly options: {
      jobSavepoints?: boolean;
      /**
       * The session's writes fail (`isStaleDefinition`) unless this is still the latest
       * executable version of its process: intake starts lifecycles with the version it saw last.
       */
      expectLatest?: { key: string; id: string };
    } = {},
  ) {
    this.now = ctx.clock();
  }

  /** The transaction the session works in. */
  get transaction(): Tx {
    return this.trx;
  }

  /**
   * Lock these instances, then their orders, with one statement each, in id order (sessions locking
   * overlapping sets cannot deadlock; instance before order, as every step does).
   */
  async lock(ids: readonly string[]): Promise<void> {
    const wanted = [...new Set(ids)].filter((id) => !this.rows.has(id)).sort();
    if (wanted.length === 0) return;
    const rows = await this.trx.selectFrom('process_instances').selectAll().where('id', 'in', wanted).orderBy('id').forUpdate().execute();
    for (const row of rows) this.rows.set(row.id, row as ProcessInstanceRow);
    await this.lockOrders(rows.filter((r) => r.order_id && !r.parent_id).map((r) => r.order_id!));
  }

  /** Lock these orders with one statement, in id order, counting their open tickets; returns them with their data. */
  async lockOrders(ids: readonly string[]): Promise<Array<{ id: string; status: OrderStatus; data: unknown }>> {
    const wanted = [...new Set(ids)].sort();
    if (wanted.length === 0) return [];
    // The open-ticket count below must see the tickets this session has opened.
    await this.settleTickets();
    const rows = await this.trx
      .selectFrom('orders')
      .select(['id', 'status', 'data'])
      .select((eb) => openTicketCount(eb).as('open_tickets'))
      .where('id', 'in', wanted)
      .orderBy('id')
      .forUpdate()
      .execute();
    for (const r of rows) this.orders.set(r.id, { status: r.status, openTickets: Number(r.open_tickets ?? 0), data: r.data });
    return rows;
  }

  /** Start an instance; its outcome (the instance id is `outcome.instanceId`). */
  async start(input: StartInput): Promise<StepOutcome> {
    const id = newId();
    await this.create(id, input);
    await this.drain();
    return this.outcomes.get(id)!;
  }

  /** Apply an event to one instance and whatever it triggers; a no-op outcome when nothing matched. */
  async apply(instanceId: string, event: EngineEvent, actor: string): Promise<StepOutcome> {
    this.outcomes.delete(instanceId);
    this.enqueue({ instanceId, event, actor });
    await this.drain();
    return this.outcomes.get(instanceId) ?? { instanceId, applied: false, status: 'active', effects: [] };
  }

  /** An order as this session last saw it (locked or changed here): its status and data. */
  order(id: string): { status: OrderStatus; data?: unknown } | undefined {
    const o = this.orders.get(id);
    return o && { status: o.status, data: o.data };
  }

  /**
   * Write what the session collected. Call before the transaction commits. One statement (`writeRows`)
   * for everything but order data changes (rare, one each) and pg-boss's jobs: one round trip instead
   * of up to eight. `endsTransaction`: the caller commits right after and sends nothing more in the
   * transaction, so when that statement is the transaction's first it runs as the whole of it
   * (`ALONE_MARK`: no `begin`, no `commit` sent).
   */
  async flush(options: { endsTransaction?: boolean } = {}): Promise<void> {
    const trx = this.trx;
    const instances = this.takeUnwritten();
    const newOrders = this.takeNewOrders();
    const statusOnly: Array<{ id: string; status: OrderStatus }> = [];
    for (const [id, patch] of this.orderPatches) {
      const written = this.writtenOrders.get(id);
      if (written) {
        // Written earlier in this session and changed since: the answer intake gives says so.
        written.revision++;
        written.updated_at = this.now;
        if (patch.status) written.status = patch.status;
        if (patch.data) Object.assign(written, { data: patch.data, ...searchColumnsJson(patch.data) });
      }
      if (patch.data) {
        await trx
          .updateTable('orders')
          .set({ ...(patch.status ? { status: patch.status } : {}), data: JSON.stringify(patch.data), ...searchColumns(patch.data), updated_at: this.now, revision: sql<number>`revision + 1` })
          .where('id', '=', id)
          .execute();
      } else if (patch.status) statusOnly.push({ id, status: patch.status });
    }
    this.orderPatches.clear();
    await this.writeRows({
      ...instances,
      newOrders,
      statusOnly,
      tickets: this.pendingTickets.splice(0),
      history: this.history.splice(0),
      orderEvents: this.orderEvents.splice(0),
      ticketEvents: this.ticketEvents.splice(0),
      jobEffects: this.jobEffects.splice(0),
    }, { alone: options.endsTransaction === true && this.jobs.length === 0 });
    if (this.jobs.length > 0) await this.ctx.boss.insert(this.jobs.splice(0), { db: bossDb(trx) });
  }

  /**
   * The instances not written yet (all, or those in `only`) as `writeRows` takes them; from here on they
   * count as written.
   */
  private takeUnwritten(only?: ReadonlySet<string>): { inserts: unknown[]; updates: Array<{ id: string }> } {
    const inserts: unknown[] = [];
    const updates: Array<{ id: string } & Record<string, unknown>> = [];
    for (const [id, kind] of this.unwritten) {
      if (only && !only.has(id)) continue;
      this.unwritten.delete(id);
      const r = this.rows.get(id)!;
      if (kind === 'insert') inserts.push({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString(), ended_at: r.ended_at?.toISOString() ?? null });
      else updates.push({ id, status: r.status, state: r.state, waiting_at: r.waiting_at, waiting_messages: r.waiting_messages, revision: r.revision, updated_at: r.updated_at, ended_at: r.ended_at });
    }
    return { inserts, updates };
  }

  /**
   * The received orders not written yet, as they stand now (status, and data when a step changed it):
   * their changes so far go in with the insert, later ones as updates.
   */
  private takeNewOrders(): Array<Omit<IntakeOrderValues, 'actor'> & { status: OrderStatus }> {
    const rows: Array<Omit<IntakeOrderValues, 'actor'> & { status: OrderStatus }> = [];
    for (const [id, { actor: _actor, ...values }] of this.unwrittenOrders) {
      const order = this.orders.get(id)!;
      const patch = this.orderPatches.get(id);
      this.orderPatches.delete(id);
      rows.push({ ...values, ...(patch?.data ? { data: patch.data, ...searchColumnsJson(patch.data) } : {}), status: order.status });
    }
    this.unwrittenOrders.clear();
    return rows;
  }

  /** A received order as this session wrote it (`adoptNewOrders` with `unwritten`), once written. */
  writtenOrder(id: string): StoredIntakeOrder | undefined {
    return this.writtenOrders.get(id);
  }

  /**
   * The session's rows in one prepared statement of data-modifying CTEs: new and changed instances, order
   * statuses, tickets (after their instances: the foreign key is checked at the end of the statement) with
   * their "opened" events, history, order and ticket events, job effects. Each part is a JSON document,
   * empty when there is nothing of its kind, so the text never changes and is parsed and planned once per
   * connection.
   */
  private async writeRows(parts: {
    inserts: unknown[];
    updates: Array<{ id: string }>;
    newOrders: Array<Omit<IntakeOrderValues, 'actor'> & { status: OrderStatus }>;
    statusOnly: Array<{ id: string; status: OrderStatus }>;
    tickets: StepSession['pendingTickets'];
    history: Array<HistoryEntry & { instance_id: string }>;
    orderEvents: unknown[];
    ticketEvents: unknown[];
    jobEffects: unknown[];
  }, options: { alone?: boolean } = {}): Promise<void> {
    if (!Object.values(parts).some((rows) => rows.length > 0)) return;
    const tickets = parts.tickets.map((t) => ({ ...t.values, actor: t.actor, opened: t.opened }));
    // `id = any(ids)` besides each update's join: the planner guesses 100 rows for jsonb_to_recordset, and
    // a plan cached while a table was small would hash-join a sequential scan of it on every call; with
    // the array the rows are looked up by key. The arrays go in through a sub-select, so the planner sees
    // no value it could plan for: planned with the call's own values, an empty array looks cheaper than
    // the generic plan, and PostgreSQL would plan the statement again on every call (a custom plan:
    // 0.5 ms of planning per call, more than a small batch's inserts).
    const { rows: stored } = await sql<{ kind: 'order' | 'ticket'; id: string; revision: number; created_at: Date; updated_at: Date; instance_id: string | null; wait_id: string | null }>`${options.alone ? FLUSH_ALONE : FLUSH}
      with
      new_orders as (
        insert into orders (id, channel, external_id, status, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at)
        select id, channel, external_id, status, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at
        from jsonb_to_recordset(${JSON.stringify(parts.newOrders)}::jsonb) as v(id uuid, channel text, external_id text, status text, data jsonb,
          body_hash text, customer_name text, customer_email text, country text, currency text, grand_total_minor bigint, placed_at timestamptz)
        returning id, revision, created_at, updated_at
      ),
      new_instances as (
        insert into process_instances (id, definition_id, process_key, version, business_key, order_id, parent_id, parent_wait_id, status, state,
          waiting_at, waiting_messages, revision, created_at, updated_at, ended_at)
        select id, definition_id, process_key, version, business_key, order_id, parent_id, parent_wait_id, status, state,
          array(select jsonb_array_elements_text(v.waiting_at)), array(select jsonb_array_elements_text(v.waiting_messages)),
          revision, created_at, updated_at, ended_at
        from jsonb_to_recordset(${JSON.stringify(parts.inserts)}::jsonb) as v(id uuid, definition_id uuid, process_key text, version int, business_key text,
          order_id uuid, parent_id uuid, parent_wait_id text, status text, state jsonb, waiting_at jsonb, waiting_messages jsonb, revision int,
          created_at timestamptz, updated_at timestamptz, ended_at timestamptz)
      ),
      changed_instances as (
        update process_instances as p set
          status = v.status, state = v.state, revision = v.revision, updated_at = v.updated_at, ended_at = v.ended_at,
          waiting_at = array(select jsonb_array_elements_text(v.waiting_at)),
          waiting_messages = array(select jsonb_array_elements_text(v.waiting_messages))
        from jsonb_to_recordset(${JSON.stringify(parts.updates)}::jsonb) as v(id uuid, status text, state jsonb, waiting_at jsonb, waiting_messages jsonb, revision int, updated_at timestamptz, ended_at timestamptz)
        where p.id = v.id and p.id = any((select ${parts.updates.map((r) => r.id)}::uuid[])::uuid[])
      ),
      order_statuses as (
        update orders as o set status = v.status, updated_at = ${this.now}, revision = o.revision + 1
        from jsonb_to_recordset(${JSON.stringify(parts.statusOnly)}::jsonb) as v(id uuid, status text)
        where o.id = v.id and o.id = any((select ${parts.statusOnly.map((r) => r.id)}::uuid[])::uuid[])
      ),
      ticket_rows as materialized (
        select * from jsonb_to_recordset(${JSON.stringify(tickets)}::jsonb) as v(order_id uuid, instance_id uuid, wait_id text, element_id text,
          element_name text, kind text, status text, queue text, priority text, priority_rank smallint, due_at timestamptz, title text, issues jsonb,
          codes jsonb, instructions jsonb, fields jsonb, error text, created_at timestamptz, updated_at timestamptz, actor text, opened jsonb)
      ),
      opened as (
        insert into tickets (order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title,
          issues, codes, instructions, fields, error, created_at, updated_at)
        select order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title,
          issues, array(select jsonb_array_elements_text(t.codes)), instructions, fields, error, created_at, updated_at
        from ticket_rows t
        on conflict (instance_id, wait_id) where status in ('open', 'in_progress') do nothing
        returning id, instance_id, wait_id, revision
      ),
      opened_events as (
        insert into ticket_events (ticket_id, actor, kind, data)
        select o.id, t.actor, 'opened', t.opened from opened o join ticket_rows t on t.instance_id = o.instance_id and t.wait_id = o.wait_id
      ),
      history as (
        insert into instance_history_steps (instance_id, entries)
        -- json, not jsonb: each instance's entries are kept as the text they arrive as (migration 0010).
        select instance_id, entries from json_to_recordset(${JSON.stringify(historySteps(parts.history))}::json) as v(instance_id uuid, entries json)
      ),
      order_events as (
        insert into order_events (order_id, actor, kind, data)
        select order_id, actor, kind, data from jsonb_to_recordset(${JSON.stringify(parts.orderEvents)}::jsonb)
          as v(order_id uuid, actor text, kind text, data jsonb)
      ),
      ticket_events as (
        insert into ticket_events (ticket_id, actor, kind, data)
        select ticket_id, actor, kind, data from jsonb_to_recordset(${JSON.stringify(parts.ticketEvents)}::jsonb)
          as v(ticket_id bigint, actor text, kind text, data jsonb)
      ),
      job_effects as (
        insert into job_effects (key, job, order_id, instance_id, data)
        select key, job, order_id, instance_id, data from jsonb_to_recordset(${JSON.stringify(parts.jobEffects)}::jsonb)
          as v(key text, job text, order_id uuid, instance_id uuid, data jsonb)
      )
      -- The new orders as written, then the tickets opened (intake answers with them). One after the other
      -- (an Append runs its parts in turn): every order is in before the first ticket's search text is
      -- made from its order (the tickets_search trigger), as when the other parts run after the select.
      select 'order' as kind, id::text, revision, created_at, updated_at, null::uuid as instance_id, null::text as wait_id
      from new_orders where (select ordo_expect_latest_definition(${this.options.expectLatest?.key ?? null}::text, ${this.options.expectLatest?.id ?? null}::uuid))
      union all
      select 'ticket', id::text, revision, null, null, instance_id, wait_id from opened`.execute(this.trx);
    if (stored.length === 0) return;
    const written = new Map(parts.newOrders.map((o) => [o.id, o]));
    const ticketIds = new Map<string, { id: string; revision: number }>();
    for (const { kind, instance_id, wait_id, ...row } of stored) {
      if (kind === 'order') this.writtenOrders.set(row.id, { ...written.get(row.id)!, ...row });
      else ticketIds.set(`${instance_id} ${wait_id}`, { id: row.id, revision: row.revision });
    }
    // Views of the tickets opened for new orders only (what intake answers with).
    if (ticketIds.size === 0 || parts.newOrders.length === 0) return;
    for (const t of parts.tickets) {
      const got = ticketIds.get(`${t.values.instance_id} ${t.values.wait_id}`);
      if (!got || !t.values.order_id || !written.has(t.values.order_id)) continue;
      const view = toTicketView({ ...(t.values as unknown as TicketRow), id: got.id, revision: got.revision, assignee_id: null, closed_at: null, assignee_email: null });
      const list = this.openedTickets.get(t.values.order_id);
      if (list) list.push(view);
      else this.openedTickets.set(t.values.order_id, [view]);
    }
  }

  /**
   * A new order written by this session (`adoptUnwrittenOrders`) as intake answers with it: the tickets
   * its first step opened and the elements its lifecycle waits at.
   */
  newOrderView(orderId: string): IntakeView {
    let activeSteps: string[] = [];
    for (const r of this.rows.values()) {
      if (r.order_id === orderId && !r.parent_id) activeSteps = r.status === 'active' ? r.waiting_at : [];
    }
    return { tickets: this.openedTickets.get(orderId) ?? [], activeSteps };
  }

  /**
   * Orders this transaction has just inserted, as they are: no query is needed to lock them (nobody else
   * sees them yet), count their tickets (none) or look for their instances (none).
   */
  adoptNewOrders(orders: ReadonlyArray<{ id: string; status: OrderStatus; data: unknown }>): void {
    for (const o of orders) this.orders.set(o.id, { status: o.status, openTickets: 0, data: o.data });
  }

  /**
   * Orders received in this transaction whose rows the session writes itself, with its next write (the
   * flush, or anything that must reference them before it) and the status they have by then, together
   * with their "received" events: one row version per order instead of an insert and an update.
   */
  adoptUnwrittenOrders(orders: readonly IntakeOrderValues[]): void {
    for (const o of orders) {
      this.orders.set(o.id, { status: 'received', openTickets: 0, data: o.data });
      this.unwrittenOrders.set(o.id, o);
      this.orderEvents.push({ order_id: o.id, actor: o.actor, kind: 'received', data: { channel: o.channel } });
    }
  }

  private enqueue(p: Pending) {
    this.queue.push(p);
  }

  /**
   * Write one instance now (a ticket or child row about to reference it), with the received orders not
   * written yet that it may reference, in one statement.
   */
  private async write(id: string): Promise<void> {
    if (!this.unwritten.has(id)) return;
    await this.writeRows({ ...this.takeUnwritten(new Set([id])), ...nothingElse(), newOrders: this.takeNewOrders() });
  }

  private async locked(id: string): Promise<ProcessInstanceRow | undefined> {
    const cached = this.rows.get(id);
    if (cached) return cached;
    const row = await lockInstance(this.trx, id);
    if (row) this.rows.set(id, row);
    return row;
  }

  private async create(id: string, input: StartInput) {
    const model = await this.ctx.models.get(this.trx, input.definition.id);
    const result = this.step(model, null, { type: 'start', variables: input.variables, startEventId: input.startEventId, ...(input.incident === undefined ? {} : { incident: input.incident }) }, !!input.orderId);
    // A child row references its parent: the parent is written first.
    if (input.parent) await this.write(input.parent.id);
    const row: ProcessInstanceRow = {
      id,
      definition_id: input.definition.id,
      process_key: input.definition.key,
      version: input.definition.version,
      business_key: input.businessKey ?? null,
      order_id: input.orderId ?? null,
      parent_id: input.parent?.id ?? null,
      parent_wait_id: input.parent?.waitId ?? null,
      status: result.state.status,
      state: result.state,
      waiting_at: waitingAt(result.state),
      waiting_messages: messageSubscriptions(result.state),
      revision: 1,
      created_at: this.now,
      updated_at: this.now,
      ended_at: result.state.status === 'active' ? null : this.now,
    };
    this.rows.set(id, row);
    this.unwritten.set(id, 'insert');
    this.created.add(id);
    await this.afterStep(model, row, null, result, input.actor);
  }

  private async drain() {
    while (this.queue.length > 0) {
      const { instanceId, event, actor } = this.queue.shift()!;
      const row = await this.locked(instanceId);
      if (!row || row.status !== 'active') {
        if (!this.outcomes.has(instanceId)) this.outcomes.set(instanceId, { instanceId, applied: false, status: row?.status ?? 'failed', effects: [] });
        continue;
      }
      const model = await this.ctx.models.get(this.trx, row.definition_id);
      const before = row.state as InstanceState;
      const result = this.step(model, before, event, !!row.order_id);
      // A stale event (timer of a token that moved on, a duplicate job completion) changes nothing.
      if (result.effects.length === 0 && result.history.length === 0 && sameJson(result.state, before)) {
        if (!this.outcomes.has(instanceId)) this.outcomes.set(instanceId, { instanceId, applied: false, status: row.status, effects: [] });
        continue;
      }
      const updated: ProcessInstanceRow = {
        ...row,
        status: result.state.status,
        state: result.state,
        waiting_at: waitingAt(result.state),
        waiting_messages: messageSubscriptions(result.state),
        revision: row.revision + 1,
        updated_at: this.now,
        ended_at: result.state.status === 'active' ? null : this.now,
      };
      this.rows.set(updated.id, updated);
      if (!this.unwritten.has(updated.id)) this.unwritten.set(updated.id, 'update');
      await this.afterStep(model, updated, before, result, actor);
    }
  }

  /** `ofOrder`: the instance belongs to an order, whose `order` variable is written back to the stored order. */
  private step(model: CompiledProcess, state: InstanceState | null, event: EngineEvent, ofOrder: boolean): StepResult {
    return step(model, state, event, this.now, { feelFunctions: this.ctx.feelFunctions, stepLimit: this.ctx.stepLimit, ...(ofOrder ? { checkVariable: checkOrderVariable } : {}) });
  }

  private async afterStep(model: CompiledProcess, row: ProcessInstanceRow, before: InstanceState | null, result: StepResult, actor: string) {
    const prev = this.outcomes.get(row.id);
    this.outcomes.set(row.id, { instanceId: row.id, applied: true, status: result.state.status, effects: [...(prev?.effects ?? []), ...result.effects] });

    // The entries of one step carry the step's time: it is put in ISO form once, not once per entry (an
    // order's lifecycle writes some 26 entries).
    let rawAt: string | undefined;
    let at = '';
    for (const h of result.history) {
      if (h.at !== rawAt) at = new Date((rawAt = h.at)).toISOString();
      this.history.push({
        instance_id: row.id,
        element_id: h.elementId,
        element_type: h.elementType,
        event: h.event,
        at,
        actor,
        data: h.data === undefined ? null : h.data,
      });
    }
    for (const effect of result.effects) await this.applyEffect(model, row, result.state, effect, actor);
    if (row.order_id && !row.parent_id) await this.syncOrder(model, row, before, result, actor);
    while (this.inlinePending.length > 0) await this.runInline(this.inlinePending.shift()!);
  }

  /**
   * Run a job whose handler works in this transaction: on success its completion is the instance's next
   * event in this session; when it throws, its writes are undone and the job goes to pg-boss like any
   * other (same idempotency key, so a later attempt finds no half-done effect).
   */
  private async runInline({ row, effect }: { row: ProcessInstanceRow; effect: RunJobEffect }) {
    const handler = this.ctx.inlineJobs![effect.job]!;
    // A handler that may write through `db` may reference an order not written yet: it is written first.
    // One that records through `record` only (when given) needs nothing of the sort.
    if (this.unwrittenOrders.size > 0 && !(this.created.has(row.id) && recordsOnly(handler))) {
      await this.writeRows({ ...nothingElse(), inserts: [], updates: [], newOrders: this.takeNewOrders() });
    }
    const state = row.state as InstanceState;
    const input = {
      key: `${row.id}:${effect.elementId}`,
      instanceId: row.id,
      orderId: row.order_id,
      elementId: effect.elementId,
      variables: state.variables,
      db: this.trx,
      logger: jobLogger(this.ctx.logger, effect.job),
      record: this.created.has(row.id)
        ? async (job: string, data: Record<string, unknown>) => {
            // An instance created in this session has no effect stored yet; one recorded earlier in the
            // session (a loop back to the same task) is answered as the database would answer it.
            const key = `${job}:${row.id}:${effect.elementId}`;
            const earlier = this.recordedEffects.get(key);
            if (earlier) return { first: false, data: earlier };
            this.recordedEffects.set(key, data);
            this.jobEffects.push({ key, job, order_id: row.order_id, instance_id: row.id, data });
            return { first: true, data };
          }
        : undefined,
    };
    // Without savepoints (`jobSavepoints: false`) a throwing handler fails the session. Otherwise its
    // writes are undone and the job goes to pg-boss: a savepoint rolls back what it wrote through `db`;
    // a handler that only records (given `record`) wrote nothing there, and dropping what it recorded is
    // enough, without the savepoint's two round trips.
    const savepoint = this.options.jobSavepoints !== false && !(input.record && recordsOnly(handler));
    const effectsBefore = this.jobEffects.length;
    if (savepoint) await sql`savepoint ordo_inline_job`.execute(this.trx);
    let output: Awaited<ReturnType<JobHandler>>;
    try {
      output = await handler(input);
      if (savepoint) await sql`release savepoint ordo_inline_job`.execute(this.trx);
    } catch (err) {
      if (this.options.jobSavepoints === false) throw err;
      if (savepoint) await sql`rollback to savepoint ordo_inline_job`.execute(this.trx);
      for (const e of this.jobEffects.splice(effectsBefore)) this.recordedEffects.delete(e.key);
      this.ctx.logger.warn({ job: effect.job, instanceId: row.id, error: (err as Error).message || String(err) }, 'service task failed in the step; handing it to pg-boss for its retries');
      this.scheduleJob(row, effect);
      return;
    }
    this.enqueue({ instanceId: row.id, event: { type: 'jobCompleted', jobId: effect.jobId, output: output ?? undefined }, actor: `job:${effect.job}` });
  }

  private scheduleJob(row: ProcessInstanceRow, effect: RunJobEffect) {
    this.jobs.push({
      // The revision makes a re-run after a retried technical ticket a new job, while a replay of the same step dedupes.
      id: deterministicJobId(row.id, effect.jobId, String(row.revision)),
      name: QUEUES.service,
      data: { instanceId: row.id, jobId: effect.jobId, job: effect.job, elementId: effect.elementId } satisfies ServiceJobData,
      retryLimit: effect.retries,
      retryDelay: Math.max(1, Math.round(effect.backoffMs / 1000)),
      retryBackoff: true,
    });
  }

  private async applyEffect(model: CompiledProcess, row: ProcessInstanceRow, state: InstanceState, effect: Effect, actor: string) {
    const trx = this.trx;
    switch (effect.type) {
      case 'openTicket':
        await this.openTicket(model, row, state, effect, actor);
        return;
      case 'updateTicket': {
        await this.settleTickets();
        const ticket = await trx
          .selectFrom('tickets')
          .select(['id', 'element_id'])
          .where('instance_id', '=', row.id)
          .where('wait_id', '=', effect.waitId)
          .where('status', 'in', OPEN_TICKET_STATUSES)
          .executeTakeFirst();
        if (!ticket) return;
        const def = ticketDefinitionOf(model, ticket.element_id);
        const instructions = renderInstructions(def?.instructions ?? [], effect.issues.map(asIssue), templateContext(state, effect.issues));
        await trx
          .updateTable('tickets')
          .set({ issues: JSON.stringify(effect.issues), codes: codesOf(effect.issues), instructions: JSON.stringify(instructions), updated_at: this.now, revision: sql<number>`revision + 1` })
          .where('id', '=', ticket.id)
          .execute();
        this.ticketEvents.push({ ticket_id: String(ticket.id), actor, kind: 'still_failing', data: { issues: effect.issues } });
        return;
      }
      case 'closeTicket': {
        await this.settleTickets();
        const closed = await trx
          .updateTable('tickets')
          .set({ status: effect.resolution, closed_at: this.now, updated_at: this.now })
          .where('instance_id', '=', row.id)
          .where('wait_id', '=', effect.waitId)
          .where('status', 'in', OPEN_TICKET_STATUSES)
          .returning('id')
          .execute();
        for (const t of closed) this.ticketEvents.push({ ticket_id: String(t.id), actor, kind: effect.resolution, data: {} });
        const order = row.order_id ? this.orders.get(row.order_id) : undefined;
        if (order) order.openTickets = Math.max(0, order.openTickets - closed.length);
        return;
      }
      case 'scheduleTimer':
        this.jobs.push({
          id: deterministicJobId(row.id, effect.timerId, effect.dueAt),
          name: QUEUES.timer,
          data: { instanceId: row.id, timerId: effect.timerId } satisfies TimerJobData,
          startAfter: jobStartAfter(effect.dueAt),
        });
        return;
      case 'runJob': {
        const runs = this.inlineRuns.get(row.id) ?? 0;
        if (this.ctx.inlineJobs?.[effect.job] && runs < INLINE_JOBS_PER_INSTANCE) {
          this.inlineRuns.set(row.id, runs + 1);
          this.inlinePending.push({ row, effect });
        } else this.scheduleJob(row, effect);
        return;
      }
      case 'cancelTimer':
      case 'cancelJob':
        // Left to run out: a timer or job whose wait is gone is a no-op when it arrives (the engine checks).
        return;
      case 'startChild': {
        const definition = await latestDefinition(trx, effect.processKey, { executableOnly: true });
        if (!definition) {
          this.enqueue({ instanceId: row.id, event: { type: 'childFailed', waitId: effect.waitId, error: `No executable process "${effect.processKey}" is deployed.` }, actor });
          return;
        }
        await this.create(newId(), {
          definition,
          variables: effect.variables,
          businessKey: row.business_key,
          orderId: row.order_id,
          parent: { id: row.id, waitId: effect.waitId },
          actor,
        });
        return;
      }
      case 'cancelChild': {
        const written = await trx.selectFrom('process_instances').select('id').where('parent_id', '=', row.id).where('parent_wait_id', '=', effect.waitId).where('status', '=', 'active').execute();
        const ids = new Set(written.map((c) => c.id));
        for (const r of this.rows.values()) if (r.parent_id === row.id && r.parent_wait_id === effect.waitId && r.status === 'active') ids.add(r.id);
        for (const id of ids) this.enqueue({ instanceId: id, event: { type: 'cancel', reason: 'the calling activity was withdrawn' }, actor });
        return;
      }
      case 'ended':
        if (row.parent_id && row.parent_wait_id) {
          const event: EngineEvent =
            effect.outcome === 'completed'
              ? { type: 'childCompleted', waitId: row.parent_wait_id, variables: state.variables }
              : { type: 'childFailed', waitId: row.parent_wait_id, error: effect.error ?? `the called process ended ${effect.outcome}` };
          // A child cancelled because its parent withdrew it must not echo back.
          if (effect.outcome !== 'cancelled' || !(await this.parentWithdrew(row))) this.enqueue({ instanceId: row.parent_id, event, actor });
        }
        return;
    }
  }

  private async parentWithdrew(row: ProcessInstanceRow): Promise<boolean> {
    const parent = this.rows.get(row.parent_id!) ?? (await this.trx.selectFrom('process_instances').select(['state', 'status']).where('id', '=', row.parent_id!).executeTakeFirst());
    if (!parent || parent.status !== 'active') return true;
    return !(parent.state as InstanceState).waits.some((w) => w.waitId === row.parent_wait_id);
  }

  /**
   * Open a ticket at the next write of the session's tickets (`settleTickets`): all the tickets a batch
   * opens go in with one statement after their instances, instead of an instance and a ticket written
   * apart per held order. The order counts it as open at once (its status is derived from the count).
   */
  private async openTicket(model: CompiledProcess, row: ProcessInstanceRow, state: InstanceState, effect: Extract<Effect, { type: 'openTicket' }>, actor: string) {
    const content = ticketContent(model, effect, state.variables, this.now);
    this.pendingTickets.push({
      actor,
      opened: { issues: effect.issues, error: effect.error ?? null },
      values: {
        order_id: row.order_id,
        instance_id: row.id,
        wait_id: effect.waitId,
        element_id: effect.elementId,
        element_name: content.elementName,
        kind: effect.kind,
        status: 'open',
        queue: content.queue,
        priority: content.priority,
        priority_rank: content.priorityRank,
        due_at: content.dueAt,
        title: content.title,
        issues: effect.issues,
        codes: content.codes,
        instructions: content.instructions,
        fields: content.fields,
        error: effect.error ?? null,
        created_at: this.now,
        updated_at: this.now,
      },
    });
    const order = row.order_id ? this.orders.get(row.order_id) : undefined;
    if (order) order.openTickets++;
  }

  /**
   * Write the tickets opened so far, in one statement, after the instances they belong to. Runs before
   * anything reads or changes tickets in this session, and at flush. A ticket already open at the same
   * wait (a redelivered step) is kept and not opened twice; its order counted it already.
   */
  private async settleTickets(): Promise<void> {
    if (this.pendingTickets.length === 0) return;
    const tickets = this.pendingTickets.splice(0);
    // Their instances in the same statement (the tickets' foreign key is checked at its end).
    const instances = this.takeUnwritten(new Set(tickets.map((t) => t.values.instance_id)));
    await this.writeRows({ ...instances, ...nothingElse(), newOrders: this.takeNewOrders(), tickets });
  }

  private async syncOrder(model: CompiledProcess, row: ProcessInstanceRow, before: InstanceState | null, result: StepResult, actor: string) {
    const trx = this.trx;
    const { state } = result;
    // The lifecycle's `order` variable is the order: a script or message that changed it changed the order.
    const nextOrder = state.variables.order;
    // The engine shares unchanged values with the state it was given: the same reference is the same order,
    // and only a new object is worth serialising to compare.
    const orderMayHaveChanged = !!nextOrder && typeof nextOrder === 'object' && (!before || (before.variables.order !== nextOrder && !sameJson(before.variables.order, nextOrder)));
    // The order as locked earlier in this session, else one round trip: lock it and count its open tickets
    // (its data only when it is compared).
    let order = this.orders.get(row.order_id!);
    if (!order || (orderMayHaveChanged && order.data === undefined)) {
      // The count of open tickets below must see the tickets this session has opened.
      await this.settleTickets();
      const locked = await trx
        .selectFrom('orders')
        .select(['id', 'status'])
        .$if(orderMayHaveChanged, (q) => q.select('data'))
        .select((eb) => openTicketCount(eb).as('open_tickets'))
        .where('id', '=', row.order_id!)
        .forUpdate()
        .executeTakeFirst();
      if (!locked) return;
      order = { status: locked.status, openTickets: Number(locked.open_tickets ?? 0), data: (locked as { data?: unknown }).data ?? order?.data };
      this.orders.set(row.order_id!, order);
    }
    const orderId = row.order_id!;
    const patch = this.orderPatches.get(orderId) ?? {};
    if (orderMayHaveChanged && order.data !== nextOrder && !sameJson(order.data, nextOrder)) {
      patch.data = nextOrder as Order;
      order.data = nextOrder;
      this.orderEvents.push({ order_id: orderId, actor, kind: 'changed_by_process', data: { instanceId: row.id } });
    }
    const openTickets = order.openTickets;
    const status = deriveOrderStatus(model, state, openTickets, result.history);
    if (status !== order.status) {
      patch.status = status;
      this.orderEvents.push({ order_id: orderId, actor, kind: 'status', data: { from: order.status, to: status } });
      order.status = status;
    }
    if (patch.status || patch.data) this.orderPatches.set(orderId, patch);
  }
}

/**
 * What a script may store in an order's instance: `order` is written back to the stored order when the
 * step commits, so it must stay a well-formed order (the shape intake and PATCH enforce) with the same
 * channel and externalId. Otherwise the script task stops with a technical ticket naming the fields.
 */
export function checkOrderVariable(name: string, value: unknown, previous: unknown): string | null {
  if (name !== 'order') return null;
  const errors = checkOrderShape(value);
  if (errors.length > 0) {
    const shown = errors.slice(0, 10).map((e) => `${e.field || 'the value'} ${e.message}`);
    return `it is not a well-formed order (${errors.length} field(s) at fault: ${shown.join('; ')}${errors.length > shown.length ? '; …' : ''}). The stored order was left as it was.`;
  }
  const before = previous && typeof previous === 'object' ? (previous as Partial<Order>) : null;
  const after = value as Order;
  for (const field of ['channel', 'externalId'] as const) {
    if (before && typeof before[field] === 'string' && before[field] !== after[field]) {
      return `it changes ${field} (from ${JSON.stringify(before[field])} to ${JSON.stringify(after[field])}), which identifies the order and cannot be changed. The stored order was left as it was.`;
    }
  }
  return null;
}

export type OpenTicketEffect = Extract<Effect, { type: 'openTicket' }>;

export interface TicketContent {
  elementName: string | null;
  queue: string;
  priority: string;
  priorityRank: number;
  dueAt: Date | null;
  title: string;
  codes: string[];
  instructions: string[];
  fields: readonly unknown[];
}

/**
 * What a ticket opened by a step says: its title and numbered instructions rendered over the instance's
 * variables, its queue, priority, due time (from `now`) and form fields. Pure: the step session writes
 * it, and `npm run seed` fills tickets with exactly what the step would have written.
 */
export function ticketContent(model: CompiledProcess, effect: Pick<OpenTicketEffect, 'elementId' | 'kind' | 'issues' | 'error' | 'ticket'>, variables: Record<string, unknown>, now: Date): TicketContent {
  const element = model.elements[effect.elementId];
  const def = effect.ticket;
  const stepName = element?.name ?? effect.elementId;
  const context = { ...variables, variables, issues: effect.issues, error: effect.error ?? null, step: { id: effect.elementId, name: stepName } };
  let instructions = renderInstructions(def?.instructions ?? [], effect.issues.map(asIssue), context);
  if (instructions.length === 0) instructions = defaultInstructions(effect.kind, stepName, effect.error, codesOf(effect.issues), model.key);
  const due = def?.due ? parseDuration(def.due) : null;
  const priority = normalPriority(def?.priority ?? (effect.kind === 'technical' ? 'high' : 'normal'));
  return {
    elementName: element?.name ?? null,
    queue: def?.queue ?? defaultQueue(effect.kind),
    priority,
    priorityRank: priorityRank(priority),
    // Held before the end of 9999 (PostgreSQL cannot read `+010000-…`), and a day before the time the
    // due-sort gives tickets without one.
    dueAt: due ? new Date(Math.min(addDuration(now, due).getTime(), LAST_ISO_INSTANT - 86_400_000)) : null,
    title: def?.title ? renderTemplate(def.title, context) : defaultTitle(effect.kind, stepName),
    codes: codesOf(effect.issues),
    instructions,
    fields: def?.fields ?? [],
  };
}

/** The parts of `writeRows` a write of a few rows leaves empty. */
function nothingElse() {
  return { statusOnly: [], tickets: [], history: [], orderEvents: [], ticketEvents: [], jobEffects: [] };
}

/** The number of open tickets of the order in the outer query (`orders.id`), as a scalar subquery. */
function openTicketCount(eb: ExpressionBuilder<Database, 'orders'>) {
  return eb
    .selectFrom('tickets')
    .select(eb.fn.countAll<string>().as('n'))
    .whereRef('tickets.order_id', '=', 'orders.id')
    .where('tickets.status', 'in', OPEN_TICKET_STATUSES);
}

function ticketDefinitionOf(model: CompiledProcess, elementId: string) {
  return (model.elements[elementId] as { ticket?: import('../engine/index.ts').TicketDefinition | null } | undefined)?.ticket ?? null;
}

function asIssue(i: { code: string; field?: string; message?: string }) {
  return { code: i.code, field: i.field, message: i.message };
}

function codesOf(issues: ReadonlyArray<{ code: string }>): string[] {
  return [...new Set(issues.map((i) => i.code))];
}

function templateContext(state: InstanceState, issues: unknown[]): Record<string, unknown> {
  return { ...state.variables, variables: state.variables, issues };
}

function defaultQueue(kind: string): string {
  return kind === 'technical' ? 'technical' : kind === 'manual' ? 'manual' : 'general';
}

function defaultTitle(kind: string, stepName: string): string {
  if (kind === 'technical') return `Technical failure in "${stepName}"`;
  if (kind === 'manual') return stepName;
  return `"${stepName}" found problems`;
}

/**
 * Engine errors that come from the diagram itself (a FEEL call that fails, a loop that never waits, a
 * timer it cannot read): retrying fails the same way until an analyst corrects and deploys the process.
 */
const MODELLING_ERRORS = new Set(['FEEL_ERROR', 'MODEL_INVALID', 'MULTI_INSTANCE_INVALID', 'NO_OUTGOING_FLOW', 'STEP_LIMIT', 'TIMER_INVALID', 'VARIABLE_INVALID']);

function defaultInstructions(kind: string, stepName: string, error: string | undefined, codes: readonly string[], processKey: string): string[] {
  if (kind === 'technical' && codes.some((c) => MODELLING_ERRORS.has(c))) {
    return [
      `The step "${stepName}" cannot run as the process draws it${error ? `: ${error}` : ''}.`,
      'This is a mistake in the process, not in the order: Retry fails the same way until the process is corrected.',
      `Ask an analyst to correct "${stepName}" in the process "${processKey}" (Processes → ${processKey} → Edit) and deploy it.`,
      `Then move the waiting orders to the new version (Processes → ${processKey} → Migrate) and press Retry here; cancel the order only if it cannot wait.`,
    ];
  }
  if (kind === 'technical') {
    return [
      `The step "${stepName}" failed${error ? `: ${error}` : ''}.`,
      'Check whether the system it talks to is reachable (status page, on-call channel).',
      'When it is back, press Retry: the step runs again from the start.',
      'If it keeps failing, escalate to the on-call engineer with this ticket number.',
    ];
  }
  if (kind === 'manual') return [`Carry out "${stepName}", then complete the ticket.`];
  return [`Correct the fields listed above, then press Save and retry.`];
}

/** The flush statement's two names: one PostgreSQL prepared statement each. */
const FLUSH = sql.raw('/* prepare:ordo_flush */');
const FLUSH_ALONE = sql.raw(`${ALONE_MARK}/* prepare:ordo_flush_alone */`);

/**
 * When a timer's job may start, as pg-boss reads it (ISO text ending in Z, cast to timestamptz). A due
 * time before year 1 is past anyway: the epoch says "now" as well and PostgreSQL can read it; one after
 * year 9999 (`+010000-…`, which it cannot) is held at the end of 9999, the job then as good as never due.
 */
function jobStartAfter(dueAt: string): string {
  return new Date(Math.min(Math.max(Date.parse(dueAt), 0), LAST_ISO_INSTANT)).toISOString();
}

const LAST_ISO_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);


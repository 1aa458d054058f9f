import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { step, waitingAt, messageSubscriptions, type CompiledProcess, type EngineEvent, type Effect, type InstanceState, type StepResult } from '../engine/index.ts';
import { addDuration, parseDuration } from '../engine/runtime/iso.ts';
import type { Db, Tx } from '../db/database.ts';
import type { OrderStatus } from '../db/tables/orders.table.ts';
import type { ProcessDefinitionRow, ProcessInstanceRow } from '../db/tables/processes.table.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { canonicalJson } from '../orders/canonical.ts';
import type { Order } from '../orders/schema.ts';
import { normalPriority, priorityRank, renderInstructions, renderTemplate } from '../tickets/instructions.ts';
import { bossDb, deterministicJobId, QUEUES, type ServiceJobData, type TimerJobData } from './boss.ts';
import { latestDefinition, type ModelCache } from './definitions.ts';
import { searchColumns } from './orders.ts';

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
export async function startInstance(
  ctx: RuntimeContext,
  trx: Tx,
  input: { definition: ProcessDefinitionRow; variables: Record<string, unknown>; businessKey?: string | null; orderId?: string | null; parent?: { id: string; waitId: string }; startEventId?: string; actor: string },
): Promise<StepOutcome> {
  const id = randomUUID();
  const session = new StepSession(ctx, trx);
  await session.create(id, input);
  await session.drain();
  return session.outcomes.get(id)!;
}

/** Apply an event to one instance (and whatever it triggers) in this transaction. */
export async function applyEvent(ctx: RuntimeContext, trx: Tx, instanceId: string, event: EngineEvent, actor: string): Promise<StepOutcome> {
  const session = new StepSession(ctx, trx);
  session.enqueue({ instanceId, event, actor });
  await session.drain();
  return session.outcomes.get(instanceId) ?? { instanceId, applied: false, status: 'active', effects: [] };
}

/**
 * The work of one transaction: a queue of (instance, event) pairs, because a step may start a child,
 * and a child's end is an event for its parent.
 */
class StepSession {
  readonly outcomes = new Map<string, StepOutcome>();
  private readonly queue: Pending[] = [];
  private readonly jobs: PgBoss.JobInsert[] = [];
  private readonly now: Date;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly trx: Tx,
  ) {
    this.now = ctx.clock();
  }

  enqueue(p: Pending) {
    this.queue.push(p);
  }

  async create(
    id: string,
    input: { definition: ProcessDefinitionRow; variables: Record<string, unknown>; businessKey?: string | null; orderId?: string | null; parent?: { id: string; waitId: string }; startEventId?: string; actor: string },
  ) {
    const model = await this.ctx.models.get(this.trx, input.definition.id);
    const result = this.step(model, null, { type: 'start', variables: input.variables, startEventId: input.startEventId });
    await this.trx
      .insertInto('process_instances')
      .values({
        id,
        definition_id: input.definition.id,
        process_key: input.definition.key,
        version: input.definition.version,
        business_key: input.businessKey ?? null,
        order_id: input.orderId ?? null,
        parent_id: input.parent?.id ?? null,
        parent_wait_id: input.parent?.waitId ?? null,
        status: result.state.status,
        state: JSON.stringify(result.state),
        waiting_at: waitingAt(result.state),
        waiting_messages: messageSubscriptions(result.state),
        created_at: this.now,
        updated_at: this.now,
        ended_at: result.state.status === 'active' ? null : this.now,
      })
      .execute();
    const row = (await this.trx.selectFrom('process_instances').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as ProcessInstanceRow;
    await this.afterStep(model, row, null, result, input.actor);
  }

  async drain() {
    while (this.queue.length > 0) {
      const { instanceId, event, actor } = this.queue.shift()!;
      const row = await lockInstance(this.trx, instanceId);
      if (!row || row.status !== 'active') {
        if (!this.outcomes.has(instanceId)) this.outcomes.set(instanceId, { instanceId, applied: false, status: row?.status ?? 'failed', effects: [] });
        continue;
      }
      const model = await this.ctx.models.get(this.trx, row.definition_id);
      const before = row.state as InstanceState;
      const result = this.step(model, before, event);
      // A stale event (timer of a token that moved on, a duplicate job completion) changes nothing.
      if (result.effects.length === 0 && result.history.length === 0 && canonicalJson(result.state) === canonicalJson(before)) {
        if (!this.outcomes.has(instanceId)) this.outcomes.set(instanceId, { instanceId, applied: false, status: row.status, effects: [] });
        continue;
      }
      const updated = await this.trx
        .updateTable('process_instances')
        .set({
          status: result.state.status,
          state: JSON.stringify(result.state),
          waiting_at: waitingAt(result.state),
          waiting_messages: messageSubscriptions(result.state),
          revision: row.revision + 1,
          updated_at: this.now,
          ended_at: result.state.status === 'active' ? null : this.now,
        })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.afterStep(model, updated as ProcessInstanceRow, before, result, actor);
    }
    if (this.jobs.length > 0) {
      await this.ctx.boss.insert(this.jobs.splice(0), { db: bossDb(this.trx) });
    }
  }

  private step(model: CompiledProcess, state: InstanceState | null, event: EngineEvent): StepResult {
    return step(model, state, event, this.now, { feelFunctions: this.ctx.feelFunctions, stepLimit: this.ctx.stepLimit });
  }

  private async afterStep(model: CompiledProcess, row: ProcessInstanceRow, before: InstanceState | null, result: StepResult, actor: string) {
    const prev = this.outcomes.get(row.id);
    this.outcomes.set(row.id, { instanceId: row.id, applied: true, status: result.state.status, effects: [...(prev?.effects ?? []), ...result.effects] });

    if (result.history.length > 0) {
      await this.trx
        .insertInto('instance_history')
        .values(
          result.history.map((h) => ({
            instance_id: row.id,
            element_id: h.elementId,
            element_type: h.elementType,
            event: h.event,
            at: new Date(h.at),
            actor,
            data: h.data === undefined ? null : JSON.stringify(h.data),
          })),
        )
        .execute();
    }
    for (const effect of result.effects) await this.applyEffect(model, row, result.state, effect, actor);
    if (row.order_id && !row.parent_id) await this.syncOrder(model, row, before, result, actor);
  }

  private async applyEffect(model: CompiledProcess, row: ProcessInstanceRow, state: InstanceState, effect: Effect, actor: string) {
    const trx = this.trx;
    switch (effect.type) {
      case 'openTicket':
        await this.openTicket(model, row, state, effect, actor);
        return;
      case 'updateTicket': {
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
        await trx.insertInto('ticket_events').values({ ticket_id: ticket.id, actor, kind: 'still_failing', data: JSON.stringify({ issues: effect.issues }) }).execute();
        return;
      }
      case 'closeTicket': {
        const closed = await trx
          .updateTable('tickets')
          .set({ status: effect.resolution, closed_at: this.now, updated_at: this.now })
          .where('instance_id', '=', row.id)
          .where('wait_id', '=', effect.waitId)
          .where('status', 'in', OPEN_TICKET_STATUSES)
          .returning('id')
          .execute();
        for (const t of closed) await trx.insertInto('ticket_events').values({ ticket_id: t.id, actor, kind: effect.resolution, data: '{}' }).execute();
        return;
      }
      case 'scheduleTimer':
        this.jobs.push({
          id: deterministicJobId(row.id, effect.timerId, effect.dueAt),
          name: QUEUES.timer,
          data: { instanceId: row.id, timerId: effect.timerId } satisfies TimerJobData,
          startAfter: new Date(effect.dueAt).toISOString(),
        });
        return;
      case 'runJob':
        this.jobs.push({
          // The revision makes a re-run after a retried technical ticket a new job, while a replay of the same step dedupes.
          id: deterministicJobId(row.id, effect.jobId, String(row.revision)),
          name: QUEUES.service,
          data: { instanceId: row.id, jobId: effect.jobId, job: effect.job, elementId: effect.elementId } satisfies ServiceJobData,
          retryLimit: effect.retries,
          retryDelay: Math.max(1, Math.round(effect.backoffMs / 1000)),
          retryBackoff: true,
        });
        return;
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
        await this.create(randomUUID(), {
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
        const children = await trx.selectFrom('process_instances').select('id').where('parent_id', '=', row.id).where('parent_wait_id', '=', effect.waitId).where('status', '=', 'active').execute();
        for (const c of children) this.enqueue({ instanceId: c.id, event: { type: 'cancel', reason: 'the calling activity was withdrawn' }, actor });
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
    const parent = await this.trx.selectFrom('process_instances').select(['state', 'status']).where('id', '=', row.parent_id!).executeTakeFirst();
    if (!parent || parent.status !== 'active') return true;
    return !(parent.state as InstanceState).waits.some((w) => w.waitId === row.parent_wait_id);
  }

  private async openTicket(model: CompiledProcess, row: ProcessInstanceRow, state: InstanceState, effect: Extract<Effect, { type: 'openTicket' }>, actor: string) {
    const element = model.elements[effect.elementId];
    const def = effect.ticket;
    const context = { ...templateContext(state, effect.issues), error: effect.error ?? null, step: { id: effect.elementId, name: element?.name ?? effect.elementId } };
    let instructions = renderInstructions(def?.instructions ?? [], effect.issues.map(asIssue), context);
    if (instructions.length === 0) instructions = defaultInstructions(effect.kind, element?.name ?? effect.elementId, effect.error);
    const title = def?.title ? renderTemplate(def.title, context) : defaultTitle(effect.kind, element?.name ?? effect.elementId);
    const due = def?.due ? parseDuration(def.due) : null;
    const priority = normalPriority(def?.priority ?? (effect.kind === 'technical' ? 'high' : 'normal'));
    const inserted = await this.trx
      .insertInto('tickets')
      .values({
        order_id: row.order_id,
        instance_id: row.id,
        wait_id: effect.waitId,
        element_id: effect.elementId,
        element_name: element?.name ?? null,
        kind: effect.kind,
        status: 'open',
        queue: def?.queue ?? defaultQueue(effect.kind),
        priority,
        priority_rank: priorityRank(priority),
        due_at: due ? addDuration(this.now, due) : null,
        title,
        issues: JSON.stringify(effect.issues),
        codes: codesOf(effect.issues),
        instructions: JSON.stringify(instructions),
        fields: JSON.stringify(def?.fields ?? []),
        error: effect.error ?? null,
        created_at: this.now,
        updated_at: this.now,
      })
      .onConflict((oc) => oc.columns(['instance_id', 'wait_id']).where('status', 'in', ['open', 'in_progress']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await this.trx.insertInto('ticket_events').values({ ticket_id: inserted.id, actor, kind: 'opened', data: JSON.stringify({ issues: effect.issues, error: effect.error ?? null }) }).execute();
    }
  }

  private async syncOrder(model: CompiledProcess, row: ProcessInstanceRow, before: InstanceState | null, result: StepResult, actor: string) {
    const trx = this.trx;
    const { state } = result;
    const order = await trx.selectFrom('orders').select(['id', 'status', 'data']).where('id', '=', row.order_id!).forUpdate().executeTakeFirst();
    if (!order) return;
    const patch: Record<string, unknown> = {};
    // The lifecycle's `order` variable is the order: a script or message that changed it changed the order.
    const nextOrder = state.variables.order;
    if (nextOrder && typeof nextOrder === 'object' && (!before || canonicalJson(before.variables.order) !== canonicalJson(nextOrder)) && canonicalJson(order.data) !== canonicalJson(nextOrder)) {
      Object.assign(patch, { data: JSON.stringify(nextOrder), ...searchColumns(nextOrder as Order) });
      await trx.insertInto('order_events').values({ order_id: order.id, actor, kind: 'changed_by_process', data: JSON.stringify({ instanceId: row.id }) }).execute();
    }
    const open = await trx
      .selectFrom('tickets')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('order_id', '=', order.id)
      .where('status', 'in', OPEN_TICKET_STATUSES)
      .executeTakeFirstOrThrow();
    const status = deriveOrderStatus(model, state, Number(open.n), result.history);
    if (status !== order.status) {
      patch.status = status;
      await trx.insertInto('order_events').values({ order_id: order.id, actor, kind: 'status', data: JSON.stringify({ from: order.status, to: status }) }).execute();
    }
    if (Object.keys(patch).length > 0) {
      await trx
        .updateTable('orders')
        .set({ ...patch, updated_at: this.now, revision: sql<number>`revision + 1` })
        .where('id', '=', order.id)
        .execute();
    }
  }
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

function defaultInstructions(kind: string, stepName: string, error?: string): string[] {
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

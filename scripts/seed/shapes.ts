/**
 * The shapes of seeded orders, taken from the real engine.
 *
 * Every order the default lifecycle has settled ends in one of a few shapes: on hold at the address,
 * payment or invoice check (a validation ticket), on hold at the approval of a large order (a manual
 * ticket), released to fulfilment (both service jobs done, waiting for delivery), or completed (the
 * `order-delivered` message came). `captureShapes` runs two orders of each shape through the real
 * runtime — intake, the workers' start and service jobs, the message — reads back every row they left
 * (order, order events, instance state, history, tickets, ticket events, job effects), and turns the
 * first into a template: the values that belong to the order (the order itself, its id, its instance's
 * id, the check results, the job outputs, the ticket's title and instructions) become slots, timestamps
 * become offsets from the order's arrival. The second order is then rebuilt from the template and must
 * come out exactly as the engine wrote it, or the seed stops: a lifecycle that behaves differently from
 * what the seed knows is refused rather than imitated.
 *
 * Per seeded order, the seed computes only what varies: the check results with the same FEEL functions
 * the diagram's script tasks call, the job outputs with the handlers' own functions, the ticket text with
 * the step session's own `ticketContent`. `verifyAgainstEngine` checks a sample of orders against the
 * engine's pure start step.
 */
import { randomBytes } from 'node:crypto';
import { step, waitingAt, type CompiledProcess, type InstanceState, type TicketDefinition } from '../../src/engine/index.ts';
import type { Db } from '../../src/db/database.ts';
import type { OrderStatus } from '../../src/db/tables/orders.table.ts';
import { bodyHash, canonicalJson } from '../../src/orders/canonical.ts';
import type { Issue } from '../../src/orders/checks/index.ts';
import { parseMoney } from '../../src/orders/money.ts';
import type { Order } from '../../src/orders/schema.ts';
import type { Runtime } from '../../src/runtime/index.ts';
import { ticketContent } from '../../src/runtime/instances.ts';
import { fulfilmentHandoverFor, jobKey, stockReservationFor } from '../../src/runtime/jobs/index.ts';
import type { LifecycleSettings } from '../../src/runtime/lifecycle.ts';
import { correlateMessage } from '../../src/runtime/messages.ts';
import { receiveOrder, searchColumns } from '../../src/runtime/orders.ts';
import { orderStream, SEED_MIX } from '../bench/orders.ts';

/** Who sent the seeded orders in, and who reported them delivered (the actors on their events). */
export const INTAKE_ACTOR = 'user:channels@localhost';
export const CARRIER_ACTOR = 'user:carrier@localhost';
export const DELIVERED_MESSAGE = 'order-delivered';

export const SHAPES = ['address', 'payment', 'invoice', 'approval', 'approval+invoice', 'released', 'released+invoice', 'completed', 'completed+invoice'] as const;
export type ShapeKey = (typeof SHAPES)[number];

export class SeedError extends Error {
  readonly code = 'SEED_REFUSED' as const;
}

type FeelLibrary = Record<string, (...args: unknown[]) => unknown>;

/** Variables the lifecycle computes from the order with the checks (what its script tasks store). */
type IssueVariables = { addressIssues: Issue[]; paymentIssues?: Issue[]; invoiceIssues?: Issue[] };

export interface Verdict {
  shape: ShapeKey;
  vars: IssueVariables;
}

/**
 * Where the default lifecycle leaves an order, decided as its gateways decide: the first check with
 * issues holds it; a pending prepayment would wait for the payment (seeded orders never do); an invoice
 * is checked only when requested; a grand total at the approval threshold or above waits for approval;
 * the rest is released, and completed once `delivered`. The check results come from the same FEEL
 * functions the script tasks call.
 */
export function classify(order: Order, lib: FeelLibrary, settings: LifecycleSettings, delivered: boolean): Verdict {
  const addressIssues = lib['validate address']!(order) as Issue[];
  if (addressIssues.length > 0) return { shape: 'address', vars: { addressIssues } };
  const paymentIssues = (lib['validate payment']!(order) as Issue[]).filter((i) => i.code !== 'PAYMENT_PENDING');
  if (paymentIssues.length > 0) return { shape: 'payment', vars: { addressIssues, paymentIssues } };
  if (order.payment.status === 'pending' && order.payment.method !== 'cod') throw new SeedError(`Order ${order.externalId} would wait for its payment; the seed makes no such orders.`);
  const vars: IssueVariables = { addressIssues, paymentIssues };
  const invoice = order.invoice?.requested === true;
  if (invoice) {
    const invoiceIssues = lib['validate invoice']!(order) as Issue[];
    if (invoiceIssues.length > 0) return { shape: 'invoice', vars: { ...vars, invoiceIssues } };
    vars.invoiceIssues = invoiceIssues;
  }
  const total = parseMoney(order.totals.grandTotal);
  const threshold = parseMoney(settings.approvalThreshold);
  const base = total !== null && threshold !== null && total >= threshold ? 'approval' : delivered ? 'completed' : 'released';
  return { shape: (invoice ? `${base}+invoice` : base) as ShapeKey, vars };
}

/** Variables the default job handlers return, made by the handlers' own functions. */
const JOB_VARIABLES: Record<string, { job: string; make: (order: Order, key: string) => unknown }> = {
  stockReservation: { job: 'reserve-stock', make: stockReservationFor },
  fulfilment: { job: 'hand-over-to-fulfilment', make: fulfilmentHandoverFor },
};

// ── templates: rows as text with slots ───────────────────────────────────────────────────────────────

/** One piece of a row's JSON text: literal text, a slot (a value's JSON), an id (raw), a time, or a computed value's JSON. */
type Part = string | { slot: string } | { id: 'orderId' | 'instanceId' } | { time: 0 | 1; ms: number } | { computed: string };

export interface RowContext {
  orderId: string;
  instanceId: string;
  /** Epoch ms of the order's arrival (phase 0) and of its delivery message (phase 1). */
  base: [number, number];
  /** JSON text of each slot's value. */
  slots: Record<string, string>;
  /** JSON text of the ticket's computed columns. */
  computed: Record<string, string>;
}

function render(parts: readonly Part[], c: RowContext): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if ('slot' in p) out += c.slots[p.slot]!;
    else if ('id' in p) out += c[p.id];
    else if ('time' in p) out += '"' + new Date(c.base[p.time] + p.ms).toISOString() + '"';
    else out += c.computed[p.computed]!;
  }
  return out;
}

class PartList {
  readonly parts: Part[] = [];
  push(p: Part) {
    const last = this.parts[this.parts.length - 1];
    if (typeof p === 'string' && typeof last === 'string') this.parts[this.parts.length - 1] = last + p;
    else this.parts.push(p);
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

interface CompileEnv {
  orderId: string;
  instanceId: string;
  /** canonical JSON → slot name, for the values that belong to the order. */
  slots: Map<string, string>;
  where: string;
}

function compileString(s: string, env: CompileEnv, out: PartList) {
  if (ISO_INSTANT.test(s)) throw new SeedError(`${env.where} holds a timestamp ("${s}") the seed does not know how to move; the engine writes something new.`);
  const pattern = new RegExp(`(${env.orderId}|${env.instanceId})`, 'g');
  const pieces = s.split(pattern);
  out.push('"');
  for (const piece of pieces) {
    if (piece === env.orderId) out.push({ id: 'orderId' });
    else if (piece === env.instanceId) out.push({ id: 'instanceId' });
    else out.push(JSON.stringify(piece).slice(1, -1));
  }
  out.push('"');
}

function compileValue(v: unknown, env: CompileEnv, out: PartList) {
  if (v === null || v === undefined) return out.push('null');
  if (typeof v === 'string') return compileString(v, env, out);
  if (typeof v !== 'object') return out.push(JSON.stringify(v));
  if (v instanceof Date) throw new SeedError(`${env.where} holds a date the seed does not know how to move.`);
  const slot = env.slots.get(canonicalJson(v));
  if (slot) return out.push({ slot });
  if (Array.isArray(v)) {
    out.push('[');
    v.forEach((item, i) => {
      if (i > 0) out.push(',');
      compileValue(item, env, out);
    });
    return out.push(']');
  }
  out.push('{');
  let first = true;
  for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
    if (item === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k) + ':');
    compileValue(item, env, out);
  }
  out.push('}');
}

interface ColumnSpec {
  /** Columns left to PostgreSQL (bigserial ids) or added by the loader. */
  skip?: readonly string[];
  times?: readonly string[];
  computed?: readonly string[];
}

const TABLES = {
  order_events: { skip: ['id'], times: ['at'] },
  process_instances: { times: ['created_at', 'updated_at', 'ended_at'] },
  instance_history: { skip: ['id'], times: ['at'] },
  // search: the database fills it from the ticket's order (a trigger, migration 0008).
  tickets: { skip: ['id', 'search'], times: ['due_at', 'created_at', 'updated_at', 'closed_at'], computed: ['title', 'instructions', 'codes'] },
  ticket_events: { skip: ['id', 'ticket_id'], times: ['at'] },
  job_effects: { times: ['at'] },
} as const satisfies Record<string, ColumnSpec>;
export type SeedTable = keyof typeof TABLES;
export const SEED_TABLES = Object.keys(TABLES) as SeedTable[];

interface Timeline {
  base: number;
  /** When the delivery message was sent (later rows are phase 1), or null. */
  phaseAt: number | null;
}

function timePart(value: unknown, t: Timeline): Part {
  if (value === null || value === undefined) return 'null';
  const ms = (value as Date).getTime();
  return t.phaseAt !== null && ms >= t.phaseAt ? { time: 1, ms: ms - t.phaseAt } : { time: 0, ms: ms - t.base };
}

function compileRow(row: Record<string, unknown>, spec: ColumnSpec, env: CompileEnv, t: Timeline): Part[] {
  const out = new PartList();
  out.push('{');
  let first = true;
  for (const [col, value] of Object.entries(row)) {
    if (spec.skip?.includes(col)) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(col) + ':');
    if (spec.times?.includes(col)) out.push(timePart(value, t));
    else if (spec.computed?.includes(col)) out.push({ computed: col });
    else compileValue(value, { ...env, where: `${env.where}.${col}` }, out);
  }
  out.push('}');
  return out.parts;
}

// ── capture: two orders per shape through the real runtime ───────────────────────────────────────────

interface Captured {
  shape: ShapeKey;
  order: Order;
  verdict: Verdict;
  orderId: string;
  instanceId: string;
  timeline: Timeline;
  orderRow: Record<string, unknown>;
  rows: Record<SeedTable, Array<Record<string, unknown>>>;
}

export interface SeedShape {
  key: ShapeKey;
  delivered: boolean;
  definitionId: string;
  /** The order row's own columns after the lifecycle ran. */
  status: OrderStatus;
  revision: number;
  updatedAt: Part;
  rows: Record<SeedTable, Part[][]>;
  /**
   * The history again, split for the loader: rows whose data is the same for every order of the shape
   * are expanded from this template by PostgreSQL; only the others' data travels per order (`v`, by index).
   */
  history: { template: HistoryTemplateRow[]; dataParts: Part[][] };
  /** Variable slots besides the order, in the state, history, events and job effects. */
  slotNames: string[];
  /** The instance's variables where it rests (constants as they are; slots filled per order). */
  finalVars: Record<string, unknown>;
  jobElements: Record<string, string>;
  ticket: { elementId: string; kind: 'validation' | 'manual' | 'technical'; definition: TicketDefinition | null; issuesVar: string | null; error: string | null; createdAt: Part } | null;
  /** What the engine's start step leaves: where the token waits, which variables exist. */
  startWait: string[];
  startVars: string[];
}

export interface HistoryTemplateRow {
  seq: number;
  element_id: string;
  element_type: string;
  event: string;
  actor: string | null;
  phase: 0 | 1;
  ms: number;
  /** The data when it is the same for every order, else null and `v` says which per-order value it is. */
  data: unknown;
  v: number | null;
}

export interface CaptureOptions {
  seed: number;
  log?: (line: string) => void;
}

/** Two orders of every shape, as different as the mix allows (country, delivery, channel, codes). */
function pickTemplates(lib: FeelLibrary, settings: LifecycleSettings, seed: number): Array<{ order: Order; verdict: Verdict }> {
  const tag = randomBytes(3).toString('hex');
  const codes = (v: Verdict) => Object.values(v.vars).flat().map((i) => i.code).join();
  const differs = (a: { order: Order; verdict: Verdict }, b: { order: Order; verdict: Verdict }) =>
    a.order.shippingAddress?.country !== b.order.shippingAddress?.country &&
    a.order.delivery.method !== b.order.delivery.method &&
    a.order.channel !== b.order.channel &&
    (codes(a.verdict) === '' || codes(a.verdict) !== codes(b.verdict));
  const picked = new Map<ShapeKey, Array<{ order: Order; verdict: Verdict }>>(SHAPES.map((s) => [s, []]));
  const fallback = new Map<ShapeKey, { order: Order; verdict: Verdict }>();
  for (const order of orderStream(200_000, { defectRate: 0.5, seed: seed ^ 0x5eed, prefix: `TPL${tag}`, mix: SEED_MIX })) {
    const verdict = classify(order, lib, settings, false);
    // A clean order is as good a template for "completed" as for "released": it only gets its message later.
    const shapes = verdict.shape.startsWith('released') ? [verdict.shape, verdict.shape.replace('released', 'completed') as ShapeKey] : [verdict.shape];
    const shape = shapes.find((s) => picked.get(s)!.length < 2);
    if (!shape) continue;
    const list = picked.get(shape)!;
    const candidate = { order, verdict: { ...verdict, shape } };
    if (list.length === 0 || differs(list[0]!, candidate)) list.push(candidate);
    else if (!fallback.has(shape)) fallback.set(shape, candidate);
    if (SHAPES.every((s) => picked.get(s)!.length >= 2)) break;
  }
  const out: Array<{ order: Order; verdict: Verdict }> = [];
  for (const shape of SHAPES) {
    const list = picked.get(shape)!;
    if (list.length === 1 && fallback.has(shape)) list.push(fallback.get(shape)!);
    if (list.length < 2) throw new SeedError(`Found no two template orders of the shape "${shape}" in the seed mix.`);
    out.push(...list);
  }
  return out;
}

async function waitUntilSettled(db: Db, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await db
      .selectFrom('orders')
      .select('id')
      .where('id', 'in', ids)
      .where('status', 'in', ['received', 'in_progress'])
      .execute();
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new SeedError(`${pending.length} template orders did not settle within ${timeoutMs / 1000} s; are the workers stuck?`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readRows(db: Db, orderId: string) {
  const orderRow = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
  const instances = await db.selectFrom('process_instances').selectAll().where('order_id', '=', orderId).where('parent_id', 'is', null).execute();
  const children = await db.selectFrom('process_instances').select('id').where('parent_id', 'in', instances.length ? instances.map((i) => i.id) : ['00000000-0000-0000-0000-000000000000']).execute();
  if (instances.length !== 1 || children.length > 0) throw new SeedError(`A template order has ${instances.length + children.length} process instances; the seed knows lifecycles with exactly one.`);
  const instance = instances[0]!;
  const tickets = await db.selectFrom('tickets').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
  const ticketEvents = tickets.length
    ? await db
        .selectFrom('ticket_events as e')
        .innerJoin('tickets as t', 't.id', 'e.ticket_id')
        .selectAll('e')
        .select(['t.instance_id', 't.wait_id'])
        .where('e.ticket_id', 'in', tickets.map((t) => t.id))
        .orderBy('e.id')
        .execute()
    : [];
  return {
    orderRow: orderRow as unknown as Record<string, unknown>,
    instanceId: instance.id,
    rows: {
      order_events: await db.selectFrom('order_events').selectAll().where('order_id', '=', orderId).orderBy('id').execute(),
      process_instances: [instance],
      instance_history: await db.selectFrom('instance_history').selectAll().where('instance_id', '=', instance.id).orderBy('id').execute(),
      tickets,
      ticket_events: ticketEvents,
      job_effects: await db.selectFrom('job_effects').selectAll().where('order_id', '=', orderId).orderBy('at').orderBy('key').execute(),
    } as unknown as Record<SeedTable, Array<Record<string, unknown>>>,
  };
}

async function deleteTemplates(db: Db, orderIds: string[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const instances = (await trx.selectFrom('process_instances').select('id').where('order_id', 'in', orderIds).where('parent_id', 'is', null).execute()).map((r) => r.id);
    // The append-only tables have no foreign keys (migration 0009), so no cascades: each is cleared here.
    const tickets = (await trx.selectFrom('tickets').select('id').where('order_id', 'in', orderIds).execute()).map((r) => r.id);
    if (tickets.length) await trx.deleteFrom('ticket_events').where('ticket_id', 'in', tickets).execute();
    await trx.deleteFrom('tickets').where('order_id', 'in', orderIds).execute();
    await trx.deleteFrom('job_effects').where('order_id', 'in', orderIds).execute();
    if (instances.length) await trx.deleteFrom('instance_history_steps').where('instance_id', 'in', instances).execute();
    if (instances.length) await trx.deleteFrom('process_instances').where('id', 'in', instances).execute();
    await trx.deleteFrom('order_events').where('order_id', 'in', orderIds).execute();
    await trx.deleteFrom('orders').where('id', 'in', orderIds).execute();
  });
}

/** The per-order values a template's slots take. */
function slotValue(name: string, order: Order, verdict: Verdict, instanceId: string, jobElements: Record<string, string>): unknown {
  if (name in verdict.vars) return verdict.vars[name as keyof IssueVariables];
  const job = JOB_VARIABLES[name];
  if (job) return job.make(order, jobKey(instanceId, jobElements[name]!));
  throw new SeedError(`The lifecycle stores the variable "${name}", which the seed cannot compute.`);
}

function compileShape(c: Captured, model: CompiledProcess, lib: FeelLibrary, settings: LifecycleSettings): SeedShape {
  const instance = c.rows.process_instances[0]!;
  const state = instance.state as InstanceState;
  const finalVars = state.variables;
  // Slots: the order, and every variable the lifecycle computed that is not empty and not the same for every order.
  const slotNames: string[] = [];
  // The intake's "received" event names the channel.
  const slots = new Map<string, string>([
    [canonicalJson(c.order), 'order'],
    [canonicalJson({ channel: c.order.channel }), 'intake'],
  ]);
  for (const [name, value] of Object.entries(finalVars)) {
    if (name === 'order' || name === 'orderId' || name === 'settings') continue;
    if (value === null || typeof value !== 'object' || Object.keys(value).length === 0) continue;
    slotNames.push(name);
    slots.set(canonicalJson(value), name);
  }
  const jobElements: Record<string, string> = {};
  for (const name of slotNames) {
    const job = JOB_VARIABLES[name];
    if (!job) continue;
    const effect = c.rows.job_effects.find((e) => e.job === job.job);
    if (!effect) throw new SeedError(`The "${name}" variable came without a ${job.job} job effect.`);
    jobElements[name] = String(effect.key).split(':').slice(2).join(':');
  }
  const env: CompileEnv = { orderId: c.orderId, instanceId: c.instanceId, slots, where: c.shape };
  const rows = {} as Record<SeedTable, Part[][]>;
  for (const table of SEED_TABLES) rows[table] = c.rows[table].map((r, i) => compileRow(r, TABLES[table], { ...env, where: `${c.shape}: ${table}[${i}]` }, c.timeline));

  const history: SeedShape['history'] = { template: [], dataParts: [] };
  c.rows.instance_history.forEach((h, seq) => {
    const where = `${c.shape}: instance_history[${seq}]`;
    const constant = (value: unknown) => {
      const out = new PartList();
      compileValue(value, { ...env, where }, out);
      return out.parts.every((p) => typeof p === 'string') ? (out.parts as string[]).join('') : null;
    };
    for (const col of ['element_id', 'element_type', 'event', 'actor'] as const) if (constant(h[col]) === null) throw new SeedError(`${where}.${col} differs per order; the seed expects it not to.`);
    const at = timePart(h.at, c.timeline) as { time: 0 | 1; ms: number };
    const data = new PartList();
    compileValue(h.data, { ...env, where: `${where}.data` }, data);
    const fixed = data.parts.every((p) => typeof p === 'string');
    history.template.push({
      seq,
      element_id: String(h.element_id),
      element_type: String(h.element_type),
      event: String(h.event),
      actor: (h.actor as string | null) ?? null,
      phase: at.time,
      ms: at.ms,
      data: fixed ? JSON.parse((data.parts as string[]).join('')) : null,
      v: fixed ? null : history.dataParts.length,
    });
    if (!fixed) history.dataParts.push(data.parts);
  });

  let ticket: SeedShape['ticket'] = null;
  if (c.rows.tickets.length > 1) throw new SeedError(`A template order of the shape "${c.shape}" has ${c.rows.tickets.length} tickets; the seed knows one at most.`);
  const t = c.rows.tickets[0];
  if (t) {
    const issues = t.issues as unknown[];
    const issuesVar = issues.length === 0 ? null : (slots.get(canonicalJson(issues)) ?? null);
    if (issues.length > 0 && !issuesVar) throw new SeedError(`The ticket of the shape "${c.shape}" has issues that are no variable of its instance.`);
    const element = model.elements[String(t.element_id)] as { ticket?: TicketDefinition | null } | undefined;
    ticket = { elementId: String(t.element_id), kind: t.kind as 'validation', definition: element?.ticket ?? null, issuesVar, error: (t.error as string | null) ?? null, createdAt: timePart(t.created_at, c.timeline) };
  }

  const start = step(model, null, { type: 'start', variables: { order: c.order, orderId: c.orderId, settings: { ...settings } } }, new Date(c.timeline.base), { feelFunctions: lib as never });
  return {
    key: c.shape,
    delivered: c.timeline.phaseAt !== null,
    definitionId: String(instance.definition_id),
    status: c.orderRow.status as OrderStatus,
    revision: Number(c.orderRow.revision),
    updatedAt: timePart(c.orderRow.updated_at, c.timeline),
    rows,
    history,
    slotNames,
    finalVars,
    jobElements,
    ticket,
    startWait: waitingAt(start.state),
    startVars: Object.keys(start.state.variables).sort(),
  };
}

/** Everything the rows of one seeded order need besides the template. */
export function contextFor(shape: SeedShape, model: CompiledProcess, order: Order, orderJson: string, verdict: Verdict, ids: { orderId: string; instanceId: string }, base: [number, number]): RowContext {
  const values: Record<string, unknown> = {};
  const slots: Record<string, string> = { order: orderJson, intake: JSON.stringify({ channel: order.channel }) };
  for (const name of shape.slotNames) {
    values[name] = slotValue(name, order, verdict, ids.instanceId, shape.jobElements);
    slots[name] = JSON.stringify(values[name]);
  }
  const context: RowContext = { ...ids, base, slots, computed: {} };
  if (shape.ticket) {
    const variables: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(shape.finalVars)) variables[name] = name === 'order' ? order : name === 'orderId' ? ids.orderId : name in values ? values[name] : value;
    const issues = (shape.ticket.issuesVar ? values[shape.ticket.issuesVar] : []) as Issue[];
    const createdAt = new Date(render([shape.ticket.createdAt], context).slice(1, -1));
    const content = ticketContent(model, { elementId: shape.ticket.elementId, kind: shape.ticket.kind, issues, error: shape.ticket.error ?? undefined, ticket: shape.ticket.definition }, variables, createdAt);
    context.computed = { title: JSON.stringify(content.title), instructions: JSON.stringify(content.instructions), codes: JSON.stringify(content.codes) };
  }
  return context;
}

/** The order's own row, as JSON text: the order as received, its search columns, its status after the lifecycle. */
export function orderRowJson(order: Order, orderJson: string, shape: SeedShape, context: RowContext): string {
  const cols = searchColumns(order);
  return (
    `{"id":"${context.orderId}","channel":${JSON.stringify(order.channel)},"external_id":${JSON.stringify(order.externalId)},"status":"${shape.status}",` +
    `"data":${orderJson},"body_hash":"${bodyHash(order)}","customer_name":${JSON.stringify(cols.customer_name)},"customer_email":${JSON.stringify(cols.customer_email)},` +
    `"country":${JSON.stringify(cols.country)},"currency":${JSON.stringify(cols.currency)},"grand_total_minor":"${cols.grand_total_minor}",` +
    `"placed_at":${cols.placed_at ? JSON.stringify(cols.placed_at.toISOString()) : 'null'},"revision":${shape.revision},` +
    `"created_at":"${new Date(context.base[0]).toISOString()}","updated_at":${render([shape.updatedAt], context)}}`
  );
}

/** The rows of one order of this shape, as JSON text per table. */
export function renderRows(shape: SeedShape, context: RowContext, tables: readonly SeedTable[] = SEED_TABLES): Record<SeedTable, string[]> {
  const out = {} as Record<SeedTable, string[]>;
  for (const table of tables) out[table] = shape.rows[table].map((parts) => render(parts, context));
  return out;
}

/**
 * One order's history for the loader: its instance, its shape (by index), its two base times and the
 * data of the rows that differ per order; PostgreSQL expands it with the shape's history template.
 */
export function renderHistory(shape: SeedShape, shapeIndex: number, context: RowContext): string {
  const data = shape.history.dataParts.map((parts) => render(parts, context));
  return `{"i":"${context.instanceId}","s":${shapeIndex},"b0":"${new Date(context.base[0]).toISOString()}","b1":"${new Date(context.base[1]).toISOString()}","v":[${data.join(',')}]}`;
}

export function renderTime(part: Part, context: RowContext): string {
  return render([part], context).slice(1, -1);
}

/** The row rebuilt from the template must be the row the engine wrote (times within a few seconds: they are offsets). */
function compareRows(shape: ShapeKey, table: string, built: Record<string, unknown>, actual: Record<string, unknown>, spec: ColumnSpec) {
  for (const [col, value] of Object.entries(actual)) {
    if (spec.skip?.includes(col)) continue;
    const mine = built[col];
    if (spec.times?.includes(col)) {
      const a = value === null ? null : (value as Date).getTime();
      const b = mine === null || mine === undefined ? null : Date.parse(String(mine));
      if ((a === null) !== (b === null) || (a !== null && Math.abs(a - b!) > 5_000)) throw new SeedError(`${shape}: ${table}.${col} rebuilt as ${String(mine)}, the engine wrote ${String(value && (value as Date).toISOString())}.`);
      continue;
    }
    if (canonicalJson(mine) !== canonicalJson(value)) {
      throw new SeedError(`${shape}: ${table}.${col} rebuilt as ${canonicalJson(mine).slice(0, 300)}, the engine wrote ${canonicalJson(value).slice(0, 300)}.`);
    }
  }
}

/** Rebuild the second order of a shape from the first one's template and compare with what the engine wrote. */
function verifyShape(shape: SeedShape, second: Captured, model: CompiledProcess) {
  const base: [number, number] = [second.timeline.base, second.timeline.phaseAt ?? 0];
  const orderJson = JSON.stringify(second.order);
  const context = contextFor(shape, model, second.order, orderJson, second.verdict, { orderId: second.orderId, instanceId: second.instanceId }, base);
  const built = renderRows(shape, context);
  for (const table of SEED_TABLES) {
    const actual = second.rows[table];
    if (built[table].length !== actual.length) throw new SeedError(`${shape.key}: the engine wrote ${actual.length} ${table} rows, the template has ${built[table].length}.`);
    actual.forEach((row, i) => compareRows(shape.key, table, JSON.parse(built[table][i]!), row, TABLES[table]));
  }
  // The compact history the loader sends, expanded as its INSERT does, must be the same rows too.
  const compact = JSON.parse(renderHistory(shape, 0, context)) as { i: string; b0: string; b1: string; v: unknown[] };
  shape.history.template.forEach((t, i) => {
    const at = new Date(Date.parse(t.phase === 0 ? compact.b0 : compact.b1) + t.ms).toISOString();
    const row = { instance_id: compact.i, element_id: t.element_id, element_type: t.element_type, event: t.event, at, actor: t.actor, data: t.v === null ? t.data : compact.v[t.v] };
    compareRows(shape.key, 'instance_history (compact)', row, second.rows.instance_history[i]!, TABLES.instance_history);
  });
  const orderRow = JSON.parse(orderRowJson(second.order, orderJson, shape, context));
  compareRows(shape.key, 'orders', orderRow, { ...second.orderRow, tags: undefined, created_at: second.orderRow.created_at }, { skip: ['tags'], times: ['created_at', 'updated_at', 'placed_at'] });
}

/** The shapes, with the model they run on; the template orders are deleted again. */
export async function captureShapes(
  runtime: Runtime,
  db: Db,
  options: CaptureOptions,
): Promise<{ shapes: Map<ShapeKey, SeedShape>; model: CompiledProcess }> {
  const log = options.log ?? (() => undefined);
  const lib = runtime.ctx.feelFunctions as FeelLibrary;
  const settings = runtime.settings;
  const picks = pickTemplates(lib, settings, options.seed);
  log(`template orders: ${picks.length} (two of each of ${SHAPES.length} shapes) through the real runtime`);

  const ids: string[] = [];
  const workers = runtime.startWorkers({ idleMs: 20 });
  const captured: Captured[] = [];
  try {
    for (const p of picks) {
      const result = await receiveOrder(db, p.order, INTAKE_ACTOR, runtime.intakeHooks);
      if (result.outcome !== 'created') throw new SeedError(`Template order ${p.order.externalId} was not created (${result.outcome}).`);
      ids.push(result.order.id);
    }
    runtime.nudge();
    await waitUntilSettled(db, ids, 120_000);
    // Let the last service job's completion commit before the delivery messages draw the phase line.
    await new Promise((r) => setTimeout(r, 100));
    const phaseAt = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    for (const [i, p] of picks.entries()) {
      if (!p.verdict.shape.startsWith('completed')) continue;
      const delivered = await correlateMessage(runtime.ctx, { name: DELIVERED_MESSAGE, businessKey: ids[i]!, actor: CARRIER_ACTOR });
      if (delivered.outcome !== 'delivered') throw new SeedError(`The ${DELIVERED_MESSAGE} message for template order ${p.order.externalId} was ${delivered.outcome}.`);
    }
    await workers.stop();
    for (const [i, p] of picks.entries()) {
      const read = await readRows(db, ids[i]!);
      const base = (read.orderRow.created_at as Date).getTime();
      captured.push({ shape: p.verdict.shape, order: p.order, verdict: p.verdict, orderId: ids[i]!, instanceId: read.instanceId, timeline: { base, phaseAt: p.verdict.shape.startsWith('completed') ? phaseAt : null }, orderRow: read.orderRow, rows: read.rows });
    }
  } finally {
    await workers.stop();
    if (ids.length) await deleteTemplates(db, ids);
  }

  const definitionIds = new Set(captured.map((c) => String(c.rows.process_instances[0]!.definition_id)));
  if (definitionIds.size !== 1) throw new SeedError('The template orders ran on different lifecycle versions; deploy nothing while seeding.');
  const model = await runtime.ctx.models.get(db, [...definitionIds][0]!);
  const shapes = new Map<ShapeKey, SeedShape>();
  for (const key of SHAPES) {
    const [first, second] = captured.filter((c) => c.shape === key);
    const shape = compileShape(first!, model, lib, settings);
    verifyShape(shape, second!, model);
    shapes.set(key, shape);
  }
  log(`shapes verified: each rebuilt from its template exactly as the engine wrote a second order`);
  return { shapes, model };
}

/**
 * The engine's pure start step on the order must stop where the shape says and compute the same
 * variables the seed computed (a sample of orders is checked this way while seeding).
 */
export function verifyAgainstEngine(shape: SeedShape, model: CompiledProcess, lib: FeelLibrary, settings: LifecycleSettings, order: Order, orderId: string, verdict: Verdict): void {
  const { state } = step(model, null, { type: 'start', variables: { order, orderId, settings: { ...settings } } }, new Date(), { feelFunctions: lib as never });
  const waits = waitingAt(state);
  const vars = Object.keys(state.variables).sort();
  if (canonicalJson(waits) !== canonicalJson(shape.startWait) || canonicalJson(vars) !== canonicalJson(shape.startVars)) {
    throw new SeedError(`Order ${order.externalId}: the engine stops at ${waits.join(', ')} with ${vars.join(', ')}; the seed put it in the shape "${shape.key}".`);
  }
  for (const [name, value] of Object.entries(verdict.vars)) {
    if (!(name in state.variables)) continue;
    if (canonicalJson(state.variables[name]) !== canonicalJson(value)) throw new SeedError(`Order ${order.externalId}: the engine computed ${name} = ${canonicalJson(state.variables[name])}, the seed ${canonicalJson(value)}.`);
  }
}

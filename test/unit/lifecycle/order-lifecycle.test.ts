import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBpmn, type ModdleElement, type ParsedDefinitions } from '../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../src/engine/model/validate.ts';
import { feelFunctionCalls } from '../../../src/engine/model/feel-syntax.ts';
import { compileDefinitions, messageSubscriptions, step, waitingAt } from '../../../src/engine/index.ts';
import type {
  CompiledProcess,
  Effect,
  EngineEvent,
  EnginePorts,
  HistoryEntry,
  InstanceState,
  Issue,
  TicketDefinition,
  TicketKind,
} from '../../../src/engine/index.ts';
import { createFeelLibrary, FEEL_FUNCTIONS } from '../../../src/orders/feel-library.ts';
import { renderInstructions, templateError } from '../../../src/tickets/instructions.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { validOrder } from '../../fixtures/orders.ts';

/**
 * The default order lifecycle (processes/order-lifecycle.bpmn), run through Ordo's pure engine with the
 * real FEEL library. A small in-memory harness plays the runtime: it applies the effects (tickets,
 * timers, jobs), feeds events back, and derives the order status the way docs/lifecycle.md describes.
 */

const BPMN_URL = new URL('../../../processes/order-lifecycle.bpmn', import.meta.url);
const KNOWN_JOBS = ['reserve-stock', 'hand-over-to-fulfilment'];
const SETTINGS = { paymentTimeout: 'P3D', approvalThreshold: '10000.00', codLimit: '5000.00' };
const ORDER_ID = '7d1f0a4e-2b7c-4b8e-9a51-3f7c2d9e6a10';
const START = '2026-11-21T10:00:00.000Z';

let parsed: ParsedDefinitions;
let model: CompiledProcess;
/** ordo:status per element id, read from the diagram as the runtime would. */
let statusOf: Map<string, string>;
const ports: EnginePorts = { feelFunctions: createFeelLibrary({ codLimit: SETTINGS.codLimit }) };

function flowElements(container: ModdleElement): ModdleElement[] {
  const out: ModdleElement[] = [];
  for (const el of (container['flowElements'] as ModdleElement[] | undefined) ?? []) {
    out.push(el);
    if (el.$type === 'bpmn:SubProcess') out.push(...flowElements(el));
  }
  return out;
}

function lifecycleProcess(): ModdleElement {
  const roots = (parsed.definitions['rootElements'] as ModdleElement[]) ?? [];
  const process = roots.find((e) => e.$type === 'bpmn:Process' && e.id === 'order-lifecycle');
  if (!process) throw new Error('no process order-lifecycle');
  return process;
}

beforeAll(async () => {
  parsed = await parseBpmn(readFileSync(BPMN_URL, 'utf8'));
  const processes = compileDefinitions(parsed.definitions);
  expect(processes.map((p) => p.key)).toEqual(['order-lifecycle']);
  model = processes[0]!;
  statusOf = new Map();
  for (const el of flowElements(lifecycleProcess())) {
    if (typeof el['status'] === 'string') statusOf.set(el.id!, el['status'] as string);
  }
});

// ───────────────────────────────────────────────────────────── the harness

interface TicketRecord {
  waitId: string;
  elementId: string;
  kind: TicketKind;
  issues: Issue[];
  ticket: TicketDefinition | null;
  status: 'open' | 'resolved' | 'cancelled';
  error?: string;
}

interface JobRecord {
  jobId: string;
  job: string;
  elementId: string;
  retries: number;
  backoffMs: number;
  variables: Record<string, unknown>;
  status: 'queued' | 'cancelled' | 'done';
}

class Lifecycle {
  state: InstanceState | null = null;
  now = new Date(START);
  effects: Effect[] = [];
  readonly allEffects: Effect[] = [];
  readonly history: HistoryEntry[] = [];
  readonly tickets = new Map<string, TicketRecord>();
  readonly timers = new Map<string, { elementId: string; dueAt: string }>();
  readonly jobs = new Map<string, JobRecord>();
  outcome: 'completed' | 'cancelled' | 'failed' | null = null;

  static start(order: Order | Record<string, unknown>, settings: Record<string, unknown> = SETTINGS): Lifecycle {
    return new Lifecycle().send({ type: 'start', variables: { order, orderId: ORDER_ID, settings } });
  }

  send(event: EngineEvent): this {
    const result = step(model, this.state, event, this.now, ports);
    // The runtime stores the state as JSON: it must round-trip unchanged.
    const stored = JSON.parse(JSON.stringify(result.state)) as InstanceState;
    expect(stored).toStrictEqual(result.state);
    this.state = stored;
    this.effects = result.effects;
    this.allEffects.push(...result.effects);
    this.history.push(...result.history);
    for (const effect of result.effects) this.apply(effect);
    return this;
  }

  private apply(effect: Effect): void {
    switch (effect.type) {
      case 'openTicket':
        this.tickets.set(effect.waitId, {
          waitId: effect.waitId,
          elementId: effect.elementId,
          kind: effect.kind,
          issues: effect.issues,
          ticket: effect.ticket,
          status: 'open',
          ...(effect.error !== undefined ? { error: effect.error } : {}),
        });
        break;
      case 'updateTicket':
        this.tickets.get(effect.waitId)!.issues = effect.issues;
        break;
      case 'closeTicket':
        this.tickets.get(effect.waitId)!.status = effect.resolution;
        break;
      case 'scheduleTimer':
        this.timers.set(effect.timerId, { elementId: effect.elementId, dueAt: effect.dueAt });
        break;
      case 'cancelTimer':
        this.timers.delete(effect.timerId);
        break;
      case 'runJob':
        this.jobs.set(effect.jobId, { ...effect, status: 'queued' });
        break;
      case 'cancelJob':
        this.jobs.get(effect.jobId)!.status = 'cancelled';
        break;
      case 'ended':
        this.outcome = effect.outcome;
        break;
      default:
        throw new Error(`unexpected effect ${effect.type}`);
    }
  }

  get variables(): Record<string, unknown> {
    return this.state!.variables;
  }

  get order(): Order {
    return this.variables['order'] as Order;
  }

  waitingAt(): string[] {
    return waitingAt(this.state!);
  }

  openTickets(): TicketRecord[] {
    return [...this.tickets.values()].filter((t) => t.status === 'open');
  }

  openTicketAt(elementId: string): TicketRecord {
    const found = this.openTickets().filter((t) => t.elementId === elementId);
    expect(found, `open tickets at ${elementId}`).toHaveLength(1);
    return found[0]!;
  }

  queuedJob(job: string): JobRecord {
    const found = [...this.jobs.values()].filter((j) => j.job === job && j.status === 'queued');
    expect(found, `queued ${job} jobs`).toHaveLength(1);
    return found[0]!;
  }

  /** Let the worker finish the queued job. */
  completeJob(job: string, output?: Record<string, unknown>): this {
    const j = this.queuedJob(job);
    j.status = 'done';
    return this.send({ type: 'jobCompleted', jobId: j.jobId, ...(output ? { output } : {}) });
  }

  failJob(job: string, error: string): this {
    const j = this.queuedJob(job);
    j.status = 'done';
    return this.send({ type: 'jobFailed', jobId: j.jobId, error });
  }

  /** The timer armed for an element, which the runtime would fire at its due time. */
  timerAt(elementId: string): { timerId: string; dueAt: string } {
    const found = [...this.timers.entries()].filter(([, t]) => t.elementId === elementId);
    expect(found, `timers at ${elementId}`).toHaveLength(1);
    const [timerId, t] = found[0]!;
    return { timerId, dueAt: t.dueAt };
  }

  fireTimer(elementId: string): this {
    const { timerId, dueAt } = this.timerAt(elementId);
    this.now = new Date(dueAt);
    this.timers.delete(timerId);
    return this.send({ type: 'timer', timerId });
  }

  retry(ticket: TicketRecord, variables?: Record<string, unknown>): this {
    return this.send({ type: 'ticketRetry', waitId: ticket.waitId, ...(variables ? { variables } : {}) });
  }

  complete(ticket: TicketRecord, variables: Record<string, unknown>): this {
    return this.send({ type: 'userTaskCompleted', waitId: ticket.waitId, variables });
  }

  message(name: string, variables?: Record<string, unknown>): this {
    return this.send({ type: 'message', name, ...(variables ? { variables } : {}) });
  }

  /** The end event the instance finished at. */
  endEvent(): string | null {
    const ends = this.history.filter((h) => h.elementType === 'bpmn:EndEvent' && h.event === 'entered');
    return ends.at(-1)?.elementId ?? null;
  }

  /**
   * The order status (SPEC §3) as docs/lifecycle.md derives it: an ended instance takes the ordo:status
   * of its end event (an API cancel: cancelled); a running one the ordo:status of the element it waits
   * at, else on_hold with an open ticket, else in_progress.
   */
  orderStatus(): string {
    const state = this.state!;
    if (state.status === 'cancelled') return 'cancelled';
    if (state.status === 'completed') return statusOf.get(this.endEvent() ?? '') ?? 'completed';
    if (state.status === 'failed') return 'on_hold';
    for (const id of this.waitingAt()) {
      const status = statusOf.get(id);
      if (status) return status;
    }
    return this.openTickets().length > 0 ? 'on_hold' : 'in_progress';
  }

  /** The instructions the console would show for a ticket, rendered over the current order. */
  instructions(ticket: TicketRecord): string[] {
    expect(ticket.ticket, `ticket definition at ${ticket.elementId}`).not.toBeNull();
    return renderInstructions(ticket.ticket!.instructions, ticket.issues, { order: this.order });
  }
}

/** A deep copy of the valid order with a change applied. */
function orderWith(change: (o: Order) => void): Order {
  const order = structuredClone(validOrder());
  change(order);
  return order;
}

const LARGE_ORDER = (grandTotal: string): Order =>
  orderWith((o) => {
    o.lines = [{ sku: 'ESP-900', name: 'Espresso machine', quantity: 1, unitPrice: grandTotal, taxRate: '0.23' }];
    o.totals = { subtotal: grandTotal, shipping: '0.00', tax: '0.00', grandTotal };
    o.payment = { ...o.payment!, amount: grandTotal };
  });

const PENDING_TRANSFER = (): Order =>
  orderWith((o) => {
    o.payment = { method: 'bank_transfer', status: 'pending', amount: '114.90', currency: 'PLN', reference: null };
  });

function scriptTickets(): Array<{ elementId: string; codes: string[]; ticket: TicketDefinition }> {
  const raises = new Map(FEEL_FUNCTIONS.map((f) => [f.name, f.raises]));
  const names = FEEL_FUNCTIONS.map((f) => f.name);
  const out: Array<{ elementId: string; codes: string[]; ticket: TicketDefinition }> = [];
  for (const el of Object.values(model.elements)) {
    if (el.kind !== 'scriptTask' || el.onIssues !== 'ticket') continue;
    const codes = new Set<string>();
    for (const fn of feelFunctionCalls(el.script, names)) for (const code of raises.get(fn) ?? []) codes.add(code);
    if (codes.size > 0) out.push({ elementId: el.id, codes: [...codes], ticket: el.ticket! });
  }
  return out;
}

/** Rendered steps that show a placeholder went wrong: left-over braces, an empty value in quotes or brackets. */
function renderingFaults(steps: string[]): string[] {
  return steps.filter((s) => /\{\{|\}\}|""|\(\s*\)|\( | \)|\s{2,}|undefined|\[object/.test(s));
}

// ───────────────────────────────────────────────────────────── deploy

describe('order-lifecycle.bpmn deploys', () => {
  it('parses without warnings and passes the deploy validator with the real FEEL library, templates and jobs', () => {
    expect(parsed.warnings).toEqual([]);
    const result = validateDefinitions(parsed, { feelFunctions: FEEL_FUNCTIONS, validateTemplate: templateError, knownJobs: KNOWN_JOBS });
    expect(result.errors).toEqual([]);
    expect(result.processes).toEqual([{ id: 'order-lifecycle', name: 'Order lifecycle', executable: true }]);
  });

  it('declares the ordo namespace and the statuses of its waits and ends', () => {
    expect(parsed.xml).toContain('xmlns:ordo="urn:ordo:bpmn:1"');
    expect(Object.fromEntries(statusOf)).toEqual({
      Gateway_WaitForPayment: 'awaiting_payment',
      Gateway_WaitForDelivery: 'released',
      Task_StopShipment: 'cancelled',
      EndEvent_CancelledUnpaid: 'cancelled',
      EndEvent_CancelledOverdue: 'cancelled',
      EndEvent_Rejected: 'cancelled',
      EndEvent_CancelledAfterRelease: 'cancelled',
      EndEvent_Completed: 'completed',
    });
    // Every end event says how the order ends.
    const ends = Object.values(model.elements).filter((e) => e.kind === 'endEvent').map((e) => e.id);
    for (const id of ends) expect(['completed', 'cancelled'], id).toContain(statusOf.get(id));
  });

  it('has specific instructions of 3 to 5 steps for every code each script can raise, and a fallback', () => {
    const tickets = scriptTickets();
    expect(tickets.map((t) => t.elementId).sort()).toEqual(['Task_ValidateAddress', 'Task_ValidateInvoice', 'Task_ValidatePayment']);
    const allCodes = new Set(FEEL_FUNCTIONS.filter((f) => f.name.startsWith('validate ') && f.name !== 'validate order').flatMap((f) => f.raises));
    const covered = new Set<string>();
    for (const { elementId, codes, ticket } of tickets) {
      for (const code of codes) {
        const specific = ticket.instructions.filter((i) => i.code === code);
        expect(specific, `${elementId}: instructions for ${code}`).toHaveLength(1);
        const lines = specific[0]!.text.split('\n').filter((l) => l.trim() !== '');
        expect(lines.length, `${elementId}: ${code} has ${lines.length} steps`).toBeGreaterThanOrEqual(3);
        expect(lines.length, `${elementId}: ${code} has ${lines.length} steps`).toBeLessThanOrEqual(5);
        lines.forEach((line, i) => expect(line.trim(), `${code} step ${i + 1}`).toMatch(new RegExp(`^${i + 1}\\. `)));
        covered.add(code);
      }
      // No instructions for codes the script cannot raise (typos in code names).
      for (const i of ticket.instructions) if (i.code !== null) expect(codes, `${elementId}: ${i.code}`).toContain(i.code);
      expect(ticket.instructions.filter((i) => i.code === null), `${elementId}: fallback`).toHaveLength(1);
      expect(ticket.queue).toBeTruthy();
      expect(ticket.title).toBeTruthy();
    }
    expect([...covered].sort()).toEqual([...allCodes].sort());
  });

  it('gives every user and service task a ticket with a queue, a due time and fallback instructions', () => {
    const tasks = Object.values(model.elements).filter((e) => e.kind === 'userTask' || e.kind === 'serviceTask');
    expect(tasks.map((t) => t.id).sort()).toEqual(['Task_ApproveOrder', 'Task_HandOver', 'Task_PaymentOverdue', 'Task_ReserveStock', 'Task_StopShipment']);
    for (const task of tasks) {
      const ticket = (task as { ticket: TicketDefinition | null }).ticket;
      expect(ticket, task.id).not.toBeNull();
      expect(ticket!.queue, task.id).toBeTruthy();
      expect(ticket!.due, task.id).toMatch(/^P/);
      expect(ticket!.instructions.some((i) => i.code === null), task.id).toBe(true);
    }
    for (const id of ['Task_ReserveStock', 'Task_HandOver']) {
      const el = model.elements[id]!;
      expect(el.kind === 'serviceTask' && { retries: el.retries, backoffMs: el.backoffMs, queue: el.ticket?.queue }).toEqual({ retries: 5, backoffMs: 10_000, queue: 'fulfilment' });
    }
  });

  it('is drawn: every flow node has a shape with bounds, every flow an edge with waypoints', () => {
    const diagrams = parsed.definitions['diagrams'] as ModdleElement[];
    expect(diagrams).toHaveLength(1);
    const plane = diagrams[0]!['plane'] as ModdleElement;
    expect((plane['bpmnElement'] as ModdleElement).id).toBe('order-lifecycle');
    const drawn = new Map<string, ModdleElement>();
    for (const di of plane['planeElement'] as ModdleElement[]) drawn.set((di['bpmnElement'] as ModdleElement).id!, di);
    const elements = [...flowElements(lifecycleProcess()), ...((lifecycleProcess()['artifacts'] as ModdleElement[]) ?? [])];
    for (const el of elements) {
      const di = drawn.get(el.id!);
      expect(di, `DI for ${el.id}`).toBeDefined();
      if (el.$type === 'bpmn:SequenceFlow' || el.$type === 'bpmn:Association') {
        expect(di!.$type).toBe('bpmndi:BPMNEdge');
        expect((di!['waypoint'] as unknown[]).length, el.id).toBeGreaterThanOrEqual(2);
      } else {
        expect(di!.$type).toBe('bpmndi:BPMNShape');
        const b = di!['bounds'] as { x: number; y: number; width: number; height: number };
        expect(b.width, el.id).toBeGreaterThan(0);
        expect(b.height, el.id).toBeGreaterThan(0);
      }
    }
    // Left to right: the main line's steps in order.
    const x = (id: string) => (drawn.get(id)!['bounds'] as { x: number }).x;
    const mainLine = ['StartEvent_OrderReceived', 'Task_ValidateAddress', 'Task_ValidatePayment', 'Gateway_WaitForPayment', 'Task_ValidateInvoice', 'Task_ApproveOrder', 'Task_ReserveStock', 'Task_HandOver', 'Gateway_WaitForDelivery', 'EndEvent_Completed'];
    expect(mainLine.map(x)).toEqual(mainLine.map(x).sort((a, b) => a - b));
  });
});

// ───────────────────────────────────────────────────────────── the happy path

describe('a clean order', () => {
  it('runs to released without a ticket, and completes on order-delivered', () => {
    const run = Lifecycle.start(validOrder());
    expect(run.openTickets()).toEqual([]);
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
    expect(run.orderStatus()).toBe('in_progress');
    const reserve = run.queuedJob('reserve-stock');
    expect(reserve).toMatchObject({ elementId: 'Task_ReserveStock', retries: 5, backoffMs: 10_000 });
    expect(reserve.variables).toMatchObject({ order: validOrder(), orderId: ORDER_ID, addressIssues: [], paymentIssues: [], invoiceIssues: [] });

    run.completeJob('reserve-stock', { reservation: { id: 'RES-1' } });
    expect(run.waitingAt()).toEqual(['Task_HandOver']);
    expect(run.queuedJob('hand-over-to-fulfilment').variables).toMatchObject({ reservation: { id: 'RES-1' } });

    run.completeJob('hand-over-to-fulfilment');
    expect(run.waitingAt()).toEqual(['Gateway_WaitForDelivery']);
    expect(run.orderStatus()).toBe('released');
    expect(messageSubscriptions(run.state!).sort()).toEqual(['order-cancelled', 'order-delivered']);
    expect(run.timers.size).toBe(0);

    run.message('order-delivered', { deliveredAt: '2026-11-23T14:05:00Z' });
    expect(run.outcome).toBe('completed');
    expect(run.endEvent()).toBe('EndEvent_Completed');
    expect(run.orderStatus()).toBe('completed');
    expect(run.tickets.size).toBe(0);
  });

  it('skips the invoice check when no invoice is requested, even with broken invoice data', () => {
    const run = Lifecycle.start(orderWith((o) => {
      o.invoice = { requested: false, companyName: null, taxId: 'PL123', address: null };
    }));
    expect(run.openTickets()).toEqual([]);
    expect(run.history.some((h) => h.elementId === 'Task_ValidateInvoice')).toBe(false);
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });

  it('passes cash on delivery with a courier (pending until the courier collects) without waiting for payment', () => {
    const run = Lifecycle.start(orderWith((o) => {
      o.payment = { method: 'cod', status: 'pending', amount: '114.90', currency: 'PLN', reference: null };
    }));
    expect(run.openTickets()).toEqual([]);
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });
});

// ───────────────────────────────────────────────────────────── one ticket per code

interface CodeCase {
  code: string;
  elementId: string;
  broken: (o: Order) => void;
  /** Text that must appear in the rendered steps: data from this order. */
  shows: string[];
}

const ADDRESS = 'Task_ValidateAddress';
const PAYMENT = 'Task_ValidatePayment';
const INVOICE = 'Task_ValidateInvoice';

const CASES: CodeCase[] = [
  { code: 'DELIVERY_METHOD_INVALID', elementId: ADDRESS, broken: (o) => { o.delivery!.method = 'drone' as never; }, shows: ['"drone"', 'WS-10001', 'Anna Nowak'] },
  { code: 'ADDRESS_MISSING', elementId: ADDRESS, broken: (o) => { o.shippingAddress = null as never; }, shows: ['WS-10001', 'anna@example.com', '+48 601 234 567'] },
  { code: 'STREET_MISSING', elementId: ADDRESS, broken: (o) => { o.shippingAddress!.street = ''; }, shows: ['00-838 Warszawa', 'Anna Nowak', '+48 601 234 567'] },
  { code: 'CITY_MISSING', elementId: ADDRESS, broken: (o) => { o.shippingAddress!.city = null as never; }, shows: ['"ul. Prosta 51, 00-838"', 'Anna Nowak'] },
  { code: 'POSTAL_CODE_INVALID', elementId: ADDRESS, broken: (o) => { o.shippingAddress!.postalCode = '00838'; }, shows: ['"00838"', 'PL', '"00-838"'] },
  { code: 'COUNTRY_UNSUPPORTED', elementId: ADDRESS, broken: (o) => { o.shippingAddress!.country = 'UK'; }, shows: ['"UK"', 'anna@example.com', '"GB"'] },
  { code: 'PHONE_MISSING', elementId: ADDRESS, broken: (o) => { o.customer!.phone = null as never; }, shows: ['Anna Nowak', 'anna@example.com', '+48 601 234 567'] },
  { code: 'PHONE_INVALID', elementId: ADDRESS, broken: (o) => { o.customer!.phone = '+49 30 1234567'; }, shows: ['"+49 30 1234567"', 'PL', 'anna@example.com'] },
  { code: 'LOCKER_MISSING', elementId: ADDRESS, broken: (o) => { o.delivery = { method: 'parcel_locker', lockerId: null, storeId: null }; }, shows: ['Anna Nowak', 'anna@example.com', '"WAW01M"'] },
  { code: 'STORE_MISSING', elementId: ADDRESS, broken: (o) => { o.delivery = { method: 'pickup_in_store', lockerId: null, storeId: null }; }, shows: ['WS-10001', '+48 601 234 567'] },
  { code: 'EMAIL_INVALID', elementId: ADDRESS, broken: (o) => { o.customer!.email = 'anna@example,com'; }, shows: ['"anna@example,com"', '+48 601 234 567'] },

  { code: 'PAYMENT_INVALID', elementId: PAYMENT, broken: (o) => { o.payment!.method = 'cash' as never; }, shows: ['method "cash"', '"ch_123"', 'anna@example.com'] },
  { code: 'PAYMENT_FAILED', elementId: PAYMENT, broken: (o) => { o.payment!.status = 'failed'; }, shows: ['card payment of 114.90 PLN', '"ch_123"', 'anna@example.com'] },
  { code: 'PAYMENT_REFUNDED', elementId: PAYMENT, broken: (o) => { o.payment!.status = 'refunded'; }, shows: ['"ch_123"', 'WS-10001', 'webshop admin'] },
  { code: 'AMOUNT_INVALID', elementId: PAYMENT, broken: (o) => { o.lines![0]!.unitPrice = '49,95'; }, shows: ['WS-10001', 'webshop admin'] },
  { code: 'AMOUNT_MISMATCH', elementId: PAYMENT, broken: (o) => { o.payment!.amount = '100.00'; }, shows: ['100.00 PLN', '114.90 PLN', 'anna@example.com'] },
  { code: 'CURRENCY_MISMATCH', elementId: PAYMENT, broken: (o) => { o.payment!.currency = 'EUR'; }, shows: ['"EUR"', '"PLN"', 'anna@example.com'] },
  { code: 'TOTALS_INCONSISTENT', elementId: PAYMENT, broken: (o) => { o.totals!.subtotal = '90.00'; }, shows: ['subtotal 90.00', '114.90 PLN', 'WS-10001'] },
  { code: 'LINES_MISSING', elementId: PAYMENT, broken: (o) => { o.lines = []; }, shows: ['WS-10001', 'Anna Nowak'] },
  { code: 'COD_NOT_ALLOWED', elementId: PAYMENT, broken: (o) => {
    o.delivery = { method: 'parcel_locker', lockerId: 'WAW01M', storeId: null };
    o.payment = { ...o.payment!, method: 'cod', status: 'pending', reference: null };
  }, shows: ['parcel_locker for 114.90 PLN', '+48 601 234 567', 'anna@example.com'] },

  { code: 'INVOICE_COMPANY_MISSING', elementId: INVOICE, broken: (o) => { o.invoice!.companyName = null as never; }, shows: ['"PL5260250274"', 'anna@example.com'] },
  { code: 'TAX_ID_MISSING', elementId: INVOICE, broken: (o) => { o.invoice!.taxId = null as never; }, shows: ['"Nowak Sp. z o.o."', 'anna@example.com'] },
  { code: 'TAX_ID_INVALID', elementId: INVOICE, broken: (o) => { o.invoice!.taxId = 'PL5260250275'; }, shows: ['"PL5260250275"', '"Nowak Sp. z o.o."', 'country PL'] },
  { code: 'INVOICE_ADDRESS_INCOMPLETE', elementId: INVOICE, broken: (o) => { o.invoice!.address!.street = ''; }, shows: ['"Nowak Sp. z o.o."', '"PL5260250274"'] },
];

describe('every code a check can raise becomes a ticket with filled-in instructions', () => {
  it('the cases cover every code of the three checks except PAYMENT_PENDING (a wait, tested below)', () => {
    const codes = FEEL_FUNCTIONS.filter((f) => ['validate address', 'validate payment', 'validate invoice'].includes(f.name)).flatMap((f) => f.raises);
    expect(CASES.map((c) => c.code).sort()).toEqual(codes.filter((c) => c !== 'PAYMENT_PENDING').sort());
  });

  it.each(CASES)('$code → a ticket at $elementId; a fixed order moves on', ({ code, elementId, broken, shows }) => {
    const order = orderWith(broken);
    const run = Lifecycle.start(order);
    expect(run.waitingAt()).toEqual([elementId]);
    expect(run.orderStatus()).toBe('on_hold');
    const ticket = run.openTicketAt(elementId);
    expect(ticket.kind).toBe('validation');
    expect(ticket.issues.map((i) => i.code)).toContain(code);
    const issue = ticket.issues.find((i) => i.code === code)!;
    expect(issue.field).toBeTruthy();
    expect(issue.message).toBeTruthy();
    expect(ticket.ticket!.queue).toBe({ [ADDRESS]: 'address', [PAYMENT]: 'payment', [INVOICE]: 'invoice' }[elementId]);

    // The code's own steps, rendered over this order.
    const own = renderInstructions(ticket.ticket!.instructions.filter((i) => i.code === code), [issue], { order });
    expect(own.length).toBeGreaterThanOrEqual(3);
    expect(own.length).toBeLessThanOrEqual(5);
    expect(renderingFaults(own)).toEqual([]);
    const text = own.join('\n');
    for (const s of shows) expect(text).toContain(s);
    // What the console shows: the steps of every issue on the ticket, this code's among them.
    const shown = run.instructions(ticket);
    expect(shown).toEqual(expect.arrayContaining(own));
    expect(renderingFaults(shown)).toEqual([]);

    // The operator fixes the order and retries: the ticket resolves and the order moves on.
    run.retry(ticket, { order: validOrder() });
    expect(run.tickets.get(ticket.waitId)!.status).toBe('resolved');
    expect(run.openTickets()).toEqual([]);
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
    expect(run.order).toEqual(validOrder());
  });

  it('a wrong fix keeps the ticket open with the remaining issues', () => {
    const run = Lifecycle.start(orderWith((o) => {
      o.customer!.phone = null as never;
      o.shippingAddress!.postalCode = '00838';
    }));
    const ticket = run.openTicketAt(ADDRESS);
    expect(ticket.issues.map((i) => i.code).sort()).toEqual(['PHONE_MISSING', 'POSTAL_CODE_INVALID']);
    expect(run.instructions(ticket).join('\n')).toContain('"00838"');
    // The postal code's steps say whom to call without a phone the order does not have.
    expect(renderingFaults(run.instructions(ticket))).toEqual([]);
    expect(run.instructions(ticket).join('\n')).not.toMatch(/ at (and|or|\.)/);

    run.retry(ticket, { order: orderWith((o) => { o.shippingAddress!.postalCode = '00838'; }) });
    expect(run.effects.map((e) => e.type)).toEqual(['updateTicket']);
    expect(run.tickets.get(ticket.waitId)).toMatchObject({ status: 'open', issues: [expect.objectContaining({ code: 'POSTAL_CODE_INVALID' })] });
    expect(run.orderStatus()).toBe('on_hold');
    expect(run.waitingAt()).toEqual([ADDRESS]);

    run.retry(ticket, { order: validOrder() });
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });

  it('a problem found later in the lifecycle opens its own ticket after the earlier one is fixed', () => {
    const run = Lifecycle.start(orderWith((o) => {
      o.customer!.phone = null as never;
      o.invoice!.taxId = 'PL5260250275';
    }));
    const address = run.openTicketAt(ADDRESS);
    run.retry(address, { order: orderWith((o) => { o.invoice!.taxId = 'PL5260250275'; }) });
    const invoice = run.openTicketAt(INVOICE);
    expect(invoice.issues.map((i) => i.code)).toEqual(['TAX_ID_INVALID']);
    expect(run.instructions(invoice)[0]).toContain('"PL5260250275" of "Nowak Sp. z o.o."');
  });

  it('PAYMENT_PENDING has instructions too (used if an analyst lets the check raise it)', () => {
    const run = Lifecycle.start(PENDING_TRANSFER());
    const source = (model.elements[PAYMENT] as { ticket: TicketDefinition }).ticket.instructions;
    const steps = renderInstructions(source, [{ code: 'PAYMENT_PENDING' }], { order: run.order });
    expect(steps).toHaveLength(4);
    expect(steps[0]).toContain('bank_transfer payment of 114.90 PLN');
    expect(steps[1]).toContain('"WS-10001" or "Anna Nowak"');
  });

  it('an API cancel while a ticket is open cancels the ticket and ends the lifecycle', () => {
    const run = Lifecycle.start(orderWith((o) => { o.customer!.phone = null as never; }));
    const ticket = run.openTicketAt(ADDRESS);
    run.send({ type: 'cancel', reason: 'customer withdrew' });
    expect(run.tickets.get(ticket.waitId)!.status).toBe('cancelled');
    expect(run.outcome).toBe('cancelled');
    expect(run.orderStatus()).toBe('cancelled');
  });
});

// ───────────────────────────────────────────────────────────── waiting for payment

describe('a pending prepayment waits for payment-confirmed', () => {
  it('waits with status awaiting_payment and a timer of settings.paymentTimeout, no ticket', () => {
    const run = Lifecycle.start(PENDING_TRANSFER());
    expect(run.openTickets()).toEqual([]);
    expect(run.waitingAt()).toEqual(['Gateway_WaitForPayment']);
    expect(run.orderStatus()).toBe('awaiting_payment');
    expect(messageSubscriptions(run.state!).sort()).toEqual(['order-cancelled', 'payment-confirmed']);
    expect(run.timerAt('Event_PaymentPeriodOver').dueAt).toBe('2026-11-24T10:00:00.000Z');
    expect(run.variables['paymentIssues']).toEqual([]);
  });

  it('the payment period comes from the settings', () => {
    const run = Lifecycle.start(PENDING_TRANSFER(), { ...SETTINGS, paymentTimeout: 'PT12H' });
    expect(run.timerAt('Event_PaymentPeriodOver').dueAt).toBe('2026-11-21T22:00:00.000Z');
  });

  it('moves on after payment-confirmed carrying the payment: recorded on the order, validated again', () => {
    const run = Lifecycle.start(PENDING_TRANSFER());
    run.message('payment-confirmed', { payment: { reference: 'PT-2026-11-21-000123', amount: '114.90' } });
    expect(run.timers.size).toBe(0);
    expect(run.order.payment).toEqual({ method: 'bank_transfer', status: 'paid', amount: '114.90', currency: 'PLN', reference: 'PT-2026-11-21-000123' });
    expect(run.openTickets()).toEqual([]);
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
    expect(run.history.filter((h) => h.elementId === PAYMENT && h.event === 'entered')).toHaveLength(2);
  });

  it('moves on after a bare payment-confirmed (no variables): BLIK confirmed', () => {
    const run = Lifecycle.start(orderWith((o) => { o.payment = { ...o.payment!, method: 'blik', status: 'pending' }; }));
    expect(run.orderStatus()).toBe('awaiting_payment');
    run.message('payment-confirmed');
    expect(run.order.payment!.status).toBe('paid');
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });

  it('an underpayment reported by the message becomes an AMOUNT_MISMATCH ticket', () => {
    const run = Lifecycle.start(PENDING_TRANSFER());
    run.message('payment-confirmed', { payment: { status: 'paid', amount: '100.00', reference: 'PT-1' } });
    const ticket = run.openTicketAt(PAYMENT);
    expect(ticket.issues.map((i) => i.code)).toEqual(['AMOUNT_MISMATCH']);
    expect(run.instructions(ticket)[0]).toBe('The payment is 100.00 PLN, but the order totals 114.90 PLN.');
    expect(run.orderStatus()).toBe('on_hold');
  });

  it('order-cancelled while waiting ends the order cancelled', () => {
    const run = Lifecycle.start(PENDING_TRANSFER());
    const { timerId } = run.timerAt('Event_PaymentPeriodOver');
    run.message('order-cancelled', { reason: 'customer withdrew' });
    expect(run.effects).toContainEqual({ type: 'cancelTimer', timerId });
    expect(run.outcome).toBe('completed');
    expect(run.endEvent()).toBe('EndEvent_CancelledUnpaid');
    expect(run.orderStatus()).toBe('cancelled');
  });
});

describe('no payment within the payment period', () => {
  function overdue(): { run: Lifecycle; ticket: TicketRecord } {
    const run = Lifecycle.start(PENDING_TRANSFER());
    run.fireTimer('Event_PaymentPeriodOver');
    return { run, ticket: run.openTicketAt('Task_PaymentOverdue') };
  }

  it('raises a "Payment overdue" ticket in the payment queue with a decision form', () => {
    const { run, ticket } = overdue();
    expect(messageSubscriptions(run.state!)).toEqual([]);
    expect(ticket.kind).toBe('manual');
    expect(ticket.ticket).toMatchObject({ title: 'Payment overdue', queue: 'payment', due: 'P1D' });
    expect(ticket.ticket!.fields.map((f) => [f.name, f.type, f.required])).toEqual([
      ['cancelOrder', 'boolean', false],
      ['note', 'text', true],
    ]);
    const steps = run.instructions(ticket);
    expect(steps).toHaveLength(5);
    expect(steps[0]).toBe('No payment for order WS-10001 (114.90 PLN by bank_transfer) arrived within the payment period.');
    expect(steps.join('\n')).toContain('Anna Nowak at +48 601 234 567 or write to anna@example.com');
    expect(renderingFaults(steps)).toEqual([]);
    expect(run.orderStatus()).toBe('on_hold');
  });

  it('"check again" with the payment still pending waits another payment period', () => {
    const { run, ticket } = overdue();
    run.complete(ticket, { cancelOrder: false, note: 'Customer pays tomorrow' });
    expect(run.waitingAt()).toEqual(['Gateway_WaitForPayment']);
    expect(run.orderStatus()).toBe('awaiting_payment');
    expect(run.timerAt('Event_PaymentPeriodOver').dueAt).toBe('2026-11-27T10:00:00.000Z');
  });

  it('"check again" after the operator found the transfer and corrected the order moves on', () => {
    const { run, ticket } = overdue();
    const paid = orderWith((o) => { o.payment = { method: 'bank_transfer', status: 'paid', amount: '114.90', currency: 'PLN', reference: 'PT-9' }; });
    run.complete(ticket, { order: paid, note: 'Transfer found on the statement' });
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });

  it('"cancel the order" ends it cancelled', () => {
    const { run, ticket } = overdue();
    run.complete(ticket, { cancelOrder: true, note: 'Customer withdrew by phone' });
    expect(run.outcome).toBe('completed');
    expect(run.endEvent()).toBe('EndEvent_CancelledOverdue');
    expect(run.orderStatus()).toBe('cancelled');
  });
});

// ───────────────────────────────────────────────────────────── approval

describe('large orders need approval', () => {
  it('an order at the threshold gets an approval ticket; approving moves on', () => {
    const run = Lifecycle.start(LARGE_ORDER('10000.00'));
    const ticket = run.openTicketAt('Task_ApproveOrder');
    expect(ticket.kind).toBe('manual');
    expect(ticket.ticket).toMatchObject({ queue: 'approval', title: 'Large order to approve' });
    expect(ticket.ticket!.fields.map((f) => [f.name, f.type])).toEqual([
      ['approved', 'boolean'],
      ['note', 'text'],
    ]);
    const steps = run.instructions(ticket);
    expect(steps[0]).toBe('Order WS-10001 from Anna Nowak totals 10000.00 PLN, at or above the approval threshold: check it before stock is reserved.');
    expect(renderingFaults(steps)).toEqual([]);
    expect(run.orderStatus()).toBe('on_hold');

    run.complete(ticket, { approved: true, note: 'Known B2B customer' });
    expect(run.waitingAt()).toEqual(['Task_ReserveStock']);
  });

  it('the approval steps read whole for an order collected in store (no delivery address) and say how the form answers', () => {
    const order = LARGE_ORDER('12000.00');
    order.delivery = { method: 'pickup_in_store', lockerId: null, storeId: 'WAW-01' };
    order.shippingAddress = null;
    const run = Lifecycle.start(order);
    const steps = run.instructions(run.openTicketAt('Task_ApproveOrder'));
    expect(renderingFaults(steps)).toEqual([]);
    expect(steps.join('\n')).not.toContain('delivery address (');
    expect(steps.join('\n')).toContain('answer yes to "Approve the order"');
  });

  it('rejecting ends the order cancelled', () => {
    const run = Lifecycle.start(LARGE_ORDER('25000.00'));
    run.complete(run.openTicketAt('Task_ApproveOrder'), { approved: false, note: 'Fraud suspicion' });
    expect(run.outcome).toBe('completed');
    expect(run.endEvent()).toBe('EndEvent_Rejected');
    expect(run.orderStatus()).toBe('cancelled');
    expect(run.jobs.size).toBe(0);
  });

  it('an order below the threshold needs no approval; the threshold comes from the settings', () => {
    expect(Lifecycle.start(LARGE_ORDER('9999.99')).waitingAt()).toEqual(['Task_ReserveStock']);
    const lowered = Lifecycle.start(validOrder(), { ...SETTINGS, approvalThreshold: '100.00' });
    expect(lowered.waitingAt()).toEqual(['Task_ApproveOrder']);
  });
});

// ───────────────────────────────────────────────────────────── fulfilment

describe('fulfilment jobs that run out of retries become technical tickets', () => {
  it('reserve-stock fails → a fulfilment ticket with the error and the items; Retry runs the job again', () => {
    const run = Lifecycle.start(validOrder());
    run.failJob('reserve-stock', 'WMS timeout after 30 s');
    const ticket = run.openTicketAt('Task_ReserveStock');
    expect(ticket.kind).toBe('technical');
    expect(ticket.ticket).toMatchObject({ queue: 'fulfilment', priority: 'urgent', title: 'Stock reservation failed' });
    const steps = run.instructions(ticket);
    expect(steps).toHaveLength(5);
    expect(steps[0]).toBe('Ordo could not reserve stock for order WS-10001, even after 5 attempts. The error: WMS timeout after 30 s');
    expect(steps[1]).toBe('Check in the warehouse system that these items are in stock: TEA-001 x 2.');
    expect(renderingFaults(steps)).toEqual([]);
    expect(run.orderStatus()).toBe('on_hold');

    run.retry(ticket);
    expect(run.tickets.get(ticket.waitId)!.status).toBe('resolved');
    expect(run.queuedJob('reserve-stock').jobId).not.toBe(ticket.waitId);
    run.completeJob('reserve-stock');
    expect(run.waitingAt()).toEqual(['Task_HandOver']);
  });

  it('hand-over-to-fulfilment fails → a fulfilment ticket; Retry then completion releases the order', () => {
    const run = Lifecycle.start(validOrder());
    run.completeJob('reserve-stock');
    run.failJob('hand-over-to-fulfilment', 'HTTP 503 from fulfilment API');
    const ticket = run.openTicketAt('Task_HandOver');
    expect(ticket.ticket).toMatchObject({ queue: 'fulfilment', title: 'Hand-over to fulfilment failed' });
    const steps = run.instructions(ticket);
    expect(steps[0]).toContain('The error: HTTP 503 from fulfilment API');
    expect(steps[1]).toContain('Search the fulfilment system for WS-10001');
    run.retry(ticket);
    run.completeJob('hand-over-to-fulfilment');
    expect(run.orderStatus()).toBe('released');
  });

  it('order-cancelled after release raises "stop the shipment" and ends cancelled', () => {
    const run = Lifecycle.start(validOrder());
    run.completeJob('reserve-stock').completeJob('hand-over-to-fulfilment');
    run.message('order-cancelled', { reason: 'customer withdrew' });
    const ticket = run.openTicketAt('Task_StopShipment');
    expect(ticket.ticket).toMatchObject({ queue: 'fulfilment', priority: 'urgent' });
    expect(run.orderStatus()).toBe('cancelled');
    const steps = run.instructions(ticket);
    expect(steps.join('\n')).toContain('refund payment "ch_123" (114.90 PLN)');
    run.complete(ticket, { shipmentStopped: true, note: 'Pulled from packing' });
    expect(run.endEvent()).toBe('EndEvent_CancelledAfterRelease');
    expect(run.orderStatus()).toBe('cancelled');
  });

  it('an API cancel while a job runs withdraws the job', () => {
    const run = Lifecycle.start(validOrder());
    const job = run.queuedJob('reserve-stock');
    run.send({ type: 'cancel', reason: 'duplicate order' });
    expect(run.jobs.get(job.jobId)!.status).toBe('cancelled');
    expect(run.orderStatus()).toBe('cancelled');
  });
});

/**
 * The baseline the engine benchmark compares with: the same diagram on bpmn-engine 25, in
 * memory, in its fastest setup (BASELINES.md, variant `fast`): the XML parsed once and its serialized
 * context shared by every engine, and FEEL-free JavaScript scripts compiled once as plain functions
 * (no `vm` per call). Nothing is persisted; an instance counts as done when it parks where Ordo's would
 * settle: at a ticket (a user task here) or at "Wait for delivery".
 *
 * The diagram follows processes/order-lifecycle.bpmn element for element on every path the benchmark
 * orders take (validations with their tickets, payment pending?, invoice requested?, large order?, the
 * two fulfilment steps, the event-based wait); scripts and conditions call the same order checks.
 * `checks` is scripts/bench/checks-lifecycle.bpmn the same way: its three checks, each followed by the
 * gateway and user task that stand for Ordo's "issues open a ticket and the token waits here", then the
 * delivery gateway to its two ends, where an instance counts as done.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine } from 'bpmn-engine';
import type { Order } from '../../src/orders/schema.ts';
import { createFeelLibrary } from '../../src/orders/feel-library.ts';
import { toMinorUnits } from '../../src/orders/money.ts';
import { makeOrders } from './orders.ts';

const LIFECYCLE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="lifecycle-js" targetNamespace="urn:ordo:bench">
  <process id="order-lifecycle-js" isExecutable="true">
    <startEvent id="start" />
    <sequenceFlow id="f1" sourceRef="start" targetRef="Task_ValidateAddress" />
    <scriptTask id="Task_ValidateAddress" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f2" sourceRef="Task_ValidateAddress" targetRef="Gateway_AddressOk" />
    <exclusiveGateway id="Gateway_AddressOk" default="f3" />
    <sequenceFlow id="f3" sourceRef="Gateway_AddressOk" targetRef="Task_ValidatePayment" />
    <sequenceFlow id="addressBad" sourceRef="Gateway_AddressOk" targetRef="Ticket_Address"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Address" />
    <scriptTask id="Task_ValidatePayment" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f4" sourceRef="Task_ValidatePayment" targetRef="Gateway_PaymentOk" />
    <exclusiveGateway id="Gateway_PaymentOk" default="f5" />
    <sequenceFlow id="f5" sourceRef="Gateway_PaymentOk" targetRef="Gateway_PaymentPending" />
    <sequenceFlow id="paymentBad" sourceRef="Gateway_PaymentOk" targetRef="Ticket_Payment"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Payment" />
    <exclusiveGateway id="Gateway_PaymentPending" default="f6" />
    <sequenceFlow id="pending" sourceRef="Gateway_PaymentPending" targetRef="Gateway_WaitForPayment"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <eventBasedGateway id="Gateway_WaitForPayment" />
    <sequenceFlow id="f7" sourceRef="Gateway_WaitForPayment" targetRef="Event_PaymentConfirmed" />
    <intermediateCatchEvent id="Event_PaymentConfirmed"><messageEventDefinition /></intermediateCatchEvent>
    <sequenceFlow id="f8" sourceRef="Event_PaymentConfirmed" targetRef="EndEvent_Paid" />
    <endEvent id="EndEvent_Paid" />
    <sequenceFlow id="f9" sourceRef="Gateway_WaitForPayment" targetRef="Event_PaymentPeriodOver" />
    <intermediateCatchEvent id="Event_PaymentPeriodOver"><timerEventDefinition><timeDuration xsi:type="tFormalExpression">P3D</timeDuration></timerEventDefinition></intermediateCatchEvent>
    <sequenceFlow id="f10" sourceRef="Event_PaymentPeriodOver" targetRef="EndEvent_Overdue" />
    <endEvent id="EndEvent_Overdue" />
    <sequenceFlow id="f6" sourceRef="Gateway_PaymentPending" targetRef="Gateway_InvoiceRequested" />
    <exclusiveGateway id="Gateway_InvoiceRequested" default="f11" />
    <sequenceFlow id="invoiceRequested" sourceRef="Gateway_InvoiceRequested" targetRef="Task_ValidateInvoice"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <scriptTask id="Task_ValidateInvoice" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f12" sourceRef="Task_ValidateInvoice" targetRef="Gateway_InvoiceOk" />
    <exclusiveGateway id="Gateway_InvoiceOk" default="f13" />
    <sequenceFlow id="invoiceBad" sourceRef="Gateway_InvoiceOk" targetRef="Ticket_Invoice"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Invoice" />
    <sequenceFlow id="f13" sourceRef="Gateway_InvoiceOk" targetRef="Gateway_InvoiceDone" />
    <sequenceFlow id="f11" sourceRef="Gateway_InvoiceRequested" targetRef="Gateway_InvoiceDone" />
    <exclusiveGateway id="Gateway_InvoiceDone" />
    <sequenceFlow id="f14" sourceRef="Gateway_InvoiceDone" targetRef="Gateway_ApprovalNeeded" />
    <exclusiveGateway id="Gateway_ApprovalNeeded" default="f15" />
    <sequenceFlow id="large" sourceRef="Gateway_ApprovalNeeded" targetRef="Task_ApproveOrder"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Task_ApproveOrder" />
    <sequenceFlow id="f15" sourceRef="Gateway_ApprovalNeeded" targetRef="Task_ReserveStock" />
    <scriptTask id="Task_ReserveStock" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f16" sourceRef="Task_ReserveStock" targetRef="Task_HandOver" />
    <scriptTask id="Task_HandOver" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f17" sourceRef="Task_HandOver" targetRef="Gateway_WaitForDelivery" />
    <eventBasedGateway id="Gateway_WaitForDelivery" />
    <sequenceFlow id="f18" sourceRef="Gateway_WaitForDelivery" targetRef="Event_Delivered" />
    <intermediateCatchEvent id="Event_Delivered"><messageEventDefinition /></intermediateCatchEvent>
    <sequenceFlow id="f19" sourceRef="Event_Delivered" targetRef="EndEvent_Completed" />
    <endEvent id="EndEvent_Completed" />
    <sequenceFlow id="f20" sourceRef="Gateway_WaitForDelivery" targetRef="Event_Cancelled" />
    <intermediateCatchEvent id="Event_Cancelled"><messageEventDefinition /></intermediateCatchEvent>
    <sequenceFlow id="f21" sourceRef="Event_Cancelled" targetRef="EndEvent_Cancelled" />
    <endEvent id="EndEvent_Cancelled" />
  </process>
</definitions>`;

const CHECKS_XML = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="checks-js" targetNamespace="urn:ordo:bench">
  <process id="order-checks-js" isExecutable="true">
    <startEvent id="start" />
    <sequenceFlow id="f1" sourceRef="start" targetRef="Task_ValidateAddress" />
    <scriptTask id="Task_ValidateAddress" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f2" sourceRef="Task_ValidateAddress" targetRef="Gateway_AddressOk" />
    <exclusiveGateway id="Gateway_AddressOk" default="f3" />
    <sequenceFlow id="addressBad" sourceRef="Gateway_AddressOk" targetRef="Ticket_Address"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Address" />
    <sequenceFlow id="f3" sourceRef="Gateway_AddressOk" targetRef="Task_ValidatePayment" />
    <scriptTask id="Task_ValidatePayment" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f4" sourceRef="Task_ValidatePayment" targetRef="Gateway_PaymentOk" />
    <exclusiveGateway id="Gateway_PaymentOk" default="f5" />
    <sequenceFlow id="paymentBad" sourceRef="Gateway_PaymentOk" targetRef="Ticket_Payment"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Payment" />
    <sequenceFlow id="f5" sourceRef="Gateway_PaymentOk" targetRef="Task_ValidateInvoiceIfRequested" />
    <scriptTask id="Task_ValidateInvoiceIfRequested" scriptFormat="javascript"><script>next()</script></scriptTask>
    <sequenceFlow id="f6" sourceRef="Task_ValidateInvoiceIfRequested" targetRef="Gateway_InvoiceOk" />
    <exclusiveGateway id="Gateway_InvoiceOk" default="f7" />
    <sequenceFlow id="invoiceBad" sourceRef="Gateway_InvoiceOk" targetRef="Ticket_Invoice"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <userTask id="Ticket_Invoice" />
    <sequenceFlow id="f7" sourceRef="Gateway_InvoiceOk" targetRef="Gateway_Delivery" />
    <exclusiveGateway id="Gateway_Delivery" default="f8" />
    <sequenceFlow id="pickup" sourceRef="Gateway_Delivery" targetRef="EndEvent_ReadyForPickup"><conditionExpression xsi:type="tFormalExpression" language="javascript">next()</conditionExpression></sequenceFlow>
    <endEvent id="EndEvent_ReadyForPickup" />
    <sequenceFlow id="f8" sourceRef="Gateway_Delivery" targetRef="EndEvent_Released" />
    <endEvent id="EndEvent_Released" />
  </process>
</definitions>`;

export type BaselineDiagram = 'lifecycle' | 'checks';
const DIAGRAMS: Record<BaselineDiagram, { xml: string; endsDone: boolean }> = {
  // Lifecycle instances count as done where Ordo's orders settle, before any end; the checks' at their ends.
  lifecycle: { xml: LIFECYCLE_XML, endsDone: false },
  checks: { xml: CHECKS_XML, endsDone: true },
};

interface ScriptEnvironment {
  variables: { order: Order; settings: { approvalThreshold: string } };
  output: Record<string, unknown>;
}
type ScriptFn = (env: ScriptEnvironment) => unknown;
interface ExecutionScope {
  environment: ScriptEnvironment;
}

const lib = createFeelLibrary({ codLimit: '5000.00' });
const issues = (env: ScriptEnvironment, name: string) => (env.output[name] as unknown[] | undefined)?.length ?? 0;

/** The FEEL of order-lifecycle.bpmn as plain JavaScript, keyed by element id. */
const SCRIPTS: Record<string, ScriptFn> = {
  Task_ValidateAddress: (env) => (env.output.addressIssues = lib['validate address']!(env.variables.order)),
  Task_ValidatePayment: (env) =>
    (env.output.paymentIssues = (lib['validate payment']!(env.variables.order) as Array<{ code: string }>).filter((i) => i.code !== 'PAYMENT_PENDING')),
  Task_ValidateInvoice: (env) => (env.output.invoiceIssues = lib['validate invoice']!(env.variables.order)),
  Task_ValidateInvoiceIfRequested: (env) => (env.output.invoiceIssues = env.variables.order.invoice?.requested === true ? lib['validate invoice']!(env.variables.order) : []),
  pickup: (env) => env.variables.order.delivery?.method === 'pickup_in_store',
  Task_ReserveStock: (env) =>
    (env.output.stockReservation = { reservationId: `RES-${env.variables.order.externalId}`, lines: env.variables.order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) }),
  Task_HandOver: (env) =>
    (env.output.fulfilment = { handoverId: `FUL-${env.variables.order.externalId}`, externalId: env.variables.order.externalId, method: env.variables.order.delivery?.method ?? null }),
  addressBad: (env) => issues(env, 'addressIssues') > 0,
  paymentBad: (env) => issues(env, 'paymentIssues') > 0,
  pending: (env) => env.variables.order.payment?.status === 'pending' && env.variables.order.payment?.method !== 'cod',
  invoiceRequested: (env) => env.variables.order.invoice?.requested === true,
  invoiceBad: (env) => issues(env, 'invoiceIssues') > 0,
  large: (env) => toMinorUnits(env.variables.order.totals.grandTotal) >= toMinorUnits(env.variables.settings.approvalThreshold),
};

/** bpmn-engine's script port, answered with the functions above instead of `vm` scripts. */
class CompiledScripts {
  private readonly scripts = new Map<string, { id: string; execute(scope: ExecutionScope, next: (err: unknown, result?: unknown) => void): void }>();

  register({ id }: { id: string }) {
    const fn = SCRIPTS[id];
    if (!fn) return undefined;
    const script = {
      id,
      execute(scope: ExecutionScope, next: (err: unknown, result?: unknown) => void) {
        let result: unknown;
        try {
          result = fn(scope.environment);
        } catch (err) {
          next(err);
          return;
        }
        next(null, result);
      },
    };
    this.scripts.set(id, script);
    return script;
  }

  getScript(_language: string, { id }: { id: string }) {
    return this.scripts.get(id);
  }
}

export interface BpmnEngineResult {
  instances: number;
  seconds: number;
  perSecond: number;
  /** Where the instances parked, by element id (`end:<id>` for those that ended there). */
  parkedAt: Record<string, number>;
}

/** Run the orders one after another (bpmn-engine's work is single-threaded CPU, see BASELINES.md). */
export async function runBpmnEngine(diagram: BaselineDiagram, orders: readonly Order[], settings: { approvalThreshold: string }): Promise<BpmnEngineResult> {
  type SourceContext = unknown;
  const { xml, endsDone } = DIAGRAMS[diagram];
  const serializer = new Engine({ source: xml }) as unknown as { _serializeSource(xml: string): Promise<SourceContext> };
  const sourceContext = await serializer._serializeSource(xml);
  const scripts = new CompiledScripts();
  const parkedAt: Record<string, number> = {};

  const runOne = (order: Order) =>
    new Promise<void>((resolve, reject) => {
      const listener = new EventEmitter();
      const engine = new Engine({ name: order.externalId, sourceContext, scripts } as unknown as ConstructorParameters<typeof Engine>[0]);
      listener.once('wait', (api: { id: string }) => {
        parkedAt[api.id] = (parkedAt[api.id] ?? 0) + 1;
        void Promise.resolve(engine.stop()).then(() => resolve(), reject);
      });
      let lastEnd = '';
      listener.on('activity.end', (api: { id: string; type: string }) => {
        if (api.type === 'bpmn:EndEvent') lastEnd = api.id;
      });
      engine.once('end', () => {
        if (!endsDone) reject(new Error(`bpmn-engine ended ${order.externalId} instead of parking it`));
        parkedAt[`end:${lastEnd}`] = (parkedAt[`end:${lastEnd}`] ?? 0) + 1;
        resolve();
      });
      engine.once('error', reject);
      void engine.execute({ listener, variables: { order, settings } } as unknown as Parameters<typeof engine.execute>[0]).catch(reject);
    });

  for (const order of orders.slice(0, Math.min(200, orders.length))) await runOne(order); // warm-up
  for (const k of Object.keys(parkedAt)) delete parkedAt[k];
  const t0 = performance.now();
  for (const order of orders) await runOne(order);
  const seconds = (performance.now() - t0) / 1000;
  return { instances: orders.length, seconds, perSecond: orders.length / seconds, parkedAt };
}

/**
 * The same pass in a process of its own, so bpmn-engine's memory (hundreds of MB of garbage at its peak,
 * BASELINES.md) does not stay in the resident set of the process whose memory the engine benchmark
 * measures next. The orders are made in the child from the same generator and seed.
 */
export function runBpmnEngineApart(diagram: BaselineDiagram, instances: number, defectRate: number, settings: { approvalThreshold: string }): Promise<BpmnEngineResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), diagram, String(instances), String(defectRate), settings.approvalThreshold], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`the bpmn-engine baseline exited ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(last) as BpmnEngineResult);
    });
  });
}

// `node --import tsx scripts/bench/bpmn-engine-baseline.ts <lifecycle|checks> <instances> <defectRate> <approvalThreshold>`:
// one pass, its result as JSON on the last line.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [diagram, instances, defectRate, approvalThreshold] = process.argv.slice(2);
  if (diagram !== 'lifecycle' && diagram !== 'checks') throw new Error(`unknown diagram ${diagram}`);
  const orders = makeOrders(Number(instances), { defectRate: Number(defectRate), prefix: 'BPMN' });
  const result = await runBpmnEngine(diagram, orders, { approvalThreshold: approvalThreshold! });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

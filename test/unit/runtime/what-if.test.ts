import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDefinitions, type CompiledProcess } from '../../../src/engine/index.ts';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { createFeelLibrary } from '../../../src/orders/feel-library.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { changesAt, compareSimulations, describeStop, simulate, type SimulatedOrder, type SimulationPorts } from '../../../src/runtime/what-if.ts';
import { validOrder } from '../../fixtures/orders.ts';

const LIFECYCLE = readFileSync(new URL('../../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');
const SETTINGS = { paymentTimeout: 'P3D', approvalThreshold: '10000.00', codLimit: '5000.00' };
const ports: SimulationPorts = { now: new Date('2026-11-21T10:00:00Z'), feelFunctions: createFeelLibrary({ codLimit: '5000.00' }) as unknown as SimulationPorts['feelFunctions'] };

async function compile(xml: string): Promise<CompiledProcess> {
  return compileDefinitions((await parseBpmn(xml)).definitions).find((m) => m.key === 'order-lifecycle')!;
}

function edit(xml: string, from: string, to: string): string {
  if (!xml.includes(from)) throw new Error(`not in the diagram: ${from}`);
  return xml.replace(from, to);
}

const noPhone = (externalId: string) => validOrder({ externalId, customer: { name: 'No Phone', email: 'np@example.com', phone: null } });
const cheap = (externalId: string) =>
  validOrder({
    externalId,
    lines: [{ sku: 'TEA-001', name: 'Green tea', quantity: 1, unitPrice: '49.95', taxRate: '0.23' }],
    totals: { subtotal: '49.95', shipping: '15.00', tax: '0.00', grandTotal: '64.95' },
    payment: { method: 'card', status: 'authorized', amount: '64.95', currency: 'PLN', reference: 'ch_1' },
  });

const run = (model: CompiledProcess, order: Order) => simulate(model, { order, orderId: `id-${order.externalId}`, settings: SETTINGS }, ports);

let current: CompiledProcess;
/** No phone check any more, and approval from 100.00 instead of the setting. */
let draft: CompiledProcess;

beforeAll(async () => {
  current = await compile(LIFECYCLE);
  let xml = edit(LIFECYCLE, '<bpmn:script>validate address(order)</bpmn:script>', '<bpmn:script>validate address(order)[item.code != "PHONE_MISSING"]</bpmn:script>');
  xml = edit(xml, 'money(order.totals.grandTotal) &gt;= money(settings.approvalThreshold)', 'money(order.totals.grandTotal) &gt;= money("100.00")');
  draft = await compile(xml);
});

describe('simulate (in memory, no side effects)', () => {
  it('given a valid order, then every check passes, jobs count as done, and the run stops where it would wait for a message', () => {
    const result = run(current, validOrder());
    expect(result.elements.Task_ValidateAddress).toEqual({ outcome: 'passed', codes: [], flows: ['Flow_AddressToPaymentMerge'] });
    expect(result.elements.Gateway_ApprovalNeeded).toEqual({ outcome: 'passed', codes: [], flows: ['Flow_NoApprovalNeeded'] });
    expect(result.elements.Task_ReserveStock?.outcome).toBe('passed');
    expect(result.elements.Task_HandOver?.outcome).toBe('passed');
    expect(result.elements.Task_ApproveOrder).toBeUndefined();
    expect(result.stop).toMatchObject({ kind: 'message', elementIds: ['Gateway_WaitForDelivery'], messages: ['order-delivered', 'order-cancelled'], status: 'active' });
    expect(describeStop(current, result.stop)).toBe('Waits for order-delivered, order-cancelled at “Wait for delivery”');
  });

  it('given an order without a phone, then the address check fails with its code and the run stops at the ticket', () => {
    const result = run(current, noPhone('NP-1'));
    expect(result.elements.Task_ValidateAddress).toEqual({ outcome: 'failed', codes: ['PHONE_MISSING'], flows: [] });
    expect(result.stop).toMatchObject({ kind: 'ticket', elementIds: ['Task_ValidateAddress'] });
    expect(result.elements.Task_ValidatePayment).toBeUndefined();
  });

  it('given a pending bank transfer, then the run stops at the payment wait (message or timer)', () => {
    const result = run(current, validOrder({ payment: { method: 'bank_transfer', status: 'pending', amount: '114.90', currency: 'PLN', reference: null } }));
    expect(result.stop).toMatchObject({ kind: 'message', elementIds: ['Gateway_WaitForPayment'], messages: ['payment-confirmed', 'order-cancelled'], detail: 'or a timer' });
    expect(result.elements.Gateway_PaymentPending?.flows).toEqual(['Flow_PaymentPending']);
  });

  it('given a large order, then the run stops at the approval: a person decides, the simulation does not', () => {
    const result = run(draft, validOrder());
    expect(result.elements.Gateway_ApprovalNeeded?.flows).toEqual(['Flow_ApprovalNeeded']);
    expect(result.elements.Task_ApproveOrder?.outcome).toBe('waits');
    expect(result.stop).toMatchObject({ kind: 'userTask', elementIds: ['Task_ApproveOrder'] });
    expect(result.elements.Task_ReserveStock).toBeUndefined();
  });

  it('given a draft whose gateway has no branch for the order, then the run stops as a technical error there', async () => {
    let xml = edit(LIFECYCLE, 'name="Large order?" default="Flow_NoApprovalNeeded"', 'name="Large order?"');
    xml = edit(
      xml,
      '<bpmn:sequenceFlow id="Flow_NoApprovalNeeded" name="no" sourceRef="Gateway_ApprovalNeeded" targetRef="Gateway_ApprovalMerge" />',
      '<bpmn:sequenceFlow id="Flow_NoApprovalNeeded" name="no" sourceRef="Gateway_ApprovalNeeded" targetRef="Gateway_ApprovalMerge"><bpmn:conditionExpression>false</bpmn:conditionExpression></bpmn:sequenceFlow>',
    );
    const broken = await compile(xml);
    const result = run(broken, cheap('C-1'));
    expect(result.elements.Gateway_ApprovalNeeded).toMatchObject({ outcome: 'error', codes: ['NO_OUTGOING_FLOW'] });
    expect(result.stop.kind).toBe('incident');
  });

  it('does not touch the variables it was given', () => {
    const order = validOrder();
    const variables = { order, orderId: 'x', settings: SETTINGS };
    const before = JSON.stringify(variables);
    simulate(current, variables, ports);
    expect(JSON.stringify(variables)).toBe(before);
  });
});

describe('changesAt', () => {
  const passed = { outcome: 'passed' as const, codes: [], flows: ['a'] };
  const failed = { outcome: 'failed' as const, codes: ['X'], flows: [] };
  it('names what changed at one element for one order', () => {
    expect(changesAt(failed, passed, false)).toEqual(['passInsteadOfFail']);
    expect(changesAt(passed, failed, false)).toEqual(['failInsteadOfPass']);
    expect(changesAt(failed, { ...failed, codes: ['Y'] }, false)).toEqual(['failsDifferently']);
    expect(changesAt(failed, failed, false)).toEqual([]);
    expect(changesAt(passed, { ...passed, flows: ['b'] }, true)).toEqual(['otherBranch']);
    expect(changesAt(passed, { ...passed, flows: ['b'] }, false)).toEqual([]);
    expect(changesAt(undefined, passed, true)).toEqual(['newlyReached']);
    expect(changesAt(passed, undefined, true)).toEqual(['noLongerReached']);
    expect(changesAt(undefined, passed, true, false)).toEqual([]);
  });
});

describe('compareSimulations', () => {
  it('given 20 orders of which 6 lack a phone and 9 are at or above 100.00, then the draft passes exactly the 6 and sends exactly the 9 to approval', () => {
    const orders: Order[] = [
      ...Array.from({ length: 6 }, (_, i) => noPhone(`NP-${i}`)),
      ...Array.from({ length: 9 }, (_, i) => validOrder({ externalId: `BIG-${i}` })),
      ...Array.from({ length: 5 }, (_, i) => cheap(`SMALL-${i}`)),
    ];
    const runs: SimulatedOrder[] = orders.map((o) => ({ orderId: `id-${o.externalId}`, externalId: o.externalId, current: run(current, o), draft: run(draft, o) }));
    const report = compareSimulations(draft, current, runs);
    const at = (id: string) => report.elements.find((e) => e.elementId === id)!;

    expect(report.orders).toBe(20);
    expect(at('Task_ValidateAddress').changes.passInsteadOfFail).toBe(6);
    expect(at('Task_ValidateAddress').draft).toEqual({ reached: 20, passed: 20, failed: 0, waits: 0 });
    expect(at('Task_ValidateAddress').current).toEqual({ reached: 20, passed: 14, failed: 6, waits: 0 });
    expect(at('Task_ValidateAddress').examples.map((e) => e.externalId)).toEqual(['NP-0', 'NP-1', 'NP-2', 'NP-3', 'NP-4']);
    expect(at('Task_ValidateAddress').examples[0]).toMatchObject({ change: 'passInsteadOfFail', current: { outcome: 'failed', codes: ['PHONE_MISSING'] }, draft: { outcome: 'passed' } });

    // The 9 large orders reach the gateway in both versions and branch differently; the 6 reach it only in the draft.
    expect(at('Gateway_ApprovalNeeded').changes).toMatchObject({ otherBranch: 9, newlyReached: 6 });
    // Examples show where the outcome differs, not the orders that merely get further now.
    expect(at('Gateway_ApprovalNeeded').examples.map((e) => e.change)).toEqual(Array(5).fill('otherBranch'));
    expect(at('Gateway_ApprovalNeeded').examples[0]).toMatchObject({ current: { flows: ['Flow_NoApprovalNeeded'] }, draft: { flows: ['Flow_ApprovalNeeded'] } });
    expect(at('Task_ValidatePayment').examples.map((e) => e.change)).toEqual(Array(5).fill('newlyReached'));
    expect(at('Task_ApproveOrder').changes.newlyReached).toBe(15);
    expect(at('Task_ApproveOrder').draft.waits).toBe(15);
    expect(at('Task_ReserveStock').changes.noLongerReached).toBe(9);
    expect(report.ordersChanged).toBe(15);
    expect(report.stops.draft).toEqual([
      { label: 'Waits for a person at “Approve large order”', kind: 'userTask', count: 15 },
      { label: 'Waits for order-delivered, order-cancelled at “Wait for delivery”', kind: 'message', count: 5 },
    ]);
    expect(report.stops.current).toEqual([
      { label: 'Waits for order-delivered, order-cancelled at “Wait for delivery”', kind: 'message', count: 14 },
      { label: 'Ticket at “Validate address”', kind: 'ticket', count: 6 },
    ]);
  });

  it('given no current version (a new process), then it reports the draft alone and no changes', () => {
    const runs = [{ orderId: 'a', externalId: 'A', current: null, draft: run(draft, cheap('A')) }];
    const report = compareSimulations(draft, null, runs);
    expect(report.ordersChanged).toBe(0);
    expect(report.stops.current).toBeNull();
    expect(report.elements.find((e) => e.elementId === 'Task_ValidateAddress')).toMatchObject({ draft: { reached: 1, passed: 1 }, current: null });
  });
});

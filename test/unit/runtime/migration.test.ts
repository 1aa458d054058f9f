import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDefinitions, step, type CompiledProcess, type InstanceState } from '../../../src/engine/index.ts';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { createFeelLibrary } from '../../../src/orders/feel-library.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { unmappableReasons } from '../../../src/runtime/migration.ts';
import { validOrder } from '../../fixtures/orders.ts';

const LIFECYCLE = readFileSync(new URL('../../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');
const SETTINGS = { paymentTimeout: 'P3D', approvalThreshold: '100.00', codLimit: '5000.00' };
const ports = { feelFunctions: createFeelLibrary({ codLimit: '5000.00' }) as unknown as Record<string, (...args: any[]) => unknown> };
const NOW = new Date('2026-11-21T10:00:00Z');

async function compile(xml: string): Promise<CompiledProcess> {
  return compileDefinitions((await parseBpmn(xml)).definitions).find((m) => m.key === 'order-lifecycle')!;
}

function startWith(model: CompiledProcess, order: Order): InstanceState {
  return step(model, null, { type: 'start', variables: { order, orderId: 'o1', settings: SETTINGS } }, NOW, ports).state;
}

let v1: CompiledProcess;
beforeAll(async () => {
  v1 = await compile(LIFECYCLE);
});

describe('unmappableReasons', () => {
  it('given an instance at a user task that the target keeps, then it maps', async () => {
    const v2 = await compile(LIFECYCLE.replaceAll('Gateway_WaitForPayment', 'Gateway_AwaitPayment'));
    const state = startWith(v1, validOrder());
    expect(state.tokens.map((t) => t.elementId)).toEqual(['Task_ApproveOrder']);
    expect(unmappableReasons(state, v1, v2, 2)).toEqual([]);
  });

  it('given an instance waiting at an element the target no longer has, then it does not map, and says why', async () => {
    const v2 = await compile(LIFECYCLE.replaceAll('Gateway_WaitForPayment', 'Gateway_AwaitPayment'));
    const state = startWith(v1, validOrder({ payment: { method: 'bank_transfer', status: 'pending', amount: '114.90', currency: 'PLN', reference: null } }));
    expect(state.tokens.map((t) => t.elementId)).toEqual(['Gateway_WaitForPayment']);
    expect(unmappableReasons(state, v1, v2, 2)).toEqual(['It waits at “Wait for payment” (Gateway_WaitForPayment), which version 2 does not have.']);
  });

  it('given the waiting element changed its kind, then it does not map', async () => {
    const v2 = await compile(
      LIFECYCLE.replace('<bpmn:scriptTask id="Task_ValidateAddress"', '<bpmn:userTask id="Task_ValidateAddress"').replace(/(<bpmn:script>validate address\(order\)<\/bpmn:script>\s*<\/)bpmn:scriptTask>/, '</bpmn:userTask>'),
    );
    expect(v2.elements.Task_ValidateAddress!.kind).toBe('userTask');
    const state = startWith(v1, validOrder({ customer: { name: 'No Phone', email: 'np@example.com', phone: null } }));
    expect(unmappableReasons(state, v1, v2, 2)).toEqual(['“Validate address” (Task_ValidateAddress) is a script task here but a user task in version 2.']);
  });

  it('given the event it listens for now expects another message, then it does not map', async () => {
    const v2 = await compile(LIFECYCLE.replace('name="payment-confirmed"', 'name="payment-received"'));
    const state = startWith(v1, validOrder({ payment: { method: 'bank_transfer', status: 'pending', amount: '114.90', currency: 'PLN', reference: null } }));
    expect(unmappableReasons(state, v1, v2, 2)).toEqual([
      'It waits for the message “payment-confirmed” at “Payment confirmed” (Event_PaymentConfirmed), which in version 2 waits for “payment-received”.',
    ]);
  });
});

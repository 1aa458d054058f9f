import { describe, expect, it } from 'vitest';
import { compiledFeelCount, evaluateFeel, evaluateFeelUncached, FeelError } from '../../../src/engine/feel.ts';
import { createFeelLibrary } from '../../../src/orders/feel-library.ts';
import { validOrder } from '../../fixtures/orders.ts';

/**
 * evaluateFeel compiles an expression once (as a FEEL function definition) and invokes it after; a
 * fresh feelin evaluation is the reference. Whatever the expression and variables, both must answer
 * the same value or fail with the same error.
 */

const now = new Date('2026-03-01T10:00:00.000Z');
const library = createFeelLibrary({ codLimit: '5000.00' }) as unknown as Record<string, (...args: any[]) => unknown>;
const opts = { functions: library, now };

function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    if (err instanceof FeelError) return { error: err.reason, message: err.message };
    throw err;
  }
}

function same(expression: string, variables: Record<string, unknown>, options = opts) {
  // Twice: the first call compiles, the second runs the compiled form.
  const first = outcome(() => evaluateFeel(expression, variables, options));
  const second = outcome(() => evaluateFeel(expression, variables, options));
  const reference = outcome(() => evaluateFeelUncached(expression, variables, options));
  expect(first, expression).toEqual(reference);
  expect(second, expression).toEqual(reference);
  return second as { value?: unknown; error?: string };
}

const settings = { paymentTimeout: 'P3D', approvalThreshold: '10000.00', codLimit: '5000.00' };
const broken = { ...validOrder(), customer: { name: 'A', email: 'a@example', phone: null }, shippingAddress: null };
const variableSets: Array<Record<string, unknown>> = [
  { order: validOrder(), orderId: 'o-1', settings },
  { order: broken, orderId: 'o-2', settings, addressIssues: [{ code: 'PHONE_MISSING' }], payment: { amount: '1.00' } },
  { order: { ...validOrder(), payment: { method: 'blik', status: 'pending' } }, settings, payment: null },
  {},
];

const expressions = [
  // Every expression the default lifecycle evaluates.
  'validate address(order)',
  'validate payment(order)[item.code != "PAYMENT_PENDING"]',
  'order.payment.status = "pending" and order.payment.method != "cod"',
  'order.invoice.requested = true',
  'validate invoice(order)',
  'money(order.totals.grandTotal) >= money(settings.approvalThreshold)',
  'context put(order, "payment", context merge([order.payment, {status: "paid"}, if payment = null then {} else payment]))',
  // Language corners.
  'count(addressIssues) > 0',
  'sum(for l in order.lines return l.quantity)',
  'some l in order.lines satisfies l.quantity > 1',
  'order.lines[1].sku',
  'order.lines[quantity > 1].sku',
  '{a: orderId, b: [1, 2, 3][item > 1], c: if orderId = null then "none" else orderId}',
  'validate address(order: order)',
  'now() + duration("P1D")',
  'today()',
  'string length(orderId) + 1',
  'missing.variable.path = null',
  'not(order.invoice.requested)',
  'order.totals.grandTotal',
  'upper case(order.customer.name)',
  'issue("MY_CODE", "customer.name", "Name is wrong")',
  // Errors: syntax, unknown function, a runaway range.
  '1 +',
  'validate phone(order)',
  'count(for i in 1..1000000 return i)',
  'function(a) a',
];

describe('compiled FEEL', () => {
  it('given the lifecycle expressions and language corners over several variable sets, then the compiled form answers exactly as a fresh evaluation', () => {
    for (const variables of variableSets) for (const e of expressions) same(e, variables);
    // The compiled form really ran: every valid expression was compiled for each set of variables it reads.
    expect(compiledFeelCount(library)).toBeGreaterThanOrEqual(expressions.length);
  });

  it('given a variable named like a library function, then the library function wins in both forms', () => {
    expect(same('money("1.00") = money("1.00")', { money: 'not a function' }).value).toBe(true);
  });

  it('given keys with spaces inside a variable, then it falls back to the fresh evaluation and answers the same', () => {
    same('order.first name', { order: { 'first name': 'Ann' } });
    same('first name', { 'first name': 'Ann' });
    const lib = { f: (v: unknown) => v };
    const before = compiledFeelCount(lib);
    same('f(order).first name', { order: { 'first name': 'Ann' } }, { functions: lib, now });
    expect(compiledFeelCount(lib)).toBe(before);
    same('f(x.a)', { x: { a: 1 }, 'unrelated key': 2 }, { functions: lib, now });
    expect(compiledFeelCount(lib)).toBe(before + 1);
  });

  it('given the same expression with other variables, then each set of variables gets its own compiled form', () => {
    expect(same('a + b', { a: 1, b: 2 }).value).toBe(3);
    expect(same('a + b', { a: 1 }).value).toBe(null);
    expect(same('a + b', { a: 1, b: 5, c: 9 }).value).toBe(6);
  });

  it('given a library function that throws, then the error carries its message in both forms', () => {
    const lib = {
      check: (_x: unknown) => {
        throw new Error('VIES timeout');
      },
    };
    const first = outcome(() => evaluateFeel('check(x)', { x: 1 }, { functions: lib, now }));
    const again = outcome(() => evaluateFeel('check(x)', { x: 1 }, { functions: lib, now }));
    expect(first).toEqual(outcome(() => evaluateFeelUncached('check(x)', { x: 1 }, { functions: lib, now })));
    expect(again).toEqual(first);
    expect(() => evaluateFeel('check(x)', { x: 1 }, { functions: lib, now })).toThrow(/VIES timeout/);
  });

  it('given now() at two different times, then the compiled form reads the time of each call', () => {
    expect(evaluateFeel('now()', {}, opts)).toBe('2026-03-01T10:00:00Z');
    expect(evaluateFeel('now()', {}, { ...opts, now: new Date('2027-01-02T03:04:05.000Z') })).toBe('2027-01-02T03:04:05Z');
    expect(evaluateFeel('today()', {}, { ...opts, now: new Date('2027-01-02T03:04:05.000Z') })).toBe('2027-01-02');
  });
});

import { describe, expect, it } from 'vitest';
import { evaluateCondition, evaluateFeel, FeelError, MAX_FEEL_EXPRESSION_CHARS, toPlain } from '../../../src/engine/feel.ts';

const now = new Date('2026-03-01T10:00:00.000Z');
const opts = (functions: Record<string, (...args: any[]) => unknown> = {}) => ({ functions, now });

function feelError(fn: () => unknown): FeelError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FeelError);
    return err as FeelError;
  }
  throw new Error('expected a FeelError');
}

describe('FEEL evaluation', () => {
  it('given variables and a library with names containing spaces, then expressions see both', () => {
    const lib = { 'validate address': (order: { street?: string }) => (order.street ? [] : [{ code: 'STREET_MISSING', field: 'street' }]) };
    expect(evaluateFeel('validate address(order)', { order: {} }, opts(lib))).toEqual([{ code: 'STREET_MISSING', field: 'street' }]);
    expect(evaluateFeel('validate address(order: order)', { order: { street: 'Main' } }, opts(lib))).toEqual([]);
    expect(evaluateFeel('sum(for l in lines return l.qty)', { lines: [{ qty: 2 }, { qty: 3 }] }, opts())).toBe(5);
  });

  it('given var-args functions, then every argument arrives', () => {
    expect(evaluateFeel('join all("a", "b", "c")', {}, opts({ 'join all': (...parts: string[]) => parts.join('+') }))).toBe('a+b+c');
  });

  it('given now() and today(), then they answer with the time passed in and results are plain ISO text', () => {
    expect(evaluateFeel('now()', {}, opts())).toBe('2026-03-01T10:00:00Z');
    expect(evaluateFeel('today()', {}, opts())).toBe('2026-03-01');
    expect(evaluateFeel('now() + duration("P1D")', {}, opts())).toBe('2026-03-02T10:00:00Z');
    expect(evaluateFeel('{d: duration("PT4H"), r: [1..3]}', {}, opts())).toEqual({ d: 'PT4H', r: null });
  });

  it('given missing variables or properties, then conditions are simply false', () => {
    expect(evaluateCondition('order.payment.method = "cod"', {}, opts())).toBe(false);
    expect(evaluateCondition('order.total > 100', { order: { total: 150 } }, opts())).toBe(true);
    expect(evaluateCondition('"yes"', {}, opts())).toBe(false);
  });

  it('given a syntax error, then FEEL_ERROR with reason syntax', () => {
    const e = feelError(() => evaluateFeel('1 +', {}, opts()));
    expect(e.code).toBe('FEEL_ERROR');
    expect(e.reason).toBe('syntax');
  });

  it('given an unknown function, then FEEL_ERROR naming it', () => {
    const e = feelError(() => evaluateFeel('validate phone(order)', { order: {} }, opts()));
    expect(e.reason).toBe('function');
  });

  it('given a library function that throws, then its message is in the error', () => {
    const e = feelError(() =>
      evaluateFeel('check(x)', { x: 1 }, opts({
        check: (_x: unknown) => {
          throw new Error('VIES timeout');
        },
      })),
    );
    expect(e.message).toContain('VIES timeout');
  });

  it('given expressions that explode, then they are stopped instead of exhausting memory or the stack', () => {
    expect(feelError(() => evaluateFeel('for i in 1..100000000 return i', {}, opts())).reason).toBe('limit');
    expect(feelError(() => evaluateFeel('for i in 1..1000, j in 1..1000 return i', {}, opts())).reason).toBe('limit');
    expect(feelError(() => evaluateFeel('{f: function(n) f(n + 1)}.f(1)', {}, opts())).reason).toBe('limit');
    expect(feelError(() => evaluateFeel('1'.repeat(MAX_FEEL_EXPRESSION_CHARS + 1), {}, opts())).reason).toBe('limit');
    // the guard is per evaluation: the next one works normally
    expect(evaluateFeel('count(for i in 1..10 return i)', {}, opts())).toBe(10);
  });

  it('given caller data, then toPlain makes it JSON-safe', () => {
    expect(toPlain({ a: undefined, b: new Date('2026-01-01T00:00:00Z'), c: [1, Number.NaN], d: () => 1 })).toEqual({ b: '2026-01-01T00:00:00.000Z', c: [1, null] });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareMinorUnits,
  formatMinorUnits,
  isMoney,
  multiplyMinorUnits,
  multiplyMoney,
  normalizeMoney,
  parseMoney,
  sumMinorUnits,
  sumMoney,
  toMinorUnits,
} from '../../../src/orders/money.ts';

describe('money', () => {
  it.each([
    ['129.90', '12990'],
    ['0', '0'],
    ['0.5', '50'],
    ['7.5', '750'],
    ['49.95', '4995'],
    ['999999999999.99', '99999999999999'],
    ['1000000', '100000000'],
  ])('reads %s as %s minor units', (text, minor) => {
    expect(parseMoney(text)).toBe(BigInt(minor));
  });

  it.each(['', ' 1.00', '1.00 ', '1,00', '1.000', '.5', '5.', '-1.00', '+1', '01.00', '1e3', 'NaN', 'abc', '1 000.00'])(
    'refuses %j',
    (text) => {
      expect(parseMoney(text)).toBeNull();
      expect(isMoney(text)).toBe(false);
      expect(() => toMinorUnits(text)).toThrow(RangeError);
    },
  );

  it.each([12.5, null, undefined, {}, ['1.00'], true])('refuses the non-string %j', (value) => {
    expect(parseMoney(12990n)).toBeNull();
    expect(parseMoney(value)).toBeNull();
  });

  it('formats minor units with two decimals', () => {
    expect(formatMinorUnits(12990n)).toBe('129.90');
    expect(formatMinorUnits(5n)).toBe('0.05');
    expect(formatMinorUnits(0n)).toBe('0.00');
    expect(formatMinorUnits(-150n)).toBe('-1.50');
    expect(formatMinorUnits(-5n)).toBe('-0.05');
    expect(normalizeMoney('7.5')).toBe('7.50');
    expect(normalizeMoney('7.555')).toBeNull();
  });

  it('adds 3 × "0.10" + "0.20" to exactly "0.50" (which binary floats do not)', () => {
    expect(sumMoney(['0.10', '0.10', '0.10', '0.20'])).toBe('0.50');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(formatMinorUnits(multiplyMinorUnits(toMinorUnits('0.10'), 3) + toMinorUnits('0.20'))).toBe('0.50');
  });

  it('multiplies by whole quantities beyond 2^53 exactly', () => {
    expect(multiplyMoney('49.95', 2)).toBe('99.90');
    expect(multiplyMoney('999999999999.99', 1_000_000)).toBe('999999999999990000.00');
    expect(() => multiplyMinorUnits(100n, 1.5)).toThrow(RangeError);
    expect(() => sumMoney(['1.00', 'x'])).toThrow(RangeError);
  });

  it('compares', () => {
    expect(compareMinorUnits(1n, 2n)).toBe(-1);
    expect(compareMinorUnits(2n, 2n)).toBe(0);
    expect(compareMinorUnits(3n, 2n)).toBe(1);
  });

  const cents = fc.bigInt({ min: 0n, max: 99_999_999_999_999n });

  it('round-trips: parse(format(x)) = x for every amount', () => {
    fc.assert(fc.property(cents, (minor) => parseMoney(formatMinorUnits(minor)) === minor));
  });

  it('adds random line items exactly (checked against bigint arithmetic on the generated cents)', () => {
    const line = fc.record({ quantity: fc.integer({ min: 1, max: 1_000_000 }), cents });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), (lines) => {
        const expected = lines.reduce((sum, l) => sum + BigInt(l.quantity) * l.cents, 0n);
        const viaStrings = sumMinorUnits(lines.map((l) => multiplyMinorUnits(toMinorUnits(formatMinorUnits(l.cents)), l.quantity)));
        expect(viaStrings).toBe(expected);
        expect(sumMoney(lines.map((l) => multiplyMoney(formatMinorUnits(l.cents), l.quantity)))).toBe(formatMinorUnits(expected));
      }),
    );
  });
});

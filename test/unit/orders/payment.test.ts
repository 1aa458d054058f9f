import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAYMENT_CODES, checkPayment } from '../../../src/orders/checks/payment.ts';
import type { Issue } from '../../../src/orders/messages.ts';
import { formatMinorUnits } from '../../../src/orders/money.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { COUNTRY_DATA, copy, validOrder } from './fixtures.ts';

const codes = (issues: Issue[]) => issues.map((i) => `${i.code}@${i.field}`);

describe('checkPayment', () => {
  it.each(COUNTRY_DATA.map((d) => d.country))('finds nothing wrong with a valid order from %s', (country) => {
    expect(checkPayment(validOrder(country))).toEqual([]);
  });

  it.each(['authorized', 'paid'] as const)('accepts a %s card payment', (status) => {
    const order = validOrder();
    order.payment.status = status;
    expect(checkPayment(order)).toEqual([]);
  });

  it('accepts pending cash on delivery with a courier (it is paid at the door)', () => {
    const order = validOrder();
    order.payment = { ...order.payment, method: 'cod', status: 'pending' };
    expect(checkPayment(order)).toEqual([]);
  });

  type Case = [name: string, mutate: (o: Order) => void, expected: string[]];
  const cases: Case[] = [
    ['no payment at all', (o) => void delete (o as Partial<Order>).payment, ['PAYMENT_INVALID@payment']],
    ['unknown payment method', (o) => void (o.payment.method = 'crypto' as never), ['PAYMENT_INVALID@payment.method']],
    ['unknown payment status', (o) => void (o.payment.status = 'stuck' as never), ['PAYMENT_INVALID@payment.status']],
    ['failed card payment', (o) => void (o.payment.status = 'failed'), ['PAYMENT_FAILED@payment.status']],
    ['refunded payment', (o) => void (o.payment.status = 'refunded'), ['PAYMENT_REFUNDED@payment.status']],
    ['bank transfer not yet arrived', (o) => void (o.payment = { ...o.payment, method: 'bank_transfer', status: 'pending' }), ['PAYMENT_PENDING@payment.status']],
    ['BLIK not yet confirmed', (o) => void (o.payment = { ...o.payment, method: 'blik', status: 'pending' }), ['PAYMENT_PENDING@payment.status']],
    ['card authorisation under review', (o) => void (o.payment.status = 'pending'), ['PAYMENT_PENDING@payment.status']],
    ['unit price with three decimals', (o) => void (o.lines[0]!.unitPrice = '49.955'), ['AMOUNT_INVALID@lines[0].unitPrice']],
    ['quantity zero', (o) => void (o.lines[1]!.quantity = 0), ['AMOUNT_INVALID@lines[1].quantity']],
    ['grand total as a float', (o) => void ((o.totals as Record<string, unknown>).grandTotal = 115), ['AMOUNT_INVALID@totals.grandTotal']],
    ['payment amount with a comma', (o) => void (o.payment.amount = '115,00'), ['AMOUNT_INVALID@payment.amount']],
    ['payment amount short of the grand total', (o) => void (o.payment.amount = '114.90'), ['AMOUNT_MISMATCH@payment.amount']],
    ['payment in another currency', (o) => void (o.payment.currency = 'EUR'), ['CURRENCY_MISMATCH@payment.currency']],
    ['order currency missing', (o) => void ((o as Partial<Order>).currency = undefined), ['CURRENCY_MISMATCH@currency']],
    ['subtotal typo (grand total right)', (o) => void (o.totals.subtotal = '99.00'), ['TOTALS_INCONSISTENT@totals.subtotal']],
    ['shipping not in the grand total', (o) => void (o.totals.shipping = '16.00'), ['TOTALS_INCONSISTENT@totals.grandTotal']],
    ['tax not in the grand total', (o) => void (o.totals.tax = '0.01'), ['TOTALS_INCONSISTENT@totals.grandTotal']],
    ['no lines', (o) => void (o.lines = []), ['LINES_MISSING@lines']],
    ['cash on delivery to a parcel locker', (o) => {
      o.delivery = { method: 'parcel_locker', lockerId: 'WAW01M' };
      o.payment = { ...o.payment, method: 'cod', status: 'pending' };
    }, ['COD_NOT_ALLOWED@payment.method']],
    ['cash on delivery over the limit', (o) => {
      o.lines = [{ sku: 'TV-85', quantity: 1, unitPrice: '4990.00' }];
      o.totals = { subtotal: '4990.00', shipping: '15.00', tax: '0.00', grandTotal: '5005.00' };
      o.payment = { ...o.payment, method: 'cod', status: 'pending', amount: '5005.00' };
    }, ['COD_NOT_ALLOWED@totals.grandTotal']],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const order = copy(validOrder('PL'));
    mutate(order);
    expect(codes(checkPayment(order))).toEqual(expected);
  });

  it('every payment code is raised by some case above', () => {
    const raised = new Set(cases.flatMap(([, , expected]) => expected.map((e) => e.split('@')[0])));
    expect([...raised].sort()).toEqual([...PAYMENT_CODES].sort());
  });

  it('accepts exactly the cash-on-delivery limit and honours a configured one', () => {
    const order = validOrder();
    order.lines = [{ sku: 'TV-85', quantity: 1, unitPrice: '4985.00' }];
    order.totals = { subtotal: '4985.00', shipping: '15.00', tax: '0.00', grandTotal: '5000.00' };
    order.payment = { ...order.payment, method: 'cod', status: 'pending', amount: '5000.00' };
    expect(checkPayment(order)).toEqual([]);
    expect(codes(checkPayment(order, { codLimit: '4999.99' }))).toEqual(['COD_NOT_ALLOWED@totals.grandTotal']);
    expect(checkPayment(order, { codLimit: '20000' })).toEqual([]);
    expect(() => checkPayment(order, { codLimit: '5000,00' })).toThrow(RangeError);
  });

  it('reports which total is off, with the amounts', () => {
    const order = validOrder();
    order.lines[0]!.quantity = 3;
    const issues = checkPayment(order);
    expect(codes(issues)).toEqual(['TOTALS_INCONSISTENT@totals.subtotal', 'TOTALS_INCONSISTENT@totals.grandTotal']);
    expect(issues[0]?.message).toBe('The subtotal 100.00 PLN does not equal the sum of the order lines (quantity × unit price), 149.95 PLN.');
    expect(issues[1]?.message).toBe('The grand total 115.00 PLN does not equal subtotal + shipping + tax, 164.95 PLN.');
  });

  it('net prices: tax on top is part of the grand total', () => {
    const order = validOrder();
    order.totals = { subtotal: '100.00', shipping: '15.00', tax: '23.00', grandTotal: '138.00' };
    order.payment.amount = '138.00';
    expect(checkPayment(order)).toEqual([]);
  });

  it('adds 3 × 0.10 + 0.20 exactly', () => {
    const order = validOrder();
    order.lines = [
      { sku: 'A', quantity: 3, unitPrice: '0.10' },
      { sku: 'B', quantity: 1, unitPrice: '0.20' },
    ];
    order.totals = { subtotal: '0.50', shipping: '0.00', tax: '0.00', grandTotal: '0.50' };
    order.payment.amount = '0.5';
    expect(checkPayment(order)).toEqual([]);
  });

  it('random line items always add up exactly (compared with bigint arithmetic)', () => {
    const line = fc.record({ quantity: fc.integer({ min: 1, max: 1_000_000 }), cents: fc.bigInt({ min: 0n, max: 99_999_999_999_999n }) });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 0n, max: 100_000n }), (lines, shipping) => {
        const subtotal = lines.reduce((sum, l) => sum + BigInt(l.quantity) * l.cents, 0n);
        const order = validOrder();
        order.lines = lines.map((l, i) => ({ sku: `SKU-${i}`, quantity: l.quantity, unitPrice: formatMinorUnits(l.cents) }));
        order.totals = {
          subtotal: formatMinorUnits(subtotal),
          shipping: formatMinorUnits(shipping),
          tax: '0.00',
          grandTotal: formatMinorUnits(subtotal + shipping),
        };
        order.payment.amount = order.totals.grandTotal;
        expect(checkPayment(order)).toEqual([]);
        // One minor unit off anywhere is found.
        order.totals.subtotal = formatMinorUnits(subtotal + 1n);
        expect(codes(checkPayment(order))).toEqual(['TOTALS_INCONSISTENT@totals.subtotal']);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on JSON that is not an order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (junk) => {
        expect(Array.isArray(checkPayment(junk))).toBe(true);
      }),
    );
    expect(codes(checkPayment({ currency: 'PLN', lines: 'x', totals: null, payment: [] }))).toEqual([
      'LINES_MISSING@lines',
      'AMOUNT_INVALID@totals',
      'PAYMENT_INVALID@payment',
    ]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADDRESS_CODES,
  ALL_CODES,
  CHECK_CODES,
  INVOICE_CODES,
  MESSAGES_EN,
  PAYMENT_CODES,
  runAllChecks,
  type MessageCatalogue,
} from '../../../src/orders/checks/index.ts';
import { messageFor } from '../../../src/orders/messages.ts';
import { COUNTRY_DATA, validOrder } from './fixtures.ts';

describe('runAllChecks', () => {
  it.each(COUNTRY_DATA.map((d) => [d.country, d.city]))('raises no issue on a valid order from %s (%s)', (country) => {
    expect(runAllChecks(validOrder(country))).toEqual([]);
  });

  it('tags each issue with its check, in the order address, payment, invoice', () => {
    const order = validOrder('PL');
    order.customer.phone = null;
    order.payment.status = 'failed';
    order.invoice!.taxId = '';
    expect(runAllChecks(order).map((i) => [i.check, i.code, i.field])).toEqual([
      ['address', 'PHONE_MISSING', 'customer.phone'],
      ['payment', 'PAYMENT_FAILED', 'payment.status'],
      ['invoice', 'TAX_ID_MISSING', 'invoice.taxId'],
    ]);
  });

  it('the order of SPEC §3 is valid as written', () => {
    const spec = {
      channel: 'webshop', externalId: 'WS-10001', placedAt: '2026-11-21T10:00:00Z', currency: 'PLN',
      customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: '+48 601 234 567' },
      delivery: { method: 'courier', lockerId: null, storeId: null },
      shippingAddress: { name: 'Anna Nowak', company: null, street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', country: 'PL' },
      invoice: { requested: true, companyName: 'Nowak Sp. z o.o.', taxId: 'PL5260250274',
        address: { street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', country: 'PL' } },
      lines: [{ sku: 'TEA-001', name: 'Green tea', quantity: 2, unitPrice: '49.95', taxRate: '0.23' }],
      totals: { subtotal: '99.90', shipping: '15.00', tax: '0.00', grandTotal: '114.90' },
      payment: { method: 'card', status: 'authorized', amount: '114.90', currency: 'PLN', reference: 'ch_123' },
    };
    expect(runAllChecks(spec)).toEqual([]);
  });

  it('lists the codes each check can raise, all with a message', () => {
    expect(CHECK_CODES).toEqual({ address: ADDRESS_CODES, payment: PAYMENT_CODES, invoice: INVOICE_CODES });
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length);
    expect(Object.keys(MESSAGES_EN).sort()).toEqual([...ALL_CODES].sort());
    for (const code of ALL_CODES) {
      const sentence = messageFor(code);
      expect(sentence, code).toMatch(/^[A-Z"].*[.]$/);
      expect(sentence, code).not.toMatch(/undefined|null|\[object/);
    }
    expect(messageFor('ZERO_ORDER')).toBe('The order needs attention: ZERO_ORDER.');
  });

  it('speaks another language when given its catalogue', () => {
    const shout = Object.fromEntries(Object.entries(MESSAGES_EN).map(([code, t]) => [code, (p: object) => t(p).toUpperCase()])) as MessageCatalogue;
    const order = validOrder();
    order.customer.phone = null;
    expect(runAllChecks(order, { messages: shout })[0]?.message).toBe(
      'THE CUSTOMER HAS NO PHONE NUMBER; COURIER DELIVERY NEEDS ONE SO THE COURIER CAN CALL.',
    );
  });

  // Orders an operator or a FEEL script might produce: any field replaced by any JSON.
  const paths = [
    ['currency'], ['customer'], ['customer', 'phone'], ['customer', 'email'], ['delivery'], ['delivery', 'method'],
    ['shippingAddress'], ['shippingAddress', 'postalCode'], ['shippingAddress', 'country'], ['invoice'], ['invoice', 'taxId'],
    ['invoice', 'address'], ['lines'], ['lines', '0'], ['lines', '0', 'quantity'], ['lines', '0', 'unitPrice'], ['totals'],
    ['totals', 'grandTotal'], ['payment'], ['payment', 'amount'], ['payment', 'method'], ['payment', 'status'],
  ];
  const mutated = fc
    .tuple(fc.constantFrom(...COUNTRY_DATA.map((d) => d.country)), fc.array(fc.tuple(fc.constantFrom(...paths), fc.jsonValue()), { maxLength: 4 }))
    .map(([country, edits]) => {
      const order = validOrder(country) as unknown as Record<string, unknown>;
      for (const [path, value] of edits) {
        let target: unknown = order;
        for (const key of path.slice(0, -1)) target = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[key] : undefined;
        if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[path[path.length - 1]!] = value;
      }
      return order;
    });

  it('never throws, and only raises declared codes with readable messages, on arbitrarily patched orders', () => {
    fc.assert(
      fc.property(mutated, (order) => {
        for (const issue of runAllChecks(order)) {
          expect(CHECK_CODES[issue.check]).toContain(issue.code);
          expect(issue.field).toMatch(/^[a-zA-Z]+(\.[a-zA-Z]+|\[\d+\])*(\.[a-zA-Z]+)*$/);
          expect(issue.message).not.toMatch(/undefined|\[object/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any JSON at all', () => {
    fc.assert(
      fc.property(fc.anything(), (junk) => {
        expect(Array.isArray(runAllChecks(junk))).toBe(true);
      }),
    );
  });
});

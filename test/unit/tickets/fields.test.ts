import { describe, expect, it } from 'vitest';
import {
  buildMergePatch,
  formatPath,
  getPath,
  normalisePostalCode,
  parentPath,
  parsePath,
  parseTransform,
  transformPatch,
  transformsFor,
  transformValue,
} from '../../../src/tickets/fields.ts';

const order = {
  customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: null },
  delivery: { method: 'parcel_locker', lockerId: null, storeId: null },
  shippingAddress: { street: 'ul. Prosta 51', postalCode: '00838', city: 'Warszawa', country: 'PL' },
  invoice: { requested: true, address: { street: 'Main St 1', postalCode: 'sw1a1aa', city: 'London', country: 'GB' } },
  lines: [
    { sku: 'A', quantity: 1, unitPrice: '1.00' },
    { sku: 'B', quantity: 2, unitPrice: 'x' },
  ],
};

describe('field paths', () => {
  it('parses the paths checks write, and refuses anything else', () => {
    expect(parsePath('customer.phone')).toEqual(['customer', 'phone']);
    expect(parsePath('lines[1].unitPrice')).toEqual(['lines', 1, 'unitPrice']);
    expect(parsePath('currency')).toEqual(['currency']);
    for (const bad of ['', '.a', 'a.', 'a..b', '[0]', 'a[x]', 'a.__proto__', 'constructor', 'a b', 'a[1]b']) expect(parsePath(bad), bad).toBeNull();
    expect(formatPath(['lines', 1, 'unitPrice'])).toBe('lines[1].unitPrice');
    expect(parentPath('invoice.address.postalCode')).toBe('invoice.address');
    expect(parentPath('currency')).toBeNull();
  });

  it('reads values at a path, undefined when the way is missing', () => {
    expect(getPath(order, 'shippingAddress.postalCode')).toBe('00838');
    expect(getPath(order, 'lines[1].sku')).toBe('B');
    expect(getPath(order, 'customer.phone')).toBeNull();
    expect(getPath(order, 'payment.amount')).toBeUndefined();
    expect(getPath(order, 'lines[5].sku')).toBeUndefined();
    expect(getPath(order, 'customer.toString')).toBeUndefined();
  });
});

describe('buildMergePatch', () => {
  it('sets nested fields and leaves out the ones that did not change', () => {
    expect(
      buildMergePatch(order, [
        { path: 'customer.phone', value: '+48 601 234 567' },
        { path: 'customer.name', value: 'Anna Nowak' },
        { path: 'shippingAddress.postalCode', value: '00-838' },
      ]),
    ).toEqual({ customer: { phone: '+48 601 234 567' }, shippingAddress: { postalCode: '00-838' } });
    // Empty stays empty: null and a missing key are the same to an operator.
    expect(buildMergePatch(order, [{ path: 'customer.phone', value: null }, { path: 'payment.reference', value: null }])).toEqual({});
  });

  it('creates the object when the order has none (an address that was null)', () => {
    const patch = buildMergePatch({ shippingAddress: null }, [
      { path: 'shippingAddress.street', value: 'ul. Prosta 51' },
      { path: 'shippingAddress.city', value: 'Warszawa' },
    ]);
    expect(patch).toEqual({ shippingAddress: { street: 'ul. Prosta 51', city: 'Warszawa' } });
  });

  it('replaces a whole array for a change inside one element, keeping the others as they are', () => {
    const patch = buildMergePatch(order, [
      { path: 'lines[1].unitPrice', value: '2.50' },
      { path: 'lines[1].quantity', value: 3 },
    ]);
    expect(patch).toEqual({ lines: [order.lines[0], { sku: 'B', quantity: 3, unitPrice: '2.50' }] });
    // The order itself is untouched.
    expect(order.lines[1]!.unitPrice).toBe('x');
  });

  it('refuses a change to a path that is not a field', () => {
    expect(() => buildMergePatch(order, [{ path: '__proto__.x', value: 1 }])).toThrow(/Not a field path/);
  });
});

describe('normalisePostalCode', () => {
  it.each([
    ['00838', 'PL', '00-838'],
    [' 00 838 ', 'pl', '00-838'],
    ['00-838', 'PL', '00-838'],
    ['1100148', 'PT', '1100-148'],
    ['11000', 'CZ', '110 00'],
    ['11152', 'SE', '111 52'],
    ['1012ab', 'NL', '1012 AB'],
    ['sw1a1aa', 'GB', 'SW1A 1AA'],
    ['SW1A  1AA', 'GB', 'SW1A 1AA'],
    ['d02x285', 'IE', 'D02 X285'],
    ['10 115', 'DE', '10115'],
    ['01100', 'LT', 'LT-01100'],
    ['LT01100', 'LT', 'LT-01100'],
    ['100011234', 'US', '10001-1234'],
    ['vlt1117', 'MT', 'VLT 1117'],
  ])('%s in %s → %s', (code, country, expected) => {
    expect(normalisePostalCode(code, country)).toBe(expected);
  });

  it('only tidies what fits no form of the country, and leaves non-text alone', () => {
    expect(normalisePostalCode(' 0083 ', 'PL')).toBe('0083');
    expect(normalisePostalCode('abc', 'ZZ')).toBe('ABC');
    expect(normalisePostalCode('   ', 'PL')).toBeNull();
    expect(normalisePostalCode(null, 'PL')).toBeNull();
    expect(normalisePostalCode(10115, 'DE')).toBe(10115);
  });
});

describe('group-fix transformations', () => {
  it('inserts the separator using the country next to the field', () => {
    expect(transformValue({ kind: 'postal-separator' }, order, 'shippingAddress.postalCode')).toBe('00-838');
    expect(transformValue({ kind: 'postal-separator' }, order, 'invoice.address.postalCode')).toBe('SW1A 1AA');
  });

  it('sets, trims and upper-cases', () => {
    expect(transformValue({ kind: 'set', value: 'WAW01M' }, order, 'delivery.lockerId')).toBe('WAW01M');
    expect(transformValue({ kind: 'trim' }, { a: '  x   y ' }, 'a')).toBe('x y');
    expect(transformValue({ kind: 'uppercase' }, { a: ' waw01m' }, 'a')).toBe('WAW01M');
  });

  it('gives the before, after and patch, or null when nothing would change', () => {
    expect(transformPatch({ kind: 'postal-separator' }, order, 'shippingAddress.postalCode')).toEqual({
      before: '00838',
      after: '00-838',
      patch: { shippingAddress: { postalCode: '00-838' } },
    });
    expect(transformPatch({ kind: 'trim' }, order, 'shippingAddress.city')).toBeNull();
  });

  it('parses the form choice and offers the postal transformation only for postal codes', () => {
    expect(parseTransform('set', '  WAW01M ')).toEqual({ transform: { kind: 'set', value: 'WAW01M' } });
    expect(parseTransform('set', ' ')).toEqual({ error: 'Enter the value to set.' });
    expect(parseTransform('postal-separator', undefined)).toEqual({ transform: { kind: 'postal-separator' } });
    expect(parseTransform('eval', 'x')).toHaveProperty('error');
    expect(transformsFor('shippingAddress.postalCode')[0]).toBe('postal-separator');
    expect(transformsFor('delivery.lockerId')).not.toContain('postal-separator');
    expect(transformsFor('lines[1]')).toEqual([]);
  });
});

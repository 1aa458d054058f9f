import { evaluate } from 'feelin';
import { describe, expect, it } from 'vitest';
import { ADDRESS_CODES, ALL_CODES, INVOICE_CODES, PAYMENT_CODES } from '../../../src/orders/checks/index.ts';
import { FEEL_FUNCTIONS, createFeelLibrary } from '../../../src/orders/feel-library.ts';
import { validOrder } from './fixtures.ts';

const library = createFeelLibrary();

/** What the engine does: variables and the library side by side in one context. */
function feel(expression: string, variables: Record<string, unknown> = {}) {
  const { value, warnings } = evaluate(expression, { ...variables, ...library });
  return { value, warnings: warnings.map((w) => w.type) };
}

function brokenOrder() {
  const order = validOrder('PL');
  order.customer.phone = '+49 30 1234567';
  order.payment.amount = '114.90';
  order.invoice!.taxId = 'PL5260250275';
  return order;
}

describe('FEEL library with feelin', () => {
  it('resolves function names with spaces from the context and passes the order as a plain object', () => {
    const { value, warnings } = feel('validate address(order)', { order: brokenOrder() });
    expect(warnings).toEqual([]);
    expect(value).toEqual([
      {
        code: 'PHONE_INVALID',
        field: 'customer.phone',
        message: 'The phone number +49 30 1234567 is not a valid number for Poland (PL). It is a number from Germany (DE).',
      },
    ]);
  });

  it('returns an empty list for a valid order, and issues FEEL can filter and count', () => {
    expect(feel('validate address(order)', { order: validOrder('DE') }).value).toEqual([]);
    expect(feel('count(validate address(order)) = 0', { order: validOrder('DE') }).value).toBe(true);
    // feelin compares a non-empty list with [] as null, not false: documented, count() is the way.
    expect(feel('validate address(order) = []', { order: brokenOrder() }).value).toBeNull();
    expect(feel('count(validate address(order)) = 0', { order: brokenOrder() }).value).toBe(false);
    expect(feel('validate payment(order)[1].code', { order: brokenOrder() }).value).toBe('AMOUNT_MISMATCH');
    expect(feel('validate invoice(order).field', { order: brokenOrder() }).value).toEqual(['invoice.taxId']);
    expect(feel('some i in validate order(order) satisfies i.check = "invoice"', { order: brokenOrder() }).value).toBe(true);
    expect(feel('for i in validate order(order) return i.code', { order: brokenOrder() }).value).toEqual([
      'PHONE_INVALID',
      'AMOUNT_MISMATCH',
      'TAX_ID_INVALID',
    ]);
  });

  it('accepts named arguments and a context literal built in FEEL', () => {
    expect(feel('validate address(order: order)', { order: brokenOrder() }).value).toHaveLength(1);
    const literal = 'validate address({delivery: {method: "parcel_locker", lockerId: null}, customer: {phone: "+48 601 234 567"}})';
    expect(feel(literal).value).toEqual([expect.objectContaining({ code: 'LOCKER_MISSING', field: 'delivery.lockerId' })]);
  });

  it('checks single values', () => {
    expect(feel('is valid phone("+48 601 234 567", "PL")').value).toBe(true);
    expect(feel('is valid phone("+49 30 1234567", "PL")').value).toBe(false);
    expect(feel('is valid phone(phone: "601 234 567", country: "PL")').value).toBe(true);
    expect(feel('is valid phone("+48 601 234 567", null)').value).toBe(true);
    expect(feel('is valid phone("+48 601 234 567")').value).toBe(true);
    expect(feel('is valid postal code("00-838", "PL")').value).toBe(true);
    expect(feel('is valid postal code("00838", "PL")').value).toBe(false);
    expect(feel('is valid postal code(order.shippingAddress.postalCode, order.shippingAddress.country)', { order: validOrder('GB') }).value).toBe(true);
    expect(feel('is valid tax id("526-025-02-74", "PL")').value).toBe(true);
    expect(feel('is valid tax id("DE136695976", "PL")').value).toBe(false);
    expect(feel('is valid tax id("NO123456785MVA")').value).toBe(true);
    expect(feel('is valid email("anna@example.com")').value).toBe(true);
    expect(feel('is valid email("anna@example")').value).toBe(false);
    expect(feel('is valid email(null)').value).toBe(false);
  });

  it('builds issues, with the message from the catalogue when none is given', () => {
    expect(feel('issue("PHONE_MISSING", "customer.phone")').value).toEqual({
      code: 'PHONE_MISSING',
      field: 'customer.phone',
      message: 'The customer has no phone number.',
    });
    expect(feel('issue(code: "ZERO_ORDER", field: "totals.grandTotal", message: "The order is free; check the voucher.")').value).toEqual({
      code: 'ZERO_ORDER',
      field: 'totals.grandTotal',
      message: 'The order is free; check the voucher.',
    });
    expect(feel('issue(null, "x")').value).toBeNull();
    const script = 'if money(order.totals.grandTotal) > 100 then [issue("LARGE_ORDER", "totals.grandTotal", "Approve this order.")] else []';
    expect(feel(script, { order: validOrder() }).value).toEqual([{ code: 'LARGE_ORDER', field: 'totals.grandTotal', message: 'Approve this order.' }]);
  });

  it('computes money exactly where FEEL numbers would not', () => {
    expect(feel('0.1 + 0.2 = 0.3').value).toBe(false);
    expect(feel('sum money(["0.10", "0.20"]) = 0.3').value).toBe(true);
    expect(feel('sum money(["0.10", "0.10", "0.10", "0.20"])').value).toBe(0.5);
    expect(feel('sum money("0.10", "0.20")').value).toBe(0.3);
    expect(feel('sum money(for l in order.lines return l.unitPrice)', { order: validOrder() }).value).toBe(50.05);
    expect(feel('money(order.totals.grandTotal)', { order: validOrder() }).value).toBe(115);
    expect(feel('money("129.90") = 129.9').value).toBe(true);
    expect(feel('money(0.3)').value).toBe(0.3);
    expect(feel('money("12.345")').value).toBeNull();
    expect(feel('sum money(["1.00", "x"])').value).toBeNull();
    expect(feel('money(order.totals.grandTotal) > 5000', { order: validOrder() }).value).toBe(false);
  });

  it('fails the invocation, not the process, on a wrong number of arguments', () => {
    const { value, warnings } = feel('is valid email("a@b.com", "x", "y")');
    expect(value).toBeNull();
    expect(warnings).toContain('FUNCTION_INVOCATION_FAILURE');
  });

  it('describes every function it provides, with the codes it can raise', () => {
    expect(FEEL_FUNCTIONS.map((f) => f.name).sort()).toEqual(Object.keys(library).sort());
    const raises = Object.fromEntries(FEEL_FUNCTIONS.map((f) => [f.name, f.raises]));
    expect(raises['validate address']).toEqual(ADDRESS_CODES);
    expect(raises['validate payment']).toEqual(PAYMENT_CODES);
    expect(raises['validate invoice']).toEqual(INVOICE_CODES);
    expect(raises['validate order']).toEqual(ALL_CODES);
    expect(FEEL_FUNCTIONS.find((f) => f.name === 'issue')?.raisesCodeFromParam).toBe('code');
    for (const f of FEEL_FUNCTIONS) {
      expect(library[f.name]?.$args.map((a) => a.replace(/^\.\.\./, ''))).toEqual(f.params.map((p) => p.name));
    }
  });

  it.each(FEEL_FUNCTIONS.map((f) => [f.name, f.example]))('the documented example of %s runs: %s', (_name, example) => {
    const { warnings } = feel(example, { order: validOrder('PL') });
    expect(warnings).toEqual([]);
  });

  it('passes options through and refuses a malformed one at creation', () => {
    const strict = createFeelLibrary({ shippingCountries: ['DE'], codLimit: '100.00' });
    const order = validOrder('PL');
    order.payment.method = 'cod';
    const { value } = evaluate('for i in validate order(order) return i.code', { order, ...strict });
    expect(value).toEqual(['COUNTRY_UNSUPPORTED', 'COD_NOT_ALLOWED']);
    expect(() => createFeelLibrary({ codLimit: 'lots' })).toThrow(RangeError);
  });
});

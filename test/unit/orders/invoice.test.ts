import { describe, expect, it } from 'vitest';
import { INVOICE_CODES, checkInvoice } from '../../../src/orders/checks/invoice.ts';
import type { Issue } from '../../../src/orders/messages.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { COUNTRY_DATA, copy, validOrder } from './fixtures.ts';

const codes = (issues: Issue[]) => issues.map((i) => `${i.code}@${i.field}`);
type Invoice = NonNullable<Order['invoice']>;

describe('checkInvoice', () => {
  it.each(COUNTRY_DATA.map((d) => [d.country, d.taxId]))('finds nothing wrong with a valid %s invoice (tax id %s)', (country) => {
    expect(checkInvoice(validOrder(country))).toEqual([]);
  });

  it('checks nothing when no invoice is requested', () => {
    const order = validOrder();
    order.invoice = { requested: false, companyName: null, taxId: 'garbage', address: null };
    expect(checkInvoice(order)).toEqual([]);
    order.invoice = null;
    expect(checkInvoice(order)).toEqual([]);
    expect(checkInvoice({ invoice: { requested: 'yes' } })).toEqual([]);
  });

  type Case = [name: string, mutate: (invoice: Invoice) => void, expected: string[]];
  const cases: Case[] = [
    ['no company name', (i) => void (i.companyName = '  '), ['INVOICE_COMPANY_MISSING@invoice.companyName']],
    ['no tax id', (i) => void (i.taxId = null), ['TAX_ID_MISSING@invoice.taxId']],
    ['NIP with a wrong check digit', (i) => void (i.taxId = 'PL5260250275'), ['TAX_ID_INVALID@invoice.taxId']],
    ['NIP too short', (i) => void (i.taxId = '526-025-02'), ['TAX_ID_INVALID@invoice.taxId']],
    ['German VAT number on a Polish invoice', (i) => void (i.taxId = 'DE136695976'), ['TAX_ID_INVALID@invoice.taxId']],
    ['no invoice address', (i) => void (i.address = null), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address']],
    ['invoice address without street', (i) => void (i.address!.street = ''), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.street']],
    ['invoice address without city', (i) => void (i.address!.city = null), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.city']],
    ['invoice postal code of another country', (i) => void (i.address!.postalCode = '10115'), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.postalCode']],
    ['invoice address without country', (i) => void (i.address!.country = null), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.country']],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const order = copy(validOrder('PL'));
    mutate(order.invoice!);
    expect(codes(checkInvoice(order))).toEqual(expected);
  });

  it('every invoice code is raised by some case above', () => {
    const raised = new Set(cases.flatMap(([, , expected]) => expected.map((e) => e.split('@')[0])));
    expect([...raised].sort()).toEqual([...INVOICE_CODES].sort());
  });

  it('says whose tax id it is when the prefix names another country', () => {
    const order = validOrder('PL');
    order.invoice!.taxId = 'DE136695976';
    expect(checkInvoice(order)[0]?.message).toBe('The tax id "DE136695976" belongs to Germany (DE), but the invoice address is in Poland (PL).');
    order.invoice!.taxId = 'PL5260250275';
    expect(checkInvoice(order)[0]?.message).toBe(
      'The tax id "PL5260250275" is not a valid Polish NIP: its check digits do not match, so a digit is probably mistyped.',
    );
    order.invoice!.taxId = '526-025-02';
    expect(checkInvoice(order)[0]?.message).toBe('The tax id "526-025-02" does not have the format of a Polish NIP (for example PL5260250274).');
  });

  it('accepts the Polish NIP in the forms accountants write it', () => {
    for (const taxId of ['PL5260250274', '526-025-02-74', '5260250274']) {
      const order = validOrder('PL');
      order.invoice!.taxId = taxId;
      expect(checkInvoice(order), taxId).toEqual([]);
    }
  });

  it('invoices a company in a country Ordo does not ship to', () => {
    const order = validOrder('DE');
    order.invoice = {
      requested: true,
      companyName: '株式会社テスト',
      taxId: 'T1234567890123',
      address: { street: '千代田1-1', postalCode: '100-0001', city: '東京', country: 'JP' },
    };
    expect(checkInvoice(order)).toEqual([]);
  });

  it('an invoice address in an unknown country: address issue, tax id checked by its own prefix', () => {
    const order = validOrder('PL');
    order.invoice!.address!.country = 'UK';
    expect(codes(checkInvoice(order))).toEqual(['INVOICE_ADDRESS_INCOMPLETE@invoice.address.country']);
    order.invoice!.taxId = 'PL5260250275';
    expect(codes(checkInvoice(order))).toEqual(['INVOICE_ADDRESS_INCOMPLETE@invoice.address.country', 'TAX_ID_INVALID@invoice.taxId']);
  });

  it('never throws on odd invoice JSON', () => {
    for (const invoice of [{ requested: true }, { requested: true, address: 'Warszawa', taxId: 5260250274 }, { requested: true, address: [], companyName: {} }]) {
      expect(() => checkInvoice({ invoice })).not.toThrow();
    }
    expect(codes(checkInvoice({ invoice: { requested: true, address: 'Warszawa', taxId: { id: 1 } } }))).toEqual([
      'INVOICE_COMPANY_MISSING@invoice.companyName',
      'INVOICE_ADDRESS_INCOMPLETE@invoice.address',
      'TAX_ID_MISSING@invoice.taxId',
    ]);
  });
});

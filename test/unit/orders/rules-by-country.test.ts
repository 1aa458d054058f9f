import { describe, expect, it } from 'vitest';
import { checkAddress } from '../../../src/orders/checks/address.ts';
import { checkInvoice } from '../../../src/orders/checks/invoice.ts';
import { checkPayment } from '../../../src/orders/checks/payment.ts';
import type { Issue } from '../../../src/orders/messages.ts';
import { COUNTRY_DATA, copy, validOrder } from './fixtures.ts';

/**
 * The broken-rule tables of address, payment and invoice run against a Polish order; here the rules that
 * do not depend on the country run against a real valid order from every country Ordo ships to (its own
 * street, postal code, phone, currency and tax id), so no rule passes only because of how a Polish order
 * happens to look.
 */

const codes = (issues: Issue[]) => issues.map((i) => `${i.code}@${i.field}`);
type O = ReturnType<typeof validOrder>;
type Case = [name: string, mutate: (o: O, country: string) => void, expected: string[]];

/** A number from a country whose numbering plan no shipping country shares: a valid number, of the wrong country. */
const foreignPhone = (country: string) => (country === 'JP' ? '+48 601 234 567' : '+81 3 1234 5678');

const address: Case[] = [
  ['blank street', (o) => void (o.shippingAddress!.street = '   '), ['STREET_MISSING@shippingAddress.street']],
  ['missing city', (o) => void delete o.shippingAddress!.city, ['CITY_MISSING@shippingAddress.city']],
  ['postal code of one character', (o) => void (o.shippingAddress!.postalCode = '1'), ['POSTAL_CODE_INVALID@shippingAddress.postalCode']],
  ['no postal code', (o) => void (o.shippingAddress!.postalCode = null), ['POSTAL_CODE_INVALID@shippingAddress.postalCode']],
  ['courier without phone', (o) => void (o.customer.phone = null), ['PHONE_MISSING@customer.phone']],
  ['a Japanese phone number', (o, c) => void (o.customer.phone = foreignPhone(c)), ['PHONE_INVALID@customer.phone']],
  ['malformed e-mail', (o) => void (o.customer.email = 'customer@example'), ['EMAIL_INVALID@customer.email']],
  ['parcel locker without locker', (o) => void (o.delivery = { method: 'parcel_locker', lockerId: ' ' }), ['LOCKER_MISSING@delivery.lockerId']],
  ['store pickup without store', (o) => void (o.delivery = { method: 'pickup_in_store', storeId: null }), ['STORE_MISSING@delivery.storeId']],
  ['no shipping address for a courier', (o) => void (o.shippingAddress = null), ['ADDRESS_MISSING@shippingAddress']],
];

const payment: Case[] = [
  ['failed card payment', (o) => void (o.payment.status = 'failed'), ['PAYMENT_FAILED@payment.status']],
  ['bank transfer not yet arrived', (o) => void (o.payment = { ...o.payment, method: 'bank_transfer', status: 'pending' }), ['PAYMENT_PENDING@payment.status']],
  ['payment amount short of the grand total', (o) => void (o.payment.amount = '114.90'), ['AMOUNT_MISMATCH@payment.amount']],
  ['payment in another currency', (o) => void (o.payment.currency = o.currency === 'USD' ? 'EUR' : 'USD'), ['CURRENCY_MISMATCH@payment.currency']],
  ['subtotal typo (grand total right)', (o) => void (o.totals.subtotal = '99.00'), ['TOTALS_INCONSISTENT@totals.subtotal']],
  ['unit price with three decimals', (o) => void (o.lines[0]!.unitPrice = '49.955'), ['AMOUNT_INVALID@lines[0].unitPrice']],
];

/**
 * The country's own valid tax id made wrong: its check digit changed (the last digit, before the Dutch
 * "B01" branch suffix). A US EIN has no check digit: its prefix becomes one the IRS never assigned (07).
 */
function brokenTaxId(taxId: string, country: string): string {
  if (country === 'US') return `07${taxId.slice(2)}`;
  const body = country === 'NL' ? taxId.replace(/B\d{2}$/, '') : taxId;
  const i = body.search(/\d(?!.*\d)/);
  return taxId.slice(0, i) + String((Number(taxId[i]) + 1) % 10) + taxId.slice(i + 1);
}

const invoice: Case[] = [
  ['no company name', (o) => void (o.invoice!.companyName = '  '), ['INVOICE_COMPANY_MISSING@invoice.companyName']],
  ['no tax id', (o) => void (o.invoice!.taxId = null), ['TAX_ID_MISSING@invoice.taxId']],
  ['its own tax id with its check digit changed', (o, c) => void (o.invoice!.taxId = brokenTaxId(o.invoice!.taxId!, c)), ['TAX_ID_INVALID@invoice.taxId']],
  ['invoice address without city', (o) => void (o.invoice!.address!.city = null), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.city']],
  ['invoice postal code of one character', (o) => void (o.invoice!.address!.postalCode = '1'), ['INVOICE_ADDRESS_INCOMPLETE@invoice.address.postalCode']],
];

const countries = COUNTRY_DATA.map((d) => d.country);

describe.each(countries)('an order from %s', (country) => {
  it('is clean as it is', () => {
    const order = validOrder(country);
    expect([...checkAddress(order), ...checkPayment(order), ...checkInvoice(order)]).toEqual([]);
  });
  it.each(address)('address: %s', (_name, mutate, expected) => {
    const order = copy(validOrder(country));
    mutate(order, country);
    expect(codes(checkAddress(order))).toEqual(expected);
  });
  it.each(payment)('payment: %s', (_name, mutate, expected) => {
    const order = copy(validOrder(country));
    mutate(order, country);
    expect(codes(checkPayment(order))).toEqual(expected);
  });
  it.each(invoice)('invoice: %s', (_name, mutate, expected) => {
    const order = copy(validOrder(country));
    mutate(order, country);
    expect(codes(checkInvoice(order))).toEqual(expected);
  });
});

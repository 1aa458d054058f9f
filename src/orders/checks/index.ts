import type { Issue, MessageCatalogue } from '../messages.ts';
import { ADDRESS_CODES, checkAddress } from './address.ts';
import { checkInvoice, INVOICE_CODES } from './invoice.ts';
import { checkPayment, PAYMENT_CODES } from './payment.ts';

/**
 * The order checks (SPEC §4): pure functions from an order (any JSON) to a list of issues. No I/O, no
 * clock, no randomness; they never throw on order data.
 */

export type { Issue, IssueCode, MessageCatalogue, MessageParams } from '../messages.ts';
export { MESSAGES_EN, messageFor, isIssueCode } from '../messages.ts';
export {
  ADDRESS_CODES,
  EU_COUNTRIES,
  SHIPPING_COUNTRIES,
  POSTAL_CODE_FORMATS,
  PHONE_SHARED_NUMBERING,
  checkAddress,
  isValidEmail,
  isValidPhone,
  isValidPostalCode,
  isIsoCountry,
  verifyPhone,
  verifyPostalCode,
  type AddressCheckOptions,
  type AddressCode,
} from './address.ts';
export { PAYMENT_CODES, DEFAULT_COD_LIMIT, checkPayment, type PaymentCheckOptions, type PaymentCode } from './payment.ts';
export { INVOICE_CODES, checkInvoice, type InvoiceCheckOptions, type InvoiceCode } from './invoice.ts';
export { TAX_ID_EXAMPLES, isValidTaxId, verifyTaxId, type TaxIdVerdict } from './taxid.ts';

export const CHECK_NAMES = ['address', 'payment', 'invoice'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** Every code a check can raise, per check: what a ticket's instructions must cover. */
export const CHECK_CODES: Readonly<Record<CheckName, readonly string[]>> = {
  address: ADDRESS_CODES,
  payment: PAYMENT_CODES,
  invoice: INVOICE_CODES,
};

export const ALL_CODES: readonly string[] = [...ADDRESS_CODES, ...PAYMENT_CODES, ...INVOICE_CODES];

export interface CheckOptions {
  /** ISO alpha-2 codes Ordo ships to. Default: the EU plus NO, CH, GB, US, CN. */
  shippingCountries?: Iterable<string>;
  /** Highest grand total for cash on delivery, decimal string in the order currency. Default "5000.00". */
  codLimit?: string;
  /** Message catalogue; default English. */
  messages?: MessageCatalogue;
}

export interface CheckIssue extends Issue {
  check: CheckName;
}

/** All three checks, in the order address, payment, invoice (what `POST /orders/validate` answers). */
export function runAllChecks(order: unknown, options: CheckOptions = {}): CheckIssue[] {
  const { shippingCountries, codLimit, messages } = options;
  const tag = (check: CheckName) => (issue: Issue): CheckIssue => ({ check, ...issue });
  return [
    ...checkAddress(order, { shippingCountries, messages }).map(tag('address')),
    ...checkPayment(order, { codLimit, messages }).map(tag('payment')),
    ...checkInvoice(order, { messages }).map(tag('invoice')),
  ];
}

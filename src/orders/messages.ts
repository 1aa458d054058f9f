import countries from 'i18n-iso-countries';
import type { AddressCode } from './checks/address.ts';
import type { InvoiceCode } from './checks/invoice.ts';
import type { PaymentCode } from './checks/payment.ts';

/**
 * Issues and the words operators read about them.
 *
 * A check decides *what* is wrong (a code, the field at fault, the facts as parameters); a catalogue
 * turns that into a sentence. Every language is one `MessageCatalogue`: a template per code, so the
 * compiler refuses a translation that forgets a code. Templates must read well with any parameter
 * missing, because a FEEL script may call `issue("PHONE_MISSING", "customer.phone")` with none.
 */

export type IssueCode = AddressCode | PaymentCode | InvoiceCode;

/** One broken rule. `field` is a JSON path into the order: `shippingAddress.postalCode`, `lines[2].unitPrice`. */
export interface Issue {
  code: string;
  field: string;
  message: string;
}

/** The facts a check hands to a template. All optional; which ones a code uses is documented per template. */
export interface MessageParams {
  /** Which variant of the rule broke (e.g. `missing`, `invalid`, `wrong_country`). */
  reason?: string;
  /** The offending value as the order carries it. */
  value?: string;
  /** ISO 3166-1 alpha-2 country the value was checked against (shipping or invoice country). */
  country?: string;
  /** Another country involved: where a phone number or a tax id actually belongs. */
  otherCountry?: string;
  /** A correct example for the country (a postal code, a tax id). */
  example?: string;
  /** Delivery or payment method, as in the order (`parcel_locker`, `bank_transfer`). */
  method?: string;
  /** Payment reference from the payment provider. */
  reference?: string;
  /** Which amount: `subtotal`, `shipping`, `tax`, `grandTotal`, `paymentAmount`, `unitPrice`, `quantity`, `line`, `totals`. */
  subject?: string;
  /** 1-based line number, as an operator counts. */
  line?: number;
  sku?: string;
  /** What the amount should be (decimal string). */
  expected?: string;
  /** What the order says (decimal string). */
  actual?: string;
  currency?: string;
  otherCurrency?: string;
  limit?: string;
  /** Part of an address: `address`, `street`, `postalCode`, `city`, `country`. */
  part?: string;
}

export type MessageTemplate = (params: MessageParams) => string;
export type MessageCatalogue = Readonly<Record<IssueCode, MessageTemplate>>;

// English names where the ISO short name reads oddly in a sentence.
const COUNTRY_NAMES_EN: Readonly<Record<string, string>> = {
  GB: 'the United Kingdom',
  US: 'the United States',
  CN: 'China',
  NL: 'the Netherlands',
  CZ: 'Czechia',
};

/** "Poland (PL)"; an unknown code is shown as it is. */
export function countryLabelEn(code: string | undefined): string {
  if (!code) return 'an unknown country';
  const name = COUNTRY_NAMES_EN[code] ?? countries.getName(code, 'en');
  return name ? `${name} (${code})` : `"${code}"`;
}

const DELIVERY_EN: Readonly<Record<string, string>> = {
  courier: 'courier delivery',
  parcel_locker: 'parcel locker delivery',
  pickup_in_store: 'pickup in store',
  digital: 'digital delivery',
};

const PAYMENT_EN: Readonly<Record<string, string>> = {
  card: 'card payment',
  blik: 'BLIK payment',
  bank_transfer: 'bank transfer',
  paypal: 'PayPal payment',
  cod: 'cash-on-delivery payment',
};

const AMOUNT_EN: Readonly<Record<string, string>> = {
  subtotal: 'subtotal',
  shipping: 'shipping cost',
  tax: 'tax',
  grandTotal: 'grand total',
  paymentAmount: 'payment amount',
  unitPrice: 'unit price',
};

// Local names of tax ids, so the operator knows what to ask the customer for.
const TAX_ID_KIND_EN: Readonly<Record<string, string>> = {
  PL: 'Polish NIP',
  DE: 'German VAT number (USt-IdNr.)',
  NO: 'Norwegian organisation number',
  SE: 'Swedish VAT number (momsregistreringsnummer)',
  GB: 'UK VAT number',
  CH: 'Swiss UID (VAT number)',
  US: 'US employer identification number (EIN)',
  CN: 'Chinese unified social credit code',
};

function taxIdKind(country: string | undefined): string {
  if (!country) return 'VAT number';
  return TAX_ID_KIND_EN[country] ?? `VAT number of ${countryLabelEn(country)}`;
}

const quoted = (value: string | undefined) => (value === undefined ? '' : ` "${value}"`);
const eg = (example: string | undefined) => (example ? ` (for example ${example})` : '');
const money = (amount: string | undefined, currency: string | undefined) =>
  amount === undefined ? '' : currency ? `${amount} ${currency}` : amount;

function lineLabel(p: MessageParams): string {
  if (p.line === undefined) return 'an order line';
  return p.sku ? `line ${p.line} (${p.sku})` : `line ${p.line}`;
}

export const MESSAGES_EN: MessageCatalogue = {
  // ── address ────────────────────────────────────────────────────────────────
  DELIVERY_METHOD_INVALID: (p) =>
    p.value
      ? `The delivery method "${p.value}" is unknown; it must be courier, parcel_locker, pickup_in_store or digital.`
      : 'The order has no delivery method; it must be courier, parcel_locker, pickup_in_store or digital.',
  ADDRESS_MISSING: () => 'The order is to be delivered by courier, but it has no shipping address.',
  STREET_MISSING: () => 'The shipping address has no street and house number.',
  CITY_MISSING: () => 'The shipping address has no city.',
  POSTAL_CODE_INVALID: (p) => {
    if (p.reason === 'missing') return 'The shipping address has no postal code.';
    if (!p.country) return `The postal code${quoted(p.value)} is not valid for the shipping country.`;
    return `The postal code${quoted(p.value)} is not a valid postal code for ${countryLabelEn(p.country)}${eg(p.example)}.`;
  },
  COUNTRY_UNSUPPORTED: (p) => {
    if (p.reason === 'missing') return 'The shipping address has no country; enter its two-letter ISO code, e.g. PL or DE.';
    if (p.reason === 'unknown') {
      if (p.value === 'UK') return '"UK" is not an ISO country code; the United Kingdom is GB.';
      return `The country${quoted(p.value)} is not a two-letter ISO 3166-1 country code (e.g. PL for Poland, DE for Germany).`;
    }
    if (p.country) return `Ordo does not ship to ${countryLabelEn(p.country)}.`;
    return 'Ordo does not ship to the country of the shipping address.';
  },
  PHONE_MISSING: (p) =>
    p.method === 'parcel_locker'
      ? 'The customer has no phone number; parcel locker delivery needs one to send the pick-up code.'
      : p.method === 'courier'
        ? 'The customer has no phone number; courier delivery needs one so the courier can call.'
        : 'The customer has no phone number.',
  PHONE_INVALID: (p) => {
    const number = p.value ? `The phone number ${p.value}` : 'The phone number';
    if (p.reason === 'not_international') {
      return `${number} cannot be checked because the order has no country; write it in international form with + and the country code, e.g. +48 601 234 567.`;
    }
    if (!p.country) return `${number} is not a valid phone number.`;
    const base = `${number} is not a valid number for ${countryLabelEn(p.country)}.`;
    return p.reason === 'wrong_country' && p.otherCountry ? `${base} It is a number from ${countryLabelEn(p.otherCountry)}.` : base;
  },
  LOCKER_MISSING: () => 'Parcel locker delivery was chosen, but no parcel locker is given.',
  STORE_MISSING: () => 'Pickup in store was chosen, but no store is given.',
  EMAIL_INVALID: (p) => `The e-mail address${quoted(p.value)} is not a valid e-mail address.`,

  // ── payment ────────────────────────────────────────────────────────────────
  PAYMENT_INVALID: (p) => {
    if (p.reason === 'method') {
      return p.value
        ? `The payment method "${p.value}" is unknown; it must be card, blik, bank_transfer, paypal or cod.`
        : 'The payment has no payment method.';
    }
    if (p.reason === 'status') {
      return p.value
        ? `The payment status "${p.value}" is unknown; it must be pending, authorized, paid, failed or refunded.`
        : 'The payment has no status.';
    }
    return 'The order has no payment information.';
  },
  PAYMENT_FAILED: (p) =>
    `The ${PAYMENT_EN[p.method ?? ''] ?? 'payment'} failed${p.reference ? ` (reference ${p.reference})` : ''}; the customer has to pay again or the order is cancelled.`,
  PAYMENT_REFUNDED: (p) =>
    `The ${PAYMENT_EN[p.method ?? ''] ?? 'payment'} was refunded${p.reference ? ` (reference ${p.reference})` : ''}; the order must not ship without a new payment.`,
  PAYMENT_PENDING: (p) =>
    `The ${PAYMENT_EN[p.method ?? ''] ?? 'payment'}${p.actual ? ` of ${money(p.actual, p.currency)}` : ''} has not been confirmed yet.`,
  AMOUNT_INVALID: (p) => {
    if (p.subject === 'quantity') {
      return `The quantity of ${lineLabel(p)} must be a whole number of at least 1${p.value !== undefined ? `, not "${p.value}"` : ''}.`;
    }
    if (p.subject === 'line') return `${capitalize(lineLabel(p))} is not an order line with a SKU, a quantity and a unit price.`;
    if (p.subject === 'totals') return 'The order has no totals (subtotal, shipping, tax, grand total).';
    const what = AMOUNT_EN[p.subject ?? ''] ?? 'amount';
    const ofLine = p.subject === 'unitPrice' ? ` of ${lineLabel(p)}` : '';
    return p.value === undefined
      ? `The ${what}${ofLine} is missing.`
      : `The ${what} "${p.value}"${ofLine} is not a valid amount; write it as text with at most two decimals, e.g. "129.90".`;
  },
  AMOUNT_MISMATCH: (p) =>
    p.actual && p.expected
      ? `The payment amount ${money(p.actual, p.currency)} does not match the grand total ${money(p.expected, p.currency)}.`
      : 'The payment amount does not match the grand total.',
  CURRENCY_MISMATCH: (p) => {
    if (p.reason === 'order_currency') return `The order currency${quoted(p.value)} is not a three-letter ISO 4217 code such as PLN or EUR.`;
    if (p.reason === 'payment_currency') return `The payment currency${quoted(p.value)} is not a three-letter ISO 4217 code such as PLN or EUR.`;
    return p.currency && p.otherCurrency
      ? `The payment is in ${p.otherCurrency}, but the order is in ${p.currency}.`
      : 'The payment currency differs from the order currency.';
  },
  TOTALS_INCONSISTENT: (p) => {
    if (p.subject === 'subtotal') {
      return p.actual && p.expected
        ? `The subtotal ${money(p.actual, p.currency)} does not equal the sum of the order lines (quantity × unit price), ${money(p.expected, p.currency)}.`
        : 'The subtotal does not equal the sum of the order lines.';
    }
    return p.actual && p.expected
      ? `The grand total ${money(p.actual, p.currency)} does not equal subtotal + shipping + tax, ${money(p.expected, p.currency)}.`
      : 'The grand total does not equal subtotal + shipping + tax.';
  },
  LINES_MISSING: () => 'The order has no order lines.',
  COD_NOT_ALLOWED: (p) => {
    if (p.reason === 'limit') {
      return p.limit && p.actual
        ? `Cash on delivery is allowed up to ${money(p.limit, p.currency)}; this order totals ${money(p.actual, p.currency)}.`
        : 'The order total is over the cash-on-delivery limit.';
    }
    return p.method && DELIVERY_EN[p.method]
      ? `Cash on delivery is only possible with courier delivery, not with ${DELIVERY_EN[p.method]}.`
      : 'Cash on delivery is only possible with courier delivery.';
  },

  // ── invoice ────────────────────────────────────────────────────────────────
  INVOICE_COMPANY_MISSING: () => 'An invoice was requested, but no company name is given.',
  TAX_ID_MISSING: () => 'An invoice was requested, but no tax id (VAT number) is given.',
  TAX_ID_INVALID: (p) => {
    const id = p.value ? `The tax id "${p.value}"` : 'The tax id';
    if (p.reason === 'country_mismatch') {
      return `${id} belongs to ${countryLabelEn(p.otherCountry)}, but the invoice address is in ${countryLabelEn(p.country)}.`;
    }
    if (p.reason === 'checksum') {
      return `${id} is not a valid ${taxIdKind(p.country)}: its check digits do not match, so a digit is probably mistyped.`;
    }
    if (p.country) return `${id} does not have the format of a ${taxIdKind(p.country)}${eg(p.example)}.`;
    return `${id} is not a valid tax id.`;
  },
  INVOICE_ADDRESS_INCOMPLETE: (p) => {
    switch (p.part) {
      case 'street':
        return 'The invoice address has no street and house number.';
      case 'city':
        return 'The invoice address has no city.';
      case 'postalCode':
        if (p.reason === 'missing') return 'The invoice address has no postal code.';
        return p.country
          ? `The postal code${quoted(p.value)} of the invoice address is not a valid postal code for ${countryLabelEn(p.country)}${eg(p.example)}.`
          : `The postal code${quoted(p.value)} of the invoice address is not valid.`;
      case 'country':
        if (p.reason === 'missing') return 'The invoice address has no country; enter its two-letter ISO code, e.g. PL or DE.';
        if (p.value === 'UK') return 'The invoice country "UK" is not an ISO country code; the United Kingdom is GB.';
        return `The invoice country${quoted(p.value)} is not a two-letter ISO 3166-1 country code.`;
      default:
        return 'An invoice was requested, but the invoice address is missing.';
    }
  },
};

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function isIssueCode(code: unknown): code is IssueCode {
  return typeof code === 'string' && Object.hasOwn(MESSAGES_EN, code);
}

/** The sentence for a code; an unknown code (from a FEEL script) gets a neutral sentence naming it. */
export function messageFor(code: string, params: MessageParams = {}, catalogue: MessageCatalogue = MESSAGES_EN): string {
  if (isIssueCode(code)) return catalogue[code](params);
  return `The order needs attention: ${code}.`;
}

/** Builds issues with one catalogue; each check makes one per call. */
export type IssueFactory = (code: IssueCode, field: string, params?: MessageParams) => Issue;

export function issueFactory(catalogue: MessageCatalogue = MESSAGES_EN): IssueFactory {
  return (code, field, params = {}) => ({ code, field, message: catalogue[code](params) });
}

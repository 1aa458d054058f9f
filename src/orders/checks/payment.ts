import { issueFactory, type Issue, type MessageCatalogue } from '../messages.ts';
import { formatMinorUnits, multiplyMinorUnits, parseMoney, type MinorUnits } from '../money.ts';
import { PAYMENT_METHODS, PAYMENT_STATUSES } from '../schema.ts';
import { asRecord, readText } from './address.ts';

/**
 * The payment check: is the money there, in the right currency, and do the numbers add up?
 *
 * - Totals (SPEC §3): subtotal = Σ quantity × unitPrice; grandTotal = subtotal + shipping + tax, all in
 *   exact minor units. When the subtotal itself is wrong, the grand total is compared with the lines'
 *   sum instead of the wrong subtotal, so one typo gives one issue.
 * - Status: `failed` → PAYMENT_FAILED; `refunded` → PAYMENT_REFUNDED (the money went back: nothing may
 *   ship); `pending` → PAYMENT_PENDING for every prepaid method (bank_transfer and blik by nature, card
 *   and paypal while an authorisation is under review): a wait for the payment-confirmed message, not
 *   an error. Cash on delivery is pending until the courier collects, so it raises nothing.
 * - Amount and currency of the payment must match the grand total and the order currency; a payment
 *   that failed is still compared (the customer's retry must match too).
 * - Cash on delivery only with courier delivery and up to `codLimit` in the order currency.
 * - Amounts that cannot be read (not a decimal string with at most two decimals, a quantity that is
 *   not a whole number ≥ 1) are AMOUNT_INVALID, and the sums that need them are not compared.
 */

export const PAYMENT_CODES = [
  'PAYMENT_INVALID',
  'PAYMENT_FAILED',
  'PAYMENT_REFUNDED',
  'PAYMENT_PENDING',
  'AMOUNT_INVALID',
  'AMOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
  'TOTALS_INCONSISTENT',
  'LINES_MISSING',
  'COD_NOT_ALLOWED',
] as const;
export type PaymentCode = (typeof PAYMENT_CODES)[number];

/** Default cash-on-delivery ceiling, in the order currency. */
export const DEFAULT_COD_LIMIT = '5000.00';

export interface PaymentCheckOptions {
  /** Highest grand total (decimal string, order currency) accepted for cash on delivery. Default "5000.00". */
  codLimit?: string;
  /** Message catalogue; default English. */
  messages?: MessageCatalogue;
}

const TOTAL_FIELDS = ['subtotal', 'shipping', 'tax', 'grandTotal'] as const;
type TotalField = (typeof TOTAL_FIELDS)[number];

/** The option is the integrator's, not the order's: a malformed one is a programming error and throws. */
export function resolveCodLimit(codLimit: string | undefined): MinorUnits {
  const limit = parseMoney(codLimit ?? DEFAULT_COD_LIMIT);
  if (limit === null) throw new RangeError(`codLimit must be a decimal string with at most two decimals, got ${JSON.stringify(codLimit)}`);
  return limit;
}

const DEFAULT_COD_LIMIT_MINOR = resolveCodLimit(undefined);

function readCurrency(value: unknown): string | undefined {
  const text = readText(value)?.toUpperCase();
  return text !== undefined && /^[A-Z]{3}$/.test(text) ? text : undefined;
}

/** What the order says, for a message: the string as given, or the JSON of anything else. */
function shown(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function checkPayment(order: unknown, options: PaymentCheckOptions = {}): Issue[] {
  const issue = issueFactory(options.messages);
  const codLimit = options.codLimit === undefined ? DEFAULT_COD_LIMIT_MINOR : resolveCodLimit(options.codLimit);
  const root = asRecord(order) ?? {};
  const issues: Issue[] = [];

  const rawCurrency = root.currency;
  const currency = readCurrency(rawCurrency);
  if (currency === undefined) {
    issues.push(issue('CURRENCY_MISMATCH', 'currency', { reason: 'order_currency', ...opt('value', shown(rawCurrency)) }));
  }
  const inCurrency = currency ? { currency } : {};

  // ── lines ──
  let linesTotal: MinorUnits | undefined;
  const lines = root.lines;
  if (!Array.isArray(lines) || lines.length === 0) {
    issues.push(issue('LINES_MISSING', 'lines'));
  } else {
    let sum = 0n;
    let readable = true;
    for (const [index, rawLine] of lines.entries()) {
      const field = `lines[${index}]`;
      const at = { line: index + 1 };
      const line = asRecord(rawLine);
      if (line === undefined) {
        readable = false;
        issues.push(issue('AMOUNT_INVALID', field, { subject: 'line', ...at }));
        continue;
      }
      const sku = readText(line.sku);
      const where = sku ? { ...at, sku } : at;
      const quantity = typeof line.quantity === 'number' && Number.isSafeInteger(line.quantity) && line.quantity >= 1 ? line.quantity : undefined;
      if (quantity === undefined) {
        issues.push(issue('AMOUNT_INVALID', `${field}.quantity`, { subject: 'quantity', ...where, ...opt('value', shown(line.quantity)) }));
      }
      const unitPrice = parseMoney(line.unitPrice);
      if (unitPrice === null) {
        issues.push(issue('AMOUNT_INVALID', `${field}.unitPrice`, { subject: 'unitPrice', ...where, ...opt('value', shown(line.unitPrice)) }));
      }
      if (quantity !== undefined && unitPrice !== null) sum += multiplyMinorUnits(unitPrice, quantity);
      else readable = false;
    }
    if (readable) linesTotal = sum;
  }

  // ── totals ──
  const totals = asRecord(root.totals);
  const stated: Partial<Record<TotalField, MinorUnits>> = {};
  if (totals === undefined) {
    issues.push(issue('AMOUNT_INVALID', 'totals', { subject: 'totals' }));
  } else {
    for (const name of TOTAL_FIELDS) {
      const amount = parseMoney(totals[name]);
      if (amount === null) issues.push(issue('AMOUNT_INVALID', `totals.${name}`, { subject: name, ...opt('value', shown(totals[name])) }));
      else stated[name] = amount;
    }
  }
  const subtotalWrong = linesTotal !== undefined && stated.subtotal !== undefined && stated.subtotal !== linesTotal;
  if (subtotalWrong) {
    issues.push(
      issue('TOTALS_INCONSISTENT', 'totals.subtotal', {
        subject: 'subtotal',
        actual: formatMinorUnits(stated.subtotal ?? 0n),
        expected: formatMinorUnits(linesTotal ?? 0n),
        ...inCurrency,
      }),
    );
  }
  const subtotalBasis = subtotalWrong ? linesTotal : stated.subtotal;
  if (subtotalBasis !== undefined && stated.shipping !== undefined && stated.tax !== undefined && stated.grandTotal !== undefined) {
    const expected = subtotalBasis + stated.shipping + stated.tax;
    if (expected !== stated.grandTotal) {
      issues.push(
        issue('TOTALS_INCONSISTENT', 'totals.grandTotal', {
          subject: 'grandTotal',
          actual: formatMinorUnits(stated.grandTotal),
          expected: formatMinorUnits(expected),
          ...inCurrency,
        }),
      );
    }
  }

  // ── payment ──
  const payment = asRecord(root.payment);
  if (payment === undefined) {
    issues.push(issue('PAYMENT_INVALID', 'payment', { reason: 'missing' }));
    return issues;
  }
  const rawMethod = readText(payment.method);
  const method = (PAYMENT_METHODS as readonly string[]).includes(rawMethod ?? '') ? rawMethod : undefined;
  if (method === undefined) issues.push(issue('PAYMENT_INVALID', 'payment.method', { reason: 'method', ...opt('value', rawMethod) }));
  const rawStatus = readText(payment.status);
  const status = (PAYMENT_STATUSES as readonly string[]).includes(rawStatus ?? '') ? rawStatus : undefined;
  if (status === undefined) issues.push(issue('PAYMENT_INVALID', 'payment.status', { reason: 'status', ...opt('value', rawStatus) }));

  const reference = readText(payment.reference);
  const about = { ...opt('method', method), ...opt('reference', reference) };
  const amount = parseMoney(payment.amount);

  if (status === 'failed') issues.push(issue('PAYMENT_FAILED', 'payment.status', about));
  if (status === 'refunded') issues.push(issue('PAYMENT_REFUNDED', 'payment.status', about));
  if (status === 'pending' && method !== undefined && method !== 'cod') {
    issues.push(issue('PAYMENT_PENDING', 'payment.status', { ...about, ...opt('actual', amount === null ? undefined : formatMinorUnits(amount)), ...inCurrency }));
  }

  if (amount === null) {
    issues.push(issue('AMOUNT_INVALID', 'payment.amount', { subject: 'paymentAmount', ...opt('value', shown(payment.amount)) }));
  } else if (stated.grandTotal !== undefined && amount !== stated.grandTotal) {
    issues.push(
      issue('AMOUNT_MISMATCH', 'payment.amount', {
        actual: formatMinorUnits(amount),
        expected: formatMinorUnits(stated.grandTotal),
        ...inCurrency,
      }),
    );
  }

  const rawPaymentCurrency = payment.currency;
  const paymentCurrency = readCurrency(rawPaymentCurrency);
  if (paymentCurrency === undefined) {
    issues.push(issue('CURRENCY_MISMATCH', 'payment.currency', { reason: 'payment_currency', ...opt('value', shown(rawPaymentCurrency)) }));
  } else if (currency !== undefined && paymentCurrency !== currency) {
    issues.push(issue('CURRENCY_MISMATCH', 'payment.currency', { reason: 'mismatch', currency, otherCurrency: paymentCurrency }));
  }

  if (method === 'cod') {
    const deliveryMethod = readText(asRecord(root.delivery)?.method);
    if (deliveryMethod !== 'courier') {
      issues.push(issue('COD_NOT_ALLOWED', 'payment.method', { reason: 'delivery', ...opt('method', deliveryMethod) }));
    }
    if (stated.grandTotal !== undefined && stated.grandTotal > codLimit) {
      issues.push(
        issue('COD_NOT_ALLOWED', 'totals.grandTotal', {
          reason: 'limit',
          limit: formatMinorUnits(codLimit),
          actual: formatMinorUnits(stated.grandTotal),
          ...inCurrency,
        }),
      );
    }
  }
  return issues;
}

/** `{ [key]: value }` when the value is there, `{}` otherwise: keeps absent facts out of message params. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

import {
  ADDRESS_CODES,
  ALL_CODES,
  INVOICE_CODES,
  PAYMENT_CODES,
  checkAddress,
  checkInvoice,
  checkPayment,
  isValidEmail,
  isValidPhone,
  isValidPostalCode,
  isValidTaxId,
  messageFor,
  runAllChecks,
  type CheckOptions,
  type Issue,
} from './checks/index.ts';
import { resolveCodLimit } from './checks/payment.ts';
import { formatMinorUnits, parseMoney, type MinorUnits } from './money.ts';

/**
 * The order checks as FEEL functions, for script tasks and sequence-flow conditions:
 *
 *   evaluate('validate address(order)', { order, ...createFeelLibrary() })
 *
 * feelin resolves names with spaces from the evaluation context and calls plain JS functions with
 * positional arguments (named ones are mapped by parameter name); FEEL contexts arrive as plain objects,
 * lists as arrays, numbers as JS numbers, null as null. feelin reads a function's parameter names from
 * its `$args` (else from its source text), so every function here carries `$args`: names survive
 * bundling and minification.
 */

export type FeelLibraryOptions = CheckOptions;

export type FeelCallable = ((...args: unknown[]) => unknown) & { $args: readonly string[] };
export type FeelLibrary = Readonly<Record<string, FeelCallable>>;

export interface FeelParam {
  name: string;
  type: string;
  optional?: boolean;
  description: string;
}

export interface FeelFunctionInfo {
  /** The FEEL name, spaces included. */
  name: string;
  params: readonly FeelParam[];
  returns: string;
  description: string;
  /** Issue codes the function can return; the deploy validator wants ticket instructions for each. */
  raises: readonly string[];
  /** Set when the function raises whatever code its caller passes in this parameter (`issue`). */
  raisesCodeFromParam?: string;
  example: string;
}

const ORDER_PARAM: FeelParam = { name: 'order', type: 'context', description: 'the order (the `order` variable)' };
const COUNTRY_PARAM: FeelParam = { name: 'country', type: 'string', description: 'ISO 3166-1 alpha-2 country code, e.g. "PL"' };

export const FEEL_FUNCTIONS: readonly FeelFunctionInfo[] = [
  {
    name: 'validate address',
    params: [ORDER_PARAM],
    returns: 'list<context{code, field, message}>',
    description: 'Delivery data: shipping address by delivery method, postal code per country, phone for the shipping country, e-mail syntax.',
    raises: ADDRESS_CODES,
    example: 'validate address(order)',
  },
  {
    name: 'validate payment',
    params: [ORDER_PARAM],
    returns: 'list<context{code, field, message}>',
    description: 'Payment status, amount and currency against the order, totals that add up, cash-on-delivery rules.',
    raises: PAYMENT_CODES,
    example: 'validate payment(order)',
  },
  {
    name: 'validate invoice',
    params: [ORDER_PARAM],
    returns: 'list<context{code, field, message}>',
    description: 'When an invoice is requested: company name, tax id (format, check digits, country prefix) and invoice address.',
    raises: INVOICE_CODES,
    example: 'validate invoice(order)',
  },
  {
    name: 'validate order',
    params: [ORDER_PARAM],
    returns: 'list<context{check, code, field, message}>',
    description: 'All three checks (address, payment, invoice); each issue also names its check.',
    raises: ALL_CODES,
    example: 'validate order(order)',
  },
  {
    name: 'is valid phone',
    params: [
      { name: 'phone', type: 'string', description: 'the phone number as typed' },
      { ...COUNTRY_PARAM, optional: true, description: 'the country the number must belong to; null: any, but then it must start with +' },
    ],
    returns: 'boolean',
    description: 'Whether the number is a valid number of that country (libphonenumber metadata).',
    raises: [],
    example: 'is valid phone(order.customer.phone, order.shippingAddress.country)',
  },
  {
    name: 'is valid postal code',
    params: [{ name: 'code', type: 'string', description: 'the postal code as typed' }, COUNTRY_PARAM],
    returns: 'boolean',
    description: "Whether the postal code is written in the country's format.",
    raises: [],
    example: 'is valid postal code(order.shippingAddress.postalCode, order.shippingAddress.country)',
  },
  {
    name: 'is valid tax id',
    params: [
      { name: 'id', type: 'string', description: 'the tax id, with or without country prefix' },
      { ...COUNTRY_PARAM, optional: true, description: 'the invoice country; null: the prefix decides' },
    ],
    returns: 'boolean',
    description: 'Whether the tax id has the format and check digits of that country and no prefix of another.',
    raises: [],
    example: 'is valid tax id(order.invoice.taxId, order.invoice.address.country)',
  },
  {
    name: 'is valid email',
    params: [{ name: 'email', type: 'string', description: 'the e-mail address' }],
    returns: 'boolean',
    description: 'Whether the e-mail address is syntactically valid.',
    raises: [],
    example: 'is valid email(order.customer.email)',
  },
  {
    name: 'issue',
    params: [
      { name: 'code', type: 'string', description: 'issue code, e.g. "PHONE_MISSING" or one of your own' },
      { name: 'field', type: 'string', description: 'JSON path of the field at fault, e.g. "customer.phone"' },
      { name: 'message', type: 'string', optional: true, description: "the operator's sentence; null: the catalogue's for the code" },
    ],
    returns: 'context{code, field, message}',
    description: 'Builds one issue, for scripts with rules of their own.',
    raises: [],
    raisesCodeFromParam: 'code',
    example: 'if order.totals.grandTotal = "0.00" then [issue("ZERO_ORDER", "totals.grandTotal", "The order is free; check the voucher.")] else []',
  },
  {
    name: 'money',
    params: [{ name: 'amount', type: 'string', description: 'a decimal amount such as "129.90"' }],
    returns: 'number',
    description: 'The amount as a FEEL number, for comparisons; null when it is not an amount with at most two decimals.',
    raises: [],
    example: 'money(order.totals.grandTotal) > 1000',
  },
  {
    name: 'sum money',
    params: [{ name: 'amounts', type: 'list<string>', description: 'decimal amounts (or several arguments)' }],
    returns: 'number',
    description: 'The exact sum of decimal amounts (computed in minor units, not floats) as a FEEL number; null if any is not an amount.',
    raises: [],
    example: 'sum money(["0.10", "0.20"]) = 0.3',
  },
];

function feelFunction<F extends (...args: never[]) => unknown>(params: readonly string[], fn: F): FeelCallable {
  return Object.assign(fn as unknown as (...args: unknown[]) => unknown, { $args: params });
}

/** A FEEL number or a decimal string as exact minor units; FEEL numbers go through their shortest decimal text. */
function readAmount(value: unknown): MinorUnits | null {
  if (typeof value === 'number') return Number.isFinite(value) ? parseMoney(String(value)) : null;
  return parseMoney(value);
}

/**
 * FEEL numbers are JS doubles. The exact decimal text converts to the same double a FEEL literal does,
 * so `money("0.30") = 0.3` holds; only the final result crosses to floating point, never a sum.
 */
function toFeelNumber(minor: MinorUnits): number {
  return Number(formatMinorUnits(minor));
}

const nullable = (value: unknown) => (value === undefined || value === null ? undefined : value);

export function createFeelLibrary(options: FeelLibraryOptions = {}): FeelLibrary {
  resolveCodLimit(options.codLimit); // a bad option fails at start-up, not in the middle of an order
  const { shippingCountries, codLimit, messages } = options;

  const library: Record<string, FeelCallable> = {
    'validate address': feelFunction(['order'], (order: unknown): Issue[] => checkAddress(order, { shippingCountries, messages })),
    'validate payment': feelFunction(['order'], (order: unknown): Issue[] => checkPayment(order, { codLimit, messages })),
    'validate invoice': feelFunction(['order'], (order: unknown): Issue[] => checkInvoice(order, { messages })),
    'validate order': feelFunction(['order'], (order: unknown) => runAllChecks(order, options)),
    'is valid phone': feelFunction(['phone', 'country'], (phone: unknown, country: unknown) => isValidPhone(phone, nullable(country))),
    'is valid postal code': feelFunction(['code', 'country'], (code: unknown, country: unknown) => isValidPostalCode(code, country)),
    'is valid tax id': feelFunction(['id', 'country'], (id: unknown, country: unknown) => isValidTaxId(id, nullable(country))),
    'is valid email': feelFunction(['email'], (email: unknown) => isValidEmail(email)),
    issue: feelFunction(['code', 'field', 'message'], (code: unknown, field: unknown, message: unknown): Issue | null => {
      if (typeof code !== 'string' || code.trim() === '') return null;
      const path = typeof field === 'string' ? field : '';
      const text = typeof message === 'string' && message.trim() !== '' ? message : messageFor(code, {}, messages);
      return { code, field: path, message: text };
    }),
    money: feelFunction(['amount'], (amount: unknown): number | null => {
      const minor = readAmount(amount);
      return minor === null ? null : toFeelNumber(minor);
    }),
    'sum money': feelFunction(['...amounts'], (...amounts: unknown[]): number | null => {
      const list = amounts.length === 1 && Array.isArray(amounts[0]) ? (amounts[0] as unknown[]) : amounts;
      let total = 0n;
      for (const amount of list) {
        const minor = readAmount(amount);
        if (minor === null) return null;
        total += minor;
      }
      return toFeelNumber(total);
    }),
  };
  return library;
}

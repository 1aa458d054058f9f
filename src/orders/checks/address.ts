import countries from 'i18n-iso-countries';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { validate as postalCodesJsValidate } from 'postal-codes-js';
import { issueFactory, type Issue, type MessageCatalogue } from '../messages.ts';
import { DELIVERY_METHODS, type DeliveryMethod } from '../schema.ts';

/**
 * The delivery check: can the parcel reach the customer, and can the carrier reach them by phone?
 *
 * Required by delivery method:
 * - courier: a shipping address (street, postal code, city, country Ordo ships to) and a phone;
 * - parcel_locker: a locker id and a phone (no street: the parcel goes to the locker);
 * - pickup_in_store: a store id;
 * - digital: nothing physical.
 * The e-mail is optional everywhere but must be well-formed when given; so must a phone that is given
 * where it is not required.
 *
 * Which country a phone must belong to: the shipping country (SPEC §4). Without one (a locker, store or
 * digital order with no shipping address) the invoice country stands in; with neither, a number written
 * in international form (+48 …) must be valid somewhere, and a locker order, which needs the phone for
 * the pick-up code, must write it that way. Territories that share a country's numbering plan count as
 * that country (see PHONE_SHARED_NUMBERING).
 *
 * Robust to any JSON: a missing object, a null, a number where text belongs give issues, never throws.
 */

export const ADDRESS_CODES = [
  'DELIVERY_METHOD_INVALID',
  'ADDRESS_MISSING',
  'STREET_MISSING',
  'CITY_MISSING',
  'POSTAL_CODE_INVALID',
  'COUNTRY_UNSUPPORTED',
  'PHONE_MISSING',
  'PHONE_INVALID',
  'LOCKER_MISSING',
  'STORE_MISSING',
  'EMAIL_INVALID',
] as const;
export type AddressCode = (typeof ADDRESS_CODES)[number];

export const EU_COUNTRIES = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
  'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
] as const;

/** Where Ordo ships by default: the EU plus Norway, Switzerland, the UK, the US and China. */
export const SHIPPING_COUNTRIES: readonly string[] = [...EU_COUNTRIES, 'NO', 'CH', 'GB', 'US', 'CN'];

export interface AddressCheckOptions {
  /** ISO alpha-2 codes Ordo ships to. Default `SHIPPING_COUNTRIES`. */
  shippingCountries?: Iterable<string>;
  /** Message catalogue; default English. */
  messages?: MessageCatalogue;
}

// ── reading arbitrary JSON ─────────────────────────────────────────────────────

/** The value as an object with fields, or undefined for null, arrays and primitives. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Text an operator would call "filled in": a trimmed non-blank string. A finite number counts as its
 * digits (a channel that sends the postal code 10115 as a number still meant 10115); anything else is
 * absent.
 */
export function readText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

// ── countries ──────────────────────────────────────────────────────────────────

/** Trimmed, upper-cased two-letter code if the value looks like one (not yet checked against ISO). */
export function normalizeCountry(value: unknown): string | undefined {
  const text = readText(value)?.toUpperCase();
  return text !== undefined && /^[A-Z]{2}$/.test(text) ? text : undefined;
}

/** Whether the value is an ISO 3166-1 alpha-2 code (any case). Alpha-3 and numeric codes are not accepted. */
export function isIsoCountry(value: unknown): boolean {
  const code = normalizeCountry(value);
  return code !== undefined && countries.isValid(code);
}

/** The ISO alpha-2 code in the value, upper-cased, or undefined. */
export function isoCountry(value: unknown): string | undefined {
  const code = normalizeCountry(value);
  return code !== undefined && countries.isValid(code) ? code : undefined;
}

// ── postal codes ───────────────────────────────────────────────────────────────

export interface PostalCodeFormat {
  /** Matched against the trimmed, upper-cased code with runs of whitespace collapsed to one space. */
  pattern: RegExp;
  example: string;
}

/**
 * Written forms for the countries Ordo ships to. postal-codes-js is asked as well, but on its own it is
 * too lax: it deletes spaces and hyphens anywhere before matching (so "1 0 1 1 5" and "10-115" pass for
 * Germany), lets through UK postcodes with letters Royal Mail never uses ("QQ1 1AA") and Swiss "0000".
 * Both must agree, so a code is valid only in a form a carrier's label software accepts.
 */
export const POSTAL_CODE_FORMATS: Readonly<Record<string, PostalCodeFormat>> = {
  AT: { pattern: /^[1-9]\d{3}$/, example: '1010' },
  BE: { pattern: /^[1-9]\d{3}$/, example: '1000' },
  BG: { pattern: /^[1-9]\d{3}$/, example: '1000' },
  CY: { pattern: /^[1-9]\d{3}$/, example: '1010' },
  CZ: { pattern: /^[1-7]\d{2} ?\d{2}$/, example: '110 00' },
  DE: { pattern: /^(?:0[1-9]|[1-9]\d)\d{3}$/, example: '10115' },
  DK: { pattern: /^(?:DK[- ]?)?\d{4}$/, example: '1050' },
  EE: { pattern: /^[1-9]\d{4}$/, example: '10111' },
  ES: { pattern: /^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$/, example: '28013' },
  FI: { pattern: /^\d{5}$/, example: '00100' },
  FR: { pattern: /^(?:0[1-9]|[1-9]\d)\d{3}$/, example: '75001' },
  GR: { pattern: /^[1-8]\d{2} ?\d{2}$/, example: '105 57' },
  HR: { pattern: /^[1-5]\d{4}$/, example: '10000' },
  HU: { pattern: /^[1-9]\d{3}$/, example: '1051' },
  IE: { pattern: /^(?:[AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}$/, example: 'D02 X285' },
  IT: { pattern: /^\d{5}$/, example: '00184' },
  LT: { pattern: /^(?:LT-?)?\d{5}$/, example: 'LT-01100' },
  LU: { pattern: /^(?:L-?)?\d{4}$/, example: 'L-1009' },
  LV: { pattern: /^(?:LV-?)?\d{4}$/, example: 'LV-1050' },
  MT: { pattern: /^[A-Z]{3} ?\d{4}$/, example: 'VLT 1117' },
  NL: { pattern: /^[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}$/, example: '1012 AB' },
  PL: { pattern: /^\d{2}-\d{3}$/, example: '00-838' },
  PT: { pattern: /^[1-9]\d{3}-\d{3}$/, example: '1100-148' },
  RO: { pattern: /^\d{6}$/, example: '010011' },
  SE: { pattern: /^[1-9]\d{2} ?\d{2}$/, example: '111 52' },
  SI: { pattern: /^[1-9]\d{3}$/, example: '1000' },
  SK: { pattern: /^[089]\d{2} ?\d{2}$/, example: '811 01' },
  NO: { pattern: /^\d{4}$/, example: '0150' },
  CH: { pattern: /^[1-9]\d{3}$/, example: '8001' },
  GB: {
    pattern:
      /^(?:GIR ?0AA|[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRVWXY]) ?\d[ABD-HJLNP-UW-Z]{2})$/,
    example: 'SW1A 1AA',
  },
  US: { pattern: /^\d{5}(?:-\d{4})?$/, example: '10001' },
  CN: { pattern: /^\d{6}$/, example: '100000' },
};

export type PostalCodeVerdict = 'valid' | 'missing' | 'invalid' | 'unknown_country';

function normalizePostalCode(code: string): string {
  return code.replace(/\s+/g, ' ').toUpperCase();
}

/** postal-codes-js answers `true` or an error *string*; anything but `true` is a no. It throws on non-strings, so never pass one. */
function postalCodesJsAccepts(country: string, code: string): boolean {
  try {
    return postalCodesJsValidate(country, code) === true;
  } catch {
    return false;
  }
}

// postal-codes-js loads each country's format file on first use; load ours now, at import, so a check
// never touches the file system.
for (const [country, format] of Object.entries(POSTAL_CODE_FORMATS)) postalCodesJsAccepts(country, format.example);

/** Countries without postal codes (Hong Kong, Ireland before 2015, ...): postal-codes-js accepts anything for them. */
function usesPostalCodes(country: string): boolean {
  return POSTAL_CODE_FORMATS[country] !== undefined || !postalCodesJsAccepts(country, '\u0000');
}

/** Checks a postal code against the country's format; a missing code is fine only where the country has none. */
export function verifyPostalCode(code: unknown, country: unknown): PostalCodeVerdict {
  const cc = isoCountry(country);
  if (cc === undefined) return 'unknown_country';
  const text = readText(code);
  if (text === undefined) return usesPostalCodes(cc) ? 'missing' : 'valid';
  if (text.length > 32) return 'invalid';
  const normalized = normalizePostalCode(text);
  const own = POSTAL_CODE_FORMATS[cc];
  if (own !== undefined && !own.pattern.test(normalized)) return 'invalid';
  return postalCodesJsAccepts(cc, normalized) ? 'valid' : 'invalid';
}

export function isValidPostalCode(code: unknown, country: unknown): boolean {
  return readText(code) !== undefined && verifyPostalCode(code, country) === 'valid';
}

// ── phones ─────────────────────────────────────────────────────────────────────

/**
 * Territories inside a country's national numbering plan that libphonenumber reports under their own
 * region: "07911 123456" dialled in London is a Guernsey (GG) number, a Mariehamn number is Åland (AX).
 * For a shipping country on the left, numbers of the territories on the right are domestic numbers.
 * Different plans stay different countries: a German number on a Polish address is PHONE_INVALID.
 */
export const PHONE_SHARED_NUMBERING: Readonly<Record<string, readonly string[]>> = {
  GB: ['GG', 'JE', 'IM'],
  FI: ['AX'],
  NO: ['SJ'],
  IT: ['VA'],
};

export type PhoneVerdict =
  | { ok: true; e164: string; numberCountry: string | undefined }
  | { ok: false; reason: 'missing' | 'invalid' | 'wrong_country' | 'not_international'; numberCountry?: string | undefined };

const MAX_PHONE_TEXT_LENGTH = 64;

function parsePhone(text: string, country: string | undefined) {
  try {
    return country !== undefined && isSupportedCountry(country)
      ? parsePhoneNumberFromString(text, { defaultCountry: country, extract: false })
      : parsePhoneNumberFromString(text, { extract: false });
  } catch {
    return undefined;
  }
}

/**
 * With a country: valid (libphonenumber-js/max metadata) and belonging to that country
 * (`parsePhoneNumberFromString(s, { defaultCountry: C })`, then `isValid() && country === C`).
 * Without: must be written in international form and be valid for its own country.
 */
export function verifyPhone(phone: unknown, country?: string): PhoneVerdict {
  const text = readText(phone);
  if (text === undefined) return { ok: false, reason: 'missing' };
  if (text.length > MAX_PHONE_TEXT_LENGTH) return { ok: false, reason: 'invalid' };
  const cc = isoCountry(country);
  const parsed = parsePhone(text, cc);
  if (parsed === undefined) {
    const international = /^(?:\+|00)/.test(text);
    return { ok: false, reason: cc !== undefined || international ? 'invalid' : 'not_international' };
  }
  if (!parsed.isValid()) return { ok: false, reason: 'invalid' };
  const numberCountry = parsed.country;
  if (cc !== undefined && numberCountry !== cc && !(numberCountry && PHONE_SHARED_NUMBERING[cc]?.includes(numberCountry))) {
    return { ok: false, reason: 'wrong_country', numberCountry };
  }
  return { ok: true, e164: parsed.number, numberCountry };
}

/** `country` null/omitted: the number must be international and valid somewhere. */
export function isValidPhone(phone: unknown, country?: unknown): boolean {
  if (country !== undefined && country !== null && isoCountry(country) === undefined) return false;
  return verifyPhone(phone, isoCountry(country)).ok;
}

// ── e-mail ─────────────────────────────────────────────────────────────────────

// Dot-atom syntax (RFC 5322) for the local part, host names for the domain; letters beyond ASCII are
// accepted (RFC 6531 addresses, IDN domains such as łódź.pl). Quoted local parts and IP-literal domains
// are not: shops never see them from real customers, and they are a common shape of typos.
const LOCAL_ATOM = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+$/u;
const DOMAIN_LABEL = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
const TOP_LEVEL_DOMAIN = /^(?:[\p{L}\p{M}]{2,63}|xn--[a-z0-9-]{1,59})$/iu;

export function isValidEmail(email: unknown): boolean {
  if (typeof email !== 'string') return false;
  const text = email.trim();
  if (text.length === 0 || text.length > 254) return false;
  const at = text.lastIndexOf('@');
  if (at <= 0) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (local.length > 64 || !local.split('.').every((atom) => LOCAL_ATOM.test(atom))) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || domain.length > 253) return false;
  if (!labels.every((label) => DOMAIN_LABEL.test(label))) return false;
  return TOP_LEVEL_DOMAIN.test(labels[labels.length - 1] ?? '');
}

// ── addresses ──────────────────────────────────────────────────────────────────

export type AddressPart = 'street' | 'postalCode' | 'city' | 'country';

export interface AddressProblem {
  part: AddressPart;
  reason: 'missing' | 'invalid' | 'unknown' | 'not_shipped';
  value?: string;
  country?: string;
  example?: string;
}

/** Whether none of street, postal code, city and country is filled in (an `{}` address is no address). */
export function isBlankAddress(address: Record<string, unknown>): boolean {
  return (['street', 'postalCode', 'city', 'country'] as const).every((part) => readText(address[part]) === undefined);
}

/**
 * What is wrong with one address, in reading order (street, postal code, city, country). Shared by the
 * shipping check (one code per part) and the invoice check (INVOICE_ADDRESS_INCOMPLETE for all).
 * `allowedCountries` undefined: any ISO country will do.
 */
export function addressProblems(address: Record<string, unknown>, allowedCountries?: ReadonlySet<string>): AddressProblem[] {
  const problems: AddressProblem[] = [];
  if (readText(address.street) === undefined) problems.push({ part: 'street', reason: 'missing' });

  const rawCountry = readText(address.country);
  const country = isoCountry(rawCountry);
  const postal = readText(address.postalCode);
  if (country !== undefined) {
    const verdict = verifyPostalCode(postal, country);
    if (verdict === 'missing') problems.push({ part: 'postalCode', reason: 'missing', country });
    if (verdict === 'invalid') {
      const example = POSTAL_CODE_FORMATS[country]?.example;
      problems.push({ part: 'postalCode', reason: 'invalid', value: postal ?? '', country, ...(example ? { example } : {}) });
    }
  } else if (postal === undefined) {
    // Without a country the format cannot be judged, but a blank code is blank anywhere that has codes.
    problems.push({ part: 'postalCode', reason: 'missing' });
  }

  if (readText(address.city) === undefined) problems.push({ part: 'city', reason: 'missing' });

  if (rawCountry === undefined) problems.push({ part: 'country', reason: 'missing' });
  else if (country === undefined) problems.push({ part: 'country', reason: 'unknown', value: rawCountry });
  else if (allowedCountries !== undefined && !allowedCountries.has(country)) {
    problems.push({ part: 'country', reason: 'not_shipped', country });
  }
  return problems;
}

const PART_CODE = {
  street: 'STREET_MISSING',
  postalCode: 'POSTAL_CODE_INVALID',
  city: 'CITY_MISSING',
  country: 'COUNTRY_UNSUPPORTED',
} as const satisfies Record<AddressPart, AddressCode>;

function isDeliveryMethod(value: string | undefined): value is DeliveryMethod {
  return (DELIVERY_METHODS as readonly string[]).includes(value ?? '');
}

export function countrySet(countriesList: Iterable<string> | undefined): ReadonlySet<string> {
  return new Set([...(countriesList ?? SHIPPING_COUNTRIES)].map((c) => c.trim().toUpperCase()));
}

// One Set for the default list, not one per order.
const DEFAULT_SHIPPING_SET = countrySet(SHIPPING_COUNTRIES);

export function checkAddress(order: unknown, options: AddressCheckOptions = {}): Issue[] {
  const issue = issueFactory(options.messages);
  const shipsTo = options.shippingCountries === undefined ? DEFAULT_SHIPPING_SET : countrySet(options.shippingCountries);
  const root = asRecord(order) ?? {};
  const delivery = asRecord(root.delivery);
  const customer = asRecord(root.customer);
  const shipping = asRecord(root.shippingAddress);
  const issues: Issue[] = [];

  const rawMethod = readText(delivery?.method);
  const method = isDeliveryMethod(rawMethod) ? rawMethod : undefined;
  if (method === undefined) issues.push(issue('DELIVERY_METHOD_INVALID', 'delivery.method', rawMethod ? { value: rawMethod } : {}));

  if (method === 'courier') {
    if (shipping === undefined || isBlankAddress(shipping)) {
      issues.push(issue('ADDRESS_MISSING', 'shippingAddress'));
    } else {
      for (const problem of addressProblems(shipping, shipsTo)) {
        issues.push(issue(PART_CODE[problem.part], `shippingAddress.${problem.part}`, problem));
      }
    }
  }
  if (method === 'parcel_locker' && readText(delivery?.lockerId) === undefined) {
    issues.push(issue('LOCKER_MISSING', 'delivery.lockerId'));
  }
  if (method === 'pickup_in_store' && readText(delivery?.storeId) === undefined) {
    issues.push(issue('STORE_MISSING', 'delivery.storeId'));
  }

  const phone = readText(customer?.phone);
  const phoneRequired = method === 'courier' || method === 'parcel_locker';
  if (phone === undefined) {
    if (phoneRequired) issues.push(issue('PHONE_MISSING', 'customer.phone', { method }));
  } else {
    const country = phoneCountry(root, method);
    const verdict = verifyPhone(phone, country);
    // A number in national form cannot be judged without a country. A locker order must still have a
    // usable one (the pick-up code goes there); elsewhere it waits until the order has a country.
    const judged = verdict.ok || verdict.reason !== 'not_international' || method === 'parcel_locker';
    if (!verdict.ok && judged) {
      issues.push(
        issue('PHONE_INVALID', 'customer.phone', {
          reason: verdict.reason,
          value: phone,
          ...(country ? { country } : {}),
          ...(verdict.numberCountry ? { otherCountry: verdict.numberCountry } : {}),
        }),
      );
    }
  }

  const email = customer?.email;
  const emailGiven = email !== undefined && email !== null && !(typeof email === 'string' && email.trim() === '');
  if (emailGiven && !isValidEmail(email)) {
    issues.push(issue('EMAIL_INVALID', 'customer.email', { value: typeof email === 'string' ? email.trim() : JSON.stringify(email) }));
  }
  return issues;
}

/** The country a phone must belong to: the shipping country; off the courier path, the invoice country stands in. */
function phoneCountry(root: Record<string, unknown>, method: DeliveryMethod | undefined): string | undefined {
  const shippingCountry = isoCountry(asRecord(root.shippingAddress)?.country);
  if (shippingCountry !== undefined || method === 'courier') return shippingCountry;
  const invoice = asRecord(root.invoice);
  return isoCountry(asRecord(invoice?.address)?.country);
}

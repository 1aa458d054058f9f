import {
  austria,
  bulgaria,
  checkVAT,
  croatia,
  cyprus,
  czechRepublic,
  denmark,
  estonia,
  finland,
  france,
  greece,
  hungary,
  ireland,
  italy,
  latvia,
  lithuania,
  luxembourg,
  malta,
  netherlands,
  portugal,
  romania,
  slovakiaRepublic,
  slovenia,
  spain,
  type Country as JsvatCountry,
} from 'jsvat';
import { EU_COUNTRIES, isoCountry } from './address.ts';

/**
 * Tax ids (VAT numbers and their national equivalents): format, check digits, and the country prefix
 * against the invoice country.
 *
 * Own implementations where jsvat 2.5.4 is wrong or absent, verified against published numbers in
 * test/unit/orders/taxid.test.ts:
 * - PL: jsvat maps a weighted sum ≡ 10 (mod 11) to check digit 0 and so accepts e.g. PL1234567890;
 *   a NIP with remainder 10 is never issued.
 * - BE: jsvat refuses the 1-series enterprise numbers issued since 2023 (BE1000003682).
 * - GR: jsvat refuses the old 8-digit form that is the 9-digit one without its leading 0.
 * - DE, NO, SE, GB, CH: the spec's named algorithms, written out (jsvat agrees on them, but it needs
 *   the prefix, and NO/SE/CH numbers are often written bare or with suffixes).
 * - US (EIN prefixes) and CN (unified social credit code, GB 32100-2015 mod 31): not in jsvat.
 * Every other EU country goes through jsvat (AT BG HR CY CZ DK EE FI FR HU IE IT LV LT LU MT NL PT RO SK SI ES).
 * Countries with no rule here accept any 4–20 letters and digits: the format is not known, so it is
 * not refused.
 */

export type TaxIdVerdict =
  /** Format and check digits are right for `country`. */
  | { status: 'valid'; country: string | undefined; compact: string }
  /** No invoice country and no prefix: nothing to check against yet. */
  | { status: 'unchecked'; compact: string }
  | {
      status: 'invalid';
      reason: 'format' | 'checksum' | 'country_mismatch';
      /** The country the id was checked for (the invoice country, else its prefix). */
      country: string | undefined;
      /** With country_mismatch: the country the prefix names. */
      otherCountry?: string;
      example?: string;
      compact: string;
    };

/** A correct id per country, for messages ("for example PL5260250274"). Each one is checked in the tests. */
export const TAX_ID_EXAMPLES: Readonly<Record<string, string>> = {
  AT: 'ATU13585627',
  BE: 'BE0428759497',
  BG: 'BG175074752',
  CY: 'CY10259033P',
  CZ: 'CZ25123891',
  DE: 'DE136695976',
  DK: 'DK13585628',
  EE: 'EE100931558',
  ES: 'ESA28184661',
  FI: 'FI20774740',
  FR: 'FR40303265045',
  GR: 'EL094012834',
  HR: 'HR33392005961',
  HU: 'HU12892312',
  IE: 'IE6388047V',
  IT: 'IT00743110157',
  LT: 'LT119511515',
  LU: 'LU15027442',
  LV: 'LV40003521600',
  MT: 'MT20630321',
  NL: 'NL004495445B01',
  PL: 'PL5260250274',
  PT: 'PT501964843',
  RO: 'RO18547290',
  SE: 'SE556703748501',
  SI: 'SI50223054',
  SK: 'SK2022749619',
  NO: 'NO923609016MVA',
  CH: 'CHE-116.281.710 MWST',
  GB: 'GB980780684',
  US: '12-3456789',
  CN: '91350100M000100Y43',
};

// ── check-digit algorithms (exported for the property tests) ─────────────────────

const digitsOf = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0) - 48);

function weightedSum(digits: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += (digits[i] ?? 0) * (weights[i] ?? 0);
  return sum;
}

const NIP_WEIGHTS = [6, 5, 7, 2, 3, 4, 5, 6, 7];

/** Polish NIP: Σ digit × (6,5,7,2,3,4,5,6,7) mod 11 is the 10th digit; remainder 10 means no valid NIP. */
export function nipCheckDigit(first9: string): number | null {
  if (!/^\d{9}$/.test(first9)) return null;
  const remainder = weightedSum(digitsOf(first9), NIP_WEIGHTS) % 11;
  return remainder === 10 ? null : remainder;
}

export function isValidNip(digits: string): boolean {
  return /^\d{10}$/.test(digits) && nipCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}

/** German USt-IdNr.: ISO 7064 MOD 11,10 over the first 8 digits. Every 8-digit prefix has exactly one check digit. */
export function ustIdCheckDigit(first8: string): number | null {
  if (!/^\d{8}$/.test(first8)) return null;
  let product = 10;
  for (const digit of digitsOf(first8)) {
    let sum = (digit + product) % 10;
    if (sum === 0) sum = 10;
    product = (2 * sum) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

export function isValidUstIdNr(digits: string): boolean {
  return /^[1-9]\d{8}$/.test(digits) && ustIdCheckDigit(digits.slice(0, 8)) === Number(digits[8]);
}

const ORGNR_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2];

/** Norwegian organisasjonsnummer: MOD11 with weights 3,2,7,6,5,4,3,2; 11 − r, where 11 → 0 and 10 → no valid number. */
export function orgnrCheckDigit(first8: string): number | null {
  if (!/^\d{8}$/.test(first8)) return null;
  const check = 11 - (weightedSum(digitsOf(first8), ORGNR_WEIGHTS) % 11);
  if (check === 11) return 0;
  return check === 10 ? null : check;
}

export function isValidOrgnr(digits: string): boolean {
  return /^\d{9}$/.test(digits) && orgnrCheckDigit(digits.slice(0, 8)) === Number(digits[8]);
}

/** Luhn check digit for a digit string (Swedish organisationsnummer: the first 9 of 10 digits). */
export function luhnCheckDigit(payload: string): number | null {
  if (!/^\d+$/.test(payload)) return null;
  let sum = 0;
  const digits = digitsOf(payload);
  for (let i = 0; i < digits.length; i++) {
    // Double every second digit counting from the right end of the payload (the check digit follows it).
    const fromRight = digits.length - 1 - i;
    let d = digits[i] ?? 0;
    if (fromRight % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** Swedish VAT number body: 10-digit organisationsnummer (Luhn) followed by "01". */
export function isValidSwedishVat(body: string): boolean {
  return /^\d{10}01$/.test(body) && luhnCheckDigit(body.slice(0, 9)) === Number(body[9]);
}

const GB_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 1];

/**
 * UK VAT: 9 digits (12 for a branch: the last 3 are not checked); Σ digit × (8..2,10,1) mod 97 is 0
 * (old series) or 42 / 55 (the "mod 9755" series issued since 2010) for numbers from 100 0000 00 on.
 * GDnnn (government departments, nnn < 500) and HAnnn (health authorities, nnn ≥ 500) have no check digits.
 */
export function isValidUkVat(body: string): 'valid' | 'format' | 'checksum' {
  const special = /^(GD|HA)(\d{3})$/.exec(body);
  if (special) {
    const n = Number(special[2]);
    return (special[1] === 'GD' ? n < 500 : n >= 500) ? 'valid' : 'format';
  }
  if (!/^(?:\d{9}|\d{12})$/.test(body)) return 'format';
  const nine = body.slice(0, 9);
  if (/^0+$/.test(nine)) return 'format';
  const remainder = weightedSum(digitsOf(nine), GB_WEIGHTS) % 97;
  const ok = Number(nine.slice(0, 3)) >= 100 ? remainder === 0 || remainder === 42 || remainder === 55 : remainder === 0;
  return ok ? 'valid' : 'checksum';
}

const CH_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4];

/** Swiss UID (CHE-123.456.789): MOD 11 with weights 5,4,3,2,7,6,5,4; 11 − r, 11 → 0, 10 → never issued. */
export function isValidSwissUid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  let check = 11 - (weightedSum(digitsOf(digits), CH_WEIGHTS) % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === Number(digits[8]);
}

/** Belgian enterprise number: 0 or 1, then 9 digits; the last two are 97 − (first eight mod 97). */
export function isValidBelgianVat(body: string): 'valid' | 'format' | 'checksum' {
  const ten = /^\d{9}$/.test(body) ? `0${body}` : body;
  if (!/^[01]\d{9}$/.test(ten)) return 'format';
  return 97 - (Number(ten.slice(0, 8)) % 97) === Number(ten.slice(8)) ? 'valid' : 'checksum';
}

/** Campus prefixes the IRS assigns EINs under; an EIN has no check digit, only this. */
const EIN_PREFIXES = new Set([
  '01', '02', '03', '04', '05', '06', '10', '11', '12', '13', '14', '15', '16',
  '20', '21', '22', '23', '24', '25', '26', '27',
  '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48',
  '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68',
  '71', '72', '73', '74', '75', '76', '77', '80', '81', '82', '83', '84', '85', '86', '87', '88',
  '90', '91', '92', '93', '94', '95', '98', '99',
]);

export function isValidEin(digits: string): boolean {
  return /^\d{9}$/.test(digits) && EIN_PREFIXES.has(digits.slice(0, 2));
}

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Chinese unified social credit code (统一社会信用代码): 18 characters, the last one a mod-31 check character. */
export function isValidUscc(code: string): 'valid' | 'format' | 'checksum' {
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return 'format';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(code.charAt(i)) * (USCC_WEIGHTS[i] ?? 0);
  return USCC_ALPHABET.charAt((31 - (sum % 31)) % 31) === code.charAt(17) ? 'valid' : 'checksum';
}

// ── prefixes and dispatch ──────────────────────────────────────────────────────

/** VAT prefixes and the ISO country each names (Greece is EL, Northern Ireland XI is part of GB). */
const PREFIX_COUNTRY: ReadonlyMap<string, string> = new Map<string, string>([
  ...EU_COUNTRIES.filter((c) => c !== 'GR').map((c) => [c, c] as [string, string]),
  ['EL', 'GR'],
  ['GR', 'GR'],
  ['GB', 'GB'],
  ['XI', 'GB'],
  ['NO', 'NO'],
  ['CH', 'CH'],
]);

const JSVAT_COUNTRY: Readonly<Record<string, { rules: JsvatCountry; prefix: string }>> = {
  AT: { rules: austria, prefix: 'AT' },
  BG: { rules: bulgaria, prefix: 'BG' },
  HR: { rules: croatia, prefix: 'HR' },
  CY: { rules: cyprus, prefix: 'CY' },
  CZ: { rules: czechRepublic, prefix: 'CZ' },
  DK: { rules: denmark, prefix: 'DK' },
  EE: { rules: estonia, prefix: 'EE' },
  FI: { rules: finland, prefix: 'FI' },
  FR: { rules: france, prefix: 'FR' },
  GR: { rules: greece, prefix: 'EL' },
  HU: { rules: hungary, prefix: 'HU' },
  IE: { rules: ireland, prefix: 'IE' },
  IT: { rules: italy, prefix: 'IT' },
  LV: { rules: latvia, prefix: 'LV' },
  LT: { rules: lithuania, prefix: 'LT' },
  LU: { rules: luxembourg, prefix: 'LU' },
  MT: { rules: malta, prefix: 'MT' },
  NL: { rules: netherlands, prefix: 'NL' },
  PT: { rules: portugal, prefix: 'PT' },
  RO: { rules: romania, prefix: 'RO' },
  SK: { rules: slovakiaRepublic, prefix: 'SK' },
  SI: { rules: slovenia, prefix: 'SI' },
  ES: { rules: spain, prefix: 'ES' },
};

/** Upper case, without the separators people type: spaces, dots, hyphens, slashes, brackets. */
export function compactTaxId(id: string): string {
  return id.toUpperCase().replace(/[\s.\-/()]+/g, '');
}

function splitPrefix(compact: string): { prefixCountry: string | undefined; body: string } {
  if (compact.startsWith('CHE')) return { prefixCountry: 'CH', body: compact.slice(3) };
  const two = compact.slice(0, 2);
  const country = PREFIX_COUNTRY.get(two);
  return country !== undefined ? { prefixCountry: country, body: compact.slice(2) } : { prefixCountry: undefined, body: compact };
}

type BodyVerdict = 'valid' | 'format' | 'checksum';

const fromBoolean = (format: boolean, checksum: () => boolean): BodyVerdict => (!format ? 'format' : checksum() ? 'valid' : 'checksum');

function verifyBody(country: string, body: string, prefixed: boolean): BodyVerdict {
  switch (country) {
    case 'PL':
      return fromBoolean(/^\d{10}$/.test(body), () => isValidNip(body));
    case 'DE':
      return fromBoolean(/^[1-9]\d{8}$/.test(body), () => isValidUstIdNr(body));
    case 'NO': {
      const digits = body.replace(/MVA$/, '');
      return fromBoolean(/^\d{9}$/.test(digits), () => isValidOrgnr(digits));
    }
    case 'SE': {
      // With the SE prefix it is the VAT number and ends in 01; bare, the organisationsnummer alone will do.
      const vat = !prefixed && /^\d{10}$/.test(body) ? `${body}01` : body;
      return fromBoolean(/^\d{10}01$/.test(vat), () => isValidSwedishVat(vat));
    }
    case 'GB':
      return isValidUkVat(body);
    case 'CH': {
      const digits = body.replace(/(?:MWST|TVA|IVA|TPV)$/, '');
      return fromBoolean(/^\d{9}$/.test(digits), () => isValidSwissUid(digits));
    }
    case 'BE':
      return isValidBelgianVat(body);
    case 'US':
      return /^\d{9}$/.test(body) ? (isValidEin(body) ? 'valid' : 'format') : 'format';
    case 'CN':
      return isValidUscc(body);
  }
  const jsvat = JSVAT_COUNTRY[country];
  if (jsvat !== undefined) {
    // Greek numbers issued with 8 digits are the 9-digit form without the leading zero.
    const normalized = country === 'GR' && /^\d{8}$/.test(body) ? `0${body}` : body;
    const result = checkVAT(jsvat.prefix + normalized, [jsvat.rules]);
    return result.isValid ? 'valid' : result.isValidFormat ? 'checksum' : 'format';
  }
  return /^[A-Z0-9]{4,20}$/.test(body) ? 'valid' : 'format';
}

/**
 * Checks a tax id for a country (the invoice country). The id may carry its VAT prefix ("PL5260250274")
 * or not ("526-025-02-74"); a prefix naming another country than `country` is a mismatch. Without a
 * country the prefix decides; with neither, the id is `unchecked`.
 */
export function verifyTaxId(id: unknown, country?: unknown): TaxIdVerdict {
  const text = typeof id === 'string' ? id.trim() : typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : '';
  const compact = compactTaxId(text).slice(0, 64);
  const target = isoCountry(country);
  if (compact === '') return { status: 'invalid', reason: 'format', country: target, compact };
  const { prefixCountry, body } = splitPrefix(compact);
  if (target !== undefined && prefixCountry !== undefined && prefixCountry !== target) {
    return { status: 'invalid', reason: 'country_mismatch', country: target, otherCountry: prefixCountry, compact };
  }
  const checkFor = target ?? prefixCountry;
  if (checkFor === undefined) return { status: 'unchecked', compact };
  const verdict = verifyBody(checkFor, body, prefixCountry !== undefined);
  if (verdict === 'valid') return { status: 'valid', country: checkFor, compact };
  const example = TAX_ID_EXAMPLES[checkFor];
  return { status: 'invalid', reason: verdict, country: checkFor, compact, ...(example ? { example } : {}) };
}

/** True only when the id is checked and right; without a country it needs a VAT prefix to be checked at all. */
export function isValidTaxId(id: unknown, country?: unknown): boolean {
  return verifyTaxId(id, country).status === 'valid';
}

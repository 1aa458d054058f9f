/**
 * The fields a ticket's issues point at (`customer.phone`, `shippingAddress.postalCode`,
 * `lines[2].unitPrice`) and what an operator's fix does to them: read a value at a path, turn the values
 * typed into a form into a JSON merge patch (RFC 7396) of the order, and the one-change-for-many
 * transformations of a group fix (set a value, insert a postal code's separator, trim, upper-case).
 *
 * Pure functions over plain JSON: no order schema, no database.
 */

export type PathSegment = string | number;

/** Keys that could reach an object's prototype: never part of a path (the merge patch refuses them too). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PATH_LENGTH = 300;

/** "lines[2].unitPrice" → ["lines", 2, "unitPrice"]; null for anything that is not a plain path. */
export function parsePath(path: string): PathSegment[] | null {
  if (typeof path !== 'string' || path === '' || path.length > MAX_PATH_LENGTH) return null;
  const out: PathSegment[] = [];
  const re = /([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d{1,6})\]|(\.)/gy;
  let expectKey = true;
  let last = 0;
  for (let m = re.exec(path); m; m = re.exec(path)) {
    last = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey || FORBIDDEN_KEYS.has(m[1])) return null;
      out.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (expectKey) return null;
      out.push(Number(m[2]));
    } else {
      if (expectKey) return null;
      expectKey = true;
    }
  }
  if (last !== path.length || expectKey || typeof out[0] !== 'string') return null;
  return out;
}

/** ["lines", 2, "unitPrice"] → "lines[2].unitPrice". */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a path, or undefined when any step on the way is missing. */
export function getPath(doc: unknown, path: string | readonly PathSegment[]): unknown {
  const segments = typeof path === 'string' ? parsePath(path) : path;
  if (!segments) return undefined;
  let at: unknown = doc;
  for (const s of segments) {
    if (typeof s === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[s];
    } else {
      if (!isRecord(at) || !Object.prototype.hasOwnProperty.call(at, s)) return undefined;
      at = at[s];
    }
  }
  return at;
}

/** The path of the object holding a field: "shippingAddress.postalCode" → "shippingAddress". */
export function parentPath(path: string): string | null {
  const segments = parsePath(path);
  return segments && segments.length > 1 ? formatPath(segments.slice(0, -1)) : null;
}

/** Two JSON values the same for an operator (null and a missing key are both "empty"). */
function sameValue(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface FieldChange {
  path: string;
  /** The new value; null empties the field (removes the key, which the order schema treats as empty). */
  value: unknown;
}

/** Set inside a plain copy (an array element's object): null removes the key, as the merge patch would. */
function setInside(target: Record<string, unknown> | unknown[], segments: readonly PathSegment[], value: unknown): void {
  let at: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const nextIsIndex = typeof segments[i + 1] === 'number';
    const current = (at as Record<string | number, unknown>)[s];
    const fresh = nextIsIndex ? (Array.isArray(current) ? current : []) : isRecord(current) ? current : {};
    (at as Record<string | number, unknown>)[s] = fresh;
    at = fresh as Record<string, unknown> | unknown[];
  }
  const leaf = segments[segments.length - 1]!;
  if (value === null && !Array.isArray(at)) delete (at as Record<string, unknown>)[leaf as string];
  else (at as Record<string | number, unknown>)[leaf] = value;
}

/**
 * A JSON merge patch that sets each changed field of `current` and nothing else. Fields whose new value
 * equals the current one are left out, so an untouched input changes nothing (and audits nothing).
 * A merge patch cannot address one array element, so a change inside `lines[2]` carries the whole
 * `lines` array, copied from the order with that one change made.
 */
export function buildMergePatch(current: unknown, changes: readonly FieldChange[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const change of changes) {
    const segments = parsePath(change.path);
    if (!segments) throw new Error(`Not a field path: ${change.path}`);
    if (sameValue(getPath(current, segments), change.value)) continue;
    const arrayAt = segments.findIndex((s) => typeof s === 'number');
    if (arrayAt === -1) {
      let at = patch;
      for (const s of segments.slice(0, -1) as string[]) {
        const next = at[s];
        at = (at[s] = isRecord(next) ? next : {}) as Record<string, unknown>;
      }
      at[segments[segments.length - 1] as string] = change.value;
      continue;
    }
    const arrayPath = segments.slice(0, arrayAt) as string[];
    let holder = patch;
    for (const s of arrayPath.slice(0, -1)) {
      const next = holder[s];
      holder = (holder[s] = isRecord(next) ? next : {}) as Record<string, unknown>;
    }
    const key = arrayPath[arrayPath.length - 1]!;
    if (!Array.isArray(holder[key])) {
      const original = getPath(current, arrayPath);
      holder[key] = Array.isArray(original) ? structuredClone(original) : [];
    }
    setInside(holder[key] as unknown[], segments.slice(arrayAt), change.value);
  }
  return patch;
}

// ── normalisers ────────────────────────────────────────────────────────────────

/** Trimmed, inner whitespace collapsed to one space; blank → null. Non-text values pass through. */
export function tidyText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.replace(/\s+/g, ' ').trim();
  return text === '' ? null : text;
}

export function upperText(value: unknown): unknown {
  const text = tidyText(value);
  return typeof text === 'string' ? text.toUpperCase() : text;
}

/**
 * How a country writes its postal codes, as masks: `9` a digit, `A` a letter, anything else a literal
 * separator. The first mask whose characters (separators left out) match the code's letters and digits
 * wins. Countries whose codes are digits only with no separator are listed too, so "10 115" becomes "10115".
 */
const POSTAL_MASKS: Readonly<Record<string, readonly string[]>> = {
  PL: ['99-999'],
  PT: ['9999-999'],
  CZ: ['999 99'],
  SK: ['999 99'],
  SE: ['999 99'],
  GR: ['999 99'],
  NL: ['9999 AA'],
  MT: ['AAA 9999'],
  US: ['99999', '99999-9999'],
  LT: ['LT-99999'],
  LV: ['LV-9999'],
  LU: ['L-9999'],
  BR: ['99999-999'],
  JP: ['999-9999'],
  CA: ['A9A 9A9'],
  DE: ['99999'],
  FR: ['99999'],
  IT: ['99999'],
  ES: ['99999'],
  FI: ['99999'],
  EE: ['99999'],
  HR: ['99999'],
  AT: ['9999'],
  BE: ['9999'],
  BG: ['9999'],
  CY: ['9999'],
  HU: ['9999'],
  SI: ['9999'],
  CH: ['9999'],
  NO: ['9999'],
  DK: ['9999'],
  RO: ['999999'],
  CN: ['999999'],
};

function fitMask(core: string, mask: string): string | null {
  // A mask may start with a literal prefix ("LT-"): the code may carry it or not.
  const prefix = /^([A-Z]+)-/.exec(mask);
  if (prefix) {
    const body = core.startsWith(prefix[1]!) ? core.slice(prefix[1]!.length) : core;
    const rest = fitMask(body, mask.slice(prefix[0].length));
    return rest === null ? null : prefix[0] + rest;
  }
  const slots = mask.replace(/[^9A]/g, '');
  const body = core;
  if (body.length !== slots.length) return null;
  let out = '';
  let i = 0;
  for (const m of mask) {
    if (m === '9' || m === 'A') {
      const c = body[i++]!;
      if (m === '9' ? !/\d/.test(c) : !/[A-Z]/.test(c)) return null;
      out += c;
    } else out += m;
  }
  return out;
}

/**
 * A postal code written the way the country's post writes it: Polish "00838" → "00-838", Czech
 * "11000" → "110 00", Dutch "1012ab" → "1012 AB", British "sw1a1aa" → "SW1A 1AA". A code that fits no
 * form of its country (or a country without known forms) is only tidied (trimmed, upper-cased), never
 * guessed at; the check then says whether it is right.
 */
export function normalisePostalCode(value: unknown, country: unknown): unknown {
  const tidy = upperText(value);
  if (typeof tidy !== 'string') return tidy;
  const cc = typeof country === 'string' ? country.trim().toUpperCase() : '';
  const core = tidy.replace(/[\s-]/g, '');
  if (cc === 'GB' || cc === 'IE') {
    // Outward code, then the inward code: always the last three characters (Ireland: routing key + four).
    const tail = cc === 'GB' ? 3 : 4;
    return /^[A-Z0-9]{5,7}$/.test(core) ? `${core.slice(0, -tail)} ${core.slice(-tail)}` : tidy;
  }
  for (const mask of POSTAL_MASKS[cc] ?? []) {
    const fitted = fitMask(core, mask);
    if (fitted !== null) return fitted;
  }
  return tidy;
}

// ── group-fix transformations ──────────────────────────────────────────────────

export type FieldTransform =
  | { kind: 'set'; value: string }
  | { kind: 'postal-separator' }
  | { kind: 'trim' }
  | { kind: 'uppercase' };

export const TRANSFORM_KINDS = ['set', 'postal-separator', 'trim', 'uppercase'] as const;
export type TransformKind = (typeof TRANSFORM_KINDS)[number];

/** A transformation from form values, or the reason there is none. */
export function parseTransform(kind: unknown, value: unknown): { transform: FieldTransform } | { error: string } {
  switch (kind) {
    case 'set': {
      const text = typeof value === 'string' ? value.trim() : '';
      if (text === '') return { error: 'Enter the value to set.' };
      if (text.length > 500) return { error: 'The value is too long (at most 500 characters).' };
      return { transform: { kind: 'set', value: text } };
    }
    case 'postal-separator':
    case 'trim':
    case 'uppercase':
      return { transform: { kind } };
    default:
      return { error: 'Choose what to do with the field.' };
  }
}

/** Which transformations make sense for a field (by its name): the postal code one only for postal codes. */
export function transformsFor(path: string): TransformKind[] {
  const segments = parsePath(path);
  const last = segments?.[segments.length - 1];
  if (typeof last !== 'string') return [];
  return last === 'postalCode' ? ['postal-separator', 'set', 'trim', 'uppercase'] : ['set', 'trim', 'uppercase'];
}

export function describeTransform(t: FieldTransform): string {
  switch (t.kind) {
    case 'set':
      return `Set to “${t.value}”`;
    case 'postal-separator':
      return "Write the postal code the country's way (insert its separator)";
    case 'trim':
      return 'Trim spaces';
    case 'uppercase':
      return 'Upper-case';
  }
}

/**
 * The field's new value under a transformation. `order` is the whole document, for transformations
 * that need a neighbour (the postal code's country is the `country` beside it).
 */
export function transformValue(t: FieldTransform, order: unknown, path: string): unknown {
  const current = getPath(order, path);
  switch (t.kind) {
    case 'set':
      return t.value;
    case 'trim':
      return tidyText(current);
    case 'uppercase':
      return upperText(current);
    case 'postal-separator': {
      const parent = parentPath(path);
      const country = getPath(order, parent ? `${parent}.country` : 'country');
      return normalisePostalCode(current, country);
    }
  }
}

/** The merge patch a transformation makes for one order, or null when it would change nothing. */
export function transformPatch(t: FieldTransform, order: unknown, path: string): { before: unknown; after: unknown; patch: Record<string, unknown> } | null {
  const before = getPath(order, path);
  const after = transformValue(t, order, path);
  const patch = buildMergePatch(order, [{ path, value: after }]);
  return Object.keys(patch).length === 0 ? null : { before, after, patch };
}

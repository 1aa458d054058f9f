import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted, so two bodies that differ only in key order or spacing compare equal.
 * Written as plain loops: it runs on every order received (and on every order `npm run seed` makes).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += canonicalJson(item === undefined ? null : item);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(key) + ':' + canonicalJson(item);
  }
  return out + '}';
}

export function bodyHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Whether two JSON values are equal as `canonicalJson` sees them (`canonicalJson(a) === canonicalJson(b)`),
 * without writing either out: key order is ignored, a property set to undefined counts as absent, an
 * undefined list item as null. Stops at the first difference. The step session asks this of the whole
 * order after each step of its lifecycle.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return canonicalJson(a) === canonicalJson(b);
  const aList = Array.isArray(a);
  if (aList !== Array.isArray(b)) return false;
  if (aList) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameJson(x[i] === undefined ? null : x[i], y[i] === undefined ? null : y[i])) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return canonicalJson(a) === canonicalJson(b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key) || x[key] === undefined) continue;
    count++;
    if (!Object.hasOwn(y, key) || y[key] === undefined || !sameJson(x[key], y[key])) return false;
  }
  for (const key in y) if (Object.hasOwn(y, key) && y[key] !== undefined) count--;
  return count === 0;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyHash, canonicalJson } from '../../../src/orders/canonical.ts';

/** The form canonicalJson had before it was rewritten as loops: every stored body hash depends on it. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => reference(v === undefined ? null : v)).join(',') + ']';
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => JSON.stringify(k) + ':' + reference((value as Record<string, unknown>)[k]));
  return '{' + entries.join(',') + '}';
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and ignores spacing and key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}');
    expect(bodyHash({ a: 1, b: 2 })).toBe(bodyHash(JSON.parse('{ "b": 2, "a": 1 }')));
  });

  it('writes exactly what it wrote before, for any JSON (and undefined in objects and lists)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
    const odd = { a: undefined, b: [undefined, 1], c: { d: undefined } };
    expect(canonicalJson(odd)).toBe(reference(odd));
  });
});

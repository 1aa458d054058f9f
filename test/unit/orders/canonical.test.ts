import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyHash, canonicalJson, sameJson } from '../../../src/orders/canonical.ts';

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

describe('sameJson', () => {
  it('answers exactly what comparing the canonical JSON answers, for any two JSON values', () => {
    // Pairs that are often equal: a value against a copy with its keys in another order and spacing.
    const shuffled = (value: unknown): unknown =>
      value === null || typeof value !== 'object'
        ? value
        : Array.isArray(value)
          ? value.map(shuffled)
          : Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([k, v]) => [k, shuffled(v)]));
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.boolean(), (a, other, copy) => {
        const b = copy ? shuffled(JSON.parse(JSON.stringify(a))) : other;
        expect(sameJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        expect(sameJson(b, a)).toBe(sameJson(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('treats undefined as canonicalJson does: absent in objects, null in lists', () => {
    const cases: Array<[unknown, unknown]> = [
      [{ a: 1, b: undefined }, { a: 1 }],
      [{ a: 1 }, { a: 1, b: undefined }],
      [{ a: undefined }, {}],
      [[undefined, 1], [null, 1]],
      [{ a: 1, b: undefined }, { a: 1, c: undefined }],
      [{ a: 1, b: 2 }, { a: 1, c: 2 }],
      [{ a: [] }, { a: {} }],
      [{ a: 1 }, { a: '1' }],
      [{ n: -0 }, { n: 0 }],
      [{ n: Number.NaN }, { n: null }],
      [new Date(0), '1970-01-01T00:00:00.000Z'],
      [undefined, undefined],
      [undefined, null],
    ];
    for (const [a, b] of cases) expect(sameJson(a, b), JSON.stringify([a, b])).toBe(canonicalJson(a) === canonicalJson(b));
  });
});

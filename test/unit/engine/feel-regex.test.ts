import { evaluate } from 'feelin';
import { describe, expect, it } from 'vitest';
import { evaluateFeel, evaluateFeelUncached } from '../../../src/engine/feel.ts';

/**
 * FEEL's matches, replace and split run on RE2 (linear time), not on JavaScript's backtracking RegExp:
 * a pattern that backtracks catastrophically answers at once, and ordinary patterns answer what FEEL says.
 */

const opts = { functions: {}, now: new Date('2026-03-01T10:00:00.000Z') };
const both = (expression: string, variables: Record<string, unknown> = {}) => {
  const a = evaluateFeel(expression, variables, opts);
  expect(evaluateFeelUncached(expression, variables, opts)).toEqual(a);
  return a;
};

describe('FEEL regular expressions', () => {
  it('given patterns that backtrack catastrophically on a long text, then each call answers within a second', () => {
    const text = `${'a'.repeat(5_000)}!`;
    for (const expression of [
      'matches(t, "(a+)+$")',
      'matches(t, "^(a|a)*$")',
      'matches(t, "(a|aa)+b")',
      'replace(t, "(a*)*b", "x")',
      'split(t, "(a+)+b")',
      // named arguments bind to the same replacement
      'matches(input: t, pattern: "(a+)+$")',
    ]) {
      const started = performance.now();
      both(expression, { t: text });
      expect(performance.now() - started, expression).toBeLessThan(1_000);
    }
    expect(both('matches(t, "(a+)+$")', { t: text })).toBe(false);
    expect(both('matches(t, "(a+)+!$")', { t: text })).toBe(true);
  });

  it('given ordinary patterns, then matches, replace and split answer as FEEL says', () => {
    expect(both('matches("abc", "b")')).toBe(true);
    expect(both('matches("abc", "^b")')).toBe(false);
    expect(both('matches("ABC", "b", "i")')).toBe(true);
    expect(both('matches("a\\nb", "^b$", "m")')).toBe(true);
    expect(both('matches("a\\nb", "a.b")')).toBe(false);
    expect(both('matches("a\\nb", "a.b", "s")')).toBe(true);
    expect(both('matches("Łódź", "^\\\\p{Lu}\\\\p{Ll}+$")')).toBe(true);
    expect(both('matches("10-115", "^[0-9]{2}-[0-9]{3}$")')).toBe(true);
    expect(both('replace("abcd", "(b)(c)", "[$2$1]")')).toBe('a[cb]d');
    expect(both('replace("abab", "b", "-")')).toBe('a-a-');
    expect(both('replace("abc", "b", "$0$0")')).toBe('abbc');
    expect(both('replace("a.b", "\\\\.", "\\\\$")')).toBe('a$b');
    expect(both('replace("Hello", "L", "l", "i")')).toBe('Hello'.replace(/l/gi, 'l'));
    expect(both('split("a,b,,c", ",")')).toEqual(['a', 'b', '', 'c']);
    expect(both('split("John Doe", "\\\\s")')).toEqual(['John', 'Doe']);
  });

  it('given what RE2 cannot run in linear time (back-references) or bad flags, then the call answers null like any invalid pattern', () => {
    expect(both('matches("aa", "(a)\\\\1")')).toBeNull();
    expect(both('matches("a", "[")')).toBeNull();
    expect(both('matches("a", "a", "q")')).toBeNull();
    expect(both('replace(1, "a", "b")')).toBeNull();
    // feelin alone answers null for an uncompilable pattern too (the same contract), and true for the
    // back-reference, which JavaScript's RegExp runs: the call above went to RE2.
    expect(evaluate('matches("a", "[")').value).toBeNull();
    expect(/(a)\1/u.test('aa')).toBe(true);
  });
});

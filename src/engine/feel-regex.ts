import { RE2JS } from 're2js';

/**
 * FEEL's regular-expression built-ins (`matches`, `replace`, `split`) on a linear-time engine.
 *
 * feelin runs them on JavaScript's RegExp, which backtracks: `matches(x, "(a+)+$")` on forty `a`s and a
 * `!` takes minutes, and an analyst's pattern over a customer's text must not be able to stop a worker.
 * RE2 (here re2js, its JavaScript port) matches in time linear in the text. It refuses what cannot be
 * matched that way, back-references and look-around, and such a pattern is treated like any invalid
 * pattern: the call answers null, as feelin does for a pattern it cannot compile.
 *
 * Semantics follow FEEL (XPath's fn:matches, fn:replace, fn:tokenize): `matches` looks for the pattern
 * anywhere in the text; flags `i`, `s`, `m` (`x` is refused, as feelin does); in a replacement `$N` is
 * group N, `\$` a dollar and `\\` a backslash; `split` returns the parts between matches.
 */

const CACHE_LIMIT = 256;
const cache = new Map<string, RE2JS | null>();

/** A compiled pattern, or null when the pattern or its flags are not valid. Compiled patterns are kept (analysts' patterns are few). */
export function compilePattern(pattern: string, flags: string): RE2JS | null {
  const key = `${flags}/${pattern}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let compiled: RE2JS | null = null;
  if (/^[ism]*$/.test(flags)) {
    let bits = 0;
    if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
    if (flags.includes('s')) bits |= RE2JS.DOTALL;
    if (flags.includes('m')) bits |= RE2JS.MULTILINE;
    try {
      compiled = RE2JS.compile(pattern, bits);
    } catch {
      compiled = null;
    }
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const optionalFlags = (v: unknown): string | null => (v === undefined || v === null ? '' : isText(v) ? v : null);

export function feelMatches(input: unknown, pattern: unknown, flags?: unknown): boolean | null {
  const f = optionalFlags(flags);
  if (!isText(input) || !isText(pattern) || f === null) return null;
  const re = compilePattern(pattern, f);
  return re ? re.test(input) : null;
}

export function feelReplace(input: unknown, pattern: unknown, replacement: unknown, flags?: unknown): string | null {
  const f = optionalFlags(flags);
  if (!isText(input) || !isText(pattern) || !isText(replacement) || f === null) return null;
  const re = compilePattern(pattern, f);
  if (!re) return null;
  const groups = re.groupCount();
  const m = re.matcher(input);
  let out = '';
  let last = 0;
  while (m.find()) {
    const start = m.start();
    const end = m.end();
    out += input.slice(last, start) + expand(replacement, groups, (n) => m.group(n) ?? '');
    last = end;
  }
  return out + input.slice(last);
}

/** `$N` (the longest run of digits that names a group), `\$`, `\\`; `$$` is a dollar too, as in feelin. */
function expand(replacement: string, groups: number, group: (n: number) => string): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    const next = replacement[i + 1];
    if (c === '\\' && (next === '$' || next === '\\')) {
      out += next;
      i++;
    } else if (c === '$' && next === '$') {
      out += '$';
      i++;
    } else if (c === '$' && next !== undefined && next >= '0' && next <= '9') {
      let n = Number(next);
      let j = i + 2;
      while (j < replacement.length && /[0-9]/.test(replacement[j]!) && n * 10 + Number(replacement[j]) <= groups) {
        n = n * 10 + Number(replacement[j]);
        j++;
      }
      out += n <= groups ? group(n) : '';
      i = j - 1;
    } else {
      out += c;
    }
  }
  return out;
}

export function feelSplit(text: unknown, delimiter: unknown): string[] | null {
  if (!isText(text) || !isText(delimiter)) return null;
  const re = compilePattern(delimiter, '');
  return re ? re.split(text, -1) : null;
}

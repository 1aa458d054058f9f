import { parse } from 'handlebars/dist/cjs/handlebars/compiler/base.js';
import { Compiler } from 'handlebars/dist/cjs/handlebars/compiler/compiler.js';

/**
 * Whether a ticket template (a title, a set of instructions) compiles, and why not in words. Pure and free of
 * Node: the server runs it at deploy and the modeler's lint runs the same code in the browser, so an analyst
 * sees the server's refusal before deploying.
 *
 * Only Handlebars' parser and its opcode compiler are needed: they raise every error a template can have
 * (syntax, mismatched blocks, unknown helpers). The JavaScript code generator that `precompile` runs after
 * them fails only on Handlebars' own bugs, and would add its runtime and source-map support to the bundle.
 */

/** A sandboxed Handlebars: no helpers beyond the built-ins. `data: true` is what `precompile` defaults to. */
export const TEMPLATE_OPTIONS = Object.freeze({
  noEscape: true,
  strict: false,
  knownHelpersOnly: true,
  knownHelpers: Object.freeze({ if: true, unless: true, each: true, with: true }),
});

/** Null when the template compiles; otherwise the reason, in words. */
export function templateError(text: string): string | null {
  try {
    // The compiler writes into its options (knownHelpers, blockParams): give it its own copy.
    const options = { ...TEMPLATE_OPTIONS, knownHelpers: { ...TEMPLATE_OPTIONS.knownHelpers }, data: true };
    new Compiler().compile(parse(text, options), options);
    return null;
  } catch (err) {
    return templateErrorInWords(err instanceof Error ? err.message : String(err));
  }
}

/** Handlebars' parser tokens as the analyst typed them. */
const TOKEN_TEXT: Record<string, string> = {
  OPEN: '{{', OPEN_BLOCK: '{{#', OPEN_ENDBLOCK: '{{/', OPEN_INVERSE: '{{^', OPEN_INVERSE_CHAIN: '{{else', OPEN_PARTIAL: '{{>',
  OPEN_UNESCAPED: '{{{', OPEN_RAW_BLOCK: '{{{{', CLOSE: '}}', CLOSE_UNESCAPED: '}}}', CLOSE_RAW_BLOCK: '}}}}',
  OPEN_SEXPR: '(', CLOSE_SEXPR: ')', EOF: 'the end of the text', ID: 'a name', STRING: 'a string', NUMBER: 'a number',
};

/**
 * Handlebars' parse error, which spans lines (the message, the text near the error, a caret line, the
 * tokens it expected), as one sentence: where, what was found, what was expected.
 */
export function templateErrorInWords(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^-*\^$/.test(l));
  const parse = /^Parse error on line (\d+):$/.exec(lines[0] ?? '');
  const tokens = /^Expecting (.+), got '(\w+)'$/.exec(lines[2] ?? '');
  if (parse && lines[1] && tokens) {
    // Symbols quoted, words ("a name") not.
    const shown = (t: string) => (/^[a-z]/.test(t) ? t : `"${t}"`);
    const expected = [...tokens[1]!.matchAll(/'(\w+)'/g)].map((m) => TOKEN_TEXT[m[1]!]).filter((t): t is string => !!t);
    const wanted = expected.includes('}}') ? '"}}"' : expected.length > 0 ? [...new Set(expected)].slice(0, 3).map(shown).join(' or ') : 'something else';
    // A stray {{else}} (no {{#if}}, {{#unless}} or {{#each}} open): say so, not which token would have fitted.
    if (tokens[2] === 'INVERSE') return `Parse error on line ${parse[1]} near "${lines[1]}": found "{{else}}" outside any {{#if}}, {{#unless}} or {{#each}} block.`;
    const found = tokens[2] === 'INVALID' ? 'a character that cannot stand there' : shown(TOKEN_TEXT[tokens[2]!] ?? tokens[2]!);
    return `Parse error on line ${parse[1]} near "${lines[1]}": found ${found} where ${wanted} was expected.`;
  }
  const mismatch = /^(\S+) doesn't match (\S+) - (\d+):(\d+)$/.exec(lines[0] ?? '');
  if (mismatch) return `{{#${mismatch[1]}}} on line ${mismatch[3]} is closed by {{/${mismatch[2]}}}.`;
  const helper = /^You specified knownHelpersOnly, but used the unknown helper (\S+) - (\d+):(\d+)$/.exec(lines[0] ?? '');
  if (helper) {
    return `"${helper[1]}" on line ${helper[2]} is used as a helper, and templates know only if, unless, each and with: write a field alone in its braces, as in {{order.customer.name}}.`;
  }
  return lines.join(' ') || 'does not compile';
}

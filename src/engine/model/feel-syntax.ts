import { evaluate, parseExpression, parseUnaryTests } from 'feelin';
import type { Tree } from '@lezer/common';

/**
 * The engine's MAX_FEEL_EXPRESSION_CHARS (feel.ts), which will not evaluate anything longer. Repeated, not
 * imported: this file is also bundled into the modeler, and feel.ts brings the evaluator with it.
 */
export const MAX_FEEL_CHARS = 10_000;

/**
 * Deploy-time checks of FEEL and timer text: does it parse, not what it evaluates to.
 *
 * feelin's parser recovers from errors instead of throwing, leaving error nodes (`⚠`) in the tree, so a
 * syntax error is found by walking the tree. Function names with spaces or operators in them
 * (`validate address`, `check-vat`) only parse as names when the parser is told them.
 */

export interface FeelSyntaxError {
  message: string;
  /** 0-based offset into the expression. */
  position: number;
}

export type FeelKind = 'expression' | 'unaryTests';

function parseContext(knownNames: readonly string[] | undefined): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const name of knownNames ?? []) context[name] = true;
  return context;
}

function parse(expression: string, kind: FeelKind, knownNames: readonly string[] | undefined): Tree {
  const context = parseContext(knownNames);
  return kind === 'unaryTests' ? parseUnaryTests(expression, context, undefined) : parseExpression(expression, context, undefined);
}

function describe(text: string): string {
  const shown = text.length > 20 ? `${text.slice(0, 20)}…` : text;
  return JSON.stringify(shown);
}

export function checkFeelSyntax(expression: string, kind: FeelKind, knownNames?: readonly string[]): FeelSyntaxError | null {
  if (expression.trim() === '') return { message: 'The FEEL expression is empty.', position: 0 };
  // Refused at deploy rather than failing every instance that reaches it (the engine will not evaluate it).
  if (expression.length > MAX_FEEL_CHARS) {
    return { message: `The FEEL expression is ${expression.length} characters long; at most ${MAX_FEEL_CHARS} are allowed.`, position: MAX_FEEL_CHARS };
  }
  let tree: Tree;
  try {
    tree = parse(expression, kind, knownNames);
  } catch (err) {
    // The parser recovers from errors; a throw means input it could not even recover from.
    return { message: `The FEEL expression could not be parsed: ${(err as Error).message}`, position: 0 };
  }
  let error: { from: number; to: number } | null = null;
  tree.iterate({
    enter(node) {
      if (error) return false;
      if (node.type.isError) {
        error = { from: node.from, to: node.to };
        return false;
      }
      return undefined;
    },
  });
  if (error) {
    const { from, to } = error as { from: number; to: number };
    const rest = expression.slice(from).trim();
    if (rest === '') {
      return { message: `FEEL syntax error: the expression ends too early (at position ${from}).`, position: from };
    }
    const found = expression.slice(from, Math.max(to, from + 1)).trim() || rest.slice(0, 1);
    return { message: `FEEL syntax error at position ${from}: unexpected ${describe(found)}.`, position: from };
  }
  // `= x` or `> 5` parse as an expression, but evaluate to a test function, never to a value: a condition
  // written like that would be neither true nor false. (Camunda's modelers prefix expressions with "=".)
  const top = tree.topNode.firstChild;
  if (kind === 'expression' && top?.name === 'SimplePositiveUnaryTest' && top.firstChild?.name === 'CompareOp') {
    const position = top.from;
    const hint = expression.slice(position).startsWith('=')
      ? 'Ordo expressions are plain FEEL, without a leading "=".'
      : 'Write both sides of the comparison (e.g. order.total > 100).';
    return { message: `FEEL syntax error at position ${position}: the expression starts with a comparison operator. ${hint}`, position };
  }
  return null;
}

/**
 * Names of the functions an expression calls, spelled as in the expression (whitespace collapsed).
 * Only meaningful for an expression that parses.
 */
export function feelFunctionCalls(expression: string, knownNames?: readonly string[]): string[] {
  let tree: Tree;
  try {
    tree = parse(expression, 'expression', knownNames);
  } catch {
    return [];
  }
  const names = new Set<string>();
  tree.iterate({
    enter(node) {
      if (node.name !== 'FunctionInvocation') return undefined;
      const callee = node.node.firstChild;
      if (callee && callee.name === 'VariableName') {
        names.add(expression.slice(callee.from, callee.to).replace(/\s+/g, ' ').trim());
      }
      return undefined;
    },
  });
  return [...names];
}

/** Names feelin resolves with nothing in the context: its built-in functions (`substring`, `string length`, `now`). */
const builtinAnswers = new Map<string, boolean>();
function isFeelBuiltin(name: string): boolean {
  let known = builtinAnswers.get(name);
  if (known === undefined) {
    try {
      known = !evaluate(name, {}).warnings.some((w) => w.type === 'NO_VARIABLE_FOUND');
    } catch {
      known = false;
    }
    if (builtinAnswers.size < 1000) builtinAnswers.set(name, known);
  }
  return known;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * Calls in an expression (that parses) to functions that exist nowhere: not a FEEL built-in, not one of
 * Ordo's library (`functionNames`), not a variable of the process that may hold a function defined in
 * FEEL (`variables`: the script tasks' result variables). Deployed, such a call fails every instance
 * that reaches it; found here, the analyst fixes a typo instead. An expression that defines functions
 * itself (`function(x) …`) is left alone: its calls may be to those. Each with a message naming the
 * closest library function when one is near.
 */
export function unknownFunctionCalls(expression: string, functionNames: readonly string[], variables: readonly string[] = []): Array<{ name: string; message: string }> {
  if (/\bfunction\s*\(/.test(expression)) return [];
  const normal = (name: string) => name.replace(/\s+/g, ' ').trim();
  const known = new Set([...functionNames, ...variables].map(normal));
  return feelFunctionCalls(expression, functionNames)
    .filter((name) => !known.has(name) && !isFeelBuiltin(name))
    .map((name) => {
      const nearest = [...functionNames]
        .map((candidate) => ({ candidate: normal(candidate), distance: editDistance(name, normal(candidate)) }))
        .sort((x, y) => x.distance - y.distance)[0];
      const hint = nearest && nearest.distance <= Math.max(2, Math.floor(name.length / 4)) ? ` Did you mean "${nearest.candidate}"?` : '';
      return { name, message: `calls "${name}", which is neither a FEEL built-in function nor one of Ordo's.${hint}` };
    });
}

/**
 * The result variables of a process's script tasks, embedded sub-processes included: where a script may
 * store a function that a later expression calls (for `unknownFunctionCalls`). Works on moddle elements
 * as the server and the modeler both hold them.
 */
export function scriptResultVariables(process: unknown): string[] {
  const found = new Set<string>();
  const visit = (container: unknown, depth: number) => {
    const elements = (container as { flowElements?: unknown } | null)?.flowElements;
    if (depth > 100 || !Array.isArray(elements)) return;
    for (const el of elements as Array<{ $type?: unknown; resultVariable?: unknown; flowElements?: unknown }>) {
      if (el?.$type === 'bpmn:ScriptTask' && typeof el.resultVariable === 'string' && el.resultVariable.trim() !== '') found.add(el.resultVariable.trim());
      if (el?.flowElements) visit(el, depth + 1);
    }
  };
  visit(process, 0);
  return [...found];
}

// ISO 8601 durations as BPMN engines use them: PnYnMnDTnHnMnS (any part may be left out, at least one
// present; the smallest unit may carry a fraction) or PnW.
const DURATION = /^P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?D)?(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$|^P\d+W$/;
// A date-time with an explicit offset: a timer fires at an instant, and a local time names none.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function isIsoDuration(text: string): boolean {
  return DURATION.test(text.trim());
}

export function isIsoDateTime(text: string): boolean {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return false;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || (Number.isFinite(s) && s > 59)) return false;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d >= 1 && d <= daysInMonth;
}

export type TimerKind = 'timeDuration' | 'timeDate' | 'timeCycle';

function checkCycle(text: string): string | null {
  const parts = text.split('/');
  const repeat = parts[0] ?? '';
  if (!/^R\d*$/.test(repeat) || parts.length < 2 || parts.length > 3) {
    return `"${text}" is not an ISO 8601 repeating interval (e.g. R/PT1H, R3/PT10M or R5/2026-12-01T00:00:00Z/P1D).`;
  }
  const [first = '', second] = parts.slice(1);
  if (second === undefined) {
    return isIsoDuration(first) ? null : `"${first}" in the cycle "${text}" is not an ISO 8601 duration (e.g. PT1H).`;
  }
  // Rn/start/duration or Rn/duration/end.
  if (isIsoDateTime(first) && isIsoDuration(second)) return null;
  if (isIsoDuration(first) && isIsoDateTime(second)) return null;
  return `The cycle "${text}" must be R[n]/duration, R[n]/start/duration or R[n]/duration/end, with durations like PT1H and date-times like 2026-12-01T00:00:00Z.`;
}

/**
 * Check a timer definition's text: ISO 8601 for its kind, or `=` followed by a FEEL expression computing it.
 * Returns an error message, or null.
 */
export function checkTimerExpression(kind: TimerKind, text: string, knownNames?: readonly string[]): string | null {
  const value = text.trim();
  if (value === '') return 'The timer expression is empty.';
  if (value.startsWith('=')) {
    const error = checkFeelSyntax(value.slice(1), 'expression', knownNames);
    return error ? `In the timer expression: ${error.message}` : null;
  }
  switch (kind) {
    case 'timeDuration':
      return isIsoDuration(value) ? null : `"${value}" is not an ISO 8601 duration (e.g. PT10S, P1DT2H).`;
    case 'timeDate':
      return isIsoDateTime(value)
        ? null
        : `"${value}" is not an ISO 8601 date-time with an offset (e.g. 2026-12-01T10:00:00Z).`;
    case 'timeCycle':
      return checkCycle(value);
    default:
      return `Unknown timer kind ${String(kind)}.`;
  }
}

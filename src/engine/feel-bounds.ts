import type { SyntaxNode } from '@lezer/common';
import { evaluate, FeelFunction, FeelRange, parseExpression } from 'feelin';
import { feelMatches, feelReplace, feelSplit } from './feel-regex.ts';

/**
 * Bounds on what one FEEL evaluation may do, so that an expression over large lists fails with a
 * FEEL_ERROR instead of exhausting the worker's memory or blocking it for minutes.
 *
 * feelin has no hook into its interpreter, and it materialises whatever it iterates: `for a in l, b in l`
 * builds the whole cartesian product, each element with its own copy of the evaluation context, before
 * the body runs once. So the cost of an evaluation is counted where it arises, in two ways:
 *
 * - At run time, through the two prototypes feelin calls for all of its work with sizes: FeelRange#map
 *   (every range enumerated) and FeelFunction#invoke (every call of a built-in, library or FEEL function,
 *   charged with the size of its arguments and its result).
 * - By instrumenting the expression before feelin compiles it. A walk of the parse tree (feelin's own
 *   lezer parser) finds the places where work multiplies and wraps them in calls of guard functions that
 *   charge what they are handed and return it unchanged: the lists a `for`, `some`, `every` or filter
 *   iterates (weighted by the size of the expression run per element), function bodies, strings built
 *   with `+`, both sides of a deep comparison, and paths read inside loops (`l.x` over a list copies it).
 *
 * Two counters, reset for each evaluation (the engine is synchronous, so module state is safe):
 * elements enumerated (MAX_FEEL_ITERATIONS, a bound on memory: each costs a context copy) and steps
 * (MAX_FEEL_STEPS, a bound on time). The guards are FEEL functions with names no expression may use
 * (RESERVED_PREFIX); the instrumented text is checked to parse to the same names as the original.
 */

/** Elements one evaluation may enumerate: ranges, and lists iterated by for, some, every and filters; nested loops multiply. */
export const MAX_FEEL_ITERATIONS = 100_000;
/**
 * Steps one evaluation may take: an element enumerated costs 1 plus the size (in syntax nodes) of the
 * expression run for it; a function call 1 plus the number of values in its arguments plus the length of
 * the list or text it returns; a string built with `+` its length; a deep comparison the size of its left
 * side (values and characters).
 */
export const MAX_FEEL_STEPS = 1_000_000;

/** Guard names start with this; expressions that contain it are refused. `·` is a FEEL name character nobody types. */
export const RESERVED_PREFIX = 'ordo·';

export type FeelLimit = 'iterations' | 'steps';

export class FeelLimitError extends Error {
  constructor(readonly limit: FeelLimit) {
    super(
      limit === 'iterations'
        ? `it enumerated more than ${MAX_FEEL_ITERATIONS.toLocaleString('en')} elements (for, some, every, filters and ranges together, nested loops multiplied); at most ${MAX_FEEL_ITERATIONS.toLocaleString('en')} are allowed per evaluation`
        : `it took more than ${MAX_FEEL_STEPS.toLocaleString('en')} steps (elements times the expression run for each, function calls and the size of their arguments, text built with +); at most ${MAX_FEEL_STEPS.toLocaleString('en')} are allowed per evaluation`,
    );
  }
}

/** A numeric range whose end cannot be reached one by one: feelin would enumerate it forever. */
export class FeelRangeError extends Error {}

// ── the budget ──────────────────────────────────────────────────────────────────

let iterationsLeft = Number.POSITIVE_INFINITY;
let stepsLeft = Number.POSITIVE_INFINITY;
/** The body weight of the loop whose range is about to be enumerated (set by the `upto`/`each` guards). */
let pendingWeight = 0;

function spend(elements: number, steps: number): void {
  iterationsLeft -= elements;
  stepsLeft -= steps;
  if (iterationsLeft < 0) throw new FeelLimitError('iterations');
  if (stepsLeft < 0) throw new FeelLimitError('steps');
}

/** Run one evaluation with a fresh budget. Outside of it nothing is counted. */
export function bounded<T>(fn: () => T): T {
  const saved = [iterationsLeft, stepsLeft, pendingWeight] as const;
  iterationsLeft = MAX_FEEL_ITERATIONS;
  stepsLeft = MAX_FEEL_STEPS;
  pendingWeight = 0;
  try {
    return fn();
  } finally {
    [iterationsLeft, stepsLeft, pendingWeight] = saved;
  }
}

/**
 * The size of a value as a deep walk sees it: one per value, plus (with `chars`) one per character of text.
 * Shared parts count every time they are reached (that is what a deep comparison or `string()` costs).
 * Stops counting once past `cap`.
 */
export function sizeOf(value: unknown, cap: number, chars = false): number {
  return walk(value, cap, chars, true);
}

/**
 * Values the caller passed in as variables: plain JSON trees that FEEL cannot change, measured once and
 * remembered (a step hands the same order to a dozen library calls). Only their roots are marked.
 */
const inputs = new WeakSet<object>();
const inputSizes = new WeakMap<object, number>();
const inputChars = new WeakMap<object, number>();

/** Mark the variables of an evaluation as inputs (see `inputs`). */
export function markInputs(values: readonly unknown[]): void {
  for (const v of values) if (v !== null && typeof v === 'object') inputs.add(v);
}

function walk(value: unknown, cap: number, chars: boolean, useInputs: boolean): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      size += chars ? 1 + v.length : 1;
    } else if (v === null || typeof v !== 'object') {
      size += 1;
    } else if (useInputs && inputs.has(v)) {
      const memo = chars ? inputChars : inputSizes;
      let n = memo.get(v);
      if (n === undefined) {
        n = walk(v, Number.POSITIVE_INFINITY, chars, false);
        memo.set(v, n);
      }
      size += n;
    } else {
      size += 1;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) stack.push(v[i]);
      } else {
        const proto = Object.getPrototypeOf(v);
        if (proto === Object.prototype || proto === null) for (const k in v) stack.push((v as Record<string, unknown>)[k]);
      }
    }
    if (size > cap) return size;
  }
  return size;
}

// ── run-time hooks ──────────────────────────────────────────────────────────────

const rangeProto = FeelRange.prototype as unknown as { map(fn: (v: unknown) => unknown): unknown[]; start: unknown; end: unknown; valueType: unknown };
const originalRangeMap = rangeProto.map;
rangeProto.map = function boundedRangeMap(this: typeof rangeProto, fn: (v: unknown) => unknown) {
  const weight = pendingWeight;
  pendingWeight = 0;
  const { start, end } = this;
  if (typeof start === 'number' && typeof end === 'number') {
    // feelin steps by one until it meets the end exactly: 1..2.5 or 1..1e400 would never stop.
    if (!Number.isSafeInteger(end - start)) throw new FeelRangeError(`the range ${start}..${end} cannot be enumerated: its ends must be whole numbers`);
    const n = Math.abs(end - start) + 1;
    spend(n, n * (1 + weight));
  }
  return originalRangeMap.call(this, fn);
};

const guards = new Set<FeelFunction>();
function guard(name: string, params: string[], fn: (...args: any[]) => unknown): [string, FeelFunction] {
  const f = new FeelFunction(fn, params);
  guards.add(f);
  return [RESERVED_PREFIX + name, f];
}

/** Built-ins that compare every element with every other: charged the square of their complex elements. */
const quadratic = new Set(['distinct values', 'union'].map((name) => (evaluate(name).value as object | null)).filter(Boolean));

const functionProto = FeelFunction.prototype as unknown as { invoke(args: unknown): unknown; fn: unknown };
const originalInvoke = functionProto.invoke;
/**
 * feelin's regular-expression built-ins, each with its linear-time replacement (feel-regex.ts): JavaScript's
 * RegExp backtracks, and a pattern like `(a+)+$` would hold the worker for minutes. The replacements take
 * the built-in's parameter names, so named and positional calls bind the same way.
 */
const regexBuiltins = new Map<unknown, FeelFunction>(
  ([['matches', feelMatches], ['replace', feelReplace], ['split', feelSplit]] as const).map(([name, impl]) => {
    const builtin = evaluate(name).value as { $args?: string[] } | null;
    if (!builtin?.$args) throw new Error(`feelin has no built-in "${name}" to replace`);
    return [builtin, new FeelFunction(impl, builtin.$args)];
  }),
);

functionProto.invoke = function boundedInvoke(this: FeelFunction, args: unknown): unknown {
  const safe = regexBuiltins.get(this.fn);
  if (safe) return boundedInvoke.call(safe, args);
  if (stepsLeft === Number.POSITIVE_INFINITY || guards.has(this)) return originalInvoke.call(this, args);
  let steps = 1;
  const values = Array.isArray(args) ? args : args !== null && typeof args === 'object' ? Object.values(args) : [];
  for (const v of values) steps += sizeOf(v, stepsLeft);
  if (quadratic.has(this.fn)) {
    let complex = 0;
    for (const v of values.length === 1 && Array.isArray(values[0]) ? values[0] : values.flat()) if (v !== null && typeof v === 'object') complex++;
    steps += complex * complex;
  }
  spend(0, steps);
  const result = originalInvoke.call(this, args);
  if (Array.isArray(result) || typeof result === 'string') spend(0, result.length);
  return result;
};

/** Invoke a FEEL function without charging the call itself (the compiled expression, called by the engine). */
export function invokeUncharged(fn: FeelFunction, args: unknown[]): unknown {
  return originalInvoke.call(fn, args);
}

/** The guard functions, by name, for the evaluation context. */
export const GUARD_FUNCTIONS: Readonly<Record<string, FeelFunction>> = Object.fromEntries([
  // The list a for/some/every/filter iterates, and the weight of what runs per element. A range is
  // charged when feelin enumerates it.
  guard('each', ['value', 'weight'], (value: unknown, weight: number) => {
    if (Array.isArray(value)) spend(value.length, value.length * (1 + weight));
    else if (value instanceof FeelRange) pendingWeight = weight;
    return value;
  }),
  // The end of `for i in a..b`: feelin enumerates the range right after evaluating it.
  guard('upto', ['value', 'weight'], (value: unknown, weight: number) => {
    pendingWeight = weight;
    return value;
  }),
  // A function body, before it runs.
  guard('call', ['weight'], (weight: number) => {
    spend(0, 1 + weight);
    return true;
  }),
  // The left side of `=`, `!=`, the list of `in`: compared deeply.
  guard('deep', ['value'], (value: unknown) => {
    if (value !== null && (typeof value === 'object' || typeof value === 'string')) spend(0, sizeOf(value, stepsLeft, true));
    return value;
  }),
  // The result of `+`: text grows by doubling without a loop.
  guard('text', ['value'], (value: unknown) => {
    if (typeof value === 'string') spend(0, value.length);
    return value;
  }),
  // The target of a path inside a loop: `l.x` over a list builds a new list.
  guard('path', ['value'], (value: unknown) => {
    if (Array.isArray(value)) spend(0, value.length);
    return value;
  }),
]);

// ── instrumentation ─────────────────────────────────────────────────────────────

type StaticType = 'test' | 'number' | 'string' | 'boolean' | 'nil' | 'date' | 'any' | undefined;

const TEST_NODES = new Set(['Comparison', 'Disjunction', 'Conjunction', 'InstanceOfExpression', 'QuantifiedExpression', 'SimplePositiveUnaryTest', 'Interval']);
const ANY_NODES = new Set(['VariableName', 'PathExpression', 'FilterExpression', 'FunctionInvocation', 'PathName']);
const SCALAR_LITERALS = new Set(['NumericLiteral', 'StringLiteral', 'BooleanLiteral', 'null']);

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

function isExpressionNode(node: SyntaxNode): boolean {
  return /^[A-Z]/.test(node.name) || node.name === 'null';
}

/** The type feelin tags a node's closure with at build time (it decides how a filter treats its condition). */
function staticType(node: SyntaxNode): StaticType {
  const name = node.name;
  if (TEST_NODES.has(name)) return 'test';
  if (ANY_NODES.has(name)) return 'any';
  switch (name) {
    case 'NumericLiteral':
      return 'number';
    case 'StringLiteral':
      return 'string';
    case 'BooleanLiteral':
      return 'boolean';
    case 'null':
      return 'nil';
    case 'DateTimeLiteral':
    case 'AtLiteral':
      return 'date';
    case 'ParenthesizedExpression': {
      const inner = children(node).find(isExpressionNode);
      return inner ? staticType(inner) : undefined;
    }
    case 'IfExpression': {
      const parts = children(node).filter(isExpressionNode);
      return coalesce(parts[1], parts[2]);
    }
    case 'ArithmeticExpression': {
      const parts = children(node).filter((c) => c.name !== 'ArithOp');
      return parts.length === 2 ? coalesce(parts[0], parts[1]) : parts[0] ? staticType(parts[0]) : undefined;
    }
    default:
      return undefined;
  }
}

function coalesce(a: SyntaxNode | undefined, b: SyntaxNode | undefined): StaticType {
  if (!a) return undefined;
  const ta = staticType(a);
  if (!b) return ta;
  return ta === staticType(b) ? ta : 'any';
}

/** The work one evaluation of a subtree takes, in syntax nodes (an upper bound: tokens and names count too). */
function weight(node: SyntaxNode): number {
  let n = /^[A-Z]/.test(node.name) ? 1 : 0;
  for (let c = node.firstChild; c; c = c.nextSibling) n += weight(c);
  return Math.max(1, n);
}

type Guard = 'each' | 'upto' | 'call' | 'deep' | 'text' | 'path';

interface Wrap {
  guard: Guard;
  /** The weight passed to `each`, `upto` and `call`. */
  weight?: number;
}

/** A node's identity across parses of the same text: a parent and its only child share a range, not a name. */
const key = (node: SyntaxNode) => `${node.from}:${node.to}:${node.name}`;

/** Where the guards go: node → wraps, innermost last (a node's own wrap is decided after its parent's). */
function plan(source: string, root: SyntaxNode): Map<string, Wrap[]> {
  const wraps = new Map<string, Wrap[]>();
  const wrap = (node: SyntaxNode, w: Wrap) => {
    const list = wraps.get(key(node));
    if (list) list.push(w);
    else wraps.set(key(node), [w]);
  };
  const text = (node: SyntaxNode) => source.slice(node.from, node.to).trim();
  const scalar = (node: SyntaxNode | undefined) => !node || SCALAR_LITERALS.has(node.name) || node.name === 'DateTimeLiteral';

  const visit = (node: SyntaxNode, inLoop: boolean): void => {
    const kids = children(node);
    switch (node.name) {
      case 'ForExpression':
      case 'QuantifiedExpression': {
        const body = kids[kids.length - 1]!;
        const ins = kids.find((k) => k.name === 'InExpressions');
        const sources = ins ? children(ins).filter((k) => k.name === 'InExpression') : [];
        const bodyWeight = weight(body);
        sources.forEach((source, i) => {
          // Only the product of all sources runs the body; the sources before it only multiply.
          const w = i === sources.length - 1 ? bodyWeight : 0;
          const ctx = children(source).find((k) => k.name === 'IterationContext');
          if (!ctx) return;
          const parts = children(ctx);
          const exprs = parts.filter(isExpressionNode);
          if (parts.some((k) => k.name === '..') && exprs.length === 2) wrap(exprs[1]!, { guard: 'upto', weight: w });
          else if (exprs.length === 1) wrap(exprs[0]!, { guard: 'each', weight: w });
          // Sources after the first are evaluated once per element of those before them.
          for (const e of exprs) visit(e, inLoop || i > 0);
        });
        visit(body, true);
        return;
      }
      case 'FilterExpression': {
        const [target, condition] = kids.filter(isExpressionNode);
        if (!target || !condition) break;
        // feelin decides by the condition's type: a test runs per element, a string compares with each, the
        // rest index (or answer null) without iterating.
        const kind = staticType(condition);
        const iterates = kind === 'test' || kind === 'string';
        if (iterates) wrap(target, { guard: 'each', weight: kind === 'test' ? weight(condition) : 0 });
        visit(target, inLoop);
        visit(condition, inLoop || iterates);
        return;
      }
      case 'FunctionDefinition': {
        const body = kids.find((k) => k.name === 'FunctionBody');
        const inner = body && !kids.some((k) => k.name === 'external') ? children(body).find(isExpressionNode) : undefined;
        if (inner) {
          wrap(inner, { guard: 'call', weight: weight(inner) });
          visit(inner, true);
        }
        for (const k of kids) if (k !== body) visit(k, inLoop);
        return;
      }
      case 'Comparison': {
        const op = kids[1];
        if (op?.name === 'CompareOp') {
          const [left, , right] = kids;
          const o = text(op);
          if ((o === '=' || o === '!=') && left && !scalar(left) && !scalar(right)) wrap(left, { guard: 'deep' });
        } else if (op?.name === 'in') {
          for (const test of kids.slice(2)) {
            const tests = test.name === 'PositiveUnaryTests' ? children(test).filter((t) => t.name === 'PositiveUnaryTest') : test.name === 'PositiveUnaryTest' ? [test] : [];
            for (const t of tests) {
              const inner = children(t)[0];
              if (inner && isExpressionNode(inner) && !TEST_NODES.has(inner.name) && !scalar(inner)) wrap(inner, { guard: 'deep' });
            }
          }
        }
        break;
      }
      case 'ArithmeticExpression': {
        const op = kids.find((k) => k.name === 'ArithOp');
        // Only where feelin types the sum 'any' anyway: wrapping changes a node's type to 'any', and a
        // filter reads its condition's type (`l["a" + "b"]` compares, `l[i + 1]` indexes).
        if (op && text(op) === '+' && kids.length === 3 && staticType(node) === 'any') wrap(node, { guard: 'text' });
        break;
      }
      case 'PathExpression': {
        if (inLoop && kids[0]) wrap(kids[0], { guard: 'path' });
        break;
      }
    }
    for (const k of kids) visit(k, inLoop);
  };
  visit(root, false);
  return wraps;
}

/** The text of the expression with its guards, in the plain form (`ordo·each(l, 3)`) or the transparent one. */
function render(source: string, root: SyntaxNode, wraps: Map<string, Wrap[]>, transparent: boolean): string {
  const out = (node: SyntaxNode): string => {
    let text = '';
    let pos = node.from;
    for (let c = node.firstChild; c; c = c.nextSibling) {
      text += source.slice(pos, c.from) + out(c);
      pos = c.to;
    }
    text += source.slice(pos, node.to);
    const list = wraps.get(key(node)) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const w = list[i]!;
      if (w.guard === 'call') {
        text = `(if ${RESERVED_PREFIX}call(${w.weight}) then (${text}) else null)`;
        continue;
      }
      const extra = w.weight === undefined ? '' : `, ${w.weight}`;
      // The transparent form keeps the value visible to feelin's parser, which reads names with operators
      // in them (`x.unit-price`) by tracking what flows where; a function call hides it.
      text = transparent
        ? `{${RESERVED_PREFIX}v: ${text}, ${RESERVED_PREFIX}g: ${RESERVED_PREFIX}${w.guard}(${RESERVED_PREFIX}v${extra})}.${RESERVED_PREFIX}v`
        : `${RESERVED_PREFIX}${w.guard}(${text}${extra})`;
    }
    return text;
  };
  return out(root);
}

/** Names as the parser read them, in order, the guards' own left out. */
function names(source: string, root: SyntaxNode): string {
  const out: string[] = [];
  const cursor = root.cursor();
  do {
    if (cursor.type.isError) return '\u0000error';
    if (cursor.name === 'Name' || cursor.name === 'VariableName' || cursor.name === 'PathName' || cursor.name === 'Identifier') {
      const text = source.slice(cursor.from, cursor.to);
      if (!text.includes(RESERVED_PREFIX)) out.push(`${cursor.name}:${text}`);
    }
  } while (cursor.next());
  return out.join('\u0000');
}

export class FeelReservedNameError extends Error {}

/**
 * The expression with its guards, or the expression itself when it has nothing to guard. Throws
 * FeelReservedNameError when the expression uses the guards' names. Parse errors are left to feelin.
 */
export function instrument(expression: string, parseContext: Record<string, unknown>): string {
  if (expression.includes(RESERVED_PREFIX)) throw new FeelReservedNameError(`names starting with "${RESERVED_PREFIX}" are reserved`);
  const tree = parseExpression(expression, parseContext, undefined);
  const root = tree.topNode;
  let hasError = false;
  tree.iterate({
    enter(n) {
      if (n.type.isError) hasError = true;
      return !hasError;
    },
  });
  if (hasError) return expression;
  const wraps = plan(expression, root);
  if (wraps.size === 0) return expression;
  const expected = names(expression, root);
  const context = { ...parseContext, ...GUARD_FUNCTIONS };
  for (const transparent of [false, true]) {
    const text = render(expression, root, wraps, transparent);
    if (names(text, parseExpression(text, context, undefined).topNode) === expected) return text;
  }
  // Neither form parses to the same names: evaluate nothing rather than evaluate it unbounded.
  throw new FeelReservedNameError('it could not be bounded (its names read differently once instrumented)');
}

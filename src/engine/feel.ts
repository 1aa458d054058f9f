import { evaluate, FeelFunction, FeelRange, dateAndTime, date, SyntaxError as FeelSyntaxError } from 'feelin';
import { bounded, FeelLimitError, FeelRangeError, FeelReservedNameError, GUARD_FUNCTIONS, instrument, invokeUncharged, markInputs } from './feel-bounds.ts';
import { EngineError } from './runtime/errors.ts';

export { MAX_FEEL_ITERATIONS, MAX_FEEL_STEPS } from './feel-bounds.ts';

/**
 * FEEL evaluation for the engine: conditions, scripts, multi-instance collections, timer expressions.
 *
 * feelin recovers from most errors by evaluating to null and reporting a warning. Missing variables and
 * properties stay null on purpose (a condition over an order without a phone is simply false), but a
 * function that does not exist or throws is a broken process, so those warnings become an EngineError
 * with code FEEL_ERROR. `now()` and `today()` answer with the time the caller passed to `step`.
 * Every evaluation runs within the bounds of feel-bounds.ts: past them it fails with reason 'limit'.
 */

export type FeelFunctions = Readonly<Record<string, (...args: any[]) => unknown>>;

export interface FeelOptions {
  /** The function library (`validate address`, ...), keyed by FEEL name. */
  readonly functions: FeelFunctions;
  readonly now: Date;
}

/** Analysts write one-liners; anything this long is a mistake or an attack. */
export const MAX_FEEL_EXPRESSION_CHARS = 10_000;
/** Roughly the JSON size of a result (characters of strings plus one per value); past it the result is refused. */
export const MAX_FEEL_RESULT_UNITS = 1_000_000;

export type FeelErrorReason = 'syntax' | 'function' | 'limit' | 'evaluation';

export class FeelError extends EngineError {
  constructor(
    message: string,
    readonly expression: string,
    readonly reason: FeelErrorReason,
  ) {
    super('FEEL_ERROR', message);
  }
}

/** A result past MAX_FEEL_RESULT_UNITS. */
class RangeLimitError extends Error {}

/** Last error thrown by a library function during the current evaluation (feelin swallows it). */
let lastFunctionError: unknown = null;
const wrapped = new WeakMap<(...args: any[]) => unknown, (...args: any[]) => unknown>();

function parameterNames(fn: (...args: any[]) => unknown): string[] {
  const declared = (fn as { $args?: unknown }).$args;
  if (Array.isArray(declared)) return declared as string[];
  const source = fn.toString();
  const arrow = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (arrow) return [arrow[1]!];
  const m = /^[^(]*\(([^)]*)\)/.exec(source);
  if (!m || !m[1]!.trim()) return [];
  return m[1]!.split(',').map((p) => p.trim().replace(/\s*=.*$/, ''));
}

function wrapFunction(fn: (...args: any[]) => unknown): (...args: any[]) => unknown {
  let w = wrapped.get(fn);
  if (!w) {
    w = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (err) {
        lastFunctionError = err;
        throw err;
      }
    };
    (w as { $args?: string[] }).$args = parameterNames(fn);
    wrapped.set(fn, w);
  }
  return w;
}

/**
 * FEEL values (dates, durations, ranges, functions) and caller data (Dates, undefined) as plain JSON data
 * the instance state can hold. `maxUnits` bounds the size (see MAX_FEEL_RESULT_UNITS).
 */
export function toPlain(value: unknown, maxUnits = Number.POSITIVE_INFINITY): unknown {
  let units = 0;
  const conv = (v: unknown): unknown => {
    if (++units > maxUnits) throw new RangeLimitError();
    if (v === null || v === undefined) return null;
    switch (typeof v) {
      case 'string':
        units += v.length;
        if (units > maxUnits) throw new RangeLimitError();
        return v;
      case 'number':
        return Number.isFinite(v) ? v : null;
      case 'boolean':
        return v;
      case 'bigint':
        return Number(v);
      case 'object': {
        if (Array.isArray(v)) return v.map(conv);
        if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
        if (v instanceof FeelRange) return null;
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) {
          const toJSON = (v as { toJSON?: () => unknown }).toJSON;
          return typeof toJSON === 'function' ? conv(toJSON.call(v)) : String(v);
        }
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          if (typeof x === 'function' || x === undefined) continue;
          units += k.length;
          out[k] = conv(x);
        }
        return out;
      }
      default:
        return null;
    }
  };
  return conv(value);
}

const FAILING_WARNINGS = new Set(['NO_FUNCTION_FOUND', 'FUNCTION_INVOCATION_FAILURE', 'UNSUPPORTED']);

function buildContext(variables: Readonly<Record<string, unknown>>, options: FeelOptions): Record<string, unknown> {
  const iso = options.now.toISOString();
  const context: Record<string, unknown> = { ...variables };
  for (const [name, fn] of Object.entries(options.functions)) context[name] = wrapFunction(fn);
  context['now'] = () => dateAndTime(iso);
  context['today'] = () => date(iso.slice(0, 10));
  return context;
}

// ── compiled expressions ────────────────────────────────────────────────────────
//
// feelin parses an expression and builds its closure tree on every `evaluate` call, and that is nearly
// all of the cost (a lookup of every name against ~150 builtins, the parse with its context tracker, a
// deep copy of the whole context). feelin exports no "compile once" API, but FEEL itself has one: a
// function definition. `function(order, settings) <expression>` is evaluated once, with the function
// library as its context, and the FeelFunction it yields is invoked with the variables each time after.
// The body is the same closure tree feelin would have built, so the semantics are feelin's own.
//
// The compiled form is used only where it provably parses the same as a fresh evaluation would:
// - parameters are the variables whose name appears in the expression (a name not written cannot be
//   referenced), and only when those names and every key inside their values are plain identifiers
//   (feelin's parser consults the context only to read names with spaces or operators in them);
// - a variable with the name of a library function stays out (the library wins, as in buildContext);
// - anything that fails to compile falls back to `evaluate`, so errors read exactly as before.
// Warnings raised in the body land in the warnings array of the `evaluate` call that compiled it
// (feelin returns that very array), which is emptied before each invocation.

interface Compiled {
  fn: FeelFunction;
  params: string[];
  warnings: Array<{ type: string; message: string }>;
  busy: boolean;
}

/** Expressions × parameter sets kept per function library; an analyst's diagrams hold a few hundred. */
export const MAX_COMPILED_FEEL = 2_000;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'function', 'if', 'then', 'else', 'for', 'in', 'return', 'some', 'every', 'satisfies', 'and', 'or', 'not', 'between', 'instance', 'of', 'external', 'item']);

/** The `now` the current evaluation runs at, read by the compiled `now()` and `today()`. */
let currentNowIso = '';
const compiledByLibrary = new WeakMap<FeelFunctions, { context: Record<string, unknown>; names: Set<string>; entries: Map<string, Compiled | null> }>();

function libraryFor(functions: FeelFunctions) {
  let lib = compiledByLibrary.get(functions);
  if (!lib) {
    const context: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(functions)) context[name] = wrapFunction(fn);
    context['now'] = () => dateAndTime(currentNowIso);
    context['today'] = () => date(currentNowIso.slice(0, 10));
    lib = { context, names: new Set([...Object.keys(context), ...Object.keys(GUARD_FUNCTIONS)]), entries: new Map() };
    compiledByLibrary.set(functions, lib);
  }
  return lib;
}

/**
 * Every key in the value is a plain identifier. Memoised per variable value (a step evaluates the same
 * order many times, and a later step holds the same object when the order did not change); the keys
 * found plain are remembered by name, since orders repeat the same few dozen.
 */
const plainKeys = new WeakMap<object, boolean>();
const identifierKeys = new Set<string>();
function hasPlainKeys(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  let known = plainKeys.get(value);
  if (known === undefined) plainKeys.set(value, (known = keysArePlain(value, 0)));
  return known;
}

function keysArePlain(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth > 64) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!keysArePlain(value[i], depth + 1)) return false;
    return true;
  }
  for (const key of Object.keys(value)) if (!isIdentifier(key) || !keysArePlain((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

function isIdentifier(name: string): boolean {
  if (identifierKeys.has(name)) return true;
  if (!IDENTIFIER.test(name)) return false;
  if (identifierKeys.size < 10_000) identifierKeys.add(name);
  return true;
}

/** The compiled expression and its arguments, or null when only a fresh evaluation is exact. */
function compiledFor(expression: string, variables: Readonly<Record<string, unknown>>, functions: FeelFunctions): { compiled: Compiled; args: unknown[] } | null {
  const lib = libraryFor(functions);
  const params: string[] = [];
  const args: unknown[] = [];
  for (const name of Object.keys(variables)) {
    if (lib.names.has(name)) continue;
    const value = variables[name];
    if (isIdentifier(name)) {
      if (!expression.includes(name)) continue;
      if (RESERVED.has(name) || !hasPlainKeys(value)) return null;
    } else {
      // A name with spaces or operators: referenced only if each of its parts is written.
      const parts = name.split(/[\s./\-'+*]+/).filter(Boolean);
      if (parts.length === 0 || parts.every((p) => expression.includes(p))) return null;
      continue;
    }
    if (value === undefined) continue;
    params.push(name);
    args.push(value);
  }
  const key = params.length === 0 ? expression : `${expression}\u0000${params.join('\u0000')}`;
  let compiled = lib.entries.get(key);
  if (compiled === undefined) {
    compiled = compile(expression, params, lib.context);
    if (lib.entries.size >= MAX_COMPILED_FEEL) lib.entries.delete(lib.entries.keys().next().value!);
    lib.entries.set(key, compiled);
  }
  if (!compiled || compiled.busy) return null;
  return { compiled, args };
}

/** How many expressions are held compiled for this library (diagnostics, tests). */
export function compiledFeelCount(functions: FeelFunctions): number {
  let n = 0;
  for (const c of compiledByLibrary.get(functions)?.entries.values() ?? []) if (c) n++;
  return n;
}

function compile(expression: string, params: string[], context: Record<string, unknown>): Compiled | null {
  try {
    const body = instrument(expression, context);
    const result = evaluate(`function(${params.join(', ')}) ${body}`, withGuards(context, body));
    if (!(result.value instanceof FeelFunction) || result.warnings.length > 0) return null;
    return { fn: result.value, params, warnings: result.warnings, busy: false };
  } catch {
    return null;
  }
}

/**
 * The context plus the guards the instrumented text calls. Only those: a compiled expression copies its
 * definition context on every call, so each entry it does not need costs every evaluation.
 */
function withGuards(context: Record<string, unknown>, instrumented: string): Record<string, unknown> {
  let out = context;
  for (const [name, fn] of Object.entries(GUARD_FUNCTIONS)) {
    if (!instrumented.includes(`${name}(`)) continue;
    if (out === context) out = { ...context };
    out[name] = fn;
  }
  return out;
}

function evaluateFresh(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): { value: unknown; warnings: Array<{ type: string; message: string }> } {
  const context = buildContext(variables, options);
  const instrumented = instrument(expression, context);
  return evaluate(instrumented, withGuards(context, instrumented));
}

function evaluateCompiled(hit: { compiled: Compiled; args: unknown[] }, now: Date): { value: unknown; warnings: Array<{ type: string; message: string }> } {
  const { compiled, args } = hit;
  compiled.warnings.length = 0;
  compiled.busy = true;
  currentNowIso = now.toISOString();
  markInputs(args);
  try {
    const value = invokeUncharged(compiled.fn, args);
    return { value, warnings: compiled.warnings.slice() };
  } finally {
    compiled.busy = false;
    compiled.warnings.length = 0;
  }
}

/**
 * Evaluate a FEEL expression against the variables and the function library. Returns plain JSON data
 * (dates and durations as ISO strings). Throws FeelError for syntax errors, unknown or failing
 * functions and runaway evaluations.
 */
export function evaluateFeel(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): unknown {
  return evaluateWith(expression, variables, options, true);
}

/** The same evaluation without the compiled-expression cache: the reference the tests compare against. */
export function evaluateFeelUncached(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): unknown {
  return evaluateWith(expression, variables, options, false);
}

function evaluateWith(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions, cached: boolean): unknown {
  if (expression.length > MAX_FEEL_EXPRESSION_CHARS) {
    throw new FeelError(`The FEEL expression is ${expression.length} characters long; at most ${MAX_FEEL_EXPRESSION_CHARS} are allowed.`, expression, 'limit');
  }
  lastFunctionError = null;
  try {
    const result = bounded(() => {
      const hit = cached ? compiledFor(expression, variables, options.functions) : null;
      return hit ? evaluateCompiled(hit, options.now) : evaluateFresh(expression, variables, options);
    });
    const failing = result.warnings.find((w) => FAILING_WARNINGS.has(w.type));
    if (failing) {
      const cause = lastFunctionError instanceof Error ? `: ${lastFunctionError.message}` : '';
      throw new FeelError(`FEEL ${expression}: ${failing.message}${cause}`, expression, 'function');
    }
    return toPlain(result.value, MAX_FEEL_RESULT_UNITS);
  } catch (err) {
    if (err instanceof FeelError) throw err;
    if (err instanceof FeelLimitError) throw new FeelError(`FEEL ${excerpt(expression)}: the evaluation was stopped: ${err.message}.`, expression, 'limit');
    if (err instanceof FeelRangeError) throw new FeelError(`FEEL ${excerpt(expression)}: ${err.message}.`, expression, 'evaluation');
    if (err instanceof FeelReservedNameError) throw new FeelError(`FEEL ${excerpt(expression)}: ${err.message}.`, expression, 'syntax');
    if (err instanceof RangeLimitError || err instanceof RangeError) {
      throw new FeelError(`FEEL ${excerpt(expression)}: the evaluation grew too large and was stopped (a result of more than ${MAX_FEEL_RESULT_UNITS.toLocaleString('en')} values and characters, text past the longest string, or recursion past the stack).`, expression, 'limit');
    }
    const e = err as Error;
    const reason = err instanceof FeelSyntaxError ? 'syntax' : 'evaluation';
    throw new FeelError(`FEEL ${expression}: ${reason === 'syntax' ? 'syntax error, ' : ''}${e?.message ?? String(err)}`, expression, reason);
  } finally {
    lastFunctionError = null;
  }
}

/** An expression in an error message: analysts recognise the start, and a ticket need not hold 10,000 characters. */
function excerpt(expression: string): string {
  const flat = expression.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 119)}…` : flat;
}

/** A sequence-flow or completion condition: only `true` counts as true (null from missing data is false). */
export function evaluateCondition(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): boolean {
  return evaluateFeel(expression, variables, options) === true;
}

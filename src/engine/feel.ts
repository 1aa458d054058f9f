import { evaluate, FeelRange, dateAndTime, date, SyntaxError as FeelSyntaxError } from 'feelin';
import { EngineError } from './runtime/errors.ts';

/**
 * FEEL evaluation for the engine: conditions, scripts, multi-instance collections, timer expressions.
 *
 * feelin recovers from most errors by evaluating to null and reporting a warning. Missing variables and
 * properties stay null on purpose (a condition over an order without a phone is simply false), but a
 * function that does not exist or throws is a broken process, so those warnings become an EngineError
 * with code FEEL_ERROR. `now()` and `today()` answer with the time the caller passed to `step`.
 */

export type FeelFunctions = Readonly<Record<string, (...args: any[]) => unknown>>;

export interface FeelOptions {
  /** The function library (`validate address`, ...), keyed by FEEL name. */
  readonly functions: FeelFunctions;
  readonly now: Date;
}

/** Analysts write one-liners; anything this long is a mistake or an attack. */
export const MAX_FEEL_EXPRESSION_CHARS = 10_000;
/** Elements a single evaluation may enumerate from ranges (`for i in 1..n`), nested loops counted together. */
export const MAX_FEEL_RANGE_ELEMENTS = 100_000;
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

// feelin enumerates a range eagerly; count what it enumerates during our evaluations and stop runaways.
let rangeBudget = Number.POSITIVE_INFINITY;
const rangeProto = FeelRange.prototype as unknown as { map(fn: (v: unknown) => unknown): unknown[]; start: unknown; end: unknown };
const originalRangeMap = rangeProto.map;
class RangeLimitError extends Error {}
rangeProto.map = function guardedMap(this: typeof rangeProto, fn: (v: unknown) => unknown) {
  if (rangeBudget !== Number.POSITIVE_INFINITY && typeof this.start === 'number' && typeof this.end === 'number') {
    rangeBudget -= Math.abs(this.end - this.start) + 1;
    if (rangeBudget < 0) throw new RangeLimitError();
  }
  return originalRangeMap.call(this, fn);
};

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

/**
 * Evaluate a FEEL expression against the variables and the function library. Returns plain JSON data
 * (dates and durations as ISO strings). Throws FeelError for syntax errors, unknown or failing
 * functions and runaway evaluations.
 */
export function evaluateFeel(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): unknown {
  if (expression.length > MAX_FEEL_EXPRESSION_CHARS) {
    throw new FeelError(`The FEEL expression is ${expression.length} characters long; at most ${MAX_FEEL_EXPRESSION_CHARS} are allowed.`, expression, 'limit');
  }
  lastFunctionError = null;
  rangeBudget = MAX_FEEL_RANGE_ELEMENTS;
  let result: { value: unknown; warnings: Array<{ type: string; message: string }> };
  try {
    result = evaluate(expression, buildContext(variables, options));
    const failing = result.warnings.find((w) => FAILING_WARNINGS.has(w.type));
    if (failing) {
      const cause = lastFunctionError instanceof Error ? `: ${lastFunctionError.message}` : '';
      throw new FeelError(`FEEL ${expression}: ${failing.message}${cause}`, expression, 'function');
    }
    return toPlain(result.value, MAX_FEEL_RESULT_UNITS);
  } catch (err) {
    if (err instanceof FeelError) throw err;
    if (err instanceof RangeLimitError || err instanceof RangeError) {
      throw new FeelError(`FEEL ${expression}: the evaluation grew too large and was stopped.`, expression, 'limit');
    }
    const e = err as Error;
    const reason = err instanceof FeelSyntaxError ? 'syntax' : 'evaluation';
    throw new FeelError(`FEEL ${expression}: ${reason === 'syntax' ? 'syntax error, ' : ''}${e?.message ?? String(err)}`, expression, reason);
  } finally {
    rangeBudget = Number.POSITIVE_INFINITY;
    lastFunctionError = null;
  }
}

/** A sequence-flow or completion condition: only `true` counts as true (null from missing data is false). */
export function evaluateCondition(expression: string, variables: Readonly<Record<string, unknown>>, options: FeelOptions): boolean {
  return evaluateFeel(expression, variables, options) === true;
}

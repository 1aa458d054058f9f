import { EngineError } from './errors.ts';

/**
 * ISO 8601 durations, date-times and repeating intervals, as BPMN timers and `ordo:backoff` use them.
 * Calendar parts (years, months, days) are added in UTC calendar terms, the rest as exact milliseconds.
 */

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const DURATION_RE =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

export function parseDuration(text: string): IsoDuration | null {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return null;
  const n = (i: number) => (m[i] ? Number(m[i]!.replace(',', '.')) : 0);
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

export function addDuration(from: Date, d: IsoDuration): Date {
  const out = new Date(from.getTime());
  if (d.years || d.months) out.setUTCMonth(out.getUTCMonth() + d.months + d.years * 12);
  if (d.weeks || d.days) out.setUTCDate(out.getUTCDate() + d.days + d.weeks * 7);
  out.setTime(out.getTime() + ((d.hours * 60 + d.minutes) * 60 + d.seconds) * 1000);
  return out;
}

/** Milliseconds of a duration counted from the epoch (a month is as long as January 1970's). */
export function durationMs(text: string): number | null {
  const d = parseDuration(text);
  return d ? addDuration(new Date(0), d).getTime() : null;
}

/** A full ISO date-time (with zone) or a date; anything Date.parse would read differently is refused. */
export function parseDateTime(text: string): Date | null {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export interface Cycle {
  /** Null for an unbounded `R/...`. */
  readonly repetitions: number | null;
  readonly start: Date | null;
  readonly period: string;
}

/** `R3/PT10M`, `R/P1D`, `R2/2026-12-01T10:00:00Z/PT1H`. */
export function parseCycle(text: string): Cycle | null {
  const parts = text.trim().split('/');
  const r = /^R(\d*)$/.exec(parts[0] ?? '');
  if (!r) return null;
  const repetitions = r[1] ? Number(r[1]) : null;
  if (parts.length === 2 && parseDuration(parts[1]!)) return { repetitions, start: null, period: parts[1]! };
  if (parts.length === 3 && parseDuration(parts[2]!)) {
    const start = parseDateTime(parts[1]!);
    if (start) return { repetitions, start, period: parts[2]! };
  }
  return null;
}

/** What a timer wait needs: when it fires first, and how it re-arms (cycles only). */
export interface TimerPlan {
  readonly dueAt: string;
  /** Firings left after this one; null = unbounded; 0 = none. */
  readonly remaining: number | null;
  readonly period: string | null;
}

export function planTimer(kind: 'duration' | 'date' | 'cycle', text: string, now: Date): TimerPlan {
  if (kind === 'duration') {
    const d = parseDuration(text);
    if (!d) throw new EngineError('TIMER_INVALID', `"${text}" is not an ISO 8601 duration.`);
    return { dueAt: addDuration(now, d).toISOString(), remaining: 0, period: null };
  }
  if (kind === 'date') {
    const at = parseDateTime(text);
    if (!at) throw new EngineError('TIMER_INVALID', `"${text}" is not an ISO 8601 date-time.`);
    return { dueAt: at.toISOString(), remaining: 0, period: null };
  }
  const c = parseCycle(text);
  if (!c) throw new EngineError('TIMER_INVALID', `"${text}" is not an ISO 8601 repeating interval (R3/PT10M).`);
  if (c.repetitions === 0) throw new EngineError('TIMER_INVALID', `"${text}" repeats zero times.`);
  const first = c.start ?? addDuration(now, parseDuration(c.period)!);
  return {
    dueAt: first.toISOString(),
    remaining: c.repetitions === null ? null : c.repetitions - 1,
    period: c.period,
  };
}

/** The next occurrence of a cycle, counted from the previous due time so a late firing does not drift. */
export function nextDue(previousDueAt: string, period: string): string {
  return addDuration(new Date(previousDueAt), parseDuration(period)!).toISOString();
}

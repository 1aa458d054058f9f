import { describe, expect, it } from 'vitest';
import { durationMs, nextDue, parseDuration, planTimer } from '../../../src/engine/runtime/iso.ts';
import { EngineError } from '../../../src/engine/runtime/errors.ts';

const now = new Date('2026-01-31T10:00:00.000Z');

describe('ISO 8601 timers', () => {
  it('given durations, then calendar parts follow the UTC calendar and the rest is exact', () => {
    expect(planTimer('duration', 'PT10S', now).dueAt).toBe('2026-01-31T10:00:10.000Z');
    expect(planTimer('duration', 'P1D', now).dueAt).toBe('2026-02-01T10:00:00.000Z');
    expect(planTimer('duration', 'P1Y2M', new Date('2026-01-15T00:00:00Z')).dueAt).toBe('2027-03-15T00:00:00.000Z');
    expect(planTimer('duration', 'P1W', now).dueAt).toBe('2026-02-07T10:00:00.000Z');
    expect(durationMs('PT1M30.5S')).toBe(90_500);
    expect(parseDuration('P')).toBeNull();
    expect(parseDuration('PT')).toBeNull();
    expect(parseDuration('10 minutes')).toBeNull();
  });

  it('given dates and cycles, then the first due time and what is left are planned', () => {
    expect(planTimer('date', '2026-12-01T10:00:00Z', now)).toEqual({ dueAt: '2026-12-01T10:00:00.000Z', remaining: 0, period: null });
    expect(planTimer('cycle', 'R3/PT1H', now)).toEqual({ dueAt: '2026-01-31T11:00:00.000Z', remaining: 2, period: 'PT1H' });
    expect(planTimer('cycle', 'R/PT1H', now)).toEqual({ dueAt: '2026-01-31T11:00:00.000Z', remaining: null, period: 'PT1H' });
    expect(planTimer('cycle', 'R2/2026-03-01T08:00:00Z/P1D', now)).toEqual({ dueAt: '2026-03-01T08:00:00.000Z', remaining: 1, period: 'P1D' });
    expect(nextDue('2026-03-01T08:00:00.000Z', 'P1D')).toBe('2026-03-02T08:00:00.000Z');
  });

  it('given text that is no ISO timer, then TIMER_INVALID', () => {
    for (const [kind, text] of [['duration', '5m'], ['date', 'tomorrow'], ['cycle', '0 0 * * *'], ['cycle', 'R0/PT1H']] as const) {
      expect(() => planTimer(kind, text, now)).toThrow(EngineError);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { timestampText } from '../../../src/db/timestamp.ts';

describe('timestampText', () => {
  it('writes years 1 to 9999 as ISO text', () => {
    expect(timestampText(new Date('2026-12-07T08:00:00Z'))).toBe('2026-12-07T08:00:00.000Z');
    expect(timestampText(new Date('0001-01-01T00:00:00Z'))).toBe('0001-01-01T00:00:00.000Z');
    expect(timestampText(new Date('9999-12-31T23:59:59.999Z'))).toBe('9999-12-31T23:59:59.999Z');
  });

  it('writes years before 1 as PostgreSQL does: year 0 is 1 BC, -1 is 2 BC', () => {
    expect(timestampText(new Date('0000-01-01T00:00:00Z'))).toBe('0001-01-01T00:00:00.000Z BC');
    expect(timestampText(new Date('0001-01-01T00:30:00+01:00'))).toBe('0001-12-31T23:30:00.000Z BC');
    expect(timestampText(new Date(Date.UTC(-1, 5, 1)))).toBe('0002-06-01T00:00:00.000Z BC');
  });

  it('writes years after 9999 without the sign and leading zeros of toISOString', () => {
    expect(timestampText(new Date(Date.UTC(12026, 0, 2)))).toBe('12026-01-02T00:00:00.000Z');
  });
});

import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/db/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The first 48 bits of a version 7 UUID: milliseconds since the epoch. */
const millisOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newId', () => {
  it('makes version 7 UUIDs carrying the time they were made', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(millisOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(id)).toBeLessThanOrEqual(after);
  });

  it('sorts ids made in a later millisecond after those of earlier ones, and never repeats one', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    const millis = [...new Set(ids.map(millisOf))];
    expect(millis.length).toBeGreaterThan(1);
    const sorted = [...ids].sort();
    // Sorted by their text, the ids come in the order of their milliseconds, each millisecond's together.
    expect(sorted.map(millisOf)).toEqual(ids.map(millisOf));
  });

  it('dates an id at a given time (the seeder’s past orders), whole milliseconds', () => {
    const at = Date.parse('2026-10-12T08:30:00.123Z');
    const id = newId(at + 0.75);
    expect(id).toMatch(UUID_V7);
    expect(millisOf(id)).toBe(at);
    expect(newId(at)).not.toBe(newId(at));
  });
});

import { describe, expect, it } from 'vitest';
import { formatAjvErrors } from '../../../src/orders/shape.ts';

describe('formatAjvErrors', () => {
  it('shows what a value of each format looks like, not a date-time for everything', () => {
    const errors = formatAjvErrors([
      { keyword: 'format', instancePath: '/placedAt', schemaPath: '', params: { format: 'date-time' } },
      { keyword: 'format', instancePath: '/assignee', schemaPath: '', params: { format: 'uuid' } },
      { keyword: 'format', instancePath: '/since', schemaPath: '', params: { format: 'date' } },
    ]);
    expect(errors).toEqual([
      { field: 'placedAt', message: 'must be a date-time with a time zone (e.g. 2026-11-21T10:00:00Z)' },
      { field: 'assignee', message: 'must be a UUID (e.g. 0192f1c2-7d3e-7a10-9b2c-3d4e5f607182)' },
      { field: 'since', message: 'must be a date (e.g. 2026-11-21)' },
    ]);
  });
});

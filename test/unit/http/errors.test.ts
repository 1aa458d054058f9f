import { describe, expect, it } from 'vitest';
import { toProblem } from '../../../src/http/plugins/errors.ts';

describe('toProblem', () => {
  it('given a deadlock or serialization failure that outlasted its retries, then 503 with Retry-After and no database detail', () => {
    for (const [code, message] of [
      ['40P01', 'deadlock detected'],
      ['40001', 'could not serialize access due to concurrent update'],
    ] as const) {
      const p = toProblem(Object.assign(new Error(message), { code, detail: 'Process 26941 waits for ShareLock on transaction 851' }), 'req-1');
      expect(p, code).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
      expect(p.detail).toMatch(/nothing was changed\. Send it again\./);
      expect(JSON.stringify(p)).not.toMatch(/deadlock|serialize|ShareLock|40P01|40001/);
    }
  });

  it('given a plugin\'s own 403 (a static path climbing out of its folder), then 404 NOT_FOUND: not UNPROCESSABLE, nor a refusal by role', () => {
    const p = toProblem(Object.assign(new Error('Forbidden'), { statusCode: 403 }), 'req-2');
    expect(p).toMatchObject({ status: 404, code: 'NOT_FOUND', title: 'Not found', detail: 'No such file.' });
  });
});

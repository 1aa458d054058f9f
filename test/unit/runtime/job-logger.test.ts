import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { jobLogger } from '../../../src/runtime/jobs/index.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('jobLogger', () => {
  it('gives each job name one child, bound to the job, per parent logger', () => {
    const { logger, lines } = capture();
    const reserve = jobLogger(logger, 'reserve-stock');
    expect(jobLogger(logger, 'reserve-stock')).toBe(reserve);
    expect(jobLogger(logger, 'hand-over-to-fulfilment')).not.toBe(reserve);
    expect(jobLogger(createLogger({ level: 'silent' }), 'reserve-stock')).not.toBe(reserve);

    reserve.info({ orderId: 'o1', token: 'secret' }, 'reserved');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ job: 'reserve-stock', orderId: 'o1', token: '[redacted]', msg: 'reserved' });
  });
});

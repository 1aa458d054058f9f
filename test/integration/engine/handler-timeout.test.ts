import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import type { Runtime } from '../../../src/runtime/index.ts';
import type { Workers } from '../../../src/runtime/worker.ts';
import type { TestDatabase } from '../../support/db.ts';
import { engineHarness, eventually, startLatest, type EngineHarness } from './helpers.ts';

/**
 * A service handler that never answers must not hold its worker: after the worker's handler timeout the
 * attempt fails (the handler's signal is aborted), pg-boss retries it as the diagram says, the last
 * failure becomes a technical ticket, and the other jobs of the service loop go on meanwhile. One handler
 * at a time (concurrency 1), so without the timeout the quick jobs would wait forever behind the stalled one.
 */

let harness: EngineHarness;
let database: TestDatabase;
let runtime: Runtime;
let workers: Workers | null = null;
let release: () => void = () => {};
const never = new Promise<void>((resolve) => (release = resolve));
const stalledCalls: Array<{ aborted: boolean; reason?: unknown }> = [];

const NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ordo="urn:ordo:bpmn:1"';
const diagram = (id: string, job: string, retries: number) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="defs-${id}" targetNamespace="urn:test">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:serviceTask id="call" name="Call out" ordo:job="${job}" ordo:retries="${retries}" ordo:backoff="PT0S" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

const start = (key: string) => startLatest(runtime, key);

beforeAll(async () => {
  harness = await engineHarness({
    jobHandlers: {
      stall: (input) => {
        const call: { aborted: boolean; reason?: unknown } = { aborted: false };
        stalledCalls.push(call);
        input.signal?.addEventListener('abort', () => {
          call.aborted = true;
          call.reason = input.signal?.reason;
        });
        return never.then(() => ({ late: true }));
      },
      quick: async () => ({ done: true }),
    },
  });
  ({ database, runtime } = harness);
  for (const xml of [diagram('stalls', 'stall', 1), diagram('quick', 'quick', 0)]) {
    expect((await runtime.deploy(xml, 'test')).processes[0]?.created).toBe(true);
  }
}, 60_000);

afterAll(async () => {
  release();
  await harness?.close(workers);
});

describe('a service handler that never answers', () => {
  it('is abandoned after the timeout, retried, then becomes a technical ticket, while the other jobs go on', async () => {
    const stalled = await start('stalls');
    workers = runtime.startWorkers({ idleMs: 50, batchSize: 1, concurrency: 1, handlerTimeoutMs: 400 });
    await eventually(async () => stalledCalls.length, (n) => n >= 1, 10_000);
    const quick = await Promise.all([start('quick'), start('quick'), start('quick')]);

    // The quick instances finish although the first attempt of the stalled one has not answered.
    for (const q of quick) {
      const row = await eventually(
        () => database.db.selectFrom('process_instances').select(['status']).where('id', '=', q.instanceId).executeTakeFirstOrThrow(),
        (r) => r.status === 'completed',
        15_000,
      );
      expect(row.status).toBe('completed');
    }

    // Two attempts (ordo:retries="1"), each abandoned with its signal aborted, then the ticket.
    const ticket = await eventually(
      () => database.db.selectFrom('tickets').selectAll().where('instance_id', '=', stalled.instanceId).executeTakeFirst(),
      (row) => !!row,
      20_000,
    );
    expect(ticket).toMatchObject({ kind: 'technical', status: 'open', element_id: 'call' });
    expect(ticket!.error).toBe('The handler for "stall" did not finish within 0.4 s; this attempt was abandoned.');
    expect(stalledCalls).toHaveLength(2);
    expect(stalledCalls.every((c) => c.aborted)).toBe(true);
    expect((stalledCalls[0]!.reason as Error).message).toContain('did not finish within 0.4 s');
    const row = await database.db.selectFrom('process_instances').select(['status', 'waiting_at']).where('id', '=', stalled.instanceId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'active', waiting_at: ['call'] });
  }, 60_000);

  it('a timeout set at or above the service job expiry is refused at start-up, naming both settings; unset, it stays below the expiry', () => {
    expect(() => loadConfig({ ORDO_SERVICE_TIMEOUT_SECONDS: '600' })).toThrow(/ORDO_SERVICE_TIMEOUT_SECONDS \(600\) must be below ORDO_SERVICE_JOB_EXPIRE_SECONDS \(600\)/);
    expect(loadConfig({ ORDO_SERVICE_TIMEOUT_SECONDS: '30', ORDO_SERVICE_JOB_EXPIRE_SECONDS: '60' }).serviceTimeoutSeconds).toBe(30);
    // Unset, it is 60 s, or below a shorter expiry.
    expect(loadConfig({}).serviceTimeoutSeconds).toBe(60);
    expect(loadConfig({ ORDO_SERVICE_JOB_EXPIRE_SECONDS: '10' }).serviceTimeoutSeconds).toBe(9);
    expect(loadConfig({ ORDO_SERVICE_JOB_EXPIRE_SECONDS: '1' }).serviceTimeoutSeconds).toBe(1);
  });
});

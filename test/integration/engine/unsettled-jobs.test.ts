import { sql } from 'kysely';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../../src/runtime/boss.ts';
import type { Runtime } from '../../../src/runtime/index.ts';
import type { Workers } from '../../../src/runtime/worker.ts';
import type { TestDatabase } from '../../support/db.ts';
import { engineHarness, eventually, startLatest, type EngineHarness } from './helpers.ts';

/**
 * A worker that loses the database while settling a batch (completing and failing its jobs both throw)
 * hands the jobs back as soon as the database answers again, instead of leaving them `active` until their
 * queue's expiry (10 minutes for service jobs). The run again is a no-op where the work was done.
 * Real pg-boss; the loss is injected into this process's pg-boss client for one completion and one failure.
 */

let harness: EngineHarness;
let database: TestDatabase;
let boss: PgBoss;
let runtime: Runtime;
let workers: Workers | null = null;
let calls = 0;

const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ordo="urn:ordo:bpmn:1" id="defs-settle" targetNamespace="urn:test">
  <bpmn:process id="settle" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:serviceTask id="call" name="Call out" ordo:job="call-out" ordo:retries="3" ordo:backoff="PT1S" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

beforeAll(async () => {
  harness = await engineHarness({
    jobHandlers: {
      'call-out': async () => {
        calls++;
        return { called: true };
      },
    },
  });
  ({ database, boss, runtime } = harness);
  expect((await runtime.deploy(xml, 'test')).processes[0]?.created).toBe(true);
}, 60_000);

afterAll(async () => {
  await harness?.close(workers);
});

describe('a batch the worker could not settle', () => {
  it('is handed back to run again once the database answers, long before its expiry, and the second run changes nothing', async () => {
    const started = await startLatest(runtime, 'settle');
    const lost = () => Promise.reject(new Error('Connection terminated unexpectedly'));
    const complete = boss.complete.bind(boss);
    const fail = boss.fail.bind(boss);
    let completions = 0;
    let failures = 0;
    (boss as unknown as { complete: unknown }).complete = (...args: unknown[]) => (completions++ === 0 ? lost() : (complete as (...a: unknown[]) => Promise<unknown>)(...args));
    (boss as unknown as { fail: unknown }).fail = (...args: unknown[]) => (failures++ === 0 ? lost() : (fail as (...a: unknown[]) => Promise<unknown>)(...args));

    workers = runtime.startWorkers({ idleMs: 50, batchSize: 10 });
    const job = () => sql<{ state: string; retry_count: number }>`select state, retry_count from pgboss.job where name = ${QUEUES.service} and data->>'instanceId' = ${started.instanceId}`.execute(database.db).then((r) => r.rows[0]);
    // The step ran and committed; settling its job failed twice over. Within seconds the job is run again and completed.
    const done = await eventually(job, (j) => j?.state === 'completed', 15_000);
    expect(done!.retry_count).toBe(1);
    expect(completions).toBeGreaterThanOrEqual(2);

    // The instance ended once, and the handler ran once: the second run found the instance completed.
    const row = await database.db.selectFrom('process_instances').select(['status']).where('id', '=', started.instanceId).executeTakeFirstOrThrow();
    expect(row.status).toBe('completed');
    const ends = await database.db.selectFrom('instance_history').select('id').where('instance_id', '=', started.instanceId).where('element_id', '=', 'end').where('event', '=', 'entered').execute();
    expect(ends).toHaveLength(1);
    expect(calls).toBe(1);
  }, 40_000);
});

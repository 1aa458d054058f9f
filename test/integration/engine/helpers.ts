import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type PgBoss from 'pg-boss';
import { pino } from 'pino';
import { loadConfig } from '../../../src/config.ts';
import { createBoss, type BossSettings } from '../../../src/runtime/boss.ts';
import { latestDefinition } from '../../../src/runtime/definitions.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/index.ts';
import type { JobHandler } from '../../../src/runtime/jobs/index.ts';
import type { Workers } from '../../../src/runtime/worker.ts';
import { createTestDatabase, type TestDatabase } from '../../support/db.ts';
import { startInstance } from '../../../src/runtime/instances.ts';
import type { TestApp } from '../../support/app.ts';

export const FIXTURES = path.join(import.meta.dirname, 'fixtures');

export async function fixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES, name), 'utf8');
}

export async function deploy(t: TestApp, xml: string | Buffer, token = t.token) {
  return t.http.post('/api/v1/processes').set('authorization', `Bearer ${token}`).set('content-type', 'application/xml').send(xml);
}

export async function startProcess(t: TestApp, key: string, variables: Record<string, unknown> = {}, businessKey?: string) {
  return t.http.post(`/api/v1/processes/${key}/instances`).set('authorization', `Bearer ${t.token}`).send({ variables, ...(businessKey ? { businessKey } : {}) });
}

export async function instance(t: TestApp, id: string) {
  const res = await t.http.get(`/api/v1/instances/${id}`).set('authorization', `Bearer ${t.token}`);
  return res.body;
}

/** Poll until the predicate holds (jobs and timers run in the workers), or fail with the last value. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

/** Start the latest executable version of a process through the runtime itself (no HTTP, no token). */
export async function startLatest(runtime: Runtime, key: string) {
  return runtime.ctx.db.transaction().execute(async (trx) => {
    const definition = await latestDefinition(trx, key, { executableOnly: true });
    if (!definition) throw new Error(`no executable version of ${key} is deployed`);
    return startInstance(runtime.ctx, trx, { definition, variables: {}, actor: 'test' });
  });
}

/** A database of its own, real pg-boss and a runtime with these job handlers: the engine without HTTP. */
export interface EngineHarness {
  database: TestDatabase;
  boss: PgBoss;
  runtime: Runtime;
  /** Stop the workers (when started), pg-boss, and drop the database. */
  close(workers?: Workers | null): Promise<void>;
}

export async function engineHarness(options: {
  jobHandlers: Readonly<Record<string, JobHandler>>;
  env?: Record<string, string>;
  boss?: { supervise?: boolean; settings?: BossSettings };
}): Promise<EngineHarness> {
  const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
  const database = await createTestDatabase();
  const boss = await createBoss(database.url, logger, { max: 4, supervise: options.boss?.supervise ?? false, settings: options.boss?.settings });
  const runtime = createRuntime({ db: database.db, boss, logger, config: loadConfig(options.env ?? {}), jobHandlers: options.jobHandlers });
  return {
    database,
    boss,
    runtime,
    async close(workers) {
      await workers?.stop();
      await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
      await database.drop();
    },
  };
}

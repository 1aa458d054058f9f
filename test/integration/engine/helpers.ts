import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { latestDefinition } from '../../../src/runtime/definitions.ts';
import type { Runtime } from '../../../src/runtime/index.ts';
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

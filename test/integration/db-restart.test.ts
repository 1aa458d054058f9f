import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type PgBoss from 'pg-boss';
import { pino } from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { connect, type DbHandle } from '../../src/db/connection.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { toProblem } from '../../src/http/plugins/errors.ts';
import { createBoss, QUEUES } from '../../src/runtime/boss.ts';
import { createUser, issueToken } from '../../src/runtime/identity.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import type { Workers } from '../../src/runtime/worker.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * PostgreSQL restarted under load. The app and its workers run against a private embedded PostgreSQL
 * (own folder, own port); a client posts orders without pause while the server is stopped (fast shutdown,
 * then a SIGKILL of the postmaster) for about two seconds and started again on the same folder and port.
 * During the outage /readyz and the API answer 503 with Retry-After, never a 500; afterwards the pools
 * reconnect by themselves, the client resends what got no answer, and every order it sent exists exactly
 * once with its lifecycle started once and each of its jobs' effects recorded once.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Jobs fetched just before the outage stay `active` until they expire; the test shortens that (production: minutes). */
const TEST_EXPIRE_S = 2;
const OUTAGE_MS = 2_000;
const CLIENTS = 3;

const quiet = { info() {}, warn() {}, debug() {}, error() {} } as never;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let dir: string;
let port: number;
let pg: EmbeddedPostgres;
let database: DbHandle;
let boss: PgBoss;
let workers: Workers;
let app: FastifyInstance;
let http: ReturnType<typeof supertest>;
let auth: Record<string, string>;
const poolErrors: string[] = [];
const bossErrors: string[] = [];

async function startPostgres(): Promise<EmbeddedPostgres> {
  // After a SIGKILL the old server's backends notice their postmaster is gone and exit; until they have,
  // its shared memory is still in use and a new server refuses to start. Try again for a while.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      // fsync and full-page writes only protect against an OS crash; commits stay synchronous, because a
      // killed server must not lose a transaction it reported as committed.
      return await startEmbeddedPostgres({ dataDir: dir, port, database: 'ordo', log: quiet, settings: { fsync: 'off', full_page_writes: 'off' } });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(300);
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ordo-db-restart-'));
  port = await freePort();
  pg = await startPostgres();
  const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
  database = connect(pg.url, { max: 10, onError: (err) => poolErrors.push(err.message) });
  await migrateToLatest(database.db);
  boss = await createBoss(pg.url, logger, { max: 4, supervise: false });
  boss.on('error', (err) => bossErrors.push(err.message));
  for (const queue of [QUEUES.start, QUEUES.timer, QUEUES.service]) await boss.updateQueue(queue, { name: queue, expireInSeconds: TEST_EXPIRE_S, retryDelay: 1 });
  const config = { ...loadConfig({}), databaseUrl: pg.url };
  const runtime = createRuntime({ db: database.db, boss, logger, config });
  await runtime.deployDefaults(path.join(ROOT, 'processes'));
  workers = runtime.startWorkers({ idleMs: 50, batchSize: 10 });
  app = await buildApp({ db: database.db, config, logger, metrics: createMetrics(), runtime });
  await app.ready();
  http = supertest(app.server);
  const user = await createUser(database.db, { email: 'restart@test.local', password: 'correct horse battery', role: 'admin' });
  auth = { authorization: `Bearer ${(await issueToken(database.db, user.id, 'restart')).token}` };
}, 90_000);

afterAll(async () => {
  await app?.close();
  await workers?.stop();
  await boss?.stop({ graceful: false, wait: true, timeout: 5_000 }).catch(() => undefined);
  await database?.close().catch(() => undefined);
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Sent {
  externalId: string;
  /** The id every answer named (a resend after a lost answer must name the same one). */
  ids: Set<string>;
  statuses: number[];
  firstSentAt: number;
}

/**
 * A sales channel that keeps sending: each order is posted until it gets an answer (201, or 200 for a
 * resend of one that was stored although its answer was lost); a 503 or a dropped connection means send
 * it again after a pause. Anything else ends the run as a failure.
 */
function channel(prefix: string) {
  const sent: Sent[] = [];
  const unexpected: string[] = [];
  const outageAnswers: Array<{ status: number; type: string; retryAfter: string | undefined; text: string }> = [];
  let stop = false;
  let next = 0;
  const loops = Array.from({ length: CLIENTS }, async () => {
    while (!stop) {
      const i = next++;
      const order = validOrder({ externalId: `${prefix}-${i}` });
      const s: Sent = { externalId: order.externalId, ids: new Set(), statuses: [], firstSentAt: Date.now() };
      sent.push(s);
      for (;;) {
        let res: supertest.Response;
        try {
          res = await http.post('/api/v1/orders').set(auth).send(order);
        } catch (err) {
          s.statuses.push(0);
          await sleep(100);
          continue;
        }
        s.statuses.push(res.status);
        if (res.status === 201 || res.status === 200) {
          s.ids.add(res.body.id);
          break;
        }
        if (res.status === 503) {
          outageAnswers.push({ status: res.status, type: String(res.headers['content-type']), retryAfter: res.headers['retry-after'], text: res.text });
          await sleep(150);
          continue;
        }
        unexpected.push(`${order.externalId}: ${res.status} ${res.text.slice(0, 300)}`);
        break;
      }
    }
  });
  return {
    sent,
    unexpected,
    outageAnswers,
    answered: () => sent.filter((s) => s.ids.size > 0).length,
    async finish() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number, tick?: () => Promise<void>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await tick?.().catch(() => undefined);
    if (await ok()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** pg-boss's expiry sweep (its maintenance does this every few minutes), then skip the diagram's retry backoff. */
async function jobMaintenance() {
  await boss.expire();
  await sql`update pgboss.job set start_after = now() where state = 'retry' and start_after > now()`.execute(database.db);
}

/** Stop PostgreSQL the given way for OUTAGE_MS while the channel keeps posting; watch /readyz meanwhile. */
async function outage(kind: 'stop' | 'kill') {
  const old = pg;
  if (kind === 'stop') await old.stop();
  else {
    process.kill(old.pid, 'SIGKILL');
    await until('the killed postmaster is gone', () => !alive(old.pid), 10_000);
  }
  const downSince = Date.now();
  const readyz: Array<{ status: number; type: string; retryAfter: string | undefined; body: Record<string, unknown> }> = [];
  const apiDuringOutage: Array<{ status: number; type: string; text: string }> = [];
  while (Date.now() - downSince < OUTAGE_MS) {
    const r = await http.get('/readyz');
    readyz.push({ status: r.status, type: String(r.headers['content-type']), retryAfter: r.headers['retry-after'], body: r.body });
    const list = await http.get('/api/v1/orders?limit=1').set(auth);
    apiDuringOutage.push({ status: list.status, type: String(list.headers['content-type']), text: list.text });
    await sleep(200);
  }
  pg = await startPostgres();
  const restartedAt = Date.now();
  await until('/readyz is 200 again', async () => (await http.get('/readyz')).status === 200, 20_000);
  return { readyz, apiDuringOutage, restartedAt, reconnectMs: Date.now() - restartedAt };
}

async function checkExactlyOnce(sent: Sent[]) {
  const db = database.db;
  for (const s of sent) {
    expect(s.ids.size, `${s.externalId} was answered with different ids: ${[...s.ids]}`).toBe(1);
  }
  const ids = sent.map((s) => [...s.ids][0]!);
  const externalIds = sent.map((s) => s.externalId);
  const rows = await db.selectFrom('orders').select(['id', 'external_id', 'status']).where('external_id', 'in', externalIds).execute();
  expect(rows).toHaveLength(sent.length);
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
  const count = async (query: ReturnType<typeof sql<{ id: string; n: string }>>) => new Map((await query.execute(db)).rows.map((r) => [r.id, Number(r.n)]));
  const instances = await count(sql<{ id: string; n: string }>`select order_id as id, count(*) as n from process_instances where parent_id is null and order_id = any(${ids}::uuid[]) group by order_id`);
  const received = await count(sql<{ id: string; n: string }>`select order_id as id, count(*) as n from order_events where kind = 'received' and order_id = any(${ids}::uuid[]) group by order_id`);
  const effects = await db.selectFrom('job_effects').select(['order_id', 'job']).where('order_id', 'in', ids).execute();
  for (const id of ids) {
    expect(instances.get(id), `lifecycles of order ${id}`).toBe(1);
    expect(received.get(id), `'received' events of order ${id}`).toBe(1);
    expect(effects.filter((e) => e.order_id === id).map((e) => e.job).sort(), `job effects of order ${id}`).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
  }
  expect(rows.every((r) => r.status === 'released')).toBe(true);
}

describe.each([
  ['stopped (fast shutdown)', 'stop'],
  ['killed (SIGKILL of the postmaster)', 'kill'],
] as const)('PostgreSQL %s under load', (_label, kind) => {
  it('answers 503 meanwhile, reconnects by itself, and every order sent exists exactly once with its lifecycle run once', async () => {
    const client = channel(`RESTART-${kind}`);
    await until('orders flow before the outage', () => client.answered() >= 10, 20_000);

    const down = await outage(kind);
    const answeredAtRestart = client.answered();
    await until('orders flow again after the restart', () => client.answered() >= answeredAtRestart + 10, 30_000);
    await client.finish();

    // Nothing but 201/200, 503 and dropped connections on the way.
    expect(client.unexpected).toEqual([]);
    // /readyz said so while the server was away: 503 problem+json with Retry-After.
    expect(down.readyz.length).toBeGreaterThan(2);
    for (const r of down.readyz.slice(1, -1)) {
      expect(r.status).toBe(503);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.retryAfter).toBe('5');
      expect(r.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', database: 'unreachable' });
    }
    // The API too: 503 SERVICE_UNAVAILABLE, Retry-After, no stack trace or SQL.
    const apiAnswers = [...down.apiDuringOutage.map((a) => ({ ...a, retryAfter: '5' })), ...client.outageAnswers];
    expect(down.apiDuringOutage.filter((a) => a.status === 503).length).toBeGreaterThan(2);
    for (const a of apiAnswers.filter((x) => x.status >= 500)) {
      expect(a.status).toBe(503);
      expect(a.type).toMatch(/^application\/problem\+json/);
      expect(a.text).toContain('SERVICE_UNAVAILABLE');
      expect(a.text).not.toMatch(/\bat .+\.(?:ts|js):\d+|select .* from|ECONNREFUSED/i);
    }
    for (const a of client.outageAnswers) expect(a.retryAfter).toBe('5');
    // The pool found its way back within a few seconds of the server being up again.
    expect(down.reconnectMs).toBeLessThan(10_000);

    // Every order reaches the end of its happy path (started after the restart too: pg-boss reconnected).
    const ids = () => client.sent.map((s) => [...s.ids][0]!);
    await until(
      'every order is released',
      async () => (await database.db.selectFrom('orders').select('id').where('id', 'in', ids()).where('status', '=', 'released').execute()).length === client.sent.length,
      40_000,
      jobMaintenance,
    );
    const startedAfter = client.sent.filter((s) => s.firstSentAt > down.restartedAt);
    expect(startedAfter.length).toBeGreaterThan(0);
    await checkExactlyOnce(client.sent);
    // Some orders really were caught by the outage and sent again.
    expect(client.sent.some((s) => s.statuses.length > 1)).toBe(true);
  }, 90_000);
});

describe('the errors plugin', () => {
  it('answers every form a lost database takes with 503 SERVICE_UNAVAILABLE, and other database errors with a bare 500', () => {
    const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
    const lost: Error[] = [
      errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      new AggregateError([errno('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432'), errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')], ''),
      errno('ECONNRESET', 'read ECONNRESET'),
      // The embedded server is reached by its Unix socket: stopped, it has no socket file.
      Object.assign(errno('ENOENT', 'connect ENOENT /data/pg/.s.PGSQL.54329'), { syscall: 'connect' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      errno('57P01', 'terminating connection due to administrator command'),
      errno('57P03', 'the database system is starting up'),
      errno('57P03', 'the database system is shutting down'),
      new Error('query failed', { cause: errno('08006', 'connection failure') }),
    ];
    for (const err of lost) {
      const p = toProblem(err, 'req-1');
      expect(p, err.message).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
      expect(JSON.stringify(p)).not.toMatch(/ECONN|ENOENT|57P0|5432|terminat/);
    }
    // A missing file elsewhere is a fault of ours, not a database away.
    expect(toProblem(Object.assign(errno('ENOENT', "ENOENT: no such file or directory, open 'views/x.hbs'"), { syscall: 'open' }), 'req-3')).toMatchObject({ status: 500 });
    const other = toProblem(errno('23505', 'duplicate key value violates unique constraint "orders_pkey"'), 'req-2');
    expect(other).toMatchObject({ status: 500, code: 'INTERNAL', requestId: 'req-2' });
    expect(JSON.stringify(other)).not.toMatch(/duplicate|violates|orders_pkey/);
  });
});

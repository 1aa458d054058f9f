/**
 * An Ordo worker in a process of its own, for tests that kill it (crash.test.ts): the same wiring as
 * `npm run worker` (createBoss + createRuntime(...).startWorkers()) against the database in
 * ORDO_WORKER_DB_URL, with the default job handlers.
 *
 *   node --import tsx test/support/worker-process.ts
 *
 * Environment:
 * - ORDO_WORKER_DB_URL      the test database (required)
 * - ORDO_WORKER_LATENCY_MS  added to every job handler, like a call to a warehouse would (default 0)
 * - ORDO_WORKER_BATCH       jobs per fetch (default: the runtime's)
 * - ORDO_JOB_EXPIRE_SECONDS, ORDO_SERVICE_JOB_EXPIRE_SECONDS  as for `npm run worker` (this process applies
 *   them to the queues when it starts, like every Ordo process)
 *
 * Prints `ready` on stdout once its loops run; SIGTERM stops it gracefully.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { connect } from '../../src/db/connection.ts';
import { bossSettings, createBoss } from '../../src/runtime/boss.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { DEFAULT_JOB_HANDLERS, type JobHandler } from '../../src/runtime/jobs/index.ts';

const url = process.env.ORDO_WORKER_DB_URL;
if (!url) {
  console.error('ORDO_WORKER_DB_URL is required');
  process.exit(2);
}
const latencyMs = Number(process.env.ORDO_WORKER_LATENCY_MS ?? 0);
const batchSize = process.env.ORDO_WORKER_BATCH ? Number(process.env.ORDO_WORKER_BATCH) : undefined;

const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
const database = connect(url, { max: 8 });
const boss = await createBoss(url, logger, { max: 4, supervise: false, settings: bossSettings(loadConfig(process.env)) });

const jobHandlers: Record<string, JobHandler> = {};
for (const [name, handler] of Object.entries(DEFAULT_JOB_HANDLERS)) {
  jobHandlers[name] = async (input) => {
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    return handler(input);
  };
}

const runtime = createRuntime({ db: database.db, boss, logger, config: loadConfig({}), jobHandlers });
const workers = runtime.startWorkers({ idleMs: 50, ...(batchSize ? { batchSize } : {}) });
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await workers.stop();
    await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
    await database.close();
    process.exit(0);
  })();
});

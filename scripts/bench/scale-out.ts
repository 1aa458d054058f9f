/**
 * `npm run bench:scale -- [--orders 5000] [--runs 3] [--workers 1,2] [--quick]`
 *
 * Does a second worker process add throughput? With ORDO_LIFECYCLE_START=worker, intake only stores the
 * order and queues a pg-boss start job; worker processes (`node --import tsx src/main.ts worker`, Ordo's
 * default settings in each: batch 50, concurrency 4, pool 10) run the lifecycles. The benchmark:
 *
 * 1. Once: N orders (scripts/bench/orders.ts, 20 % with a defect) go in through the real intake use case
 *    (`runtime.receive` with the lifecycle start at `worker`, 16 callers at once, as HTTP requests would)
 *    into a template database: N orders in `received`, N start jobs queued. Besides them, `--warmup`
 *    orders per worker process of the largest count (default 200 × 2), queued the same way.
 * 2. Each run, for 1 and then 2 worker processes, on a fresh copy of that database (CREATE DATABASE …
 *    TEMPLATE, so both see exactly the same data): all start jobs are held with row locks
 *    (SELECT … FOR UPDATE; pg-boss fetches with SKIP LOCKED, so the workers see an empty queue) while the
 *    worker processes start. When all of them run their loops, the warm-up orders' jobs are released and
 *    run untimed (a fresh process pays for its JIT and its compiled FEEL on its first batches; two
 *    processes would pay twice inside the measurement). Then the measured orders' jobs are released and
 *    the clock starts. It stops when the database shows every measured order settled: released, or on
 *    hold with its ticket (polled every 20 ms). A worker sleeps up to 200 ms (its idle pause) before it
 *    sees released jobs: the same for one worker and two.
 * 3. Exactly-once is checked on each copy, warm-up orders included: one instance per order, one ticket
 *    per held order, one job effect per (order, job), every outcome as the order's checks say.
 *
 * The 1-worker rate is the baseline of the 2-worker one, same run, same data. Memory: each worker's peak
 * resident set (VmHWM). CPU per order of the workers and of PostgreSQL shows what runs out.
 * `--quick`: 500 orders, 50 warm-up orders per worker.
 *
 * PostgreSQL: DATABASE_URL's server (the benchmark creates and drops its own databases), else Ordo's
 * embedded PostgreSQL in a temporary folder (fsync and synchronous_commit on). The last line, medians:
 *   RESULT scale_1_worker_per_s=… scale_2_workers_per_s=… scale_ratio=… worker_rss_mb=…
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { connect } from '../../src/db/connection.ts';
import type { Db } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { BOSS_SCHEMA, createBoss, QUEUES } from '../../src/runtime/boss.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { DEFAULT_WORKER_OPTIONS } from '../../src/runtime/worker.ts';
import { commandLine } from '../cli.ts';
import {
  benchDatabaseName,
  benchPostgres,
  describeMachine,
  describePostgres,
  dropDatabase,
  fmt,
  listOf,
  loadAverage,
  logFolder,
  medianOf,
  postgresCpuSeconds,
  PROCESSES_DIR,
  quietLogger,
  recreateDatabase,
  resultLine,
  sleep,
  spawnOrdo,
  type OrdoProcess,
  waitForWorker,
} from './common.ts';
import { expectedStatus, orderStream } from './orders.ts';
import { countSettled, verifyOutcomes, type Settled } from './verify.ts';

const cli = commandLine({
  name: 'bench:scale',
  usage: 'npm run bench:scale -- [options]',
  about: 'Does a second worker process add throughput? The same queued orders settled by 1 and by 2 worker processes (docs/PERFORMANCE.md).',
  options: {
    quick: { type: 'boolean', description: 'small sizes: a check that the benchmark runs, not a figure to quote' },
    orders: { type: 'string', value: 'n', description: 'orders settled per run and worker count (default 5000; 500 with --quick)' },
    runs: { type: 'string', default: '3', value: 'n', description: 'runs; the figures are their medians' },
    warmup: { type: 'string', value: 'n', description: 'untimed orders per worker process of the largest count, run before the clock starts (default 200; 50 with --quick)' },
    workers: { type: 'string', default: '1,2', value: 'counts', description: 'worker process counts to compare, in order; the first is the baseline of the ratio' },
    'defect-rate': { type: 'string', default: '0.2', value: '0..1', description: 'share of the orders with a defect' },
    'intake-callers': { type: 'string', default: '16', value: 'n', description: 'callers putting the orders through intake at once' },
    'log-level': { type: 'string', default: 'info', value: 'level', description: 'LOG_LEVEL of the worker processes' },
    'node-options': { type: 'string', default: '', value: 'flags', description: 'V8 / Node flags for the worker processes, space-separated' },
    'keep-logs': { type: 'boolean', description: "keep the worker processes' logs (their folder is printed)" },
  },
});
const args = cli.values;
const ORDERS = cli.int('orders', { min: 1, default: args.quick ? 500 : 5_000 });
const RUNS = cli.int('runs', { min: 1 });
const WORKER_COUNTS = cli.ints('workers', { min: 1 });
const DEFECT_RATE = cli.num('defect-rate', { min: 0, max: 1 });
const INTAKE_CALLERS = cli.int('intake-callers', { min: 1 });
const NODE_OPTIONS = args['node-options'].split(/\s+/).filter(Boolean);
const WARMUP = cli.int('warmup', { min: 0, default: args.quick ? 50 : 200 }) * Math.max(...WORKER_COUNTS);
const PREFIX = 'SCALE';
const WARM_PREFIX = 'WARM';
const SETTLE_POLL_MS = 20;
const SETTLE_TIMEOUT_MS = 30 * 60_000;

interface Prepared {
  measured: Map<string, Settled>;
  warm: Map<string, Settled>;
}

/** Received orders with their start jobs queued, as intake leaves them with ORDO_LIFECYCLE_START=worker. */
async function prepareTemplate(url: string): Promise<Prepared> {
  const database = connect(url, { max: 10 });
  const boss = await createBoss(url, quietLogger, { supervise: false });
  try {
    await migrateToLatest(database.db);
    const runtime = createRuntime({ db: database.db, boss, logger: quietLogger, config: { ...loadConfig({}), lifecycleStart: 'worker' } });
    await runtime.deployDefaults(PROCESSES_DIR);
    const receive = async (count: number, prefix: string) => {
      const expected = new Map<string, Settled>();
      const orders = orderStream(count, { defectRate: DEFECT_RATE, prefix });
      await Promise.all(
        Array.from({ length: INTAKE_CALLERS }, async () => {
          for (let item = orders.next(); !item.done; item = orders.next()) {
            const order = item.value;
            expected.set(order.externalId, expectedStatus(order));
            const result = await runtime.receive(order, 'bench');
            if (result.outcome !== 'created' || result.order.status !== 'received') throw new Error(`intake answered ${result.outcome} (${result.order.status}) for ${order.externalId}`);
          }
        }),
      );
      return expected;
    };
    const warm = await receive(WARMUP, WARM_PREFIX);
    const measured = await receive(ORDERS, PREFIX);
    const queued = await boss.getQueueSize(QUEUES.start);
    if (queued !== ORDERS + WARMUP) throw new Error(`${queued} start jobs queued for ${ORDERS + WARMUP} orders`);
    return { measured, warm };
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 10_000 });
    await database.close();
  }
}

interface ScaleRun {
  workers: number;
  perSecond: number;
  seconds: number;
  /** Peak RSS (VmHWM) of each worker process, MB. */
  rssMb: number[];
  workerCpuMsPerOrder: number;
  pgCpuMsPerOrder: number | null;
}

/** Lock the queued start jobs of the orders with this prefix, in a transaction the caller commits to release them. */
async function holdStarts(url: string, prefix: string, count: number): Promise<pg.Client> {
  const hold = new pg.Client({ connectionString: url, application_name: 'ordo-bench-hold' });
  await hold.connect();
  await hold.query('begin');
  const held = await hold.query(
    `select j.id from ${BOSS_SCHEMA}.job j join orders o on o.id::text = j.data->>'orderId'
      where j.name = $1 and j.state = 'created' and o.external_id like $2 for update of j`,
    [QUEUES.start, `${prefix}-%`],
  );
  if (held.rowCount !== count) throw new Error(`${held.rowCount} start jobs held for ${count} ${prefix} orders`);
  return hold;
}

async function waitSettled(db: Db, prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while ((await countSettled(db, prefix)) < count) {
    if (Date.now() > deadline) throw new Error(`not all ${prefix} orders settled in ${SETTLE_TIMEOUT_MS / 60_000} minutes`);
    await sleep(SETTLE_POLL_MS);
  }
}

async function runWorkers(adminUrl: string, template: string, count: number, prepared: Prepared, postgresPid: number | null): Promise<ScaleRun> {
  const expected = prepared.measured;
  const dbName = benchDatabaseName('scale');
  const url = await recreateDatabase(adminUrl, dbName, template);
  const logs = await logFolder('scale');
  const env = { DATABASE_URL: url, ORDO_LIFECYCLE_START: 'worker', ORDO_ADMIN_PASSWORD: `bench-${randomBytes(8).toString('hex')}`, LOG_LEVEL: args['log-level'] };
  const workers: OrdoProcess[] = [];
  const check = connect(url, { max: 2 });
  const holds: pg.Client[] = [];
  let ok = false;
  try {
    // Hold the queued starts while the workers start, so the clock measures the work, not Node's start-up.
    const holdWarm = await holdStarts(url, WARM_PREFIX, prepared.warm.size);
    holds.push(holdWarm);
    const holdMeasured = await holdStarts(url, PREFIX, expected.size);
    holds.push(holdMeasured);
    for (let i = 0; i < count; i++) workers.push(spawnOrdo('worker', { env, logDir: logs.dir, name: `worker-${i + 1}`, nodeOptions: NODE_OPTIONS }));
    // One after the other is not needed: every worker only reads the migrated schema and the deployed diagram.
    await Promise.all(workers.map((w) => waitForWorker(w, args['log-level'])));
    if ((await countSettled(check.db, PREFIX)) + (await countSettled(check.db, WARM_PREFIX)) !== 0) throw new Error('orders settled while their start jobs were held');
    await holdWarm.query('commit');
    await waitSettled(check.db, WARM_PREFIX, prepared.warm.size);

    const cpu0 = { workers: workers.map((w) => w.cpuSeconds() ?? 0), postgres: postgresCpuSeconds(postgresPid) };
    const t0 = performance.now();
    await holdMeasured.query('commit');
    await waitSettled(check.db, PREFIX, expected.size);
    const t1 = performance.now();
    const workerCpu = workers.reduce((sum, w, i) => sum + ((w.cpuSeconds() ?? 0) - cpu0.workers[i]!), 0);
    const pgCpu = postgresCpuSeconds(postgresPid);
    const rssMb = workers.map((w) => w.memory()?.peakMb ?? NaN);
    await verifyOutcomes(check.db, PREFIX, expected);
    await verifyOutcomes(check.db, WARM_PREFIX, prepared.warm);
    ok = true;
    const seconds = (t1 - t0) / 1000;
    return {
      workers: count,
      perSecond: expected.size / seconds,
      seconds,
      rssMb,
      workerCpuMsPerOrder: (workerCpu * 1000) / expected.size,
      pgCpuMsPerOrder: pgCpu !== null && cpu0.postgres !== null ? ((pgCpu - cpu0.postgres) * 1000) / expected.size : null,
    };
  } finally {
    await Promise.all(holds.map((h) => h.end().catch(() => undefined)));
    await Promise.all(workers.map((w) => w.stop()));
    await check.close();
    await dropDatabase(adminUrl, dbName);
    if (ok && !args['keep-logs']) await logs.remove();
    else console.log(`  Ordo's logs: ${logs.dir}`);
  }
}

async function main(): Promise<number> {
  const server = await benchPostgres();
  const template = benchDatabaseName('scale_template');
  try {
    console.log(describeMachine());
    console.log(await describePostgres(server));
    console.log(
      `orders: ${ORDERS}, defect rate ${DEFECT_RATE}, ${RUNS} run(s), worker processes ${WORKER_COUNTS.join(' vs ')}, each with Ordo's defaults ` +
        `(batch ${DEFAULT_WORKER_OPTIONS.batchSize}, concurrency ${loadConfig({}).workerConcurrency}, pool 10), log level ${args['log-level']}` +
        (NODE_OPTIONS.length ? `, node ${NODE_OPTIONS.join(' ')}` : ''),
    );
    const t = performance.now();
    const prepared = await prepareTemplate(await recreateDatabase(server.adminUrl, template));
    const held = [...prepared.measured.values()].filter((s) => s === 'on_hold').length;
    console.log(
      `${ORDERS} orders received with their lifecycle starts queued (${ORDERS - held} to be released, ${held} held), and ${WARMUP} warm-up orders, ` +
        `in ${fmt((performance.now() - t) / 1000, 1)} s`,
    );

    const results: ScaleRun[][] = [];
    for (let run = 1; run <= RUNS; run++) {
      console.log(`\nrun ${run}/${RUNS}`);
      const row: ScaleRun[] = [];
      for (const count of WORKER_COUNTS) {
        const load = loadAverage();
        const r = await runWorkers(server.adminUrl, template, count, prepared, server.pid);
        row.push(r);
        console.log(
          `  ${count} worker${count > 1 ? 's' : ''}: ${ORDERS} orders settled in ${fmt(r.seconds, 2)} s → ${fmt(r.perSecond)} orders/s (load before ${load}); ` +
            `CPU per order: workers ${fmt(r.workerCpuMsPerOrder, 2)} ms` + (r.pgCpuMsPerOrder !== null ? `, PostgreSQL ${fmt(r.pgCpuMsPerOrder, 2)} ms` : '') +
            `; worker peak RSS ${r.rssMb.map((m) => `${fmt(m)} MB`).join(', ')}`,
        );
      }
      if (row.length > 1) console.log(`  ratio ${WORKER_COUNTS[WORKER_COUNTS.length - 1]} : ${WORKER_COUNTS[0]} = ${fmt(row[row.length - 1]!.perSecond / row[0]!.perSecond, 2)}`);
      results.push(row);
    }

    const rate = (i: number) => results.map((row) => row[i]!.perSecond);
    const ratios = results.map((row) => row[row.length - 1]!.perSecond / row[0]!.perSecond);
    const rss = results.flatMap((row) => row.map((r) => Math.max(...r.rssMb)));
    console.log(`\nall runs (load ${loadAverage()}):`);
    WORKER_COUNTS.forEach((count, i) => console.log(`  ${count} worker(s): ${listOf(rate(i))} orders/s; CPU ms per order (workers + PostgreSQL): ${results.map((row) => `${fmt(row[i]!.workerCpuMsPerOrder, 1)} + ${fmt(row[i]!.pgCpuMsPerOrder ?? NaN, 1)}`).join(', ')}`));
    console.log(`  ratio: ${listOf(ratios, 2)}; worker peak RSS MB: ${listOf(rss)}`);
    const values: Record<string, string> = {};
    WORKER_COUNTS.forEach((count, i) => (values[`scale_${count}_worker${count > 1 ? 's' : ''}_per_s`] = medianOf(rate(i))));
    console.log(
      resultLine(
        Object.fromEntries(WORKER_COUNTS.map((count, i) => [`scale_${count}_cpu_ms_per_order`, medianOf(results.map((row) => row[i]!.workerCpuMsPerOrder + (row[i]!.pgCpuMsPerOrder ?? NaN)), 2)])),
        'DETAIL',
      ),
    );
    console.log(resultLine({ ...values, scale_ratio: medianOf(ratios, 2), worker_rss_mb: medianOf(rss) }));
    return 0;
  } finally {
    if (!server.embedded) await dropDatabase(server.adminUrl, template);
    await server.stop();
  }
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err);
}
process.exit(code);

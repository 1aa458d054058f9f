/**
 * `npm run bench:engine -- [--orders 20000] [--runs 1] [--defect-rate 0.2] [--process checks|lifecycle] [--quick]`
 *
 * `--quick`: 1,000 orders, TPC-B at scale 1 for 3 s, 100 bpmn-engine instances (a check that it runs).
 *
 * Orders per second through a diagram, durably, with full history, and in the same run the two baselines
 * it is judged against. `--process checks` (the default, issue 4's benchmark): three FEEL script tasks
 * checking the address, the payment and the invoice data, then a gateway to two ends
 * (scripts/bench/checks-lifecycle.bpmn, deployed as the order lifecycle's next version). `--process
 * lifecycle` (issue 8's engine figure, what `npm run bench` runs): the whole default lifecycle
 * (processes/order-lifecycle.bpmn), with its two service jobs per released order.
 *
 * 1. engine: N orders go in through the real intake use case (`runtime.receive`, the intake behind POST /orders, 8
 *    callers at once, like HTTP requests) while the real worker loops (with the lifecycle: its two
 *    service jobs with the default handlers) run in this process with Ordo's default settings and heap
 *    cap. `--warmup` orders (default 10,000) go through first, untimed; then the clock runs from the first
 *    insert until every order has settled: released, or on hold with its ticket. The outcome of every
 *    order is checked against what the checks say it must be.
 * 2. TPC-B: pgbench's built-in transaction in Node (scripts/bench/tpcb.ts) on the same PostgreSQL, one
 *    client and four; Debian's pgbench binary too when it is installed, as a cross-check.
 * 3. bpmn-engine 25: the same diagram in memory, fastest setup (scripts/bench/bpmn-engine-baseline.ts),
 *    in a child process, so its garbage does not stay in this process's resident set (rss_mb).
 *
 * PostgreSQL: DATABASE_URL's server, else Ordo's embedded PostgreSQL in a temporary folder with Ordo's
 * own settings (fsync and synchronous_commit on). The last line:
 *   RESULT engine_per_s=… tpcb_per_s=… ratio_tpcb=… bpmn_engine_per_s=… ratio_bpmn_engine=… p99_ms=… rss_mb=… process=…
 * (medians over the runs; tpcb_per_s is pgbench's one-client rate when the binary is installed, else the
 * Node version's; p99 of intake→settled per order; rss_mb the peak resident memory of this process, which
 * runs intake and workers).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { connect } from '../../src/db/connection.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { orderStatusTally } from '../../src/runtime/tallies.ts';
import { DEFAULT_WORKER_OPTIONS } from '../../src/runtime/worker.ts';
import { commandLine } from '../cli.ts';
import { runBpmnEngineApart } from './bpmn-engine-baseline.ts';
import {
  benchDatabaseName,
  benchPostgres,
  describeMachine,
  describePostgres,
  dropDatabase,
  fmt,
  median,
  percentile,
  perSecondLine,
  postgresCpuSeconds,
  PROCESSES_DIR,
  quietLogger as quiet,
  recreateDatabase,
  withDatabase,
} from './common.ts';
import type { Order } from '../../src/orders/schema.ts';
import { expectedStatus, orderStream } from './orders.ts';
import { describeTpcb, initTpcb, measureTpcb } from './tpcb.ts';
import { verifyOutcomes, type Settled } from './verify.ts';

const cli = commandLine({
  name: 'bench:engine',
  usage: 'npm run bench:engine -- [options]',
  about: 'Orders per second through a diagram (the three checks and a gateway, or the default lifecycle), durably, against TPC-B and bpmn-engine on the same machine (docs/PERFORMANCE.md).',
  options: {
    quick: { type: 'boolean', description: 'small sizes and short baselines: a check that the benchmark runs, not a figure to quote' },
    orders: { type: 'string', value: 'n', description: 'orders per run (default 20000; 1000 with --quick)' },
    // A fresh process spends about twice the Node CPU per order of a warm one for its first ~10 seconds
    // (V8 optimising the hot paths), and Ordo is a long-running service. The bpmn-engine baseline warms
    // up too (200 instances, a quarter of its run's time).
    warmup: { type: 'string', value: 'n', description: 'orders settled first, untimed (default 10000; 100 with --quick)' },
    runs: { type: 'string', default: '1', value: 'n', description: 'runs; the figures are their medians' },
    'defect-rate': { type: 'string', default: '0.2', value: '0..1', description: 'share of the orders with a defect' },
    'intake-callers': { type: 'string', default: '8', value: 'n', description: 'callers posting orders through intake at once' },
    'lifecycle-start': { type: 'string', default: 'intake', value: 'intake|worker', description: "ORDO_LIFECYCLE_START: each order's first step in its intake transaction, or by the worker" },
    'intake-rate': { type: 'string', default: '0', value: 'rate', description: 'orders per second the callers post at together; 0: as fast as they can, a burst' },
    'batch-size': { type: 'string', default: String(DEFAULT_WORKER_OPTIONS.batchSize), value: 'n', description: 'jobs a worker loop fetches at once' },
    concurrency: { type: 'string', default: String(DEFAULT_WORKER_OPTIONS.concurrency), value: 'n', description: 'jobs run at once per worker loop' },
    pool: { type: 'string', default: '10', value: 'n', description: 'database connections of the engine' },
    'tpcb-scale': { type: 'string', value: 'n', description: 'TPC-B scale (default 10; 1 with --quick)' },
    'tpcb-seconds': { type: 'string', value: 'seconds', description: 'TPC-B run time per client count (default 10; 3 with --quick)' },
    'bpmn-instances': { type: 'string', value: 'n', description: 'bpmn-engine instances (default 1000; 100 with --quick)' },
    phases: { type: 'string', default: 'engine,tpcb,bpmn', value: 'list', description: 'what to measure, comma-separated' },
    // Issue 4's benchmark diagram is three script tasks and a gateway (scripts/bench/checks-lifecycle.bpmn);
    // issue 8's engine figure is the whole default lifecycle, with its two service jobs per released order.
    process: { type: 'string', default: 'checks', value: 'checks|lifecycle', description: 'the diagram the orders run through: the three checks and a gateway, or the whole default lifecycle' },
    'count-queries': { type: 'boolean', description: 'count the statements the engine phase sends, by kind: where the round trips go' },
    'wait-events': { type: 'boolean', description: "sample pg_stat_activity during the run: where the busy backends' time goes (CPU, WAL sync, locks)" },
    'pg-statements': { type: 'boolean', description: "load pg_stat_statements (embedded PostgreSQL only) and list where PostgreSQL's time goes per order" },
    'wal-detail': { type: 'boolean', description: 'WAL of the run by relation (pg_walinspect): which table or index writes what' },
    // Is the cost per order the same with a million orders in the tables?
    template: { type: 'string', value: 'database', description: 'start each run from a copy of this database on the same server (one seeded by `npm run seed`) instead of an empty one' },
  },
});
const args = cli.values;
const QUICK = args.quick;
const ORDERS = cli.int('orders', { min: 1, default: QUICK ? 1_000 : 20_000 });
const RUNS = cli.int('runs', { min: 1 });
const WARMUP = cli.int('warmup', { min: 0, default: QUICK ? 100 : 10_000 });
const DEFECT_RATE = cli.num('defect-rate', { min: 0, max: 1 });
const INTAKE_CALLERS = cli.int('intake-callers', { min: 1 });
const LIFECYCLE_START = cli.choice('lifecycle-start', ['intake', 'worker']);
const INTAKE_RATE = cli.num('intake-rate', { min: 0 });
const BATCH_SIZE = cli.int('batch-size', { min: 1 });
const CONCURRENCY = cli.int('concurrency', { min: 1 });
const POOL = cli.int('pool', { min: 1 });
const TPCB_SCALE = cli.int('tpcb-scale', { min: 1, default: QUICK ? 1 : 10 });
const TPCB_SECONDS = cli.num('tpcb-seconds', { above: 0, default: QUICK ? 3 : 10 });
const BPMN_INSTANCES = cli.int('bpmn-instances', { min: 1, default: QUICK ? 100 : 1_000 });
const PHASES = new Set(cli.choices('phases', ['engine', 'tpcb', 'bpmn']));
const PROCESS = cli.choice('process', ['checks', 'lifecycle']);
const CHECKS_DIAGRAM = fileURLToPath(new URL('./checks-lifecycle.bpmn', import.meta.url));
if (args.template && !process.env.DATABASE_URL) {
  cli.fail('--template copies a database on the server DATABASE_URL names (one seeded with `npm run seed`); set DATABASE_URL.');
}
const engineDb = benchDatabaseName('engine');

const queryCounts = new Map<string, { n: number; ms: number; bytes: number }>();
if (args['count-queries']) {
  const original = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  (pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: pg.Client, ...a: unknown[]) {
    const first = a[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const key = text.replace(/\s+/g, ' ').slice(0, 90);
    const entry = queryCounts.get(key) ?? { n: 0, ms: 0, bytes: 0 };
    queryCounts.set(key, entry);
    entry.n++;
    const values = (Array.isArray(a[1]) ? a[1] : (first as { values?: unknown[] } | undefined)?.values) ?? [];
    for (const v of values) entry.bytes += typeof v === 'string' ? Buffer.byteLength(v) : v == null ? 0 : String(v).length;
    const t = performance.now();
    const result = original.apply(this, a);
    if (result && typeof (result as Promise<unknown>).finally === 'function') void (result as Promise<unknown>).finally(() => (entry.ms += performance.now() - t)).catch(() => undefined);
    return result;
  };
}

interface EngineRun {
  perSecond: number;
  seconds: number;
  intakePerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssPeakMb: number;
  commitsPerOrder: number;
  walBytesPerOrder: number;
  historyRowsPerOrder: number;
  /** CPU time of this process (intake + workers) and of PostgreSQL, per order. */
  nodeCpuMsPerOrder: number;
  pgCpuMsPerOrder: number | null;
  released: number;
  onHold: number;
}

/** One pass of N orders through intake and the workers, on a fresh database. */
async function runEngine(adminUrl: string, run: number, postmasterPid: number | null): Promise<EngineRun> {
  const copied = performance.now();
  const url = await recreateDatabase(adminUrl, engineDb, args.template);
  if (args.template) console.log(`  copy of ${args.template} made in ${fmt((performance.now() - copied) / 1000, 0)} s`);
  const database = connect(url, { max: POOL });
  await migrateToLatest(database.db);
  const boss = await createBoss(url, quiet);
  const config = { ...loadConfig({}), lifecycleStart: LIFECYCLE_START };
  const runtime = createRuntime({ db: database.db, boss, logger: quiet, config });
  await runtime.deployDefaults(PROCESSES_DIR);
  // The checks diagram goes in as the order lifecycle's next version, as an analyst would deploy it.
  if (PROCESS === 'checks') await runtime.deploy(await readFile(CHECKS_DIAGRAM), 'bench', 'checks-lifecycle.bpmn');

  // What each order must become, worked out before the clock starts; the orders themselves are made again
  // one at a time during intake, so this process does not hold 20,000 of them (its memory is measured).
  const generator = { defectRate: DEFECT_RATE, prefix: `BENCH-${run}` };
  const expected = new Map<string, Settled>();
  for (const order of orderStream(ORDERS, generator)) expected.set(order.externalId, expectedStatus(order));
  const expectHeld = [...expected.values()].filter((s) => s === 'on_hold').length;
  const orders = orderStream(ORDERS, generator);

  const stat = async () => {
    const { rows } = await sql<{ commits: string; lsn: string }>`select (select xact_commit from pg_stat_database where datname = current_database())::text as commits, pg_current_wal_lsn()::text as lsn`.execute(database.db);
    return rows[0]!;
  };
  const lsnBytes = (lsn: string) => {
    const [hi, lo] = lsn.split('/');
    return Number.parseInt(hi!, 16) * 2 ** 32 + Number.parseInt(lo!, 16);
  };
  const settledInTally = async () => {
    const tally = await orderStatusTally(database.db);
    return (tally.get('released') ?? 0) + (tally.get('on_hold') ?? 0);
  };

  // memoryUsage.rss(), not memoryUsage(): the full call gathers V8's heap statistics too, about 0.2 ms
  // of this process's CPU each time.
  let rssPeak = process.memoryUsage.rss();
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 50);
  const workers = runtime.startWorkers({ batchSize: BATCH_SIZE, concurrency: CONCURRENCY });

  /** Posts a stream of orders through intake from INTAKE_CALLERS callers at once, as POST /orders would. */
  let posted = 0;
  const post = (stream: Iterator<Order>, options: { rate?: number; onPost?: (order: Order) => void } = {}) => {
    const from = Date.now();
    let n = 0;
    return Promise.all(
      Array.from({ length: INTAKE_CALLERS }, async () => {
        for (;;) {
          const item = stream.next();
          if (item.done) break;
          const order = item.value;
          const due = options.rate ? from + (n++ * 1000) / options.rate : 0;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          posted++;
          options.onPost?.(order);
          const result = await runtime.receive(order, 'bench');
          if (result.outcome !== 'created') throw new Error(`intake answered ${result.outcome} for ${order.externalId}`);
          if (result.order.status === 'received') runtime.nudge(); // as POST /orders does
        }
      }),
    );
  };
  /**
   * Polled every 250 ms from the status tally (a few rows, the console's counts), as the change since
   * `from`: a count over the run's orders grew with them and took PostgreSQL CPU the engine competes for (3 %
   * of it in a 10,000-order run). The poll that sees the last order settled ends the wait, so a clock
   * stopped then errs on the slow side.
   */
  const waitSettled = async (count: number, from: number, progress?: (settled: number) => void) => {
    const began = Date.now();
    let lastReport = began;
    for (let settled = 0; settled < count; ) {
      await new Promise((r) => setTimeout(r, 250));
      settled = (await settledInTally()) - from;
      if (progress && Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        progress(settled);
      }
      if (Date.now() - began > 30 * 60_000) throw new Error(`only ${settled} of ${count} orders settled in 30 minutes`);
    }
  };

  if (WARMUP > 0) {
    const warmStart = Date.now();
    const warmFrom = await settledInTally();
    await post(orderStream(WARMUP, { defectRate: DEFECT_RATE, prefix: `WARM-${run}` }));
    await waitSettled(WARMUP, warmFrom);
    console.log(`  warm-up: ${WARMUP} orders settled in ${fmt((Date.now() - warmStart) / 1000, 1)} s (${fmt(WARMUP / ((Date.now() - warmStart) / 1000))}/s), untimed`);
  }

  if (args['pg-statements']) {
    await sql`create extension if not exists pg_stat_statements`.execute(database.db);
    await sql`select pg_stat_statements_reset()`.execute(database.db);
  }
  // This run's orders are the ones created from here on: a template's and the warm-up's orders are left
  // out of every count (found through the created_at index, so the polls do not grow with the table).
  const { rows: startRows } = await sql<{ now: Date; orders: string }>`select now() as now, (select count(*) from orders)::text as orders`.execute(database.db);
  const runStart = startRows[0]!.now;
  const ordersBefore = Number(startRows[0]!.orders);
  if (ordersBefore > WARMUP) console.log(`  ${ordersBefore - WARMUP} orders in the database before the run`);
  const settledBefore = await settledInTally();
  const before = await stat();
  queryCounts.clear();
  const cpuBefore = { node: process.cpuUsage(), pg: postgresCpuSeconds(postmasterPid) };

  const startedAt = new Map<string, number>();
  const t0 = Date.now();
  posted = 0;
  let intakeDone = 0;
  const intake = post(orders, { rate: INTAKE_RATE, onPost: (order) => startedAt.set(order.externalId, Date.now()) }).then(() => (intakeDone = Date.now()));
  // `--wait-events`: what the run's backends are doing, sampled from pg_stat_activity every few ms by a
  // connection of its own (the sampling costs CPU: figures from such a run are not to be quoted).
  const waits = new Map<string, number>();
  let sampling = args['wait-events'];
  const sampler = sampling
    ? (async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        while (sampling) {
          const { rows } = await client.query<{ state: string; wait: string; query: string }>(`
            select state, coalesce(wait_event_type || ':' || wait_event, 'on CPU') as wait, left(regexp_replace(query, '/[*].*?[*]/|[[:space:]]+', ' ', 'g'), 40) as query
            from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`);
          for (const r of rows) {
            const key = `${r.wait.padEnd(24)} ${r.state === 'active' ? r.query.trim() : r.state}`;
            waits.set(key, (waits.get(key) ?? 0) + 1);
          }
          await new Promise((r) => setTimeout(r, 3));
        }
        await client.end();
      })()
    : null;
  // Progress every 5 s, with the CPU per order of that window: the first seconds of a process cost more (JIT).
  let window = { settled: 0, node: process.cpuUsage(), pg: postgresCpuSeconds(postmasterPid) };
  await waitSettled(ORDERS, settledBefore, (settled) => {
    const node = process.cpuUsage(window.node);
    const pgNow = postgresCpuSeconds(postmasterPid);
    const n = Math.max(1, settled - window.settled);
    const cpu = `CPU ms per order ${fmt((node.user + node.system) / 1000 / n, 2)} in Node` + (pgNow !== null && window.pg !== null ? ` + ${fmt(((pgNow - window.pg) * 1000) / n, 2)} in PostgreSQL` : '');
    console.log(`  … ${settled}/${ORDERS} settled after ${fmt((Date.now() - t0) / 1000, 1)} s (${intakeDone ? 'intake done' : `${posted} posted`}); this window: ${cpu}`);
    window = { settled, node: process.cpuUsage(), pg: pgNow };
  });
  const t1 = Date.now();
  sampling = false;
  await sampler;
  if (waits.size > 0) {
    const total = [...waits.values()].reduce((a, b) => a + b, 0);
    console.log('  busy backends by wait event (share of samples):');
    for (const [k, v] of [...waits].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${fmt((100 * v) / total, 1).padStart(5)} %  ${k}`);
  }
  // The exact count over the run's orders confirms what the tally said.
  const { rows: confirmed } = await sql<{ n: string }>`select count(*)::text as n from orders where created_at >= ${runStart} and status in ('released', 'on_hold')`.execute(database.db);
  if (Number(confirmed[0]!.n) !== ORDERS) throw new Error(`the status tally counted ${ORDERS} orders settled, the orders table ${confirmed[0]!.n}`);
  await intake;
  clearInterval(rssTimer);
  await workers.stop();
  const after = await stat();
  const nodeCpu = process.cpuUsage(cpuBefore.node);
  const pgCpuAfter = postgresCpuSeconds(postmasterPid);
  if (args['count-queries']) {
    const total = [...queryCounts.values()].reduce((a, b) => a + b.n, 0);
    console.log(`  statements per order: ${fmt(total / ORDERS, 1)} (per kind: count per order, mean ms from send to answer, parameter bytes per order)`);
    for (const [q, e] of [...queryCounts].sort((x, y) => y[1].n - x[1].n).slice(0, 30)) console.log(`    ${fmt(e.n / ORDERS, 2).padStart(6)} ${fmt(e.ms / e.n, 2).padStart(7)} ms ${fmt(e.bytes / ORDERS, 0).padStart(7)} B/order  ${q}`);
  }

  if (args['pg-statements']) {
    const { rows: top } = await sql<{ ms: number; calls: string; rows: string; query: string }>`
      select total_exec_time as ms, calls::text, rows::text, regexp_replace(query, '[[:space:]]+', ' ', 'g') as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time desc limit 25`.execute(database.db);
    console.log('  PostgreSQL execution time per order, by statement (pg_stat_statements):');
    for (const r of top) console.log(`    ${fmt((r.ms * 1000) / ORDERS, 0).padStart(6)} µs  ${fmt(Number(r.calls) / ORDERS, 2).padStart(5)} calls  ${fmt(Number(r.rows) / ORDERS, 1).padStart(5)} rows  ${r.query.slice(0, 100)}`);
  }

  if (args['wal-detail']) {
    await sql`create extension if not exists pg_walinspect`.execute(database.db);
    const { rows: wal } = await sql<{ rel: string; records: string; bytes: string; fpi: string }>`
      select coalesce(pg_filenode_relation(reltablespace, relfilenode)::regclass::text, resource_manager || ' ' || relfilenode::text) as rel,
        count(distinct start_lsn)::text as records, sum(block_data_length + block_fpi_length)::text as bytes, sum(block_fpi_length)::text as fpi
      from pg_get_wal_block_info(${before.lsn}::pg_lsn, ${after.lsn}::pg_lsn)
      group by 1 order by sum(block_data_length + block_fpi_length) desc limit 25`.execute(database.db);
    const { rows: rm } = await sql<{ rm: string; bytes: string; records: string }>`
      select "resource_manager/record_type" as rm, sum(combined_size)::text as bytes, sum(count)::text as records
      from pg_get_wal_stats(${before.lsn}::pg_lsn, ${after.lsn}::pg_lsn) group by 1 order by sum(combined_size) desc limit 10`.execute(database.db);
    console.log('  WAL per order by relation (block data + full-page images; records touching the relation):');
    for (const r of wal) console.log(`    ${fmt(Number(r.bytes) / ORDERS, 0).padStart(7)} B  (fpi ${fmt(Number(r.fpi) / ORDERS, 0).padStart(5)} B)  ${fmt(Number(r.records) / ORDERS, 2).padStart(6)} records  ${r.rel}`);
    console.log('  WAL per order by resource manager (whole records):');
    for (const r of rm) console.log(`    ${fmt(Number(r.bytes) / ORDERS, 0).padStart(7)} B  ${fmt(Number(r.records) / ORDERS, 2).padStart(6)} records  ${r.rm}`);
  }

  // Verify: every order ended as its checks say, one instance each, both jobs recorded once per released order.
  await verifyOutcomes(database.db, generator.prefix, expected, { jobsPerReleasedOrder: PROCESS === 'checks' ? 0 : 2 });
  const rows = await database.db.selectFrom('orders').select(['external_id', 'updated_at']).where('created_at', '>=', runStart).execute();
  const { rows: historyRows } = await sql<{ n: string }>`
    select coalesce(sum(json_array_length(s.entries)), 0)::text as n
    from orders o join process_instances i on i.order_id = o.id join instance_history_steps s on s.instance_id = i.id
    where o.created_at >= ${runStart}`.execute(database.db);
  const history = Number(historyRows[0]!.n);

  const latencies = rows.map((r) => r.updated_at.getTime() - startedAt.get(r.external_id)!).sort((a, b) => a - b);
  console.log(`  ${perSecondLine(rows.map((r) => r.updated_at), t0)}`);
  await boss.stop({ graceful: false, wait: true, timeout: 10_000 });
  await database.close();
  const seconds = (t1 - t0) / 1000;
  return {
    perSecond: ORDERS / seconds,
    seconds,
    intakePerSecond: ORDERS / ((intakeDone - t0) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    rssPeakMb: rssPeak / 2 ** 20,
    commitsPerOrder: (Number(after.commits) - Number(before.commits)) / ORDERS,
    walBytesPerOrder: (lsnBytes(after.lsn) - lsnBytes(before.lsn)) / ORDERS,
    historyRowsPerOrder: history / ORDERS,
    nodeCpuMsPerOrder: (nodeCpu.user + nodeCpu.system) / 1000 / ORDERS,
    pgCpuMsPerOrder: pgCpuAfter !== null && cpuBefore.pg !== null ? ((pgCpuAfter - cpuBefore.pg) * 1000) / ORDERS : null,
    released: ORDERS - expectHeld,
    onHold: expectHeld,
  };
}

async function main() {
  const server = await benchPostgres(args['pg-statements'] ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {});
  // A template cannot be copied while anyone is connected to it, this benchmark included.
  const adminUrl = args.template && new URL(server.adminUrl).pathname === `/${args.template}` ? withDatabase(server.adminUrl, 'postgres') : server.adminUrl;
  const tpcbDb = benchDatabaseName('tpcb');
  try {
    console.log(describeMachine());
    // `npm run bench:engine` runs this process with Ordo's own heap cap (package.json's start script), so rss_mb is
    // that of Ordo as deployed; V8 left to size its heap for this 23 GB machine would keep more garbage.
    console.log(`V8 heap limit ${fmt(getHeapStatistics().heap_size_limit / 2 ** 20)} MB`);
    console.log(await describePostgres(server));
    console.log(`orders: ${ORDERS} per run, defect rate ${DEFECT_RATE}, ${RUNS} run(s), intake callers ${INTAKE_CALLERS}${INTAKE_RATE ? ` at ${INTAKE_RATE}/s` : ' (burst)'}, lifecycle start at ${LIFECYCLE_START}, worker batch ${BATCH_SIZE}, concurrency ${CONCURRENCY}, pool ${POOL}`);

    const tpcbUrl = PHASES.has('tpcb') ? await recreateDatabase(adminUrl, tpcbDb) : '';
    if (PHASES.has('tpcb')) {
      const t = performance.now();
      await initTpcb(tpcbUrl, TPCB_SCALE);
      console.log(`TPC-B tables at scale ${TPCB_SCALE} loaded in ${fmt((performance.now() - t) / 1000, 1)} s`);
    }

    const results: Array<{ engine?: EngineRun; tpcb1?: number; tpcb4?: number; pgbench?: number | null; tpcb?: number; bpmn?: number }> = [];
    for (let run = 1; run <= RUNS; run++) {
      console.log(`\nrun ${run}/${RUNS}`);
      const r: (typeof results)[number] = {};
      if (PHASES.has('engine')) {
        const e = (r.engine = await runEngine(adminUrl, run, server.pid));
        console.log(
          `  engine: ${ORDERS} orders (${e.released} released, ${e.onHold} on hold) settled in ${fmt(e.seconds, 1)} s → ${fmt(e.perSecond)} orders/s; ` +
            `intake alone ${fmt(e.intakePerSecond)}/s; intake→settled p50 ${fmt(e.p50Ms)} ms, p99 ${fmt(e.p99Ms)} ms; rss peak ${fmt(e.rssPeakMb)} MB`,
        );
        console.log(
          `          per order: ${fmt(e.commitsPerOrder, 2)} commits, ${fmt(e.walBytesPerOrder)} B of WAL, ${fmt(e.historyRowsPerOrder, 1)} history rows; ` +
            `CPU ${fmt(e.nodeCpuMsPerOrder, 2)} ms in Node` + (e.pgCpuMsPerOrder !== null ? ` + ${fmt(e.pgCpuMsPerOrder, 2)} ms in PostgreSQL` : ''),
        );
      }
      if (PHASES.has('tpcb')) {
        const t = await measureTpcb(tpcbUrl, TPCB_SCALE, TPCB_SECONDS);
        r.tpcb1 = t.node1.perSecond;
        r.tpcb4 = t.node4.perSecond;
        r.pgbench = t.pgbench;
        r.tpcb = t.reference;
        console.log(`  ${describeTpcb(t, TPCB_SCALE)}`);
      }
      if (PHASES.has('bpmn')) {
        const b = await runBpmnEngineApart(PROCESS, BPMN_INSTANCES, DEFECT_RATE, { approvalThreshold: loadConfig({}).approvalThreshold });
        r.bpmn = b.perSecond;
        console.log(`  bpmn-engine 25 (in memory, compiled JS scripts): ${b.instances} instances in ${fmt(b.seconds, 1)} s → ${fmt(b.perSecond, 1)} inst/s; parked at ${JSON.stringify(b.parkedAt)}`);
      }
      if (r.engine && r.tpcb && r.bpmn) {
        console.log(
          `  ratios: ${fmt(r.engine.perSecond / r.tpcb, 2)}× TPC-B (${r.pgbench ? 'pgbench' : 'Node'}, 1 client), ${fmt(r.engine.perSecond / r.tpcb1!, 2)}× TPC-B (Node, 1 client), ` +
            `${fmt(r.engine.perSecond / r.tpcb4!, 2)}× TPC-B (Node, 4 clients), ${fmt(r.engine.perSecond / r.bpmn, 1)}× bpmn-engine`,
        );
      }
      results.push(r);
    }

    const list = (f: (r: (typeof results)[number]) => number | undefined) => results.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const engine = list((r) => r.engine?.perSecond);
    const tpcb1 = list((r) => r.tpcb1);
    const tpcb4 = list((r) => r.tpcb4);
    const bpmn = list((r) => r.bpmn);
    const tpcb = list((r) => r.tpcb);
    const ratioTpcb = list((r) => (r.engine && r.tpcb ? r.engine.perSecond / r.tpcb : undefined));
    const ratioTpcbNode = list((r) => (r.engine && r.tpcb1 ? r.engine.perSecond / r.tpcb1 : undefined));
    const pgbenchUsed = results.some((r) => r.pgbench);
    const ratioTpcb4 = list((r) => (r.engine && r.tpcb4 ? r.engine.perSecond / r.tpcb4 : undefined));
    const ratioBpmn = list((r) => (r.engine && r.bpmn ? r.engine.perSecond / r.bpmn : undefined));
    const p99 = list((r) => r.engine?.p99Ms);
    const rss = list((r) => r.engine?.rssPeakMb);
    const nodeCpu = list((r) => r.engine?.nodeCpuMsPerOrder);
    const pgCpu = list((r) => r.engine?.pgCpuMsPerOrder ?? undefined);
    const all = (v: number[], d = 0) => v.map((x) => fmt(x, d)).join(', ');
    console.log('\nall runs:');
    console.log(`  engine orders/s: ${all(engine)}; TPC-B reference: ${all(tpcb)}; TPC-B Node 1 client: ${all(tpcb1)}; 4 clients: ${all(tpcb4)}; bpmn-engine inst/s: ${all(bpmn, 1)}`);
    console.log(
      `  ratio TPC-B: ${all(ratioTpcb, 2)}; ratio TPC-B (Node, 1 client): ${all(ratioTpcbNode, 2)}; (Node, 4 clients): ${all(ratioTpcb4, 2)}; ratio bpmn-engine: ${all(ratioBpmn, 1)}; p99 ms: ${all(p99)}; rss MB: ${all(rss)}`,
    );
    const m = (v: number[], d = 0) => (v.length ? fmt(median(v), d) : 'n/a');
    console.log(
      `DETAIL tpcb_source=${pgbenchUsed ? 'pgbench' : 'node'} tpcb_node1_per_s=${m(tpcb1)} ratio_tpcb_node1=${m(ratioTpcbNode, 2)} tpcb_node4_per_s=${m(tpcb4)} ratio_tpcb_node4=${m(ratioTpcb4, 2)} ` +
        `node_cpu_ms_per_order=${m(nodeCpu, 2)} pg_cpu_ms_per_order=${m(pgCpu, 2)}`,
    );
    console.log(
      `RESULT engine_per_s=${m(engine)} tpcb_per_s=${m(tpcb)} ratio_tpcb=${m(ratioTpcb, 2)} bpmn_engine_per_s=${m(bpmn, 1)} ratio_bpmn_engine=${m(ratioBpmn, 1)} p99_ms=${m(p99)} rss_mb=${m(rss)} process=${PROCESS}`,
    );
  } finally {
    if (!server.embedded) {
      await dropDatabase(adminUrl, engineDb);
      await dropDatabase(adminUrl, tpcbDb);
    }
    await server.stop();
  }
}

await main();
process.exit(0);

/**
 * `npm run bench:http -- [--orders 5000] [--runs 3] [--connections 16] [--roles split|all] [--quick]`
 *
 * Orders per second through the real server, from the first POST until every order has settled, and the
 * memory of the processes doing it. Each run, on a fresh database:
 *
 * 1. Ordo is started as an operator starts it, as child processes: `node --import tsx src/main.ts web`
 *    and `… worker` (`--roles split`, the default) or one `… all`, with DATABASE_URL pointing at the
 *    run's database, an admin API token from ORDO_BOOTSTRAP_TOKEN, and its log (level info, Ordo's
 *    default) written to a file.
 * 2. Warm-up: `--warmup` orders (default 10,000) posted and settled first, untimed, so the figures are
 *    those of a running service, not of a cold JIT: a fresh web process settles orders at about half its
 *    steady rate in its first seconds and takes some 10,000 orders to reach it.
 * 3. autocannon with 16 connections posts N distinct orders (scripts/bench/orders.ts: nine countries,
 *    every delivery and payment method, 20 % with a defect), each request a different order, until all
 *    N are posted; then the database is polled (every 20 ms) until every one has settled: released, or on
 *    hold with its ticket. orders/s = N / (first POST → last order settled). Latency p50/p99 is
 *    autocannon's, per POST.
 * 4. Every order's outcome is checked against what its checks say (`expectedStatus`), and exactly-once:
 *    one instance per order, one ticket per held order, one job effect per (order, job).
 * 5. Baselines in the same run: autocannon on `GET /healthz` of the same web process (fastify's floor on
 *    this machine, 16 connections, `--healthz-seconds`), then, with Ordo stopped, TPC-B on the same
 *    PostgreSQL (scripts/bench/tpcb.ts: pgbench's one-client rate when the binary is installed).
 *
 * Memory: the peak resident set (VmHWM, the kernel's high-water mark) of the web and the worker process
 * over their whole life (start, warm-up, the orders, the /healthz run), plus the peak sampled while the
 * orders were posted, with the web process's V8 heap from its own /metrics at the end.
 *
 * `--lifecycle-start worker` sets ORDO_LIFECYCLE_START=worker: intake only queues a start job per order and
 * the worker process runs the lifecycles. `--node-options "--max-semi-space-size=…"` passes V8 flags to
 * Ordo's processes. `--quick`: 300 orders, a 50-order warm-up, 2 s of /healthz, TPC-B at scale 1 for 3 s.
 *
 * PostgreSQL: DATABASE_URL's server (the benchmark creates and drops its own databases there), else Ordo's
 * embedded PostgreSQL in a temporary folder with Ordo's settings (fsync and synchronous_commit on).
 * The last line (medians over the runs):
 *   RESULT http_orders_per_s=… http_p50_ms=… http_p99_ms=… http_non2xx=… healthz_per_s=… tpcb_per_s=…
 *          ratio_tpcb=… web_rss_mb=… worker_rss_mb=…
 * Exits non-zero when a request failed or an order ended wrong.
 */
import { randomBytes } from 'node:crypto';
import autocannon, { type Result } from 'autocannon';
import { connect } from '../../src/db/connection.ts';
import { commandLine } from '../cli.ts';
import {
  benchDatabaseName,
  benchPostgres,
  describeMachine,
  describePostgres,
  dropDatabase,
  fmt,
  freePort,
  listOf,
  loadAverage,
  logFolder,
  medianOf,
  perSecondLine,
  postgresCpuSeconds,
  recreateDatabase,
  resultLine,
  RssSampler,
  sleep,
  spawnOrdo,
  type OrdoProcess,
  waitForWorker,
} from './common.ts';
import { expectedStatus, orderStream } from './orders.ts';
import { describeTpcb, initTpcb, measureTpcb, type TpcbBaseline } from './tpcb.ts';
import { countSettled, verifyOutcomes, type Settled } from './verify.ts';

const cli = commandLine({
  name: 'bench:http',
  usage: 'npm run bench:http -- [options]',
  about: 'Orders per second through the real server, from the first POST until every order has settled, and the memory of its processes (docs/PERFORMANCE.md).',
  options: {
    quick: { type: 'boolean', description: 'small sizes and short baselines: a check that the benchmark runs, not a figure to quote' },
    orders: { type: 'string', value: 'n', description: 'orders per run (default 5000; 300 with --quick)' },
    runs: { type: 'string', default: '3', value: 'n', description: 'runs, each on a fresh database; the figures are their medians' },
    warmup: { type: 'string', value: 'n', description: 'orders posted and settled first, untimed (default 10000; 50 with --quick)' },
    connections: { type: 'string', default: '16', value: 'n', description: 'autocannon connections' },
    roles: { type: 'string', default: 'split', value: 'split|all', description: 'Ordo as a web and a worker process, or one "all" process' },
    'lifecycle-start': { type: 'string', default: 'intake', value: 'intake|worker', description: 'ORDO_LIFECYCLE_START of the Ordo processes' },
    'defect-rate': { type: 'string', default: '0.2', value: '0..1', description: 'share of the orders with a defect' },
    'healthz-seconds': { type: 'string', value: 'seconds', description: 'length of the GET /healthz baseline (default 5; 2 with --quick)' },
    'tpcb-scale': { type: 'string', value: 'n', description: 'TPC-B scale (default 10; 1 with --quick)' },
    'tpcb-seconds': { type: 'string', value: 'seconds', description: 'TPC-B run time per client count (default 10; 3 with --quick)' },
    'no-tpcb': { type: 'boolean', description: "skip the TPC-B baseline (the smoke test's short runs)" },
    'log-level': { type: 'string', default: 'info', value: 'level', description: 'LOG_LEVEL of the Ordo processes' },
    'node-options': { type: 'string', default: '', value: 'flags', description: 'V8 / Node flags for the Ordo processes, space-separated (e.g. "--max-semi-space-size=8")' },
    'keep-logs': { type: 'boolean', description: "keep the Ordo processes' logs (their folder is printed)" },
  },
});
const args = cli.values;
const QUICK = args.quick;
const ORDERS = cli.int('orders', { min: 1, default: QUICK ? 300 : 5_000 });
const RUNS = cli.int('runs', { min: 1 });
const WARMUP = cli.int('warmup', { min: 0, default: QUICK ? 50 : 10_000 });
const CONNECTIONS = cli.int('connections', { min: 1 });
const ROLES = cli.choice('roles', ['split', 'all']);
const LIFECYCLE_START = cli.choice('lifecycle-start', ['intake', 'worker']);
const DEFECT_RATE = cli.num('defect-rate', { min: 0, max: 1 });
const HEALTHZ_SECONDS = cli.num('healthz-seconds', { above: 0, default: QUICK ? 2 : 5 });
const TPCB_SCALE = cli.int('tpcb-scale', { min: 1, default: QUICK ? 1 : 10 });
const TPCB_SECONDS = cli.num('tpcb-seconds', { above: 0, default: QUICK ? 3 : 10 });
const NODE_OPTIONS = args['node-options'].split(/\s+/).filter(Boolean);
/** How often the database is asked whether all orders have settled, once they are all posted. */
const SETTLE_POLL_MS = 20;
const SETTLE_TIMEOUT_MS = 30 * 60_000;
const POST_TIMEOUT_S = 60;

interface HttpRun {
  perSecond: number;
  postSeconds: number;
  settleSeconds: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  healthzPerSecond: number;
  healthzP99Ms: number;
  /** Peak RSS over the process's life (VmHWM) and sampled while the orders were posted, MB. */
  webPeakMb: number;
  /** VmHWM of the web process once the orders settled, before the /healthz run. */
  webPeakOrdersMb: number;
  /** The web process's V8 heap after the /healthz run. */
  webHeapAfter: string;
  workerPeakMb: number | null;
  webLoadPeakMb: number;
  workerLoadPeakMb: number | null;
  webHeap: string;
  cpuMsPerOrder: { web: number; worker: number | null; postgres: number | null; client: number };
  released: number;
  onHold: number;
  tpcb?: TpcbBaseline;
}

async function waitReady(base: string, ordo: OrdoProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (ordo.child.exitCode !== null) throw new Error(`Ordo ${ordo.role} exited early:\n${ordo.log().slice(-3000)}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`Ordo ${ordo.role} was not ready within 120 s:\n${ordo.log().slice(-3000)}`);
}

/** autocannon's sampling tick, ms: it also answers only on a tick after the last response (default 1 s). */
const SAMPLE_MS = 50;

interface Posting {
  /** Resolves when every body has been answered, whatever the status (never when some are not). */
  answered: Promise<void>;
  /** autocannon's own result, a tick after the last answer. */
  done: Promise<{ result: Result; created: number }>;
}

/** POST each body once over `connections` connections; counts answers by status. */
function postAll(base: string, token: string, bodies: string[], connections: number): Posting {
  let next = 0;
  let created = 0;
  let answers = 0;
  let allAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (allAnswered = resolve));
  const run = autocannon({
    url: base,
    connections: Math.min(connections, bodies.length),
    amount: bodies.length,
    timeout: POST_TIMEOUT_S,
    sampleInt: SAMPLE_MS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/orders',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        // autocannon builds each connection's first request up front and every later one just before it
        // is sent: one call per request, so each order is posted exactly once.
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
        onResponse: (status) => {
          if (status === 201) created++;
          if (++answers === bodies.length) allAnswered();
        },
      },
    ],
  });
  return { answered, done: run.then((result) => ({ result, created })) };
}

/** The web process's V8 heap as its own Prometheus endpoint reports it (prom-client's default metrics). */
async function heapOf(base: string, token: string): Promise<string> {
  try {
    const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    return `heap used ${fmt(metric('ordo_nodejs_heap_size_used_bytes'))} of ${fmt(metric('ordo_nodejs_heap_size_total_bytes'))} MB, external ${fmt(metric('ordo_nodejs_external_memory_bytes'))} MB`;
  } catch {
    return 'heap n/a';
  }
}

async function runOnce(adminUrl: string, run: number, postgresPid: number | null): Promise<HttpRun> {
  const dbName = benchDatabaseName('http');
  const url = await recreateDatabase(adminUrl, dbName);
  const logs = await logFolder('http');
  const token = `ordo_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ORDO_BOOTSTRAP_TOKEN: token,
    ORDO_ADMIN_PASSWORD: `bench-${randomBytes(8).toString('hex')}`,
    ORDO_LIFECYCLE_START: LIFECYCLE_START,
    LOG_LEVEL: args['log-level'],
  };
  const processes: OrdoProcess[] = [];
  const check = connect(url, { max: 2 });
  let ok = false;
  try {
    // The web process first: it migrates the fresh database and deploys the default lifecycle, so the
    // worker starts on a finished schema.
    const web = spawnOrdo(ROLES === 'all' ? 'all' : 'web', { env, logDir: logs.dir, nodeOptions: NODE_OPTIONS });
    processes.push(web);
    await waitReady(base, web);
    let worker: OrdoProcess | null = null;
    if (ROLES === 'split') {
      worker = spawnOrdo('worker', { env, logDir: logs.dir, nodeOptions: NODE_OPTIONS });
      processes.push(worker);
      await waitForWorker(worker, args['log-level']);
    }

    const settle = async (prefix: string, count: number): Promise<void> => {
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      while ((await countSettled(check.db, prefix)) < count) {
        if (Date.now() > deadline) throw new Error(`orders ${prefix}-* did not all settle in ${SETTLE_TIMEOUT_MS / 60_000} minutes`);
        await sleep(SETTLE_POLL_MS);
      }
    };

    if (WARMUP > 0) {
      const warm = [...orderStream(WARMUP, { defectRate: DEFECT_RATE, prefix: `WARM-${run}` })].map((o) => JSON.stringify(o));
      const warmStart = performance.now();
      const { result } = await postAll(base, token, warm, CONNECTIONS).done;
      if (result.non2xx + result.errors + result.timeouts > 0) throw new Error(`warm-up: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
      await settle(`WARM-${run}`, WARMUP);
      const warmSeconds = (performance.now() - warmStart) / 1000;
      console.log(`  warm-up: ${WARMUP} orders settled in ${fmt(warmSeconds, 1)} s (${fmt(WARMUP / warmSeconds)}/s), untimed`);
    }

    // The bodies and what each order must become, made before the clock starts.
    const prefix = `HTTP-${run}`;
    const expected = new Map<string, Settled>();
    const bodies: string[] = [];
    for (const order of orderStream(ORDERS, { defectRate: DEFECT_RATE, prefix })) {
      expected.set(order.externalId, expectedStatus(order));
      bodies.push(JSON.stringify(order));
    }

    const sampler = new RssSampler(processes.map((p) => p.pid));
    const cpu0 = { web: web.cpuSeconds(), worker: worker?.cpuSeconds() ?? null, postgres: postgresCpuSeconds(postgresPid), client: process.cpuUsage() };
    const t0 = performance.now();
    const t0Wall = Date.now();
    const posting = postAll(base, token, bodies, CONNECTIONS);
    // The clock stops at the last answer and the last settled order, not at autocannon's next tick.
    await Promise.race([posting.answered, posting.done]);
    const tPosted = performance.now();
    await settle(prefix, ORDERS);
    const tSettled = performance.now();
    const { result, created } = await posting.done;
    const peaks = sampler.stop();
    const client = process.cpuUsage(cpu0.client);
    const delta = (now: number | null, then: number | null) => (now !== null && then !== null ? ((now - then) * 1000) / ORDERS : null);
    const cpuMsPerOrder = {
      web: delta(web.cpuSeconds(), cpu0.web)!,
      worker: worker ? delta(worker.cpuSeconds(), cpu0.worker) : null,
      postgres: delta(postgresCpuSeconds(postgresPid), cpu0.postgres),
      client: (client.user + client.system) / 1000 / ORDERS,
    };
    if (result.non2xx + result.errors + result.timeouts > 0 || created !== ORDERS) {
      console.log(`  status codes: ${JSON.stringify(result.statusCodeStats)}; errors ${result.errors}, timeouts ${result.timeouts}`);
    }
    const verified = await verifyOutcomes(check.db, prefix, expected);
    const settledAt = await check.db.selectFrom('orders').select('updated_at').where('external_id', 'like', `${prefix}-%`).execute();
    console.log(`  ${perSecondLine(settledAt.map((r) => r.updated_at), t0Wall)}`);
    if (created !== ORDERS) throw new Error(`${created} of ${ORDERS} POSTs answered 201 Created`);
    const webHeap = await heapOf(base, token);
    const webPeakOrders = web.memory()?.peakMb ?? NaN;

    const healthz = await autocannon({ url: `${base}/healthz`, connections: CONNECTIONS, duration: HEALTHZ_SECONDS, sampleInt: SAMPLE_MS });
    if (healthz.non2xx + healthz.errors > 0) throw new Error(`/healthz: ${healthz.non2xx} non-2xx answers, ${healthz.errors} errors`);
    const webHeapAfter = await heapOf(base, token);

    const webPeak = web.memory()?.peakMb ?? NaN;
    const workerPeak = worker?.memory()?.peakMb ?? null;
    ok = true;
    return {
      perSecond: ORDERS / ((tSettled - t0) / 1000),
      postSeconds: (tPosted - t0) / 1000,
      settleSeconds: (tSettled - t0) / 1000,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      healthzPerSecond: healthz.requests.total / healthz.duration,
      healthzP99Ms: healthz.latency.p99,
      webPeakMb: webPeak,
      workerPeakMb: workerPeak,
      webLoadPeakMb: peaks.get(web.pid) ?? NaN,
      webPeakOrdersMb: webPeakOrders,
      webHeapAfter,
      workerLoadPeakMb: worker ? (peaks.get(worker.pid) ?? NaN) : null,
      webHeap,
      cpuMsPerOrder,
      released: verified.released,
      onHold: verified.onHold,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await check.close();
    await dropDatabase(adminUrl, dbName);
    if (ok && !args['keep-logs']) await logs.remove();
    else console.log(`  Ordo's logs: ${logs.dir}`);
  }
}

async function main(): Promise<number> {
  const server = await benchPostgres();
  const tpcbDb = benchDatabaseName('tpcb');
  try {
    console.log(describeMachine());
    console.log(await describePostgres(server));
    console.log(
      `orders: ${ORDERS} per run after a warm-up of ${WARMUP}, defect rate ${DEFECT_RATE}, ${RUNS} run(s), autocannon ${CONNECTIONS} connections; ` +
        `Ordo as ${ROLES === 'all' ? 'one "all" process' : 'a web and a worker process'}, lifecycle start at ${LIFECYCLE_START}, log level ${args['log-level']}` +
        (NODE_OPTIONS.length ? `, node ${NODE_OPTIONS.join(' ')}` : ''),
    );
    const tpcbUrl = args['no-tpcb'] ? null : await recreateDatabase(server.adminUrl, tpcbDb);
    if (tpcbUrl) {
      const t = performance.now();
      await initTpcb(tpcbUrl, TPCB_SCALE);
      console.log(`TPC-B tables at scale ${TPCB_SCALE} loaded in ${fmt((performance.now() - t) / 1000, 1)} s`);
    }

    const runs: HttpRun[] = [];
    for (let run = 1; run <= RUNS; run++) {
      console.log(`\nrun ${run}/${RUNS} (load ${loadAverage()})`);
      const r = await runOnce(server.adminUrl, run, server.pid);
      console.log(
        `  http: ${ORDERS} orders (${r.released} released, ${r.onHold} on hold) posted in ${fmt(r.postSeconds, 2)} s, all settled after ${fmt(r.settleSeconds, 2)} s → ${fmt(r.perSecond)} orders/s; ` +
          `POST latency p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; non-2xx ${r.non2xx}, errors ${r.errors}`,
      );
      console.log(
        `        CPU per order: web ${fmt(r.cpuMsPerOrder.web, 2)} ms` +
          (r.cpuMsPerOrder.worker !== null ? `, worker ${fmt(r.cpuMsPerOrder.worker, 2)} ms` : '') +
          (r.cpuMsPerOrder.postgres !== null ? `, PostgreSQL ${fmt(r.cpuMsPerOrder.postgres, 2)} ms` : '') +
          `, autocannon ${fmt(r.cpuMsPerOrder.client, 2)} ms`,
      );
      console.log(
        `        memory: web peak ${fmt(r.webPeakMb)} MB (${fmt(r.webPeakOrdersMb)} MB before /healthz, ${fmt(r.webLoadPeakMb)} MB sampled under load; ${r.webHeap}; after /healthz ${r.webHeapAfter})` +
          (r.workerPeakMb !== null ? `, worker peak ${fmt(r.workerPeakMb)} MB (${fmt(r.workerLoadPeakMb ?? NaN)} MB under load)` : ''),
      );
      console.log(`  /healthz: ${fmt(r.healthzPerSecond)} requests/s, p99 ${fmt(r.healthzP99Ms)} ms`);
      if (tpcbUrl) {
        r.tpcb = await measureTpcb(tpcbUrl, TPCB_SCALE, TPCB_SECONDS);
        console.log(`  ${describeTpcb(r.tpcb, TPCB_SCALE)}`);
        console.log(`  ratio: ${fmt(r.perSecond / r.tpcb.reference, 2)}× TPC-B (${r.tpcb.source}, 1 client), ${fmt(r.perSecond / r.tpcb.node4.perSecond, 2)}× TPC-B (Node, 4 clients)`);
      }
      runs.push(r);
    }

    const pick = (f: (r: HttpRun) => number | null | undefined) => runs.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const perSecond = pick((r) => r.perSecond);
    const tpcb = pick((r) => r.tpcb?.reference);
    const ratio = pick((r) => (r.tpcb ? r.perSecond / r.tpcb.reference : null));
    console.log(`\nall runs (load ${loadAverage()}):`);
    console.log(
      `  orders/s: ${listOf(perSecond)}; p50 ms: ${listOf(pick((r) => r.p50Ms))}; p99 ms: ${listOf(pick((r) => r.p99Ms))}; /healthz/s: ${listOf(pick((r) => r.healthzPerSecond))}; ` +
        `TPC-B: ${listOf(tpcb)}; web MB: ${listOf(pick((r) => r.webPeakMb))}; worker MB: ${listOf(pick((r) => r.workerPeakMb))}`,
    );
    const non2xx = runs.reduce((a, r) => a + r.non2xx, 0);
    console.log(
      resultLine(
        {
          tpcb_source: runs[0]?.tpcb?.source ?? 'none',
          tpcb_node4_per_s: medianOf(pick((r) => r.tpcb?.node4.perSecond)),
          http_post_s: medianOf(pick((r) => r.postSeconds), 2),
          web_load_rss_mb: medianOf(pick((r) => r.webLoadPeakMb)),
          worker_load_rss_mb: medianOf(pick((r) => r.workerLoadPeakMb)),
          web_cpu_ms_per_order: medianOf(pick((r) => r.cpuMsPerOrder.web), 2),
          worker_cpu_ms_per_order: medianOf(pick((r) => r.cpuMsPerOrder.worker), 2),
          pg_cpu_ms_per_order: medianOf(pick((r) => r.cpuMsPerOrder.postgres), 2),
        },
        'DETAIL',
      ),
    );
    console.log(
      resultLine({
        http_orders_per_s: medianOf(perSecond),
        http_p50_ms: medianOf(pick((r) => r.p50Ms)),
        http_p99_ms: medianOf(pick((r) => r.p99Ms)),
        http_non2xx: non2xx,
        healthz_per_s: medianOf(pick((r) => r.healthzPerSecond)),
        tpcb_per_s: medianOf(tpcb),
        ratio_tpcb: medianOf(ratio, 2),
        web_rss_mb: medianOf(pick((r) => r.webPeakMb)),
        worker_rss_mb: medianOf(pick((r) => r.workerPeakMb)),
      }),
    );
    return non2xx === 0 ? 0 : 1;
  } finally {
    if (!server.embedded) await dropDatabase(server.adminUrl, tpcbDb);
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

/**
 * `npm run bench:console -- [--runs 3] [--seconds 10] [--connections 16] [--warmup 2] [--sample 5000]`
 *
 * How fast the operator console answers on a seeded database (`npm run seed -- --orders N`), under 16
 * concurrent clients. The real app (buildApp, as `npm start` builds it: its pool, its request logging,
 * to /dev/null here) listens on a free port of this process; an operator logs in through the login
 * form; autocannon runs in a child process (scripts/bench/console-load.ts), one scenario at a time,
 * each for --seconds after a short warm-up, and the scenarios are interleaved run by run:
 *
 *   baseline       GET /healthz, the same 16 connections: what the HTTP stack and this machine do
 *   queue          GET /tickets (the default queue: open tickets by due time, counts per queue and code)
 *   queue_search   GET /tickets?q=…, rotating over common surnames and single order numbers / e-mails
 *   queue_filter   GET /tickets with a code filter by priority, a queue tab, newest first, rotating
 *   queue_code     GET /tickets?queue=…&code=…, every queue tab with each of the four commonest codes,
 *                  most of the pairs holding no ticket (a payment code in the address queue)
 *   ticket         GET /tickets/:id, rotating over --sample different open tickets
 *   order          GET /orders/:id, rotating over --sample different orders
 *
 * Every response must be a 200; any other status, error or timeout fails the benchmark (after the
 * table). The database is DATABASE_URL's, else the embedded one in ORDO_DATA_DIR (as for the seed).
 * The last line: RESULT console_queue_p95_ms=… console_queue_search_p95_ms=… console_queue_filter_p95_ms=…
 * console_queue_code_p95_ms=… console_ticket_p95_ms=… console_order_p95_ms=… baseline_p95_ms=… orders=… open_tickets=… (medians
 * over the runs; p95 of every request's latency in a run).
 */
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { LOGIN_CSRF_COOKIE } from '../../src/http/plugins/csrf.ts';
import { SESSION_COOKIE } from '../../src/http/plugins/session.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createUser } from '../../src/runtime/identity.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { openTicketTally, orderStatusTally } from '../../src/runtime/tallies.ts';
import { commandLine } from '../cli.ts';
import type { LoadJob, LoadResult } from './console-load.ts';

const SCENARIOS = ['baseline', 'queue', 'queue_search', 'queue_filter', 'queue_code', 'ticket', 'order'] as const;
const cli = commandLine({
  name: 'bench:console',
  usage: 'npm run bench:console -- [options]',
  about: 'How fast the operator console answers on a seeded database (`npm run seed`) under concurrent clients (docs/PERFORMANCE.md).',
  options: {
    runs: { type: 'string', default: '3', value: 'n', description: 'runs, the scenarios interleaved in each; the figures are their medians' },
    seconds: { type: 'string', default: '10', value: 'seconds', description: 'measured time per scenario and run' },
    connections: { type: 'string', default: '16', value: 'n', description: 'autocannon connections' },
    warmup: { type: 'string', default: '2', value: 'seconds', description: 'unmeasured load before each scenario' },
    sample: { type: 'string', default: '5000', value: 'n', description: 'different tickets and orders the ticket and order pages rotate over' },
    scenarios: { type: 'string', default: SCENARIOS.join(','), value: 'list', description: 'the scenarios to run, comma-separated' },
  },
});
const RUNS = cli.int('runs', { min: 1 });
const SECONDS = cli.num('seconds', { above: 0 });
const CONNECTIONS = cli.int('connections', { min: 1 });
const WARMUP = cli.num('warmup', { min: 0 });
const SAMPLE = cli.int('sample', { min: 1 });
const SCENARIO_NAMES: readonly string[] = cli.choices('scenarios', SCENARIOS);
const LOAD_SCRIPT = fileURLToPath(new URL('./console-load.ts', import.meta.url));
const PROCESSES_DIR = fileURLToPath(new URL('../../processes/', import.meta.url));

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** The value of one cookie in a response's Set-Cookie headers. */
function cookieFrom(res: Response, name: string): string | null {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq).trim() === name) return pair!.slice(eq + 1);
  }
  return null;
}

/** Log in through the login form, as a browser does; the session cookie to send. */
async function logIn(base: string, email: string, password: string): Promise<string> {
  const form = await fetch(`${base}/login`);
  const loginCsrf = cookieFrom(form, LOGIN_CSRF_COOKIE);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!loginCsrf || !token) throw new Error('the login page handed out no CSRF token');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${LOGIN_CSRF_COOKIE}=${loginCsrf}` },
    body: new URLSearchParams({ email, password, _csrf: token }).toString(),
  });
  const session = cookieFrom(res, SESSION_COOKIE);
  if (res.status !== 303 || !session) throw new Error(`logging in answered ${res.status}`);
  return `${SESSION_COOKIE}=${session}`;
}

function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(LOAD_SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.once('message', (result: LoadResult) => {
      answered = true;
      resolve(result);
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`the load process exited with ${code}`));
    });
    child.send(job);
  });
}

interface Scenario {
  name: string;
  paths: string[];
  /** Text every answer's page must contain (checked once before measuring). */
  expect: string;
}

async function main() {
  const config = loadConfig();
  // The app logs every request at info level as `npm start` does; here into /dev/null.
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const database = await openDatabase(config, pino({ level: 'warn' }));
  const { db } = database;
  let userId: string | null = null;
  let failures = 0;
  try {
    await migrateToLatest(db);
    const boss = await createBoss(database.url, logger, { supervise: false });
    const runtime = createRuntime({ db, boss, logger, config });
    await runtime.deployDefaults(PROCESSES_DIR);
    const app = await buildApp({ db, config, logger, metrics: createMetrics({ defaults: true }), runtime });
    await app.listen({ port: 0, host: '127.0.0.1' });
    // Requests the web side answered, to divide its CPU time by (warm-up included on both sides).
    let served = 0;
    app.server.on('request', () => {
      served++;
    });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const password = randomBytes(18).toString('base64url');
    const user = await createUser(db, { email: `bench-${randomBytes(4).toString('hex')}@localhost`, name: 'Console benchmark', password, role: 'operator' });
    userId = user.id;
    const cookie = await logIn(base, user.email, password);

    const [tickets, orders] = await Promise.all([openTicketTally(db), orderStatusTally(db)]);
    const orderCount = [...orders.values()].reduce((a, b) => a + b, 0);
    const ticketIds = (await sql<{ id: string }>`select id::text from tickets where status in ('open', 'in_progress') order by random() limit ${SAMPLE}`.execute(db)).rows.map((r) => r.id);
    const sampled = await sql<{ id: string }>`select id::text from orders tablesample system (${Math.min(100, Math.max(0.05, (200 * SAMPLE) / Math.max(1, orderCount)))}) limit ${SAMPLE}`.execute(db);
    const orderIds = shuffle(sampled.rows.map((r) => r.id));
    const held = await sql<{ external_id: string; customer_email: string | null }>`
      select o.external_id, o.customer_email from tickets t join orders o on o.id = t.order_id
      where t.status in ('open', 'in_progress') order by random() limit 6`.execute(db);
    if (ticketIds.length === 0 || orderIds.length === 0) throw new Error('No open tickets or no orders: seed first (npm run seed -- --orders N).');
    const q = (text: string) => `/tickets?q=${encodeURIComponent(text)}`;
    const scenarios: Scenario[] = [
      { name: 'baseline', paths: ['/healthz'], expect: '' },
      { name: 'queue', paths: ['/tickets'], expect: 'id="ticket-rows"' },
      {
        name: 'queue_search',
        paths: shuffle([
          ...['Nowak', 'Müller', 'Smith', 'García', 'Rossi', 'Hansen'].map(q),
          ...held.rows.map((r) => q(r.external_id)),
          ...held.rows.filter((r) => r.customer_email).map((r) => q(r.customer_email!)),
        ]),
        expect: 'id="ticket-rows"',
      },
      {
        name: 'queue_filter',
        paths: shuffle([
          ...tickets.codes.slice(0, 6).map((c) => `/tickets?code=${c.code}&sort=priority`),
          ...tickets.queues.map((x) => `/tickets?queue=${encodeURIComponent(x.queue)}`),
          '/tickets?sort=newest',
          '/tickets?assignee=none&age=1d',
        ]),
        expect: 'id="ticket-rows"',
      },
      {
        name: 'queue_code',
        paths: shuffle(tickets.queues.flatMap((x) => tickets.codes.slice(0, 4).map((c) => `/tickets?queue=${encodeURIComponent(x.queue)}&code=${c.code}`))),
        expect: 'id="ticket-rows"',
      },
      { name: 'ticket', paths: ticketIds.map((id) => `/tickets/${id}`), expect: 'What to do' },
      { name: 'order', paths: orderIds.map((id) => `/orders/${id}`), expect: 'class="timeline' },
    ].filter((s) => SCENARIO_NAMES.includes(s.name));

    // Every page of the mix answers 200 with its content before anything is measured.
    for (const s of scenarios) {
      for (const path of s.paths.slice(0, 20)) {
        const res = await fetch(base + path, { headers: { cookie } });
        const body = await res.text();
        if (res.status !== 200 || !body.includes(s.expect)) throw new Error(`${s.name}: GET ${path} answered ${res.status}${res.status === 200 ? ` without "${s.expect}"` : ''}`);
      }
    }

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(`machine: ${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
    console.log(`database: ${config.databaseUrl ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.dataDir}`}; ${orderCount.toLocaleString('en')} orders, ${tickets.total.toLocaleString('en')} open tickets`);
    console.log(`load: ${CONNECTIONS} connections, ${SECONDS} s per scenario after ${WARMUP} s of warm-up, ${RUNS} runs; ${ticketIds.length} tickets and ${orderIds.length} orders rotated`);
    console.log(`\nrun  scenario       req/s   p50 ms  p95 ms  p99 ms  max ms  cpu ms/req  (system)  not 200   load (1/5/15 min)`);
    const results = new Map<string, LoadResult[]>();
    for (let run = 1; run <= RUNS; run++) {
      for (const s of scenarios) {
        const [cpu0, served0] = [process.cpuUsage(), served];
        const r = await runLoad({ url: base, cookie, connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP, paths: s.paths });
        const used = process.cpuUsage(cpu0);
        r.cpuMsPerRequest = (used.user + used.system) / 1000 / Math.max(1, served - served0);
        const systemShare = used.system / Math.max(1, used.user + used.system);
        results.set(s.name, [...(results.get(s.name) ?? []), r]);
        const bad = Object.entries(r.statuses).filter(([status]) => status !== '200').reduce((n, [, count]) => n + count, 0) + r.errors + r.timeouts;
        failures += bad;
        console.log(
          `${String(run).padStart(3)}  ${s.name.padEnd(13)} ${fmt(r.perSecond, 0).padStart(6)} ${fmt(r.p50).padStart(8)} ${fmt(r.p95).padStart(7)} ${fmt(r.p99).padStart(7)} ${fmt(r.max, 0).padStart(7)} ${fmt(r.cpuMsPerRequest!, 2).padStart(11)} ${fmt(100 * systemShare, 0).padStart(5)} % ${String(bad).padStart(8)}   ${load()}`,
        );
        if (bad > 0) console.log(`     statuses ${JSON.stringify(r.statuses)}, errors ${r.errors}, timeouts ${r.timeouts}`);
      }
    }
    await app.close();
    await boss.stop({ graceful: false, wait: true, timeout: 10_000 });

    const m = (name: string, f: (r: LoadResult) => number, digits = 1) => (results.has(name) ? fmt(median(results.get(name)!.map(f)), digits) : 'n/a');
    const cpuOf = (r: LoadResult) => r.cpuMsPerRequest!;
    console.log(`\nmedians over ${RUNS} runs:`);
    for (const s of scenarios) console.log(`  ${s.name.padEnd(13)} ${m(s.name, (r) => r.perSecond).padStart(7)} req/s, p50 ${m(s.name, (r) => r.p50)} ms, p95 ${m(s.name, (r) => r.p95)} ms, p99 ${m(s.name, (r) => r.p99)} ms, CPU ${m(s.name, cpuOf, 2)} ms/request`);
    if (failures > 0) {
      console.error(`\n${failures} responses were not 200 (or failed): the figures above do not count.`);
      process.exitCode = 1;
    }
    console.log(
      `DETAIL baseline_per_s=${m('baseline', (r) => r.perSecond)} console_queue_per_s=${m('queue', (r) => r.perSecond)} console_ticket_per_s=${m('ticket', (r) => r.perSecond)} console_order_per_s=${m('order', (r) => r.perSecond)} cpu_ms_per_req_baseline=${m('baseline', cpuOf, 2)} cpu_ms_per_req_queue=${m('queue', cpuOf, 2)} cpu_ms_per_req_ticket=${m('ticket', cpuOf, 2)} cpu_ms_per_req_order=${m('order', cpuOf, 2)} connections=${CONNECTIONS} seconds=${SECONDS} runs=${RUNS}`,
    );
    console.log(
      `RESULT console_queue_p95_ms=${m('queue', (r) => r.p95)} console_queue_search_p95_ms=${m('queue_search', (r) => r.p95)} console_queue_filter_p95_ms=${m('queue_filter', (r) => r.p95)} console_queue_code_p95_ms=${m('queue_code', (r) => r.p95)} ` +
        `console_ticket_p95_ms=${m('ticket', (r) => r.p95)} console_order_p95_ms=${m('order', (r) => r.p95)} baseline_p95_ms=${m('baseline', (r) => r.p95)} orders=${orderCount} open_tickets=${tickets.total}`,
    );
  } finally {
    if (userId) await db.deleteFrom('users').where('id', '=', userId).execute();
    await database.shutdown();
  }
}

await main();

/**
 * What the benchmarks in scripts/bench/ share: a throwaway PostgreSQL, databases made fresh for each run,
 * Ordo itself started as child processes (`src/main.ts web|worker|all`), what /proc says about their
 * memory and CPU, medians and percentiles, and the `RESULT name=value …` lines every benchmark ends with
 * (scripts/bench/index.ts collects them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROCESSES_DIR = path.join(REPO_ROOT, 'processes');
/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_S = 100;

export const quietLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

export const fmt = (n: number, digits = 0) => n.toFixed(digits);

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile of an ascending list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

export async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Drop and create a database (a copy of `template` when given); returns its URL. A copy is made file by
 * file (PostgreSQL 15+), not through the WAL: a seeded million is 15 GB.
 */
export async function recreateDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  await admin(adminUrl, async (c) => {
    await c.query(`drop database if exists ${name} with (force)`);
    if (template) {
      const { rows } = await c.query<{ v: string }>('show server_version_num');
      await c.query(`create database ${name} template ${template}${Number(rows[0]!.v) >= 150000 ? ' strategy file_copy' : ''}`);
    } else {
      await c.query(`create database ${name}`);
    }
  });
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
}

/**
 * A database name for this benchmark process: unique per process, so two benchmarks (or a benchmark and
 * the smoke test) on one server do not drop each other's data.
 */
export function benchDatabaseName(kind: string): string {
  return `ordo_bench_${kind}_${process.pid}`;
}

export interface BenchPostgres {
  adminUrl: string;
  /** The postmaster's pid when this process started the server (for its CPU time), else null. */
  pid: number | null;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL's server (any database on it: the benchmark creates and drops its own), else Ordo's embedded
 * PostgreSQL in a temporary folder with Ordo's own settings (fsync and synchronous_commit on), removed
 * at the end.
 */
export async function benchPostgres(settings: Record<string, string> = {}): Promise<BenchPostgres> {
  const given = process.env.DATABASE_URL;
  if (given) return { adminUrl: given, pid: await localPostmaster(given), embedded: false, stop: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ordo-bench-pg-'));
  const embedded = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), database: 'postgres', log: quietLogger, settings });
  // The server runs in a process group of its own: a benchmark interrupted (Ctrl-C, `timeout`) or failing
  // must not leave it running. On a signal it is stopped and its folder removed; on any other exit it is
  // told to stop (an exit handler cannot wait).
  const stop = async () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await embedded.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const onExit = () => {
    try {
      process.kill(embedded.pid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { adminUrl: embedded.urlFor('postgres'), pid: embedded.pid, embedded: true, stop };
}

/**
 * The postmaster's PID when DATABASE_URL's server runs on this machine (a backend's parent, if this
 * process can see it), so its CPU can be measured as the embedded server's is; else null.
 */
async function localPostmaster(url: string): Promise<number | null> {
  try {
    // Read while connected: the backend exits with the connection.
    const status = await admin(url, async (c) => readFileSync(`/proc/${(await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid}/status`, 'utf8'));
    const parent = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    return readFileSync(`/proc/${parent}/comm`, 'utf8').trim() === 'postgres' ? parent : null;
  } catch {
    return null;
  }
}

/** PostgreSQL's version and the settings that decide commit-bound figures, as one line. */
export async function describePostgres(pgServer: BenchPostgres): Promise<string> {
  const server = await admin(pgServer.adminUrl, async (c) => {
    const v = await c.query<{ server_version: string }>('show server_version');
    const s = await c.query<{ name: string; setting: string; unit: string | null }>(
      "select name, setting, unit from pg_settings where name in ('fsync', 'synchronous_commit', 'shared_buffers', 'full_page_writes', 'max_connections')",
    );
    return { version: v.rows[0]!.server_version, settings: Object.fromEntries(s.rows.map((r) => [r.name, r.setting + (r.unit ? ` ${r.unit}` : '')])) };
  });
  return `PostgreSQL ${server.version} (${pgServer.embedded ? 'embedded, temporary folder' : 'DATABASE_URL'}): ${JSON.stringify(server.settings)}`;
}

/** The machine, Node and the load average right now: printed at the top of every benchmark. */
export function describeMachine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `machine: ${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, load ${loadAverage()}`;
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) one process has used so far; null once it is gone. */
export function processCpuSeconds(pid: number): number | null {
  const fields = statFields(pid);
  // utime and stime: fields 14 and 15 of /proc/pid/stat (11 and 12 after the command).
  return fields ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S : null;
}

/** CPU seconds (user + system) used so far by a PostgreSQL server: the postmaster and its backends. */
export function postgresCpuSeconds(postmasterPid: number | null): number | null {
  if (!postmasterPid) return null;
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    if (!fields) continue;
    if (pid !== postmasterPid && Number(fields[1]) !== postmasterPid) continue;
    // utime, stime, cutime, cstime: fields 14–17 of /proc/pid/stat (11–14 after the command).
    total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return total / CLOCK_TICKS_PER_S;
}

/** A process's resident memory now and its peak so far (VmHWM: the kernel's own high-water mark), in MB. */
export function processMemoryMb(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export type OrdoRole = 'all' | 'web' | 'worker';

export interface OrdoProcess {
  role: OrdoRole;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** The log so far (JSON lines, Ordo's own logger). */
  log(): string;
  /** Wait until a log line matches (`msg` of pino's JSON), or fail when the process exits or time runs out. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Peak resident memory (VmHWM), read while the process still runs; null once it exited. */
  memory(): { rssMb: number; peakMb: number } | null;
  cpuSeconds(): number | null;
  /** SIGTERM (Ordo closes gracefully), SIGKILL after the timeout. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * The node flags package.json's script for a role runs Ordo with (`npm start` for `all`), shell defaults
 * such as `${ORDO_MAX_OLD_SPACE_MB:-256}` filled in from this environment: the benchmarks run the
 * processes exactly as `npm run web` / `npm run worker` do.
 */
export function ordoNodeFlags(role: OrdoRole): string[] {
  const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const script = scripts[role === 'all' ? 'start' : role] ?? '';
  const flags = /\bnode\s+(.*?)--import tsx/.exec(script)?.[1] ?? '';
  return flags
    .split(/\s+/)
    .filter(Boolean)
    .map((flag) => flag.replace(/\$\{(\w+):-([^}]*)\}/g, (_, name: string, fallback: string) => process.env[name] || fallback));
}

/**
 * Ordo as an operator runs it: `node <the script's flags> --import tsx src/main.ts <role>`, with its log (at Ordo's default
 * level unless LOG_LEVEL says otherwise) written straight to a file, as a service manager would, so the
 * benchmark process spends no CPU reading it. `nodeOptions` go before the script (V8 flags).
 */
export function spawnOrdo(role: OrdoRole, options: { env: Record<string, string>; logDir: string; name?: string; nodeOptions?: string[] }): OrdoProcess {
  const logFile = path.join(options.logDir, `${options.name ?? role}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...ordoNodeFlags(role), ...(options.nodeOptions ?? []), '--import', 'tsx', 'src/main.ts', role], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const tail = () => log().split('\n').slice(-30).join('\n');
  return {
    role,
    pid: child.pid!,
    child,
    logFile,
    log,
    async waitForLog(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Ordo ${role} exited early (${child.exitCode ?? child.signalCode}):\n${tail()}`);
        if (log().split('\n').some((line) => pattern.test(line))) return;
        await sleep(100);
      }
      throw new Error(`Ordo ${role} did not log ${pattern} within ${timeoutMs / 1000} s:\n${tail()}`);
    },
    memory: () => processMemoryMb(child.pid!),
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A worker process logs "workers started" at info once its loops run; at a quieter log level it counts
 * as started once it has used less than 5 % of a core for a second (start-up done, only its idle polls).
 */
export async function waitForWorker(worker: OrdoProcess, logLevel: string): Promise<void> {
  if (['trace', 'debug', 'info'].includes(logLevel)) return worker.waitForLog(/"msg":"workers started"/);
  const deadline = Date.now() + 120_000;
  let last = worker.cpuSeconds() ?? 0;
  for (;;) {
    await sleep(1_000);
    if (worker.child.exitCode !== null) throw new Error(`Ordo worker exited early:\n${worker.log().slice(-3000)}`);
    const now = worker.cpuSeconds() ?? 0;
    if (now - last < 0.05) return;
    if (Date.now() > deadline) throw new Error('Ordo worker did not settle down within 120 s');
    last = now;
  }
}

/** A folder for the children's logs, kept when a run fails (its path is printed) and removed otherwise. */
export async function logFolder(kind: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ordo-bench-${kind}-logs-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Samples VmRSS of some processes every `everyMs`; the peak is also read from VmHWM at the end, which
 * catches peaks between samples. Sampling gives the timeline the peak came from.
 */
export class RssSampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: number[], everyMs = 100) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  private sample(): void {
    for (const pid of this.pids) {
      const m = processMemoryMb(pid);
      if (m) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, m.rssMb));
    }
  }

  /** Peak RSS in MB per pid, sampled. */
  stop(): Map<number, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peaks;
  }
}

/** The line index.ts collects: `RESULT a=1 b=2.5`. */
export function resultLine(values: Record<string, string | number>, prefix = 'RESULT'): string {
  return `${prefix} ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** Every `RESULT k=v …` line of some output, merged into one record (later keys win). */
export function parseResultLines(output: string, prefix = 'RESULT'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${prefix} `)) continue;
    for (const pair of line.slice(prefix.length + 1).trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return out;
}

/** Median of a list formatted, or `n/a` when empty. */
export function medianOf(values: number[], digits = 0): string {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length ? fmt(median(v), digits) : 'n/a';
}

/** The runs of a figure, listed for spread. */
export function listOf(values: number[], digits = 0): string {
  return values.map((x) => fmt(x, digits)).join(', ');
}

/**
 * How many of the times fall in each second after `t0` (ms since the epoch), as one line for the run's
 * output: a ramp at the start or a stall shows there, where the run's mean hides it.
 */
export function perSecondLine(times: readonly Date[], t0: number): string {
  const counts: number[] = [];
  for (const at of times) {
    const s = Math.max(0, Math.floor((at.getTime() - t0) / 1000));
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return `settled per second: ${Array.from(counts, (n) => n ?? 0).join(' ')}`;
}

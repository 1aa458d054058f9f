import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import { validOrder } from '../fixtures/orders.ts';
import { assertExactlyOnce, lifecycleOrder, type PostedOrder } from './engine/exactly-once.ts';

/**
 * Ordo as a person runs it: `node --import tsx src/main.ts all` with the embedded PostgreSQL, stopped with
 * SIGINT, started again, and killed with SIGKILL (the whole process group) then started again.
 */
const TOKEN = 'ordo_lifecycle_test_token';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  base: string;
}

async function startOrdo(dataDir: string, port: number, pgPort: number): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ORDO_DATA_DIR: dataDir, ORDO_PG_PORT: String(pgPort), DATABASE_URL: '', ORDO_BOOTSTRAP_TOKEN: TOKEN, ORDO_ADMIN_PASSWORD: 'lifecycle-password' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Ordo exited early:\n${out}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return { child, output: () => out, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`Ordo did not become ready within 60 s:\n${out}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function postgresPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('npm start on the embedded PostgreSQL', () => {
  it('keeps orders across a clean stop and a kill -9 of the whole process group, and leaves no postgres behind', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ordo-lifecycle-'));
    dirs.push(dataDir);
    const [port, pgPort] = [await freePort(), await freePort()];
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

    // First start: creates the cluster, migrates, stores an order.
    let ordo = await startOrdo(dataDir, port, pgPort);
    const created = await fetch(`${ordo.base}/api/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(validOrder({ externalId: 'LIFE-1' })) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const pgPid = await postgresPid(dataDir);
    expect(alive(pgPid)).toBe(true);

    // Ctrl-C: the app drains, then stops its PostgreSQL; nothing is left running.
    process.kill(-ordo.child.pid!, 'SIGINT');
    expect(await exited(ordo.child)).toBe(0);
    expect(alive(pgPid)).toBe(false);
    expect(ordo.output()).toContain('embedded PostgreSQL stopped');
    // A clean stop logs no error (pg-boss's last connections ending with PostgreSQL are expected).
    expect(ordo.output().split('\n').filter((line) => /"level":(50|60)/.test(line))).toEqual([]);

    // Second start finds the order again.
    ordo = await startOrdo(dataDir, port, pgPort);
    const again = await fetch(`${ordo.base}/api/v1/orders/${id}`, { headers: auth });
    expect(again.status).toBe(200);
    expect(ordo.output()).not.toContain('initialising the embedded PostgreSQL');

    // kill -9 of the process group: the app dies at once; its PostgreSQL (own group) is orphaned.
    const orphan = await postgresPid(dataDir);
    process.kill(-ordo.child.pid!, 'SIGKILL');
    await exited(ordo.child);
    await new Promise((r) => setTimeout(r, 200));

    // Third start recovers: the orphan is shut down, the server restarted, the order still there.
    ordo = await startOrdo(dataDir, port, pgPort);
    expect(alive(orphan)).toBe(false);
    const after = await fetch(`${ordo.base}/api/v1/orders/${id}`, { headers: auth });
    expect(after.status).toBe(200);
    const resend = await fetch(`${ordo.base}/api/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(validOrder({ externalId: 'LIFE-1' })) });
    expect(resend.status).toBe(200);

    // And after a kill -9 of both the app and PostgreSQL (stale pid file, crashed cluster) it recovers too.
    const pg = await postgresPid(dataDir);
    process.kill(-ordo.child.pid!, 'SIGKILL');
    process.kill(pg, 'SIGKILL');
    await exited(ordo.child);
    await new Promise((r) => setTimeout(r, 300));
    ordo = await startOrdo(dataDir, port, pgPort);
    expect((await fetch(`${ordo.base}/api/v1/orders/${id}`, { headers: auth })).status).toBe(200);
    const last = await postgresPid(dataDir);
    process.kill(-ordo.child.pid!, 'SIGTERM');
    expect(await exited(ordo.child)).toBe(0);
    expect(alive(last)).toBe(false);
  });

  it('starts when the pid file and the socket lock file name a process that is no postgres (a dead server whose PID was taken, or not reaped yet)', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ordo-stale-lock-'));
    dirs.push(dataDir);
    const [port, pgPort] = [await freePort(), await freePort()];
    let ordo = await startOrdo(dataDir, port, pgPort);
    process.kill(-ordo.child.pid!, 'SIGINT');
    expect(await exited(ordo.child)).toBe(0);
    // What a kill -9 of the server can leave: both files naming its PID, now some other living process of
    // the server's user (PostgreSQL ignores a PID it may not signal).
    const pg = path.join(dataDir, 'pg');
    const owner = await stat(pg);
    const other = spawn('sleep', ['60'], { stdio: 'ignore', ...(process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {}) });
    try {
      await writeFile(path.join(pg, 'postmaster.pid'), `${other.pid}\n${pg}\n0\n${pgPort}\n`);
      await writeFile(path.join(pg, `.s.PGSQL.${pgPort}.lock`), `${other.pid}\n${pg}\n0\n${pgPort}\n`);
      // PostgreSQL alone refuses ("lock file already exists") while that PID lives.
      ordo = await startOrdo(dataDir, port, pgPort);
      expect(ordo.output()).toContain('removing stale PostgreSQL pid file');
      process.kill(-ordo.child.pid!, 'SIGTERM');
      expect(await exited(ordo.child)).toBe(0);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('kill -9 of the app and its PostgreSQL in the middle of a burst: clients resend what got no answer, and every order settles exactly once', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ordo-burst-'));
    dirs.push(dataDir);
    const [port, pgPort] = [await freePort(), await freePort()];
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    let ordo = await startOrdo(dataDir, port, pgPort);

    // A channel: 8 senders, 160 orders (every fourth without a phone), each sent until it gets an answer.
    const COUNT = 160;
    const answers = new Map<number, { id: string; statuses: number[] }>();
    let attemptsWithoutAnswer = 0;
    let next = 0;
    const send = async (i: number): Promise<void> => {
      for (;;) {
        try {
          const res = await fetch(`${ordo.base}/api/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(lifecycleOrder('BURST', i, i % 4 === 3)), signal: AbortSignal.timeout(10_000) });
          if (res.status === 201 || res.status === 200) {
            const { id } = (await res.json()) as { id: string };
            const seen = answers.get(i) ?? { id, statuses: [] };
            expect(seen.id, `order ${i} answered with two ids`).toBe(id);
            seen.statuses.push(res.status);
            answers.set(i, seen);
            return;
          }
          expect([503], `order ${i}: ${res.status} ${await res.text()}`).toContain(res.status);
        } catch (err) {
          if ((err as Error).name === 'AssertionError') throw err;
          // No answer (connection refused or reset): the channel sends it again.
        }
        attemptsWithoutAnswer++;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const senders = Array.from({ length: 8 }, async () => {
      while (next < COUNT) await send(next++);
    });

    // Mid-burst: the app's whole process group and its PostgreSQL die at once.
    while (answers.size < 50) await new Promise((r) => setTimeout(r, 20));
    const pg = await postgresPid(dataDir);
    process.kill(-ordo.child.pid!, 'SIGKILL');
    process.kill(pg, 'SIGKILL');
    await exited(ordo.child);
    const answeredAtCrash = answers.size;
    await new Promise((r) => setTimeout(r, 1_000));
    ordo = await startOrdo(dataDir, port, pgPort);
    await Promise.all(senders);
    expect(answeredAtCrash).toBeLessThan(COUNT);
    expect(attemptsWithoutAnswer).toBeGreaterThan(0);

    // Besides what it never heard back, the channel resends a few it did: answered 200 with the same order.
    for (const i of [0, 1, 2]) await send(i);
    for (const i of [0, 1, 2]) expect(answers.get(i)!.statuses.at(-1)).toBe(200);

    const credentials = JSON.parse(await readFile(path.join(dataDir, 'pg-credentials.json'), 'utf8')) as { user: string; password: string };
    const handle = connect(`postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${pgPort}/ordo`, { max: 2 });
    try {
      const orders: PostedOrder[] = Array.from({ length: COUNT }, (_, i) => ({ id: answers.get(i)!.id, externalId: `BURST-${i}`, broken: i % 4 === 3 }));
      const deadline = Date.now() + 90_000;
      for (;;) {
        const settled = await handle.db.selectFrom('orders').select('id').where('id', 'in', orders.map((o) => o.id)).where('status', 'in', ['released', 'on_hold']).execute();
        if (settled.length === COUNT) break;
        if (Date.now() > deadline) throw new Error(`only ${settled.length} of ${COUNT} orders settled after the restart`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // One order per external id, one instance, the broken ones one ticket each, every job's effect once.
      const rows = await handle.db.selectFrom('orders').select(['external_id']).where('external_id', 'like', 'BURST-%').execute();
      expect(rows).toHaveLength(COUNT);
      await assertExactlyOnce(handle.db, orders);
    } finally {
      await handle.close();
    }
    process.kill(-ordo.child.pid!, 'SIGTERM');
    expect(await exited(ordo.child)).toBe(0);
  });

  it('npm start stops Ordo and its PostgreSQL when only the npm process is signalled (a supervisor, docker stop)', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ordo-npm-'));
    dirs.push(dataDir);
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: path.resolve(import.meta.dirname, '..', '..'),
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ORDO_DATA_DIR: dataDir, ORDO_PG_PORT: String(await freePort()), DATABASE_URL: '', ORDO_ADMIN_PASSWORD: 'npm-start-password', ORDO_MAX_OLD_SPACE_MB: '320' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout!.on('data', (d) => (out += d));
    npm.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${out}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok).catch(() => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`npm start did not become ready within 60 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The script caps V8's old space as ORDO_MAX_OLD_SPACE_MB says (the limit adds the young generation).
    const heapLimitMb = Number(/"heapLimitMb":(\d+)/.exec(out)?.[1]);
    expect(heapLimitMb, out).toBeGreaterThanOrEqual(320);
    expect(heapLimitMb, out).toBeLessThan(420);
    const pg = await postgresPid(dataDir);
    // Only npm's own pid, as a supervisor does: it must reach Ordo, which drains and stops its PostgreSQL.
    npm.kill('SIGTERM');
    await exited(npm);
    const gone = Date.now() + 20_000;
    while (alive(pg) && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    expect(alive(pg), out).toBe(false);
    expect(await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answering').catch(() => 'stopped')).toBe('stopped');
    expect(out).toContain('Ordo stopped');
  });

  it('stops with a non-zero exit and the error when PostgreSQL cannot start', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ordo-lifecycle-'));
    dirs.push(dataDir);
    // A server that is not PostgreSQL holds the port: start-up must fail loudly, not hang.
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const pgPort = (blocker.address() as { port: number }).port;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], {
      cwd: path.resolve(import.meta.dirname, '..', '..'),
      env: { ...process.env, PORT: String(await freePort()), ORDO_DATA_DIR: dataDir, ORDO_PG_PORT: String(pgPort), DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const code = await exited(child);
    blocker.close();
    expect(code).not.toBe(0);
    expect(out).toMatch(/PostgreSQL exited during start-up|could not bind|Address already in use/);
  });
});

/**
 * pgbench's built-in "TPC-B (sort of)" script, in Node with pg, against the same PostgreSQL the engine
 * benchmark uses: the same four tables as `pgbench -i` at a given scale, and per transaction the same
 * seven statements (BEGIN; UPDATE accounts; SELECT balance; UPDATE tellers; UPDATE branches; INSERT
 * history; END), one round trip each, with random account/teller/branch/delta as pgbench draws them.
 * Every transaction commits with the server's durability settings, so the rate is what the machine's
 * PostgreSQL can commit for a small read-write transaction.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';

const ACCOUNTS_PER_BRANCH = 100_000;
const TELLERS_PER_BRANCH = 10;

/** Create and fill the pgbench tables (same definitions as `pgbench -i`), then VACUUM ANALYZE. */
export async function initTpcb(url: string, scale: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('drop table if exists pgbench_history, pgbench_tellers, pgbench_accounts, pgbench_branches');
    await c.query('create table pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))');
    await c.query('create table pgbench_tellers (tid int not null, bid int, tbalance int, filler char(84)) with (fillfactor = 100)');
    await c.query('create table pgbench_accounts (aid int not null, bid int, abalance int, filler char(84)) with (fillfactor = 100)');
    await c.query('create table pgbench_branches (bid int not null, bbalance int, filler char(88)) with (fillfactor = 100)');
    await c.query('insert into pgbench_branches (bid, bbalance) select b, 0 from generate_series(1, $1::int) b', [scale]);
    await c.query('insert into pgbench_tellers (tid, bid, tbalance) select t, (t - 1) / $2::int + 1, 0 from generate_series(1, $1::int * $2::int) t', [scale, TELLERS_PER_BRANCH]);
    await c.query("insert into pgbench_accounts (aid, bid, abalance, filler) select a, (a - 1) / $2::int + 1, 0, '' from generate_series(1, $1::int * $2::int) a", [scale, ACCOUNTS_PER_BRANCH]);
    await c.query('alter table pgbench_branches add primary key (bid)');
    await c.query('alter table pgbench_tellers add primary key (tid)');
    await c.query('alter table pgbench_accounts add primary key (aid)');
    await c.query('vacuum analyze pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history');
  } finally {
    await c.end();
  }
}

export interface TpcbResult {
  clients: number;
  transactions: number;
  seconds: number;
  perSecond: number;
  avgLatencyMs: number;
}

/** Run the TPC-B-like transaction from `clients` connections for `seconds`. */
export async function runTpcb(url: string, scale: number, clients: number, seconds: number): Promise<TpcbResult> {
  const conns = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'ordo-bench-tpcb' });
      await c.connect();
      return c;
    }),
  );
  const random = (max: number) => 1 + Math.floor(Math.random() * max);
  let transactions = 0;
  let latencyMs = 0;
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < until) {
        const aid = random(scale * ACCOUNTS_PER_BRANCH);
        const tid = random(scale * TELLERS_PER_BRANCH);
        const bid = random(scale);
        const delta = Math.floor(Math.random() * 10_001) - 5_000;
        const start = performance.now();
        await c.query('BEGIN');
        await c.query('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [delta, aid]);
        await c.query('SELECT abalance FROM pgbench_accounts WHERE aid = $1', [aid]);
        await c.query('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [delta, tid]);
        await c.query('UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', [delta, bid]);
        await c.query('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', [tid, bid, aid, delta]);
        await c.query('END');
        latencyMs += performance.now() - start;
        transactions++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(conns.map((c) => c.end()));
  return { clients, transactions, seconds: elapsed, perSecond: transactions / elapsed, avgLatencyMs: latencyMs / Math.max(1, transactions) };
}

/** Debian's pgbench against the same tables, when it is installed: a cross-check of the Node figure. */
export function runPgbenchBinary(url: string, clients: number, seconds: number): number | null {
  const bin = ['/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench'].find((p) => existsSync(p));
  if (!bin) return null;
  try {
    const out = execFileSync(bin, ['-n', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds), url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /tps = ([\d.]+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface TpcbBaseline {
  /** Node, one client and four. */
  node1: TpcbResult;
  node4: TpcbResult;
  /** Debian's pgbench, one client, when installed. */
  pgbench: number | null;
  /** The reference figure: pgbench itself when it is installed (as in BASELINES.md), else the Node version's one client. */
  reference: number;
  source: 'pgbench' | 'node';
}

/** The TPC-B baseline every benchmark quotes: tables made by `initTpcb` first. */
export async function measureTpcb(url: string, scale: number, seconds: number): Promise<TpcbBaseline> {
  const node1 = await runTpcb(url, scale, 1, seconds);
  const node4 = await runTpcb(url, scale, 4, seconds);
  const pgbench = runPgbenchBinary(url, 1, seconds);
  return { node1, node4, pgbench, reference: pgbench ?? node1.perSecond, source: pgbench ? 'pgbench' : 'node' };
}

export function describeTpcb(t: TpcbBaseline, scale: number): string {
  const f = (n: number, d = 0) => n.toFixed(d);
  return (
    `TPC-B (Node, scale ${scale}): 1 client ${f(t.node1.perSecond)} tx/s (avg ${f(t.node1.avgLatencyMs, 2)} ms), 4 clients ${f(t.node4.perSecond)} tx/s (avg ${f(t.node4.avgLatencyMs, 2)} ms)` +
    (t.pgbench ? `; pgbench binary, 1 client: ${f(t.pgbench)} tps` : '; pgbench binary not installed')
  );
}

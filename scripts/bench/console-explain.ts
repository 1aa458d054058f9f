/**
 * `node --import tsx scripts/bench/console-explain.ts [--full] [page ...]`
 *
 * EXPLAIN (ANALYZE, BUFFERS) of every statement the console's pages send, on the database `npm run
 * seed` filled: the real app renders each page once for a logged-in operator (fastify inject), the
 * statements it sent (text and parameters, as the driver sent them) are run again under EXPLAIN, and
 * each is printed with its execution time, the plan's scan nodes and whether a sequential scan or a
 * sort over many rows is in it. Pages default to the queue (default, search, code filter, priority),
 * a ticket, an order, the order list (default and search) and the dashboard.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createUser } from '../../src/runtime/identity.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { createSession } from '../../src/runtime/sessions.ts';
import { commandLine } from '../cli.ts';

const cli = commandLine({
  name: 'console-explain',
  usage: 'node --import tsx scripts/bench/console-explain.ts [--full] [page ...]',
  about: "EXPLAIN (ANALYZE, BUFFERS) of every statement the console's pages send, on the database `npm run seed` filled; the pages named, or all of them.",
  options: {
    full: { type: 'boolean', description: "print each statement's whole plan, not only its main nodes" },
  },
  positionals: ['page...'],
});
const { values: args, positionals } = cli;

interface Captured {
  text: string;
  values: unknown[];
}
let capturing: Captured[] | null = null;
const original = pg.Client.prototype.query as (...a: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: pg.Client, ...a: unknown[]) {
  const first = a[0] as string | { text?: string; values?: unknown[] } | undefined;
  const text = typeof first === 'string' ? first : (first?.text ?? '');
  const values = typeof first === 'string' ? ((a[1] as unknown[]) ?? []) : (first?.values ?? []);
  if (capturing && /^\s*(select|with)/i.test(text)) capturing.push({ text, values });
  return original.apply(this, a);
};

async function main() {
  const config = loadConfig();
  const quiet = pino({ level: 'silent' });
  const database = await openDatabase(config, quiet);
  const { db } = database;
  let userId: string | null = null;
  try {
    await migrateToLatest(db);
    const boss = await createBoss(database.url, quiet, { supervise: false });
    const runtime = createRuntime({ db, boss, logger: quiet, config });
    const app = await buildApp({ db, config, logger: quiet, metrics: createMetrics(), runtime });
    await app.ready();
    const user = await createUser(db, { email: `explain-${randomBytes(4).toString('hex')}@localhost`, name: 'Explain', password: randomBytes(18).toString('base64url'), role: 'operator' });
    userId = user.id;
    const session = await createSession(db, user.id, { ip: '127.0.0.1', userAgent: 'console-explain' });
    const cookie = `ordo_session=${session.token}`;

    const ticket = (await sql<{ id: string; order_id: string; external_id: string }>`
      select t.id::text, t.order_id, o.external_id from tickets t join orders o on o.id = t.order_id where t.status = 'open' order by random() limit 1`.execute(db)).rows[0];
    const completed = (await sql<{ id: string }>`select id from orders where status = 'completed' order by created_at limit 1 offset 1000`.execute(db)).rows[0];
    const pages: Record<string, string> = {
      queue: '/tickets',
      'queue-search-common': '/tickets?q=Nowak',
      'queue-search-order': `/tickets?q=${encodeURIComponent(ticket?.external_id ?? 'x')}`,
      'queue-code': '/tickets?code=POSTAL_CODE_INVALID',
      'queue-priority-queue': '/tickets?queue=payment&sort=priority',
      'queue-newest': '/tickets?sort=newest',
      // Filtered counts (tabs and footer): within the cap, past it, past it in a queue that holds none of them.
      'queue-count-name': '/tickets?q=Anna%20Nowak',
      'queue-count-code': '/tickets?code=PHONE_MISSING',
      'queue-count-code-queue': '/tickets?code=PAYMENT_FAILED&queue=payment',
      'queue-count-code-elsewhere': '/tickets?code=PHONE_MISSING&queue=payment',
      'queue-count-unassigned-old': '/tickets?assignee=none&age=1d',
      ticket: `/tickets/${ticket?.id ?? 1}`,
      'order-held': `/orders/${ticket?.order_id ?? ''}`,
      'order-completed': `/orders/${completed?.id ?? ''}`,
      orders: '/orders',
      'orders-search': '/orders?q=Kowalski',
      'orders-status': '/orders?status=on_hold',
      dashboard: '/',
    };
    const client = await database.pool.connect();
    try {
      for (const [name, url] of Object.entries(pages)) {
        if (positionals.length && !positionals.includes(name)) continue;
        capturing = [];
        const t0 = performance.now();
        const res = await app.inject({ method: 'GET', url, headers: { cookie } });
        const ms = performance.now() - t0;
        const statements = capturing;
        capturing = null;
        console.log(`\n=== ${name}: GET ${url} → ${res.statusCode} in ${ms.toFixed(1)} ms, ${statements.length} statements`);
        for (const s of statements) {
          const { rows } = await client.query(`explain (analyze, buffers) ${s.text}`, s.values);
          const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
          const exec = plan.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '';
          const seq = plan.filter((l) => /Seq Scan on (orders|tickets|process_instances|instance_history|order_events|ticket_events)\b/.test(l));
          const bigSort = plan.filter((l) => /Sort Method: (external|top-N heapsort|quicksort)/.test(l));
          const nodes = plan.filter((l) => /(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan|Limit|Sort  |Aggregate|Nested Loop|Hash Join|Merge Join)/.test(l)).slice(0, 6);
          console.log(`  ${exec.padStart(10)}  ${s.text.replace(/\s+/g, ' ').slice(0, 150)}`);
          if (args.full) console.log(plan.map((l) => `      ${l}`).join('\n'));
          else for (const n of nodes) console.log(`              ${n.trim().slice(0, 140)}`);
          if (seq.length) console.log(`              !! sequential scan: ${seq.map((l) => l.trim().slice(0, 80)).join('; ')}`);
          if (bigSort.length) console.log(`              sort: ${bigSort.map((l) => l.trim()).join('; ')}`);
        }
      }
    } finally {
      client.release();
    }
    await app.close();
    await boss.stop({ graceful: false, wait: true, timeout: 10_000 });
  } finally {
    if (userId) await db.deleteFrom('users').where('id', '=', userId).execute();
    await database.shutdown();
  }
}

await main();

/**
 * `node --import tsx scripts/bench/console-phases.ts [--n 300]`: where a console page's CPU goes, one request
 * after another (no concurrency): the whole queue and ticket pages through fastify inject, then each of
 * their statements alone, CPU of this process per call (user + system). Same database as bench:console.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { SESSION_COOKIE } from '../../src/http/plugins/session.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createUser } from '../../src/runtime/identity.ts';
import { createRuntime } from '../../src/runtime/index.ts';
import { createSession, lookupSession } from '../../src/runtime/sessions.ts';
import { openTicketTally } from '../../src/runtime/tallies.ts';
import { assignableUsers, queuePage } from '../../src/runtime/ticket-queue.ts';
import { getTicket, ticketHistory } from '../../src/runtime/tickets.ts';
import { getOrder } from '../../src/runtime/orders.ts';
import { orderProcess } from '../../src/runtime/order-overview.ts';
import { commandLine } from '../cli.ts';

const cli = commandLine({
  name: 'console-phases',
  usage: 'node --import tsx scripts/bench/console-phases.ts [options]',
  about: "Where a console page's CPU goes, one request after another, on the same database as bench:console.",
  options: {
    n: { type: 'string', default: '300', value: 'n', description: 'calls measured per page and statement' },
    dump: { type: 'string', value: 'file', description: "write the queue page's HTML to this file (what its bytes are)" },
  },
});
const args = cli.values;
const N = cli.int('n', { min: 1 });

async function cpuPer(label: string, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < Math.min(50, N); i++) await fn(i);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(34)} ${((c.user + c.system) / 1000 / N).toFixed(3).padStart(7)} ms CPU  ${((performance.now() - t0) / N).toFixed(3).padStart(7)} ms wall`);
}

const config = loadConfig();
const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
const database = await openDatabase(config, pino({ level: 'warn' }));
const { db } = database;
let userId: string | null = null;
try {
  const boss = await createBoss(database.url, logger, { supervise: false });
  const runtime = createRuntime({ db, boss, logger, config });
  const app = await buildApp({ db, config, logger, metrics: createMetrics({ defaults: true }), runtime });
  await app.ready();
  const user = await createUser(db, { email: `phases-${randomBytes(4).toString('hex')}@localhost`, name: 'Phases', password: randomBytes(18).toString('base64url'), role: 'operator' });
  userId = user.id;
  const session = await createSession(db, user.id, {});
  const headers = { cookie: `${SESSION_COOKIE}=${session.token}`, accept: 'text/html' };
  const ids = (await sql<{ id: string; order_id: string }>`select id::text, order_id::text from tickets where status in ('open', 'in_progress') order by random() limit 500`.execute(db)).rows;
  const page = await app.inject({ method: 'GET', url: '/tickets', headers });
  const tpage = await app.inject({ method: 'GET', url: `/tickets/${ids[0]!.id}`, headers });
  if (args.dump) writeFileSync(args.dump, page.body);
  console.log(`queue page ${page.statusCode} ${page.body.length} bytes; ticket page ${tpage.statusCode} ${tpage.body.length} bytes`);
  await cpuPer('GET /healthz', () => app.inject({ method: 'GET', url: '/healthz' }));
  await cpuPer('GET /tickets', () => app.inject({ method: 'GET', url: '/tickets', headers }));
  await cpuPer('GET /tickets (htmx rows refresh)', () => app.inject({ method: 'GET', url: '/tickets', headers: { ...headers, 'hx-request': 'true', 'hx-target': 'ticket-rows' } }));
  await cpuPer('GET /tickets/:id', (i) => app.inject({ method: 'GET', url: `/tickets/${ids[i % ids.length]!.id}`, headers }));
  await cpuPer('lookupSession', () => lookupSession(db, session.token));
  await cpuPer('queuePage', () => queuePage(db, {}, 'due', 50));
  await cpuPer('openTicketTally', () => openTicketTally(db));
  await cpuPer('assignableUsers', () => assignableUsers(db));
  await cpuPer('select 1', () => sql`select 1`.execute(db));
  await cpuPer('getTicket', (i) => getTicket(db, ids[i % ids.length]!.id));
  await cpuPer('getOrder', (i) => getOrder(db, ids[i % ids.length]!.order_id));
  await cpuPer('ticketHistory', (i) => ticketHistory(db, ids[i % ids.length]!.id));
  await cpuPer('orderProcess', (i) => orderProcess(db, ids[i % ids.length]!.order_id));
  await app.close();
  await boss.stop({ graceful: false, wait: true, timeout: 10_000 });
} finally {
  // The benchmark's user goes with its sessions; whatever happens, the embedded server is stopped.
  if (userId) {
    await db.deleteFrom('sessions').where('user_id', '=', userId).execute().catch(() => undefined);
    await db.deleteFrom('users').where('id', '=', userId).execute().catch((err: Error) => console.error(`the benchmark's user stays: ${err.message}`));
  }
  await database.shutdown();
}

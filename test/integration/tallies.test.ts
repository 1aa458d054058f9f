import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { FOLD_AFTER_ROWS, openTicketTally, orderStatusTally } from '../../src/runtime/tallies.ts';
import { assignableUsers, queueSurroundings } from '../../src/runtime/ticket-queue.ts';
import { listTickets, ticketPage, type TicketFilters } from '../../src/runtime/tickets.ts';
import { validOrder } from '../fixtures/orders.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { eventually } from './engine/helpers.ts';

/**
 * The counts on the queue tabs, the navigation and the dashboard come from running tallies kept by
 * triggers: whatever happens to tickets and orders, they must equal a count of the rows themselves.
 */
let t: TestApp;
let n = 0;

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
});
afterAll(async () => {
  await t?.close();
});

function order(mutate: (o: Order) => void): Order {
  const o = structuredClone(validOrder({ externalId: `TALLY-${++n}-${Date.now()}` }));
  mutate(o);
  return o;
}

async function post(o: Order): Promise<string> {
  const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(o);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** What the tallies must say, counted from the rows. */
async function counted() {
  const db = t.database.db;
  const queues = await sql<{ queue: string; n: number }>`select queue, count(*)::int as n from tickets where status in ('open', 'in_progress') group by queue order by queue`.execute(db);
  const codes = await sql<{ code: string; n: number }>`select c as code, count(*)::int as n from tickets, unnest(codes) c where status in ('open', 'in_progress') group by c`.execute(db);
  const pairs = await sql<{ queue: string; code: string; n: number }>`select queue, c as code, count(*)::int as n from tickets, unnest(codes) c where status in ('open', 'in_progress') group by queue, c order by queue, c`.execute(db);
  const statuses = await sql<{ status: string; n: number }>`select status, count(*)::int as n from orders group by status`.execute(db);
  return {
    total: queues.rows.reduce((s, r) => s + r.n, 0),
    queues: queues.rows.map((r) => ({ queue: r.queue, count: r.n })),
    codes: codes.rows.map((r) => ({ code: r.code, count: r.n })).sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)),
    pairs: pairs.rows.map((r) => ({ queue: r.queue, code: r.code, count: r.n })),
    statuses: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
  };
}

async function expectTalliesRight() {
  const [tally, statuses, truth, page, users] = await Promise.all([openTicketTally(t.database.db), orderStatusTally(t.database.db), counted(), queueSurroundings(t.database.db), assignableUsers(t.database.db)]);
  expect({ total: tally.total, queues: tally.queues, codes: tally.codes, pairs: tally.pairs, statuses: Object.fromEntries(statuses) }).toEqual(truth);
  expect(truth.pairs.length).toBeGreaterThan(0);
  // The queue page reads the same tally together with the assignees in one statement.
  expect(page.tally).toEqual(tally);
  expect(page.users).toEqual(users);
  expect(users.length).toBeGreaterThan(0);
}

async function settled(ids: string[]) {
  await eventually(
    () => t.database.db.selectFrom('orders').select('id').where('id', 'in', ids).where('status', 'in', ['received', 'in_progress']).execute(),
    (rows) => rows.length === 0,
    30_000,
  );
}

describe('running tallies', () => {
  it('count open tickets per queue and code, and orders per status, through the lifecycle', async () => {
    const ids = await Promise.all([
      post(order((o) => (o.customer.phone = null))),
      post(order((o) => (o.customer.phone = null))),
      post(order((o) => (o.shippingAddress!.postalCode = '1234'))),
      post(order((o) => (o.payment.status = 'failed'))),
      post(order((o) => (o.invoice!.taxId = 'PL5260250275'))),
      post(order(() => undefined)),
    ]);
    await settled(ids);
    await expectTalliesRight();
    const tickets = await t.database.db.selectFrom('tickets').select(['id', 'order_id']).where('order_id', 'in', ids).orderBy('id').execute();
    expect(tickets.length).toBe(5);

    // Fixed and retried: resolved, the order moves on.
    const fixed = await t.http
      .post(`/api/v1/tickets/${tickets[0]!.id}/retry`)
      .set('authorization', `Bearer ${t.token}`)
      .send({ patch: { customer: { phone: '+48 601 234 567' } } });
    expect(fixed.status).toBe(200);
    await settled(ids);
    await expectTalliesRight();

    // Assigned: in progress, still counted; then the order cancelled: the ticket closes.
    const me = await t.database.db.selectFrom('users').select('id').limit(1).executeTakeFirstOrThrow();
    expect((await t.http.post(`/api/v1/tickets/${tickets[1]!.id}/assign`).set('authorization', `Bearer ${t.token}`).send({ assignee: me.id })).status).toBe(200);
    await expectTalliesRight();
    expect((await t.http.post(`/api/v1/orders/${tickets[2]!.order_id}/cancel`).set('authorization', `Bearer ${t.token}`).send({ reason: 'customer withdrew' })).status).toBe(200);
    await expectTalliesRight();

    // A retry that still fails rewrites the ticket's issues (and codes) in place.
    const worse = await t.http
      .post(`/api/v1/tickets/${tickets[3]!.id}/retry`)
      .set('authorization', `Bearer ${t.token}`)
      .send({ patch: { payment: { status: 'refunded' } } });
    expect(worse.status).toBe(200);
    await expectTalliesRight();
  });

  it('stay right when many writers change tickets at once and readers fold the rows', async () => {
    const ids = await Promise.all(Array.from({ length: 24 }, (_, i) => post(order((o) => (i % 2 ? (o.customer.phone = null) : (o.payment.status = 'failed'))))));
    await settled(ids);
    const tickets = await t.database.db.selectFrom('tickets').select('id').where('order_id', 'in', ids).execute();
    // Retries and cancellations in parallel, with readers folding the tally meanwhile.
    await Promise.all([
      ...tickets.slice(0, 12).map((k) => t.http.post(`/api/v1/tickets/${k.id}/retry`).set('authorization', `Bearer ${t.token}`).send({ patch: { customer: { phone: '+48 601 234 567' }, payment: { status: 'authorized' } } })),
      ...ids.slice(12).map((id) => t.http.post(`/api/v1/orders/${id}/cancel`).set('authorization', `Bearer ${t.token}`).send({ reason: 'test' })),
      ...Array.from({ length: 10 }, () => openTicketTally(t.database.db)),
      ...Array.from({ length: 10 }, () => orderStatusTally(t.database.db)),
    ]);
    await settled(ids);
    await expectTalliesRight();
    // Enough rows to be folded: the next read folds them into one row per key, and the counts stay.
    const before = Number((await sql<{ n: string }>`select count(*) as n from open_ticket_tally`.execute(t.database.db)).rows[0]!.n);
    await sql`insert into open_ticket_tally (kind, key, delta) select 'queue', 'address', 0 from generate_series(1, ${FOLD_AFTER_ROWS + 1})`.execute(t.database.db);
    await queueSurroundings(t.database.db);
    const after = Number((await sql<{ n: string }>`select count(*) as n from open_ticket_tally`.execute(t.database.db)).rows[0]!.n);
    expect(after).toBeLessThan(Math.min(before + FOLD_AFTER_ROWS, 100));
    await expectTalliesRight();
  });

  it('end a page of a queue holding no ticket with the code on the tally, without reading the queue', async () => {
    const ids = await Promise.all([post(order((o) => (o.customer.phone = null))), post(order((o) => (o.payment.status = 'failed')))]);
    await settled(ids);
    /** How often the page's statement scanned the tickets (0: the tally's one-time test ended it). */
    const ticketScans = async (filters: TicketFilters) => {
      const p = ticketPage(filters, 'due', 50);
      const query = t.database.db.selectFrom('tickets').select('tickets.id').where(p.where).orderBy(p.order).limit(51).compile();
      const { rows } = await t.database.db.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(CompiledQuery.raw(`explain (analyze, format json) ${query.sql}`, [...query.parameters]));
      const loops: number[] = [];
      const walk = (node: PlanNode) => {
        if (node['Relation Name'] === 'tickets') loops.push(node['Actual Loops']);
        node.Plans?.forEach(walk);
      };
      walk(rows[0]!['QUERY PLAN'][0]!.Plan);
      expect(loops.length).toBeGreaterThan(0);
      return Math.max(...loops);
    };
    // The address queue has open tickets, none of them with a failed payment; PHONE_MISSING it has.
    expect(await ticketScans({ queue: 'address', code: 'PHONE_MISSING' })).toBe(1);
    expect(await ticketScans({ queue: 'address', code: 'PAYMENT_FAILED' })).toBe(0);
    expect(await ticketScans({ code: 'NO_SUCH_CODE' })).toBe(0);
    // Closed tickets are not in the tally: a filter on them is read from the tickets.
    expect(await ticketScans({ queue: 'address', code: 'PAYMENT_FAILED', status: 'resolved' })).toBe(1);
    expect((await listTickets(t.database.db, { queue: 'address', code: 'PAYMENT_FAILED' })).items).toEqual([]);
    expect((await listTickets(t.database.db, { queue: 'payment', code: 'PAYMENT_FAILED' })).items.length).toBeGreaterThan(0);
  });
});

interface PlanNode {
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

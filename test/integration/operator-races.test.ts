import { sql } from 'kysely';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { issueToken } from '../../src/runtime/identity.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createConsoleUser, loginAs, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';
import type { InstanceState } from '../../src/engine/index.ts';
import type { Tx } from '../../src/db/database.ts';
import { applyEvent, lockInstance } from '../../src/runtime/instances.ts';
import { deploy, eventually, fixture, startProcess } from './engine/helpers.ts';

/**
 * Issue 9: many operators acting on the same tickets at the same moment, through the real HTTP API and
 * the console (each operator with an API token and a logged-in console session), mixing every ticket and
 * order action there is: retry with the fix, cancel the order, assign to me, unassign, bulk actions.
 * Whatever the interleaving, each request gets an answer (200/202/303, or 409 when someone else was
 * first), never a 5xx; each ticket ends exactly once; its history and its order's history tell the
 * winner's story; a job's effect is recorded at most once; a cancelled order's jobs do nothing.
 */

const OPERATORS = 8;
const FIX = { customer: { phone: '+48 601 234 567' } };

interface Operator {
  id: string;
  token: string;
  browser: ConsoleBrowser;
}

let t: TestApp;
const operators: Operator[] = [];
let n = 0;

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  expect((await deploy(t, await fixture('deadline.bpmn'))).status).toBe(201);
  for (let i = 0; i < OPERATORS; i++) {
    const user = await createConsoleUser(t, 'operator');
    const { token } = await issueToken(t.database.db, user.id, 'test');
    operators.push({ id: user.id, token, browser: await loginAs(t, user) });
  }
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const api = (op: Operator) => ({ authorization: `Bearer ${op.token}` });

/** An order without a phone: the address check opens a PHONE_MISSING ticket and the order waits on hold. */
async function heldOrder(): Promise<{ orderId: string; ticketId: string; instanceId: string }> {
  const order: Order = structuredClone(validOrder({ externalId: `RACE-OP-${++n}-${Date.now()}` }));
  order.customer.phone = null;
  const res = await t.http.post('/api/v1/orders').set(api(operators[0]!)).send(order);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const orderId = res.body.id as string;
  const held = await eventually(
    () => t.http.get(`/api/v1/orders/${orderId}`).set(api(operators[0]!)).then((r) => r.body),
    (o) => o.status === 'on_hold' && o.tickets.length === 1,
    20_000,
  );
  const instance = await t.database.db.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow();
  return { orderId, ticketId: String(held.tickets[0].id), instanceId: instance.id };
}

type Action = 'retry' | 'cancel' | 'assign' | 'unassign';
interface Sent {
  action: Action;
  via: 'api' | 'console';
  ticketId: string;
  res: Response;
}

/** One operator's action on one ticket, through the API or the console form a browser would post. */
function act(op: Operator, action: Action, via: 'api' | 'console', ticket: { ticketId: string; orderId: string }): Promise<Sent> {
  const { ticketId, orderId } = ticket;
  let req;
  if (via === 'api') {
    if (action === 'retry') req = t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(api(op)).send({ patch: FIX, reason: 'customer called back' });
    else if (action === 'cancel') req = t.http.post(`/api/v1/orders/${orderId}/cancel`).set(api(op)).send({ reason: 'customer withdrew' });
    else req = t.http.post(`/api/v1/tickets/${ticketId}/assign`).set(api(op)).send({ assignee: action === 'assign' ? 'me' : null });
  } else {
    if (action === 'retry') req = op.browser.post(`/tickets/${ticketId}/retry`, { 'v.customer.phone': FIX.customer.phone, reason: 'customer called back' });
    else if (action === 'cancel') req = op.browser.post(`/tickets/${ticketId}/cancel-order`, { reason: 'customer withdrew' });
    else req = op.browser.post(`/tickets/${ticketId}/assign`, { assignee: action === 'assign' ? 'me' : 'none' });
  }
  return req.then((res) => ({ action, via, ticketId, res }));
}

/** Did the request do what it asked (as opposed to being refused because someone else was first)? */
function won(s: Sent): boolean {
  if (s.via === 'api') return s.res.status === 200 && (s.action !== 'retry' || s.res.body.result === 'resolved');
  // A refusal the console shows on the ticket's page is a redirect there too, naming what was refused.
  return s.res.status === 303 && !/[?&]refused=/.test(s.res.headers.location ?? '');
}

/** A console refusal sent back to the ticket's page (a stale Cancel order: the order is closed already). */
function refusedByRedirect(s: Sent): boolean {
  return s.via === 'console' && s.res.status === 303 && /[?&]refused=/.test(s.res.headers.location ?? '');
}

async function ticketEvents(ticketId: string) {
  return t.database.db.selectFrom('ticket_events').select(['kind', 'actor']).where('ticket_id', '=', ticketId).orderBy('id').execute();
}

/** pg-boss jobs of an instance that are still to run (created, retry) or running. */
async function pendingJobs(instanceId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from pgboss.job where data->>'instanceId' = ${instanceId} and state in ('created', 'retry', 'active')`.execute(t.database.db);
  return Number(rows[0]!.n);
}

function expectNoServerError(sent: Sent[]) {
  const bad = sent.filter((s) => s.res.status >= 500 || ![200, 202, 303, 409].includes(s.res.status));
  expect(bad.map((s) => `${s.via} ${s.action} #${s.ticketId}: ${s.res.status} ${s.res.text.slice(0, 300)}`)).toEqual([]);
}

/**
 * What every ticket's record must say after the burst, whoever won: one terminal event, last; as many
 * `retried`, `assigned`/`unassigned` events as requests that got through; the order's single cancellation.
 */
async function expectConsistent(ticket: { ticketId: string; orderId: string; instanceId: string }, sent: Sent[], bulkResults: Array<{ ticketId: string; ok: boolean; result?: string }> = []) {
  const mine = sent.filter((s) => s.ticketId === ticket.ticketId);
  const bulk = bulkResults.filter((r) => r.ticketId === ticket.ticketId && r.ok);
  const retriesWon = mine.filter((s) => s.action === 'retry' && won(s)).length;
  const cancelsWon = mine.filter((s) => s.action === 'cancel' && won(s)).length;
  const assignsWon = mine.filter((s) => (s.action === 'assign' || s.action === 'unassign') && won(s)).length;
  // Every request that did not get through was told so with a 409 (API) or the 409 page (console).
  for (const s of mine.filter((x) => !won(x) && !refusedByRedirect(x))) {
    expect(s.res.status, `${s.via} ${s.action}: ${s.res.text.slice(0, 200)}`).toBe(409);
    if (s.via === 'api') expect(s.res.body.detail).toMatch(/already|no longer|cancelled|resolved/);
  }
  expect(retriesWon).toBeLessThanOrEqual(1);

  const events = await ticketEvents(ticket.ticketId);
  const kinds = events.map((e) => e.kind);
  const terminal = kinds.filter((k) => k === 'resolved' || k === 'cancelled');
  expect(terminal, kinds.join(',')).toHaveLength(1);
  expect(kinds.at(-1)).toBe(terminal[0]);
  expect(kinds[0]).toBe('opened');
  expect(kinds.filter((k) => k === 'opened')).toHaveLength(1);
  expect(kinds.filter((k) => k === 'retried')).toHaveLength(retriesWon + bulk.filter((r) => r.result === 'resolved' || r.result === 'still_failing').length);
  expect(kinds.filter((k) => k === 'assigned' || k === 'unassigned')).toHaveLength(assignsWon + bulk.filter((r) => r.result === 'in_progress' || r.result === 'open').length);

  const row = await t.database.db.selectFrom('tickets').select(['status', 'closed_at']).where('id', '=', ticket.ticketId).executeTakeFirstOrThrow();
  expect(row.status).toBe(terminal[0]);
  expect(row.closed_at).not.toBeNull();

  const order = await t.database.db.selectFrom('orders').select('status').where('id', '=', ticket.orderId).executeTakeFirstOrThrow();
  const orderEvents = await t.database.db.selectFrom('order_events').select(['kind', 'data']).where('order_id', '=', ticket.orderId).orderBy('id').execute();
  const cancelled = orderEvents.filter((e) => e.kind === 'cancelled');
  expect(cancelled).toHaveLength(cancelsWon + bulk.filter((r) => r.result === 'cancelled').length);
  expect(cancelled.length).toBeLessThanOrEqual(1);
  const instance = await t.database.db.selectFrom('process_instances').select(['status', 'waiting_at']).where('id', '=', ticket.instanceId).executeTakeFirstOrThrow();
  if (cancelled.length === 1) {
    expect(order.status).toBe('cancelled');
    expect(instance.status).toBe('cancelled');
    expect(instance.waiting_at).toEqual([]);
  } else {
    // Nobody cancelled: the fix went through and the order went on to fulfilment.
    expect(terminal[0]).toBe('resolved');
    expect(order.status).toBe('released');
  }

  // Stock is reserved (and handed over) once when the fix won, never when the cancellation came first.
  const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', ticket.orderId).execute();
  const jobs = effects.map((e) => e.job);
  expect(new Set(jobs).size).toBe(jobs.length);
  expect(jobs.includes('reserve-stock')).toBe(terminal[0] === 'resolved');
  // Whatever pg-boss still held for the instance has run out, without reviving it.
  await eventually(() => pendingJobs(ticket.instanceId), (p) => p === 0, 20_000);
  const after = await t.database.db.selectFrom('orders').select('status').where('id', '=', ticket.orderId).executeTakeFirstOrThrow();
  expect(after.status).toBe(order.status);
  return { winner: terminal[0] as 'resolved' | 'cancelled', cancelled: cancelled.length === 1 };
}

describe('operators racing on the same tickets', () => {
  it('eight operators retrying with the fix, cancelling, assigning and unassigning the same three tickets at once, twice each, through the API and the console', async () => {
    const tickets = await Promise.all([heldOrder(), heldOrder(), heldOrder()]);
    const plan: Action[] = ['retry', 'cancel', 'assign', 'unassign', 'retry', 'cancel', 'assign', 'unassign'];
    const sends: Array<Promise<Sent>> = [];
    for (const ticket of tickets) {
      operators.forEach((op, i) => {
        // Each operator clicks twice (a double submit), once through the API and once through the console.
        sends.push(act(op, plan[i]!, i % 2 === 0 ? 'api' : 'console', ticket), act(op, plan[i]!, i % 2 === 0 ? 'console' : 'api', ticket));
      });
    }
    const sent = await Promise.all(sends);
    expectNoServerError(sent);
    for (const ticket of tickets) {
      const { cancelled } = await expectConsistent(ticket, sent);
      // Both cancel buttons were pressed on every order, and the order is not closed before that: one went through.
      expect(cancelled).toBe(true);
    }
  }, 90_000);

  it('eight operators retrying with the fix and assigning one ticket while nobody cancels: resolved once, released, stock reserved once', async () => {
    const ticket = await heldOrder();
    const sent = await Promise.all(
      operators.flatMap((op, i) => [act(op, i % 2 ? 'retry' : 'assign', 'api', ticket), act(op, i % 3 ? 'retry' : 'unassign', 'console', ticket)]),
    );
    expectNoServerError(sent);
    expect(sent.filter((s) => s.action === 'retry' && won(s))).toHaveLength(1);
    const { winner } = await expectConsistent(ticket, sent);
    expect(winner).toBe('resolved');
  }, 60_000);

  it('bulk retry, bulk assign and bulk cancel over the same tickets while operators work them one by one', async () => {
    const tickets = await Promise.all([heldOrder(), heldOrder(), heldOrder(), heldOrder()]);
    const ids = tickets.map((x) => x.ticketId);
    const bulks = ['retry', 'assign', 'cancel'] as const;
    const [bulkStarts, sent] = await Promise.all([
      Promise.all(
        bulks.map((action, i) =>
          t.http
            .post('/api/v1/tickets/bulk')
            .set(api(operators[i]!))
            .send({ action, ticketIds: ids, ...(action === 'assign' ? { assignee: 'me' } : {}), ...(action === 'cancel' ? { reason: 'channel withdrew the batch' } : {}) }),
        ),
      ),
      Promise.all(tickets.flatMap((ticket) => operators.slice(3).flatMap((op, i) => [act(op, (['retry', 'assign', 'cancel', 'unassign', 'retry'] as const)[i]!, 'api', ticket), act(op, 'retry', 'console', ticket)]))),
    ]);
    expectNoServerError(sent);
    for (const b of bulkStarts) expect(b.status, JSON.stringify(b.body)).toBe(202);
    const results: Array<{ ticketId: string; ok: boolean; result?: string; error?: string }> = [];
    for (const b of bulkStarts) {
      const done = await eventually(
        () => t.http.get(`/api/v1/tickets/bulk/${b.body.id}`).set(api(operators[0]!)).then((r) => r.body),
        (x) => x.status === 'done',
        30_000,
      );
      expect(done.total).toBe(ids.length);
      expect(done.succeeded + done.failed).toBe(ids.length);
      // What a bulk action could not do is said per ticket, in words: someone else was first.
      for (const r of done.results.filter((x: { ok: boolean }) => !x.ok)) expect(r.error).toMatch(/already|no longer|cancelled|resolved/);
      results.push(...done.results.map((r: { ticketId: string; ok: boolean; result?: string }) => ({ ...r, result: b.body.action === 'cancel' && r.ok ? 'cancelled' : r.result })));
    }
    for (const ticket of tickets) {
      const { cancelled } = await expectConsistent(ticket, sent, results);
      expect(cancelled).toBe(true);
    }
  }, 90_000);

  it('a boundary timer firing while two operators complete the user task it guards (API and console): one of the three wins', async () => {
    const winners = { timer: 0, operator: 0 };
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const started = await startProcess(t, 'deadline', { refund: i });
        expect(started.status, JSON.stringify(started.body)).toBe(201);
        const instanceId = started.body.id as string;
        const ticket = await t.database.db.selectFrom('tickets').select('id').where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
        const row = await t.database.db.selectFrom('process_instances').select('state').where('id', '=', instanceId).executeTakeFirstOrThrow();
        const timer = (row.state as InstanceState).waits.find((w) => w.kind === 'timer')!;
        const ctx = t.runtime.ctx;
        const [byApi, byConsole, byTimer] = await Promise.all([
          t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(api(operators[i % OPERATORS]!)).send({ variables: { approved: true } }),
          operators[(i + 1) % OPERATORS]!.browser.post(`/tickets/${ticket.id}/complete`, { 'v.approved': 'true' }),
          // What the timer worker does when the hour is up.
          ctx.db.transaction().execute((trx) => applyEvent(ctx, trx, instanceId, { type: 'timer', timerId: timer.timerId! }, 'timer')),
        ]);
        expect([byApi.status, byConsole.status].filter((s) => s >= 500), byApi.text + byConsole.text.slice(0, 300)).toEqual([]);
        const operatorWon = [byApi.status === 200, byConsole.status === 303].filter(Boolean).length;
        expect(operatorWon + (byTimer.applied ? 1 : 0), `instance ${instanceId}`).toBe(1);
        if (byApi.status !== 200) expect(byApi.status).toBe(409);
        if (byConsole.status !== 303) expect(byConsole.status).toBe(409);
        winners[byTimer.applied ? 'timer' : 'operator']++;

        const done = await t.database.db.selectFrom('process_instances').select(['status', 'waiting_at']).where('id', '=', instanceId).executeTakeFirstOrThrow();
        expect(done).toEqual({ status: 'completed', waiting_at: [] });
        const ended = await t.database.db.selectFrom('instance_history').select('element_id').where('instance_id', '=', instanceId).where('event', '=', 'entered').where('element_id', 'in', ['done', 'escalated']).execute();
        expect(ended.map((h) => h.element_id)).toEqual([byTimer.applied ? 'escalated' : 'done']);
        const kinds = (await ticketEvents(String(ticket.id))).map((e) => e.kind);
        expect(kinds).toEqual(byTimer.applied ? ['opened', 'cancelled'] : ['opened', 'completed', 'resolved']);
      }),
    );
    expect(winners.timer + winners.operator).toBe(12);
  }, 60_000);
});

/**
 * A transaction that holds an instance's row lock, as a worker does in the middle of a step (a timer, a
 * job's completion), until `finish` runs `then` in it and commits: the interleavings that deadlocked
 * operators' actions, made to happen every time instead of now and then.
 */
function holdInstance(instanceId: string) {
  let go!: (then: (trx: Tx) => Promise<unknown>) => void;
  const gate = new Promise<(trx: Tx) => Promise<unknown>>((resolve) => (go = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const done = t.database.db.transaction().execute(async (trx) => {
    await lockInstance(trx, instanceId);
    locked();
    const then = await gate;
    return then(trx);
  });
  return { isLocked, done, finish: (then: (trx: Tx) => Promise<unknown> = async () => null) => (go(then), done) };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves once `count` sessions of this database wait for a row or table lock (polled, up to 20 s). */
async function lockWaiters(count: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(t.database.db);
    if ((r.rows[0]?.n ?? 0) >= count) return;
    await pause(50);
  }
  throw new Error(`fewer than ${count} sessions waited for a lock within 20 s`);
}

describe('the interleavings that deadlocked (each forced, not left to chance)', () => {
  it('an operator cancelling an order and another retrying its ticket with the fix while a step holds the lifecycle: one wins, the other gets 409', async () => {
    const ticket = await heldOrder();
    const step = holdInstance(ticket.instanceId);
    await step.isLocked;
    // Before the fix, the cancellation locked the order and waited for the lifecycle; the retry locked the
    // ticket and waited for the order; once the step committed the cancellation wanted the ticket: deadlock.
    const cancel = act(operators[0]!, 'cancel', 'api', ticket);
    await lockWaiters(1);
    const retry = act(operators[1]!, 'retry', 'api', ticket);
    await lockWaiters(2);
    await step.finish();
    const sent = await Promise.all([cancel, retry]);
    expectNoServerError(sent);
    expect(sent[0]!.res.status).toBe(200);
    expect(sent[1]!.res.status).toBe(409);
    const { winner } = await expectConsistent(ticket, sent);
    expect(winner).toBe('cancelled');
  }, 30_000);

  it('an operator completing a user task while the timer that guards it fires: the timer wins, the operator gets 409', async () => {
    const started = await startProcess(t, 'deadline', { refund: 1 });
    const instanceId = started.body.id as string;
    const ticket = await t.database.db.selectFrom('tickets').select('id').where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
    const row = await t.database.db.selectFrom('process_instances').select('state').where('id', '=', instanceId).executeTakeFirstOrThrow();
    const timer = (row.state as InstanceState).waits.find((w) => w.kind === 'timer')!;
    const step = holdInstance(instanceId);
    await step.isLocked;
    // Before the fix, completing locked the ticket and waited for the instance; the timer's step, holding
    // the instance, then wanted the ticket to cancel it: deadlock.
    const complete = t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(api(operators[2]!)).send({ variables: { approved: true } })
      .then((r) => r); // supertest sends on then()
    await lockWaiters(1);
    const fired = await step.finish((trx) => applyEvent(t.runtime.ctx, trx, instanceId, { type: 'timer', timerId: timer.timerId! }, 'timer'));
    const res = await complete;
    expect(res.status, res.text).toBe(409);
    expect((fired as { applied: boolean }).applied).toBe(true);
    const kinds = (await ticketEvents(String(ticket.id))).map((e) => e.kind);
    expect(kinds).toEqual(['opened', 'cancelled']);
  }, 30_000);

  it('an action that still meets a deadlock (a lock order no code path takes today) is run again: done once, never a 500', async () => {
    const ticket = await heldOrder();
    let grab!: () => void;
    const grabInstance = new Promise<void>((resolve) => (grab = resolve));
    let held!: () => void;
    const ticketHeld = new Promise<void>((resolve) => (held = resolve));
    // Holds the ticket, then (once the cancellation holds the lifecycle and waits for the ticket) wants the lifecycle.
    const other = t.database.db.transaction().execute(async (trx) => {
      // PostgreSQL fails whichever waiter checks for the cycle first. The cancellation waits first; as a
      // superuser this side also checks late, so a slow machine cannot swap the roles.
      const su = await sql<{ on: string }>`select current_setting('is_superuser') as on`.execute(trx);
      if (su.rows[0]?.on === 'on') await sql`set local deadlock_timeout = '20s'`.execute(trx);
      await trx.selectFrom('tickets').select('id').where('id', '=', ticket.ticketId).forUpdate().execute();
      held();
      await grabInstance;
      await lockInstance(trx, ticket.instanceId);
    });
    await ticketHeld;
    const cancel = act(operators[3]!, 'cancel', 'api', ticket);
    await lockWaiters(1);
    grab();
    // PostgreSQL fails the cancellation (it has waited longest); its transaction runs again once the other commits.
    await other;
    const sent = [await cancel];
    expectNoServerError(sent);
    expect(sent[0]!.res.status).toBe(200);
    const { winner } = await expectConsistent(ticket, sent);
    expect(winner).toBe('cancelled');
  }, 30_000);
});


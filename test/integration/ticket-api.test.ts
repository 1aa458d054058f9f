import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createUser, issueToken } from '../../src/runtime/identity.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { eventually } from './engine/helpers.ts';

/**
 * The ticket API's own answers: a ticket's history (who, when, what, why) through its whole life, and
 * what bulk assign and bulk cancel leave behind on every ticket and order they touch.
 */
let t: TestApp;
let n = 0;
/** The operator working the tickets: their actions carry this user's e-mail and id. */
const op = { id: '', email: `tickets-${Date.now()}@test.local`, token: '' };
beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  const user = await createUser(t.database.db, { email: op.email, password: 'correct horse battery', role: 'operator' });
  op.id = user.id;
  op.token = (await issueToken(t.database.db, user.id, 'test')).token;
});
afterAll(async () => {
  await t?.close();
});

const auth = () => ({ authorization: `Bearer ${op.token}` });

async function heldOrder(mutate: (o: Order) => void = (o) => (o.customer.phone = null)): Promise<{ orderId: string; ticketId: string }> {
  const o = structuredClone(validOrder({ externalId: `TAPI-${++n}-${Date.now()}` }));
  mutate(o);
  const res = await t.http.post('/api/v1/orders').set(auth()).send(o);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const order = await eventually(
    () => t.http.get(`/api/v1/orders/${res.body.id}`).set(auth()).then((r) => r.body),
    (b) => b.status === 'on_hold' && b.tickets?.length === 1,
    20_000,
  );
  return { orderId: res.body.id as string, ticketId: order.tickets[0].id as string };
}

const ticket = (id: string) => t.http.get(`/api/v1/tickets/${id}`).set(auth()).then((r) => r.body);

async function bulk(body: Record<string, unknown>) {
  const started = await t.http.post('/api/v1/tickets/bulk').set(auth()).send(body);
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return eventually(() => t.http.get(`/api/v1/tickets/bulk/${started.body.id}`).set(auth()).then((r) => r.body), (b) => b.status === 'done', 20_000);
}

describe('GET /api/v1/tickets/:id history', () => {
  it('records who did what, when and why, in order: opened, assigned, commented, a fix that still fails, unassigned, resolved', async () => {
    const { orderId, ticketId } = await heldOrder();
    const before = Date.now();
    expect((await t.http.post(`/api/v1/tickets/${ticketId}/assign`).set(auth()).send({ assignee: 'me' })).status).toBe(200);
    expect((await t.http.post(`/api/v1/tickets/${ticketId}/comments`).set(auth()).send({ text: 'Calling the customer for the number.' })).status).toBe(201);
    // A fix that does not help (the phone is still missing, the e-mail changed): the ticket stays open.
    const wrong = await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { email: 'anna.nowak@example.com' } } });
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(200);
    expect(wrong.body.result).toBe('still_failing');
    expect((await t.http.post(`/api/v1/tickets/${ticketId}/assign`).set(auth()).send({ assignee: null })).status).toBe(200);
    const right = await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { phone: '+48 601 234 567' } } });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(right.body.result).toBe('resolved');

    const body = await ticket(ticketId);
    expect(body.status).toBe('resolved');
    expect(body.order.id).toBe(orderId);
    const history = body.history as Array<{ at: string; actor: string; kind: string; data: Record<string, unknown> }>;
    expect(history.map((h) => h.kind)).toEqual(['opened', 'assigned', 'comment', 'retried', 'still_failing', 'unassigned', 'retried', 'resolved']);
    expect(history[0]!.data.issues).toEqual([expect.objectContaining({ code: 'PHONE_MISSING', field: 'customer.phone' })]);
    expect(history[1]!.data.assignee).toBe(op.email);
    expect(body.status).toBe('resolved');
    expect(history[2]!.data.text).toBe('Calling the customer for the number.');
    expect(history[4]!.data.issues).toEqual([expect.objectContaining({ code: 'PHONE_MISSING' })]);
    // Every action after opening is the caller's, stamped in order and not before the first of them.
    for (const h of history.slice(1, 4)) expect(h.actor).toBe(`user:${op.email}`);
    const times = history.map((h) => Date.parse(h.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[1]!).toBeGreaterThanOrEqual(before - 1_000);
    // The order's own history names the patches with their old and new values.
    const order = await t.http.get(`/api/v1/orders/${orderId}`).set(auth()).then((r) => r.body);
    const patched = (order.history as Array<{ kind: string; data: { changes?: Array<{ path: string; from: unknown; to: unknown }> } }>).filter((h) => h.kind === 'patched');
    expect(patched.map((p) => p.data.changes?.map((c) => c.path))).toEqual([['customer.email'], ['customer.phone']]);
  });
});

describe('POST /api/v1/tickets/bulk', () => {
  it('assign: every selected ticket gets the assignee once, with one assigned event; a closed one is reported, not changed', async () => {
    const held = await Promise.all([heldOrder(), heldOrder(), heldOrder()]);
    const ids = held.map((h) => h.ticketId);
    // The third is resolved before the bulk action reaches it.
    await t.http.post(`/api/v1/tickets/${ids[2]}/retry`).set(auth()).send({ patch: { customer: { phone: '+48 601 234 567' } } });
    const done = await bulk({ action: 'assign', ticketIds: ids, assignee: 'me' });
    expect(done).toMatchObject({ total: 3, done: 3, succeeded: 2, failed: 1, percent: 100 });
    const tickets = await Promise.all(ids.map(ticket));
    expect(tickets.map((x) => [x.status, x.assigneeId])).toEqual([
      ['in_progress', op.id],
      ['in_progress', op.id],
      ['resolved', null],
    ]);
    for (const x of tickets.slice(0, 2)) expect(x.history.filter((h: { kind: string }) => h.kind === 'assigned')).toHaveLength(1);
    expect(tickets[2].history.some((h: { kind: string }) => h.kind === 'assigned')).toBe(false);
    // Filtered by assignee, the queue lists exactly these two of the three.
    const mine = await t.http.get(`/api/v1/tickets?assignee=${op.id}`).set(auth()).then((r) => r.body);
    expect(mine.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining(ids.slice(0, 2)));
    expect(mine.items.map((i: { id: string }) => i.id)).not.toContain(ids[2]);
    // The e-mail tickets show as `assignee` finds them too; an unknown one is named.
    const byEmail = await t.http.get(`/api/v1/tickets?assignee=${encodeURIComponent(op.email)}`).set(auth()).then((r) => r.body);
    expect(byEmail.items.map((i: { id: string }) => i.id).sort()).toEqual(mine.items.map((i: { id: string }) => i.id).sort());
    const nobody = await t.http.get('/api/v1/tickets?assignee=nobody%40test.local').set(auth());
    expect(nobody.status).toBe(400);
    expect(nobody.body.errors).toEqual([{ field: 'querystring.assignee', message: 'no user has the e-mail nobody@test.local' }]);

    // Leaving the assignee out of a bulk assign is refused (null unassigns); refusals name their field.
    const unsaid = await t.http.post('/api/v1/tickets/bulk').set(auth()).send({ action: 'assign', ticketIds: ids });
    expect(unsaid.status).toBe(400);
    expect(unsaid.body.errors).toEqual([expect.objectContaining({ field: 'assignee' })]);
    const noReason = await t.http.post('/api/v1/tickets/bulk').set(auth()).send({ action: 'cancel', ticketIds: ids });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toEqual([{ field: 'reason', message: 'Cancelling orders needs a reason.' }]);
    expect((await ticket(ids[0]!)).assigneeId).toBe(op.id);
  });

  it('cancel: each order is cancelled with the reason, its ticket cancelled, its lifecycle ended, and nothing is left to run', async () => {
    const held = await Promise.all([heldOrder(), heldOrder()]);
    const done = await bulk({ action: 'cancel', ticketIds: held.map((h) => h.ticketId), reason: 'Customer withdrew the order by phone.' });
    expect(done).toMatchObject({ total: 2, done: 2, succeeded: 2, failed: 0 });
    for (const { orderId, ticketId } of held) {
      const order = await t.http.get(`/api/v1/orders/${orderId}`).set(auth()).then((r) => r.body);
      expect(order.status).toBe('cancelled');
      expect(order.tickets.filter((x: { status: string }) => x.status === 'open' || x.status === 'in_progress')).toEqual([]);
      const cancelled = (order.history as Array<{ kind: string; data: { reason?: string } }>).filter((h) => h.kind === 'cancelled');
      expect(cancelled).toHaveLength(1);
      expect(cancelled[0]!.data.reason).toBe('Customer withdrew the order by phone.');
      const tk = await ticket(ticketId);
      expect(tk.status).toBe('cancelled');
      expect(tk.history.filter((h: { kind: string }) => h.kind === 'cancelled')).toHaveLength(1);
      const instances = await t.database.db.selectFrom('process_instances').select(['status']).where('order_id', '=', orderId).execute();
      expect(instances.map((i) => i.status)).toEqual(['cancelled']);
      // A fix after the cancellation is refused, and changes nothing.
      const late = await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { phone: '+48 601 234 567' } } });
      expect(late.status).toBe(409);
    }
  });
});

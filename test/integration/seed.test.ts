import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { checkAddress, checkInvoice, checkPayment } from '../../src/orders/checks/index.ts';
import type { Order } from '../../src/orders/schema.ts';
import { correlateMessage } from '../../src/runtime/messages.ts';
import { receiveOrder } from '../../src/runtime/orders.ts';
import { seedOrders, type SeedResult } from '../../scripts/seed/load.ts';
import { CARRIER_ACTOR, DELIVERED_MESSAGE, INTAKE_ACTOR } from '../../scripts/seed/shapes.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { loginAs, type ConsoleBrowser } from '../support/console.ts';
import { eventually } from './engine/helpers.ts';

/**
 * `npm run seed`: realistic orders written as the engine would have left them. The seeded rows are
 * compared with what the real runtime writes for the same orders in a database of its own, the tickets
 * with what the checks say, and the console must work on them.
 */
const ORDERS = 300;
let t: TestApp;
let real: TestApp;
let operator: ConsoleBrowser;
let result: SeedResult;

beforeAll(async () => {
  [t, real] = await Promise.all([createTestApp({ deployDefaults: true }), createTestApp({ deployDefaults: true, workers: true })]);
  result = await seedOrders(t.runtime, t.database.db, { orders: ORDERS, defectRate: 0.1, seed: 7, batchSize: 64 });
  operator = await loginAs(t, 'operator');
}, 180_000);
afterAll(async () => {
  await Promise.all([t?.close(), real?.close()]);
});

async function seededOrders() {
  return t.database.db.selectFrom('orders').select(['id', 'status', 'data', 'channel', 'country']).execute();
}

describe('npm run seed', () => {
  it('makes varied orders: countries, channels, delivery and payment methods', async () => {
    const orders = await seededOrders();
    expect(orders).toHaveLength(ORDERS);
    const distinct = (f: (o: Order) => unknown) => new Set(orders.map((o) => f(o.data as Order))).size;
    expect(distinct((o) => o.shippingAddress?.country ?? o.invoice?.address?.country ?? o.currency)).toBeGreaterThanOrEqual(10);
    expect(distinct((o) => o.channel)).toBeGreaterThanOrEqual(3);
    expect(distinct((o) => o.delivery.method)).toBe(4);
    expect(distinct((o) => o.payment.method)).toBe(5);
    expect(distinct((o) => o.customer.name)).toBeGreaterThan(ORDERS / 3);
    // Placed over weeks, not in one burst.
    const times = orders.map((o) => Date.parse((o.data as Order).placedAt!)).sort((a, b) => a - b);
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThan(30 * 24 * 3600_000);
  });

  it('holds about the defect rate of the orders, each with exactly one open ticket', async () => {
    const orders = await seededOrders();
    const held = orders.filter((o) => o.status === 'on_hold');
    expect(held.length).toBeGreaterThanOrEqual(ORDERS * 0.05);
    expect(held.length).toBeLessThanOrEqual(ORDERS * 0.18);
    const open = await t.database.db.selectFrom('tickets').select(['order_id']).where('status', 'in', ['open', 'in_progress']).execute();
    expect(open.map((r) => r.order_id).sort()).toEqual(held.map((o) => o.id).sort());
    expect(open).toHaveLength(result.openTickets);
    const others = new Set(orders.filter((o) => o.status !== 'on_hold').map((o) => o.status));
    expect([...others].every((s) => s === 'released' || s === 'completed')).toBe(true);
    expect(others.size).toBe(2);
  });

  it("gives every open ticket the codes and fields the order's checks find", async () => {
    const tickets = await t.database.db
      .selectFrom('tickets as k')
      .innerJoin('orders as o', 'o.id', 'k.order_id')
      .select(['k.id', 'k.element_id', 'k.kind', 'k.codes', 'k.issues', 'k.instructions', 'o.data'])
      .where('k.status', 'in', ['open', 'in_progress'])
      .execute();
    expect(tickets.length).toBeGreaterThan(10);
    const seen = new Set<string>();
    for (const k of tickets) {
      const order = k.data as Order;
      const expected =
        k.element_id === 'Task_ValidateAddress'
          ? checkAddress(order)
          : k.element_id === 'Task_ValidatePayment'
            ? checkPayment(order).filter((i) => i.code !== 'PAYMENT_PENDING')
            : k.element_id === 'Task_ValidateInvoice'
              ? checkInvoice(order)
              : [];
      if (k.kind === 'manual') expect(Number(order.totals.grandTotal)).toBeGreaterThanOrEqual(10_000);
      else expect(expected.length, `ticket ${k.id}`).toBeGreaterThan(0);
      expect(k.codes, `ticket ${k.id}`).toEqual([...new Set(expected.map((i) => i.code))]);
      expect(k.issues).toEqual(expected.map((i) => ({ code: i.code, field: i.field, message: i.message })));
      expect((k.instructions as string[]).length).toBeGreaterThan(0);
      k.codes.forEach((c) => seen.add(c));
    }
    // Not only the common defects.
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it('writes exactly the rows the real runtime writes for the same orders', async () => {
    const db = t.database.db;
    const orders = await db.selectFrom('orders').select(['id', 'status', 'data']).orderBy('created_at').execute();
    // A few orders of every place the lifecycle leaves them in.
    const sample = new Map<string, typeof orders>();
    for (const o of orders) {
      const key = `${o.status}:${(o.data as Order).invoice?.requested ? 'invoice' : 'none'}:${(o.data as Order).delivery.method}`;
      const list = sample.get(key) ?? [];
      if (list.length < 2) sample.set(key, [...list, o]);
    }
    const picked = [...sample.values()].flat();
    expect(new Set(picked.map((o) => o.status))).toEqual(new Set(['on_hold', 'released', 'completed']));

    const realIds = new Map<string, string>();
    for (const o of picked) {
      const r = await receiveOrder(real.database.db, o.data as Order, INTAKE_ACTOR, real.runtime.intakeHooks);
      realIds.set(o.id, r.order.id);
    }
    real.runtime.nudge();
    await eventually(
      () => real.database.db.selectFrom('orders').select('id').where('status', 'in', ['received', 'in_progress']).execute(),
      (rows) => rows.length === 0,
      30_000,
    );
    for (const o of picked.filter((p) => p.status === 'completed')) {
      const delivered = await correlateMessage(real.runtime.ctx, { name: DELIVERED_MESSAGE, businessKey: realIds.get(o.id)!, actor: CARRIER_ACTOR });
      expect(delivered.outcome).toBe('delivered');
    }
    for (const o of picked) {
      const seeded = await rowsOf(db, o.id);
      const actual = await rowsOf(real.database.db, realIds.get(o.id)!);
      expect(seeded, `order ${(o.data as Order).externalId} (${o.status})`).toEqual(actual);
    }
  });

  it('serves the console on the seeded data: the queue, a ticket, an order', async () => {
    const queue = await operator.get('/tickets');
    expect(queue.status).toBe(200);
    const ids = [...queue.text.matchAll(/<tr id="ticket-row-(\d+)"/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(10);
    const ticket = await t.database.db
      .selectFrom('tickets as k')
      .innerJoin('orders as o', 'o.id', 'k.order_id')
      .select(['k.id', 'k.title', 'o.external_id', 'o.id as order_id'])
      .where('k.id', '=', ids[0]!)
      .executeTakeFirstOrThrow();
    const page = await operator.get(`/tickets/${ticket.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(ticket.external_id);
    expect(page.text).toContain('Save and retry');
    const order = await operator.get(`/orders/${ticket.order_id}`);
    expect(order.status).toBe(200);
    expect(order.text).toContain(ticket.external_id);
    const completed = await t.database.db.selectFrom('orders').select('id').where('status', '=', 'completed').limit(1).executeTakeFirstOrThrow();
    expect((await operator.get(`/orders/${completed.id}`)).status).toBe(200);
    expect((await operator.get('/')).status).toBe(200);
  });

  it('refuses to load the same seed twice', async () => {
    await expect(seedOrders(t.runtime, t.database.db, { orders: 10, seed: 7 })).rejects.toThrow(/seed 7/);
  });
});

/** Everything the engine wrote for an order, with its ids and timestamps left out (they differ by design). */
async function rowsOf(db: Db, orderId: string) {
  const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
  const instance = await db.selectFrom('process_instances').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
  const tickets = await db.selectFrom('tickets').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
  const anonymous = (value: unknown) =>
    JSON.parse(
      JSON.stringify(value ?? null)
        .replaceAll(orderId, '<order>')
        .replaceAll(instance.id, '<instance>')
        .replaceAll(instance.id.slice(0, 12), '<instance-prefix>'),
    );
  const without = <T extends Record<string, unknown>>(row: T, ...cols: string[]) => anonymous(Object.fromEntries(Object.entries(row).filter(([k, v]) => !cols.includes(k) && !(v instanceof Date))));
  return {
    order: without(order, 'id'),
    events: (await db.selectFrom('order_events').selectAll().where('order_id', '=', orderId).orderBy('id').execute()).map((e) => without(e, 'id')),
    instance: without(instance, 'id', 'definition_id'),
    history: (await db.selectFrom('instance_history').selectAll().where('instance_id', '=', instance.id).orderBy('id').execute()).map((h) => without(h, 'id')),
    tickets: tickets.map((k) => without(k, 'id')),
    ticketEvents: tickets.length
      ? (await db.selectFrom('ticket_events').selectAll().where('ticket_id', 'in', tickets.map((k) => k.id)).orderBy('id').execute()).map((e) => without(e, 'id', 'ticket_id'))
      : [],
    jobEffects: (await db.selectFrom('job_effects').selectAll().where('order_id', '=', orderId).orderBy('job', 'desc').execute()).map((e) => without(e)),
  };
}

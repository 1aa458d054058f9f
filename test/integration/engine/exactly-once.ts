import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../../../src/db/database.ts';
import type { Order } from '../../../src/orders/schema.ts';
import { receiveOrder, type IntakeHooks } from '../../../src/runtime/orders.ts';
import { validOrder } from '../../fixtures/orders.ts';

/**
 * Orders for the durability and concurrency tests, and the exactly-once checks they end with: whatever
 * crashed or raced on the way, every order must end as if each step had run exactly once.
 */

export interface PostedOrder {
  id: string;
  externalId: string;
  /** Posted without a phone: the address check opens a ticket and the order waits `on_hold`. */
  broken: boolean;
}

/** A clean order (released after both service jobs) or, every `brokenEvery`-th, one with no phone. */
export function lifecycleOrder(prefix: string, i: number, broken: boolean): Order {
  const base = validOrder({ externalId: `${prefix}-${i}` });
  return broken ? { ...base, customer: { ...base.customer, phone: null } } : base;
}

/** Post `count` orders through the real intake use case (with the lifecycle hook), `parallel` at a time. */
export async function postOrders(db: Db, hooks: IntakeHooks, prefix: string, count: number, brokenEvery = 4, parallel = 8): Promise<PostedOrder[]> {
  const out = new Array<PostedOrder>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const broken = i % brokenEvery === brokenEvery - 1;
        const result = await receiveOrder(db, lifecycleOrder(prefix, i, broken), 'test', hooks);
        expect(result.outcome).toBe('created');
        out[i] = { id: result.order.id, externalId: result.order.externalId, broken };
      }
    }),
  );
  return out;
}

/** How many of the orders have settled: clean ones released, broken ones on hold with their ticket. */
export async function settledCount(db: Db, orders: readonly PostedOrder[]): Promise<number> {
  const rows = await db
    .selectFrom('orders')
    .select(['id', 'status'])
    .where('id', 'in', orders.map((o) => o.id))
    .where('status', 'in', ['released', 'on_hold'])
    .execute();
  return rows.length;
}

export async function waitUntilSettled(db: Db, orders: readonly PostedOrder[], timeoutMs: number, tick?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await tick?.();
    const settled = await settledCount(db, orders);
    if (settled === orders.length) return;
    if (Date.now() > deadline) throw new Error(`only ${settled} of ${orders.length} orders settled within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SERVICE_TASKS = ['Task_ReserveStock', 'Task_HandOver'] as const;
const JOBS = ['reserve-stock', 'hand-over-to-fulfilment'] as const;

/**
 * The exactly-once checks over the whole database: one lifecycle instance per order, one ticket per
 * broken order (never two open for a step), one job effect per (order, job), each element entered and
 * left as often as a single pass through the diagram does, each order status change recorded once.
 */
export async function assertExactlyOnce(db: Db, orders: readonly PostedOrder[]): Promise<void> {
  const ids = orders.map((o) => o.id);
  const clean = orders.filter((o) => !o.broken);
  const broken = orders.filter((o) => o.broken);

  const statuses = await db.selectFrom('orders').select(['id', 'status']).where('id', 'in', ids).execute();
  const statusOf = new Map(statuses.map((r) => [r.id, r.status]));
  for (const o of orders) expect(statusOf.get(o.id), `order ${o.externalId}`).toBe(o.broken ? 'on_hold' : 'released');

  // One lifecycle instance per order.
  const instances = await db
    .selectFrom('process_instances')
    .select(['id', 'order_id', 'status', 'revision', 'waiting_at'])
    .where('order_id', 'in', ids)
    .where('parent_id', 'is', null)
    .execute();
  expect(instances).toHaveLength(orders.length);
  expect(new Set(instances.map((i) => i.order_id)).size).toBe(orders.length);
  const instanceOf = new Map(instances.map((i) => [i.order_id!, i]));
  for (const o of clean) {
    const i = instanceOf.get(o.id)!;
    expect(i.waiting_at, `instance of ${o.externalId}`).toEqual(['Gateway_WaitForDelivery']);
    // Created at revision 1, one more per completed job: a replayed step would show here.
    expect(i.revision, `revision of ${o.externalId}`).toBe(3);
  }
  for (const o of broken) {
    const i = instanceOf.get(o.id)!;
    expect(i.waiting_at, `instance of ${o.externalId}`).toEqual(['Task_ValidateAddress']);
    expect(i.revision).toBe(1);
  }

  // At most one open ticket per (instance, step); exactly one ticket, opened once, per broken order.
  const openPerStep = await db
    .selectFrom('tickets')
    .select(['instance_id', 'wait_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('order_id', 'in', ids)
    .where('status', 'in', ['open', 'in_progress'])
    .groupBy(['instance_id', 'wait_id'])
    .having(sql<boolean>`count(*) > 1`)
    .execute();
  expect(openPerStep).toEqual([]);
  const tickets = await db.selectFrom('tickets').select(['id', 'order_id', 'status', 'codes', 'element_id']).where('order_id', 'in', ids).execute();
  expect(tickets).toHaveLength(broken.length);
  for (const t of tickets) {
    expect(broken.some((o) => o.id === t.order_id)).toBe(true);
    expect(t).toMatchObject({ status: 'open', element_id: 'Task_ValidateAddress', codes: ['PHONE_MISSING'] });
  }
  const opened = await db
    .selectFrom('ticket_events')
    .select('ticket_id')
    .where('ticket_id', 'in', tickets.length ? tickets.map((t) => t.id) : ['00000000-0000-4000-8000-000000000000'])
    .where('kind', '=', 'opened')
    .execute();
  expect(opened).toHaveLength(broken.length);

  // Exactly one effect per (order, job), for clean orders only.
  const effects = await db.selectFrom('job_effects').select(['order_id', 'job', 'instance_id']).where('order_id', 'in', ids).execute();
  expect(effects).toHaveLength(clean.length * JOBS.length);
  const effectKeys = new Set(effects.map((e) => `${e.order_id}|${e.job}`));
  for (const o of clean) for (const job of JOBS) expect(effectKeys.has(`${o.id}|${job}`), `${job} for ${o.externalId}`).toBe(true);

  // History: every element of the path entered and left exactly once (no double step).
  const history = await db
    .selectFrom('instance_history')
    .select(['instance_id', 'element_id', 'event', (eb) => eb.fn.countAll<string>().as('n')])
    .where(
      'instance_id',
      'in',
      instances.map((i) => i.id),
    )
    .where('event', 'in', ['entered', 'left', 'ticket'])
    .groupBy(['instance_id', 'element_id', 'event'])
    .execute();
  const count = new Map(history.map((h) => [`${h.instance_id}|${h.element_id}|${h.event}`, Number(h.n)]));
  for (const h of history) {
    // Nothing on a single pass through this diagram is entered, left or ticketed twice.
    expect(Number(h.n), `${h.element_id} ${h.event} in ${h.instance_id}`).toBe(1);
  }
  for (const o of clean) {
    const id = instanceOf.get(o.id)!.id;
    for (const el of ['Task_ValidateAddress', 'Task_ValidatePayment', 'Task_ValidateInvoice', ...SERVICE_TASKS]) {
      expect(count.get(`${id}|${el}|entered`), `${el} entered in ${o.externalId}`).toBe(1);
      expect(count.get(`${id}|${el}|left`), `${el} left in ${o.externalId}`).toBe(1);
    }
    expect(count.get(`${id}|Gateway_WaitForDelivery|entered`)).toBe(1);
  }
  for (const o of broken) {
    const id = instanceOf.get(o.id)!.id;
    expect(count.get(`${id}|Task_ValidateAddress|entered`)).toBe(1);
    expect(count.get(`${id}|Task_ValidateAddress|left`)).toBeUndefined();
    for (const el of SERVICE_TASKS) expect(count.get(`${id}|${el}|entered`)).toBeUndefined();
  }

  // Each order received once and each status change recorded once.
  const events = await db
    .selectFrom('order_events')
    .select(['order_id', 'kind', 'data'])
    .where('order_id', 'in', ids)
    .where('kind', 'in', ['received', 'status'])
    .execute();
  const byOrder = new Map<string, string[]>();
  for (const e of events) {
    const list = byOrder.get(e.order_id) ?? [];
    list.push(e.kind === 'received' ? 'received' : `${(e.data as { from: string }).from}->${(e.data as { to: string }).to}`);
    byOrder.set(e.order_id, list);
  }
  for (const o of orders) {
    const expected = o.broken ? ['received', 'received->on_hold'] : ['received', 'received->in_progress', 'in_progress->released'];
    expect([...(byOrder.get(o.id) ?? [])].sort(), `order events of ${o.externalId}`).toEqual([...expected].sort());
  }
}

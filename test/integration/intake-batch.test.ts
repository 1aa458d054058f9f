import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * Intake's group commit (src/runtime/intake.ts): concurrent orders share transactions, and each caller
 * still gets exactly the answer a lone POST would have given.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ deployDefaults: true });
});
afterAll(async () => {
  await t?.close();
});

describe('intake in shared transactions', () => {
  it('answers each of many concurrent orders as alone: created, a resend existing, a changed resend a conflict, in fewer transactions', async () => {
    const stamp = Date.now();
    const orders = Array.from({ length: 40 }, (_, i) => validOrder({ externalId: `BATCH-${stamp}-${i}` }));
    const held = validOrder({ externalId: `BATCH-${stamp}-held` });
    held.customer.phone = null;
    const changed = { ...orders[3]!, notes: 'sent again with a change' };
    const calls = [...orders, held, orders[1]!, changed].map((o) => t.runtime.receive(structuredClone(o), 'test'));
    const results = await Promise.all(calls);

    expect(results.slice(0, 40).every((r) => r.outcome === 'created')).toBe(true);
    // Started at intake, or (a batch that failed under load, retried alone) queued for a worker: never lost.
    expect(results.slice(0, 40).every((r) => r.order.status === 'released' || r.order.status === 'received')).toBe(true);
    expect(results[40]!.outcome).toBe('created');
    expect(['on_hold', 'received']).toContain(results[40]!.order.status);
    expect(results[41]!.outcome).toBe('existing');
    expect(results[41]!.order.id).toBe(results[1]!.order.id);
    expect(results[42]!.outcome).toBe('conflict');
    expect(results[42]!.order.id).toBe(results[3]!.order.id);
    // Each order exactly once, with one instance and one "received" event.
    const ids = results.slice(0, 41).map((r) => r.order.id);
    expect(new Set(ids).size).toBe(41);
    const instances = await t.database.db.selectFrom('process_instances').select('order_id').where('order_id', 'in', ids).execute();
    expect(instances.length).toBe(41);
    const received = await t.database.db.selectFrom('order_events').select('order_id').where('order_id', 'in', ids).where('kind', '=', 'received').execute();
    expect(received.length).toBe(41);
    const stats = t.runtime.intakeStats();
    expect(stats.largest).toBeGreaterThan(1);
    expect(stats.batches).toBeLessThan(43);
  });

  it('fails an order PostgreSQL refuses on its own, and receives the others of its batch', async () => {
    const stamp = Date.now();
    const good = Array.from({ length: 12 }, (_, i) => validOrder({ externalId: `ALONE-${stamp}-${i}` }));
    // A NUL character is valid JSON but no PostgreSQL text: the whole batch statement fails on it.
    const bad = validOrder({ externalId: `ALONE-${stamp}-\u0000` });
    const settled = await Promise.allSettled([...good.slice(0, 6), bad, ...good.slice(6)].map((o) => t.runtime.receive(o, 'test')));
    expect(settled[6]!.status).toBe('rejected');
    const fulfilled = settled.filter((s) => s.status === 'fulfilled');
    expect(fulfilled.length).toBe(12);
    const stored = await t.database.db.selectFrom('orders').select('external_id').where('external_id', 'like', `ALONE-${stamp}-%`).execute();
    expect(stored.length).toBe(12);
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
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
    const before = { ...t.runtime.intakeStats() };
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
    // All 43 arrived in one event-loop turn: shared out over the two intake transactions (22 + 21), not
    // the first one or two alone and the rest in a third.
    const stats = t.runtime.intakeStats();
    expect(stats.batches - before.batches).toBe(2);
    expect(stats.largest).toBe(22);
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

  it('starts new orders on the latest executable version of the lifecycle, as the intake statement read it', async () => {
    const deploy = (xml: string) => t.http.post('/api/v1/processes').set('authorization', `Bearer ${t.token}`).set('content-type', 'application/xml').send(xml);
    const original = await readFile(path.join(import.meta.dirname, '..', '..', 'processes', 'order-lifecycle.bpmn'), 'utf8');
    const versionOf = async (orderId: string) =>
      (await t.database.db.selectFrom('process_instances').select('version').where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow()).version;
    const receiveSome = async (tag: string) => {
      const stamp = Date.now();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => t.runtime.receive(validOrder({ externalId: `VERSION-${tag}-${stamp}-${i}` }), 'test')));
      return Promise.all(results.map((r) => versionOf(r.order.id)));
    };
    const before = new Set(await receiveSome('a'));
    expect(before.size).toBe(1);
    const [current] = [...before];
    // A changed diagram is a new version; the very next orders start on it, in batches and alone.
    const changed = await deploy(original.replace('name="Validate address"', 'name="Validate the address"'));
    expect(changed.status).toBe(201);
    expect(new Set(await receiveSome('b'))).toEqual(new Set([current! + 1]));
    const alone = await t.runtime.receive(validOrder({ externalId: `VERSION-c-${Date.now()}` }), 'test');
    expect(await versionOf(alone.order.id)).toBe(current! + 1);
    // Back to the original text: a version again, and the one new orders take.
    expect((await deploy(original)).status).toBe(201);
    expect(new Set(await receiveSome('d'))).toEqual(new Set([current! + 2]));
  });
});

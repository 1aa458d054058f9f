import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * Orders and process instances get time-ordered ids (UUID version 7, src/db/ids.ts), so the indexes
 * keyed by them grow at one end instead of taking each insert on a random page. Both intake paths: the
 * one that writes a new order with its lifecycle's first step, and the one that asks first (no
 * lifecycle deployed, a resend in the batch).
 */
let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let n = 0;
const nextId = () => `V7-${++n}-${Date.now()}`;

/** Receives `rounds` batches of `size` orders, one batch after another: the order ids of each batch. */
async function receiveInRounds(app: TestApp, rounds: number, size: number): Promise<string[][]> {
  const batches: string[][] = [];
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(Array.from({ length: size }, () => app.runtime.receive(validOrder({ externalId: nextId() }), 'channel:test')));
    expect(results.every((x) => x.outcome === 'created')).toBe(true);
    batches.push(results.map((x) => x.order.id));
  }
  return batches;
}

/** Every id of each group sorts after every id of the groups before it (within a group, any order). */
function expectGroupsAscending(groups: readonly (readonly string[])[]): void {
  for (let i = 1; i < groups.length; i++) {
    const lastBefore = [...groups[i - 1]!].sort().at(-1)!;
    const firstNow = [...groups[i]!].sort()[0]!;
    expect(firstNow > lastBefore, `group ${i}: ${firstNow} after ${lastBefore}`).toBe(true);
  }
}

describe('ids of new orders and instances', () => {
  it('are version 7 and sort in the order the orders came in, their instances too (intake with the lifecycle)', async () => {
    t = await createTestApp({ deployDefaults: true });
    const batches = await receiveInRounds(t, 6, 5);
    const ids = batches.flat();
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expectGroupsAscending(batches);

    const instances = await t.database.db.selectFrom('process_instances').select(['id', 'order_id']).where('order_id', 'in', ids).execute();
    expect(instances).toHaveLength(ids.length);
    expect(instances.every((i) => UUID_V7.test(i.id))).toBe(true);
    const instanceOf = new Map(instances.map((i) => [i.order_id!, i.id]));
    expectGroupsAscending(batches.map((batch) => batch.map((id) => instanceOf.get(id)!)));
  });

  it('are version 7 and in arrival order when intake asks first (no lifecycle; a resend in the batch)', async () => {
    t = await createTestApp({ deployDefaults: false });
    const first = validOrder({ externalId: nextId() });
    const stored = await t.runtime.receive(first, 'channel:test');
    const results = await Promise.all([
      t.runtime.receive(validOrder({ externalId: nextId() }), 'channel:test'),
      t.runtime.receive(first, 'channel:test'),
      t.runtime.receive(validOrder({ externalId: nextId() }), 'channel:test'),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'existing', 'created']);
    expect(results[1]!.order.id).toBe(stored.order.id);
    const groups = [[stored.order.id], [results[0]!.order.id, results[2]!.order.id], ...(await receiveInRounds(t, 3, 4))];
    expect(groups.flat().every((id) => UUID_V7.test(id))).toBe(true);
    expectGroupsAscending(groups);
  });
});

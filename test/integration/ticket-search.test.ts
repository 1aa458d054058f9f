import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { validOrder } from '../fixtures/orders.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { eventually } from './engine/helpers.ts';

/**
 * Searching the ticket queue finds a ticket by its title and by its order's number, customer name and
 * e-mail, as they are now: an operator's fix to the customer's name is found at once.
 */
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
});
afterAll(async () => {
  await t?.close();
});

async function search(q: string): Promise<string[]> {
  const res = await t.http.get(`/api/v1/tickets?q=${encodeURIComponent(q)}`).set('authorization', `Bearer ${t.token}`);
  expect(res.status).toBe(200);
  return (res.body.items as Array<{ id: string }>).map((i) => i.id);
}

describe('ticket search', () => {
  it("finds tickets by title, order number, customer name and e-mail, after the customer's name changed too", async () => {
    const stamp = Date.now();
    const order: Order = structuredClone(validOrder({ externalId: `SRCH-${stamp}` }));
    order.customer = { name: `Zyxwv Oldname${stamp}`, email: `zyxwv${stamp}@example.com`, phone: null };
    const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(order);
    expect(res.status).toBe(201);
    const orderId = res.body.id as string;
    const ticket = await eventually(
      () => t.database.db.selectFrom('tickets').select(['id', 'title']).where('order_id', '=', orderId).executeTakeFirst(),
      (r) => !!r,
      20_000,
    );
    const id = String(ticket!.id);
    expect(await search(`SRCH-${stamp}`)).toEqual([id]);
    expect(await search(`oldname${stamp}`)).toEqual([id]);
    expect(await search(`zyxwv${stamp}@example`)).toEqual([id]);
    expect(await search(ticket!.title)).toContain(id);
    // Text spanning the title and the order's number matches neither.
    expect(await search(`${ticket!.title.slice(-4)}SRCH-${stamp}`)).toEqual([]);

    // The phone is still missing, so the ticket stays open with the order's new name.
    const patched = await t.http.patch(`/api/v1/orders/${orderId}`).set('authorization', `Bearer ${t.token}`).send({ customer: { name: `Qwerty Newname${stamp}` } });
    expect(patched.status).toBe(200);
    expect(await search(`newname${stamp}`)).toEqual([id]);
    expect(await search(`oldname${stamp}`)).toEqual([]);
  });
});

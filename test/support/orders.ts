import { expect } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { eventually } from '../integration/engine/helpers.ts';
import type { TestApp } from './app.ts';

/** An order sent in through the API with the test app's token; its id (the answer must be 201). */
export async function postOrder(t: TestApp, order: Order): Promise<string> {
  const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(order);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** The open ticket of an order, once the lifecycle has opened it. */
export async function openTicketOf(t: TestApp, orderId: string): Promise<string> {
  const row = await eventually(
    () => t.database.db.selectFrom('tickets').select('id').where('order_id', '=', orderId).where('status', 'in', ['open', 'in_progress']).executeTakeFirst(),
    (r) => !!r,
    20_000,
  );
  return String(row!.id);
}

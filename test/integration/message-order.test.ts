import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { deploy, eventually, startProcess } from './engine/helpers.ts';

/**
 * Issue 9: messages out of order. SPEC §7: a message is correlated to whatever instance waits for it by
 * name and business key, and answers 404 when none does. So a message that arrives before its catch
 * event is reached is refused with 404 and changes nothing (no state, no history, no recorded messageId),
 * and the sender's next delivery of it, once the instance waits there, goes through.
 */

/** Packed, then shipped: two messages that must be taken in that order. */
const TWO_MESSAGES = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-two-messages" targetNamespace="urn:test">
  <bpmn:message id="msg-packed" name="parcel-packed" />
  <bpmn:message id="msg-shipped" name="parcel-shipped" />
  <bpmn:process id="two-messages" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="packed" />
    <bpmn:receiveTask id="packed" name="Wait until packed" messageRef="msg-packed" />
    <bpmn:sequenceFlow id="f2" sourceRef="packed" targetRef="shipped" />
    <bpmn:intermediateCatchEvent id="shipped" name="Shipped">
      <bpmn:messageEventDefinition messageRef="msg-shipped" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="shipped" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

let t: TestApp;
let n = 0;
const auth = () => ({ authorization: `Bearer ${t.token}` });

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true, config: { paymentTimeout: 'PT1H' } });
  expect((await deploy(t, TWO_MESSAGES)).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

/** Everything a message could change about an instance, to compare before and after a refused one. */
async function footprint(instanceId: string) {
  const db = t.database.db;
  const instance = await db.selectFrom('process_instances').select(['status', 'revision', 'waiting_at', 'state', 'updated_at']).where('id', '=', instanceId).executeTakeFirstOrThrow();
  const history = await db.selectFrom('instance_history').select('id').where('instance_id', '=', instanceId).execute();
  return { instance, history: history.length };
}

async function received(messageId: string) {
  return t.database.db.selectFrom('received_messages').select(['message_id', 'instance_id']).where('message_id', '=', messageId).execute();
}

async function entered(instanceId: string, elementId: string) {
  const rows = await t.database.db.selectFrom('instance_history').select('id').where('instance_id', '=', instanceId).where('element_id', '=', elementId).where('event', '=', 'entered').execute();
  return rows.length;
}

const send = (name: string, businessKey: string, messageId: string, variables: Record<string, unknown> = {}) =>
  t.http.post('/api/v1/messages').set(auth()).send({ name, businessKey, messageId, variables }).then((r) => r);

describe('a message that arrives before the instance waits for it', () => {
  it('is refused with 404 and changes nothing; sent again once the instance waits there, it goes through', async () => {
    const key = `PARCEL-${++n}`;
    const started = await startProcess(t, 'two-messages', {}, key);
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    const before = await footprint(id);

    const early = await send('parcel-shipped', key, `${key}-shipped`, { tracking: 'TRK-1' });
    expect(early.status).toBe(404);
    expect(early.headers['content-type']).toMatch(/problem\+json/);
    expect(early.body.detail).toMatch(/No instance waits for the message "parcel-shipped" with business key PARCEL-/);
    expect(await footprint(id)).toEqual(before);
    // Not recorded as received: its messageId is still free for the delivery that counts.
    expect(await received(`${key}-shipped`)).toEqual([]);

    const packed = await send('parcel-packed', key, `${key}-packed`, { box: 'B-7' });
    expect(packed.status).toBe(200);
    expect(packed.body).toEqual({ outcome: 'delivered', instanceId: id });

    const shipped = await send('parcel-shipped', key, `${key}-shipped`, { tracking: 'TRK-1' });
    expect(shipped.status).toBe(200);
    expect(shipped.body).toEqual({ outcome: 'delivered', instanceId: id });
    const again = await send('parcel-shipped', key, `${key}-shipped`, { tracking: 'TRK-2' });
    expect(again.body).toEqual({ outcome: 'duplicate', instanceId: id });

    const done = await t.database.db.selectFrom('process_instances').select(['status', 'state']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(done.status).toBe('completed');
    expect((done.state as { variables: Record<string, unknown> }).variables).toMatchObject({ box: 'B-7', tracking: 'TRK-1' });
    for (const element of ['packed', 'shipped', 'end']) expect(await entered(id, element), element).toBe(1);
  });

  it('given the two messages of ten parcels sent in reverse order at once, by senders that retry on 404, then each is taken once, in the diagram order', async () => {
    const keys = Array.from({ length: 10 }, () => `PARCEL-${++n}`);
    const ids = await Promise.all(keys.map(async (key) => (await startProcess(t, 'two-messages', {}, key)).body.id as string));
    const statuses: number[] = [];
    /** A channel that sends until it gets an answer other than 404, as the 404 invites it to. */
    const deliver = async (name: string, key: string) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const res = await send(name, key, `${key}-${name}`);
        statuses.push(res.status);
        if (res.status !== 404) return res;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`${name} for ${key} was never taken`);
    };
    const answers = await Promise.all(keys.flatMap((key) => [deliver('parcel-shipped', key), deliver('parcel-packed', key)]));
    expect(statuses.every((s) => s === 200 || s === 404)).toBe(true);
    // Some shipments did arrive first (else the race was not run).
    expect(statuses).toContain(404);
    expect(answers.every((a) => a.status === 200 && a.body.outcome === 'delivered')).toBe(true);
    for (const [i, id] of ids.entries()) {
      expect((await t.database.db.selectFrom('process_instances').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('completed');
      for (const element of ['packed', 'shipped', 'end']) expect(await entered(id, element), `${keys[i]} ${element}`).toBe(1);
      for (const name of ['parcel-packed', 'parcel-shipped']) expect(await received(`${keys[i]}-${name}`)).toEqual([{ message_id: `${keys[i]}-${name}`, instance_id: id }]);
    }
  });
});

describe("an order's lifecycle receiving its messages out of order", () => {
  async function awaitingPayment(): Promise<{ orderId: string; instanceId: string }> {
    const order: Order = structuredClone(validOrder({ externalId: `MSG-ORDER-${++n}-${Date.now()}` }));
    order.payment = { ...order.payment, method: 'bank_transfer', status: 'pending' };
    const res = await t.http.post('/api/v1/orders').set(auth()).send(order);
    expect(res.status).toBe(201);
    const orderId = res.body.id as string;
    await eventually(() => t.http.get(`/api/v1/orders/${orderId}`).set(auth()).then((r) => r.body.status), (s) => s === 'awaiting_payment', 20_000);
    const instance = await t.database.db.selectFrom('process_instances').select('id').where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow();
    return { orderId, instanceId: instance.id };
  }
  const orderMessage = (orderId: string, name: string, messageId: string, variables: Record<string, unknown> = {}) =>
    t.http.post(`/api/v1/orders/${orderId}/messages`).set(auth()).send({ name, messageId, variables }).then((r) => r);
  const orderRow = (orderId: string) => t.database.db.selectFrom('orders').select(['status', 'data', 'revision']).where('id', '=', orderId).executeTakeFirstOrThrow();
  const orderEvents = (orderId: string) => t.database.db.selectFrom('order_events').select(['kind']).where('order_id', '=', orderId).execute();

  it('order-delivered before payment-confirmed: 404 and nothing changes; after the payment it completes the order', async () => {
    const { orderId, instanceId } = await awaitingPayment();
    const [instanceBefore, orderBefore, eventsBefore] = await Promise.all([footprint(instanceId), orderRow(orderId), orderEvents(orderId)]);

    const early = await orderMessage(orderId, 'order-delivered', `${orderId}-delivered`);
    expect(early.status).toBe(404);
    expect(await footprint(instanceId)).toEqual(instanceBefore);
    expect(await orderRow(orderId)).toEqual(orderBefore);
    expect(await orderEvents(orderId)).toEqual(eventsBefore);
    expect(await received(`${orderId}-delivered`)).toEqual([]);

    const paid = await orderMessage(orderId, 'payment-confirmed', `${orderId}-paid`, { payment: { reference: 'TRANSFER-7' } });
    expect(paid.body).toEqual({ outcome: 'delivered', instanceId });
    await eventually(() => orderRow(orderId), (o) => o.status === 'released', 20_000);

    const delivered = await orderMessage(orderId, 'order-delivered', `${orderId}-delivered`);
    expect(delivered.body).toEqual({ outcome: 'delivered', instanceId });
    expect((await orderRow(orderId)).status).toBe('completed');
    // A payment confirmation arriving late, after the order was completed, finds nobody waiting.
    const late = await orderMessage(orderId, 'payment-confirmed', `${orderId}-paid-again`);
    expect(late.status).toBe(404);
    expect((await orderRow(orderId)).status).toBe('completed');
    expect(await entered(instanceId, 'Task_RecordPayment')).toBe(1);
    const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', orderId).orderBy('job').execute();
    expect(effects.map((e) => e.job)).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
  });

  it('a payment confirmation that arrives after the order was cancelled: 404, the order stays cancelled, nothing is reserved', async () => {
    const { orderId, instanceId } = await awaitingPayment();
    const cancelled = await orderMessage(orderId, 'order-cancelled', `${orderId}-cancelled`, { reason: 'customer withdrew' });
    expect(cancelled.status).toBe(200);
    expect((await orderRow(orderId)).status).toBe('cancelled');
    const before = await footprint(instanceId);

    const late = await orderMessage(orderId, 'payment-confirmed', `${orderId}-paid`);
    expect(late.status).toBe(404);
    expect(await footprint(instanceId)).toEqual(before);
    expect((await orderRow(orderId)).status).toBe('cancelled');
    expect(await entered(instanceId, 'Task_RecordPayment')).toBe(0);
    expect(await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', orderId).execute()).toEqual([]);
  });
});

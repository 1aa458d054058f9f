import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { eventually } from './engine/helpers.ts';

/**
 * The default lifecycle end to end over HTTP, on a real PostgreSQL with real pg-boss workers: orders in,
 * tickets out, fixes and retries, payments, cancellations.
 */
let t: TestApp;
let n = 0;
beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true, config: { paymentTimeout: 'PT2S', approvalThreshold: '10000.00' } });
});
afterAll(async () => {
  await t?.close();
});

const auth = () => ({ authorization: `Bearer ${t.token}` });
const nextId = () => `LC-${++n}-${Date.now()}`;

async function post(order: Order) {
  const res = await t.http.post('/api/v1/orders').set(auth()).send(order);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}
async function getOrder(id: string) {
  return (await t.http.get(`/api/v1/orders/${id}`).set(auth())).body;
}
async function settled(id: string, status: string | ((s: string) => boolean)) {
  const ok = typeof status === 'string' ? (s: string) => s === status : status;
  return eventually(() => getOrder(id), (o) => ok(o.status), 20_000);
}

function broken(mutate: (o: Order) => void, overrides: Partial<Order> = {}): Order {
  const o = structuredClone(validOrder({ externalId: nextId(), ...overrides }));
  mutate(o);
  return o;
}

describe('the order lifecycle', () => {
  it('releases a clean order to fulfilment with no ticket, having reserved stock and handed it over once', async () => {
    const id = await post(validOrder({ externalId: nextId() }));
    const order = await settled(id, 'released');
    expect(order.tickets).toEqual([]);
    expect(order.activeSteps.length).toBe(1);
    const effects = await t.database.db.selectFrom('job_effects').select('job').where('order_id', '=', id).orderBy('job').execute();
    expect(effects.map((e) => e.job)).toEqual(['hand-over-to-fulfilment', 'reserve-stock']);
    // Delivered: the lifecycle completes.
    const delivered = await t.http.post(`/api/v1/orders/${id}/messages`).set(auth()).send({ name: 'order-delivered' });
    expect(delivered.status).toBe(200);
    expect((await getOrder(id)).status).toBe('completed');
  });

  it('answers a new order with the tickets its first step opened and where it waits, as GET shows them', async () => {
    const held = await t.http.post('/api/v1/orders').set(auth()).send(broken((o) => (o.customer.phone = null)));
    expect(held.status).toBe(201);
    expect(held.body.status).toBe('on_hold');
    expect(held.body.tickets).toHaveLength(1);
    expect(held.body.tickets[0]).toMatchObject({ orderId: held.body.id, kind: 'validation', status: 'open', issues: [expect.objectContaining({ code: 'PHONE_MISSING' })] });
    expect(held.body.activeSteps).toHaveLength(1);
    const got = await getOrder(held.body.id);
    expect(held.body.tickets).toEqual(got.tickets);
    expect(held.body.activeSteps).toEqual(got.activeSteps);

    const clean = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: nextId() }));
    expect(clean.body).toMatchObject({ status: 'released', tickets: [] });
    expect(clean.body.activeSteps).toEqual((await getOrder(clean.body.id)).activeSteps);
    expect(clean.body.activeSteps).toHaveLength(1);

    // Sent again: the same answer, from the database.
    const again = await t.http.post('/api/v1/orders').set(auth()).send(held.body.data);
    expect(again.status).toBe(200);
    expect(again.body.tickets).toEqual(got.tickets);
    expect(again.body.activeSteps).toEqual(got.activeSteps);
  });

  const cases: Array<[string, string, (o: Order) => void, Partial<Order>?]> = [
    ['ADDRESS_MISSING', 'shippingAddress', (o) => (o.shippingAddress = null)],
    ['STREET_MISSING', 'shippingAddress.street', (o) => (o.shippingAddress!.street = '  ')],
    ['CITY_MISSING', 'shippingAddress.city', (o) => (o.shippingAddress!.city = null)],
    ['POSTAL_CODE_INVALID', 'shippingAddress.postalCode', (o) => (o.shippingAddress!.postalCode = '00838X')],
    ['COUNTRY_UNSUPPORTED', 'shippingAddress.country', (o) => (o.shippingAddress!.country = 'ZZ')],
    ['PHONE_MISSING', 'customer.phone', (o) => (o.customer.phone = null)],
    ['PHONE_INVALID', 'customer.phone', (o) => (o.customer.phone = '+49 30 901820')],
    ['LOCKER_MISSING', 'delivery.lockerId', (o) => (o.delivery = { method: 'parcel_locker', lockerId: null, storeId: null })],
    ['STORE_MISSING', 'delivery.storeId', (o) => (o.delivery = { method: 'pickup_in_store', lockerId: null, storeId: '' })],
    ['EMAIL_INVALID', 'customer.email', (o) => (o.customer.email = 'anna@@example')],
    ['PAYMENT_FAILED', 'payment.status', (o) => (o.payment.status = 'failed')],
    ['AMOUNT_MISMATCH', 'payment.amount', (o) => (o.payment.amount = '100.00')],
    ['CURRENCY_MISMATCH', 'payment.currency', (o) => (o.payment.currency = 'EUR')],
    ['TOTALS_INCONSISTENT', 'totals.grandTotal', (o) => ((o.totals.grandTotal = '120.00'), (o.payment.amount = '120.00'))],
    ['COD_NOT_ALLOWED', 'payment.method', (o) => ((o.payment.method = 'cod'), (o.payment.status = 'pending'), (o.delivery = { method: 'parcel_locker', lockerId: 'WAW01M', storeId: null }))],
    ['INVOICE_COMPANY_MISSING', 'invoice.companyName', (o) => (o.invoice!.companyName = null)],
    ['TAX_ID_MISSING', 'invoice.taxId', (o) => (o.invoice!.taxId = '')],
    ['TAX_ID_INVALID', 'invoice.taxId', (o) => (o.invoice!.taxId = 'PL5260250275')],
    ['INVOICE_ADDRESS_INCOMPLETE', 'invoice.address', (o) => (o.invoice!.address = { street: 'ul. Prosta 51', postalCode: null, city: null, country: 'PL' })],
  ];

  it.each(cases)('turns %s into an open ticket on hold, with its instructions filled from the order', async (code, field, mutate) => {
    const id = await post(broken(mutate));
    const order = await settled(id, 'on_hold');
    expect(order.tickets).toHaveLength(1);
    const ticket = order.tickets[0];
    expect(ticket).toMatchObject({ kind: 'validation', status: 'open', orderId: id });
    expect(ticket.issues.map((i: { code: string }) => i.code)).toContain(code);
    const issue = ticket.issues.find((i: { code: string }) => i.code === code);
    expect(issue.field.startsWith(field) || field.startsWith(issue.field)).toBe(true);
    expect(issue.message.length).toBeGreaterThan(10);
    expect(ticket.instructions.length).toBeGreaterThanOrEqual(2);
    // Instructions are written for this order: no placeholder left, and the order's own data in them.
    expect(ticket.instructions.join('\n')).not.toMatch(/\{\{|\}\}/);
    expect(ticket.instructions.join('\n')).toMatch(/Anna|Nowak|WS-|LC-|anna@|Warszawa|PL|114\.90/);
    expect(ticket.title.length).toBeGreaterThan(3);
  });

  it('fix then retry: patching the phone re-runs the step at once and the order is released', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    const held = await settled(id, 'on_hold');
    const patch = await t.http.patch(`/api/v1/orders/${id}`).set(auth()).set('x-reason', 'customer confirmed by e-mail').send({ customer: { phone: '+48 601 234 567' } });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    expect(patch.body.retried[0]).toMatchObject({ id: held.tickets[0].id, status: 'resolved' });
    const released = await settled(id, 'released');
    expect(released.data.customer.phone).toBe('+48 601 234 567');
    expect(released.tickets[0].status).toBe('resolved');
    const audit = await t.database.db.selectFrom('order_events').select(['kind', 'actor', 'data']).where('order_id', '=', id).where('kind', '=', 'patched').executeTakeFirstOrThrow();
    expect(audit.actor).toMatch(/^user:/);
    expect(audit.data).toMatchObject({ reason: 'customer confirmed by e-mail', changes: [{ path: 'customer.phone', before: null, after: '+48 601 234 567' }] });
  });

  it('a wrong fix keeps the order on hold, with the remaining issue on the same ticket, and says so', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    const held = await settled(id, 'on_hold');
    const ticketId = held.tickets[0].id;
    const res = await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { phone: '+49 30 901820' } } });
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('still_failing');
    expect(res.body.message).toMatch(/still fails/);
    expect(res.body.ticket.issues.map((i: { code: string }) => i.code)).toEqual(['PHONE_INVALID']);
    const order = await getOrder(id);
    expect(order.status).toBe('on_hold');
    expect(order.tickets).toHaveLength(1);
    expect(order.tickets[0].id).toBe(ticketId);
  });

  it('a bad NIP: ticket in the invoice queue, fixed with a valid tax id, released', async () => {
    const id = await post(broken((o) => (o.invoice!.taxId = 'PL5260250275')));
    const held = await settled(id, 'on_hold');
    expect(held.tickets[0].queue).toBe('invoice');
    const res = await t.http.post(`/api/v1/tickets/${held.tickets[0].id}/retry`).set(auth()).send({ patch: { invoice: { taxId: 'PL5260250274' } } });
    expect(res.body.result).toBe('resolved');
    await settled(id, 'released');
  });

  it('a failed payment: ticket, then the payment fixed and retried, released', async () => {
    const id = await post(broken((o) => (o.payment.status = 'failed')));
    const held = await settled(id, 'on_hold');
    expect(held.tickets[0].issues[0].code).toBe('PAYMENT_FAILED');
    const res = await t.http.post(`/api/v1/tickets/${held.tickets[0].id}/retry`).set(auth()).send({ patch: { payment: { status: 'paid', reference: 'ch_retry_1' } } });
    expect(res.body.result).toBe('resolved');
    await settled(id, 'released');
  });

  it('a pending bank transfer waits (awaiting payment) and moves on when payment-confirmed arrives', async () => {
    const id = await post(broken((o) => ((o.payment.method = 'bank_transfer'), (o.payment.status = 'pending'))));
    const waiting = await settled(id, 'awaiting_payment');
    expect(waiting.tickets).toEqual([]);
    const res = await t.http.post(`/api/v1/orders/${id}/messages`).set(auth()).send({ name: 'payment-confirmed', messageId: `pay-${id}`, variables: { payment: { reference: 'TRANSFER-42' } } });
    expect(res.status).toBe(200);
    const released = await settled(id, 'released');
    expect(released.data.payment.status).toBe('paid');

    // The same id again is a redelivery; on another message or another order it is the sender's mistake.
    const again = await t.http.post(`/api/v1/orders/${id}/messages`).set(auth()).send({ name: 'payment-confirmed', messageId: `pay-${id}`, variables: { payment: { reference: 'TRANSFER-42' } } });
    expect(again.status).toBe(200);
    const other = await post(broken((o) => ((o.payment.method = 'bank_transfer'), (o.payment.status = 'pending'))));
    await settled(other, 'awaiting_payment');
    for (const [orderId, name] of [
      [other, 'payment-confirmed'],
      [id, 'order-cancelled'],
    ] as const) {
      const reused = await t.http.post(`/api/v1/orders/${orderId}/messages`).set(auth()).send({ name, messageId: `pay-${id}` });
      expect(reused.status, name).toBe(409);
      expect(reused.body).toMatchObject({ code: 'CONFLICT', field: 'messageId' });
      expect(reused.body.detail).toContain('"payment-confirmed"');
    }
    expect((await getOrder(other)).status).toBe('awaiting_payment');
    expect((await getOrder(id)).status).toBe('released');
  });

  it('raises the payment-overdue ticket when no payment comes within the configured time', async () => {
    const id = await post(broken((o) => ((o.payment.method = 'blik'), (o.payment.status = 'pending'))));
    await settled(id, 'awaiting_payment');
    const held = await settled(id, 'on_hold');
    expect(held.tickets).toHaveLength(1);
    expect(held.tickets[0]).toMatchObject({ kind: 'manual', queue: 'payment', status: 'open' });
  });

  it('cancels an order with a reason: the lifecycle ends, its tickets are cancelled, further fixes are refused', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    const held = await settled(id, 'on_hold');
    const res = await t.http.post(`/api/v1/orders/${id}/cancel`).set(auth()).send({ reason: 'customer withdrew' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.tickets[0].status).toBe('cancelled');
    const retry = await t.http.post(`/api/v1/tickets/${held.tickets[0].id}/retry`).set(auth()).send({});
    expect(retry.status).toBe(409);
    expect(retry.body.detail).toMatch(/cancelled/);
    const again = await t.http.post(`/api/v1/orders/${id}/cancel`).set(auth()).send({ reason: 'twice' });
    expect(again.status).toBe(409);
  });

  it('an order-cancelled message ends the lifecycle from any wait', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    await settled(id, 'on_hold');
    const res = await t.http.post(`/api/v1/orders/${id}/messages`).set(auth()).send({ name: 'order-cancelled', variables: { reason: 'channel cancelled it' } });
    expect(res.status).toBe(200);
    expect((await getOrder(id)).status).toBe('cancelled');
  });

  it('of ten operators retrying one ticket at once exactly one wins; the others get 409', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    const held = await settled(id, 'on_hold');
    const ticketId = held.tickets[0].id;
    // RFC 7396's own media type is taken as well as application/json.
    const partial = await t.http.patch(`/api/v1/orders/${id}`).set(auth()).set('content-type', 'application/merge-patch+json').send(JSON.stringify({ customer: { email: 'anna.nowak@example.com' } }));
    expect(partial.status).toBe(200);
    expect(partial.body.data.customer.email).toBe('anna.nowak@example.com');
    // The ticket is still open (the phone is still missing); now everyone fixes it at the same moment.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { phone: '+48 601 234 567' } } })),
    );
    expect(results.filter((r) => r.status === 200 && r.body.result === 'resolved')).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(results.every((r) => r.status < 500)).toBe(true);
    await settled(id, 'released');
    const stock = await t.database.db.selectFrom('job_effects').select('key').where('order_id', '=', id).where('job', '=', 'reserve-stock').execute();
    expect(stock).toHaveLength(1);
  });

  it('asks for approval above the threshold; completing the manual ticket releases the order, missing fields are refused', async () => {
    const big = broken(
      (o) => {
        o.lines = [{ sku: 'TV-85', name: 'Television', quantity: 1, unitPrice: '12000.00', taxRate: '0.23' }];
        o.totals = { subtotal: '12000.00', shipping: '0.00', tax: '0.00', grandTotal: '12000.00' };
        o.payment.amount = '12000.00';
      },
    );
    const id = await post(big);
    const held = await settled(id, 'on_hold');
    const ticket = held.tickets[0];
    expect(ticket).toMatchObject({ kind: 'manual', queue: 'approval' });
    const missing = await t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(auth()).send({ variables: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0]).toMatchObject({ field: 'approved' });
    // No body at all is an empty one (the body is optional), answered the same way.
    const bare = await t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(auth());
    expect(bare.status).toBe(422);
    expect(bare.body.errors[0]).toMatchObject({ field: 'approved' });
    // A value for no field of the form is named, not dropped.
    const stray = await t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(auth()).send({ variables: { approved: true, approvedBy: 'me' } });
    expect(stray.status).toBe(422);
    expect(stray.body.errors).toEqual([expect.objectContaining({ field: 'approvedBy', message: expect.stringContaining('approved') })]);
    const retry = await t.http.post(`/api/v1/tickets/${ticket.id}/retry`).set(auth());
    expect(retry.status).toBe(422);
    expect(retry.body.reason).toBe('WRONG_KIND');
    const ok = await t.http.post(`/api/v1/tickets/${ticket.id}/complete`).set(auth()).send({ variables: { approved: true, note: 'known customer' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await settled(id, 'released');
  });

  it('dry-run answers whether a patch would pass, changing nothing', async () => {
    const id = await post(broken((o) => (o.shippingAddress!.postalCode = '00838')));
    const held = await settled(id, 'on_hold');
    const ticketId = held.tickets[0].id;
    const bad = await t.http.post(`/api/v1/tickets/${ticketId}/dry-run`).set(auth()).send({ patch: { shippingAddress: { postalCode: '0083' } } });
    expect(bad.body).toMatchObject({ passes: false });
    expect(bad.body.issues[0].code).toBe('POSTAL_CODE_INVALID');
    const good = await t.http.post(`/api/v1/tickets/${ticketId}/dry-run`).set(auth()).send({ patch: { shippingAddress: { postalCode: '00-838' } } });
    expect(good.body).toEqual({ passes: true, issues: [], shapeErrors: [] });
    const after = await getOrder(id);
    expect(after.data.shippingAddress.postalCode).toBe('00838');
    expect(after.tickets[0].status).toBe('open');
  });

  it('refuses a patch that would break the order shape or change its identity, changing nothing', async () => {
    const id = await post(broken((o) => (o.customer.phone = null)));
    await settled(id, 'on_hold');
    const res = await t.http.patch(`/api/v1/orders/${id}`).set(auth()).send({ lines: [], totals: { grandTotal: 12 } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['lines', 'totals.grandTotal']));
    const ident = await t.http.patch(`/api/v1/orders/${id}`).set(auth()).send({ externalId: 'OTHER' });
    expect(ident.status).toBe(400);
    const proto = await t.http.patch(`/api/v1/orders/${id}`).set(auth()).set('content-type', 'application/json').send('{"customer":{"__proto__":{"x":1}}}');
    expect(proto.status).toBe(400);
    expect(proto.body.field).toBe('customer.__proto__');
    expect((await getOrder(id)).data.lines).toHaveLength(1);
  });

  it('retries many tickets as a background job with progress, and lists tickets with counts', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => post(broken((o) => (o.customer.phone = null)))));
    const tickets = [];
    for (const id of ids) tickets.push((await settled(id, 'on_hold')).tickets[0].id);
    for (const id of ids) await t.database.db.updateTable('orders').set({ data: JSON.stringify({ ...(await getOrder(id)).data, customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: '+48 601 234 567' } }) }).where('id', '=', id).execute();
    // The instance still holds the old order; a plain retry re-runs with the order as stored.
    const list = await t.http.get('/api/v1/tickets?queue=address&code=PHONE_MISSING').set(auth());
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining(tickets));
    expect(list.body.counts.queues.find((q: { queue: string }) => q.queue === 'address').count).toBeGreaterThanOrEqual(3);
    const bulk = await t.http.post('/api/v1/tickets/bulk').set(auth()).send({ action: 'retry', ticketIds: tickets });
    expect(bulk.status).toBe(202);
    const done = await eventually(
      () => t.http.get(`/api/v1/tickets/bulk/${bulk.body.id}`).set(auth()).then((r) => r.body),
      (b) => b.status === 'done',
    );
    expect(done).toMatchObject({ total: 3, done: 3, succeeded: 3, failed: 0, percent: 100 });
    for (const id of ids) await settled(id, 'released');
  });
});

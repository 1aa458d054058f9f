import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const validate = (body: unknown) => t.http.post('/api/v1/orders/validate').set('authorization', `Bearer ${t.token}`).send(body as object);

describe('POST /api/v1/orders/validate', () => {
  it('answers valid for a clean order and stores nothing', async () => {
    const res = await validate(validOrder({ externalId: 'VAL-1' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true, issues: [] });
    expect(await t.database.db.selectFrom('orders').select('id').execute()).toEqual([]);
  });

  it('lists every issue with its check, code, field and message', async () => {
    const order = validOrder({ externalId: 'VAL-2', customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: '+49 30 901820' } });
    order.invoice!.taxId = 'PL5260250275';
    order.payment.amount = '100.00';
    const res = await validate(order);
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    const byCode = Object.fromEntries(res.body.issues.map((i: { code: string }) => [i.code, i]));
    expect(byCode.PHONE_INVALID).toMatchObject({ check: 'address', field: 'customer.phone' });
    expect(byCode.TAX_ID_INVALID).toMatchObject({ check: 'invoice', field: 'invoice.taxId' });
    expect(byCode.AMOUNT_MISMATCH).toMatchObject({ check: 'payment', field: 'payment.amount' });
    for (const i of res.body.issues) expect(i.message.length).toBeGreaterThan(10);
  });

  it('still answers shape errors with 400', async () => {
    const res = await validate({ ...validOrder(), lines: [] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('lines');
  });
});

describe('roles on the order and ticket API', () => {
  it('lets analysts read but not fix orders or work tickets', async () => {
    const analyst = await t.tokenFor('analyst');
    const created = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'VAL-ROLE' }));
    const id = created.body.id;
    expect((await t.http.get(`/api/v1/orders/${id}`).set('authorization', `Bearer ${analyst}`)).status).toBe(200);
    const patch = await t.http.patch(`/api/v1/orders/${id}`).set('authorization', `Bearer ${analyst}`).send({ customer: { phone: '+48 601 234 567' } });
    expect(patch.status).toBe(403);
    const cancel = await t.http.post(`/api/v1/orders/${id}/cancel`).set('authorization', `Bearer ${analyst}`).send({ reason: 'x' });
    expect(cancel.status).toBe(403);
    const retry = await t.http.post('/api/v1/tickets/1/retry').set('authorization', `Bearer ${analyst}`).send({});
    expect(retry.status).toBe(403);
    const operator = await t.tokenFor('operator');
    const deploy = await t.http.post('/api/v1/processes').set('authorization', `Bearer ${operator}`).set('content-type', 'application/xml').send('<x/>');
    expect(deploy.status).toBe(403);
  });
});

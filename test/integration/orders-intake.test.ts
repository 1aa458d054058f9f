import { sql } from 'kysely';
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

const post = (body: unknown, token = t.token) =>
  t.http.post('/api/v1/orders').set('authorization', `Bearer ${token}`).set('content-type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));

describe('POST /api/v1/orders', () => {
  it('stores a valid order and answers 201 with its id, status received and the original JSON', async () => {
    const order = validOrder({ externalId: 'INTAKE-1' });
    const res = await post(order);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/orders/${res.body.id}`);
    expect(res.body).toMatchObject({ channel: 'webshop', externalId: 'INTAKE-1', status: 'received', data: order });
    const row = await t.database.db.selectFrom('orders').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.grand_total_minor).toBe('11490');
    expect(row.country).toBe('PL');
    expect(row.data).toEqual(order);
  });

  it('keeps money exactly as sent (decimal strings, no float rounding)', async () => {
    const order = validOrder({
      externalId: 'INTAKE-MONEY',
      lines: [
        { sku: 'A', quantity: 3, unitPrice: '0.10' },
        { sku: 'B', quantity: 1, unitPrice: '0.20' },
      ],
      totals: { subtotal: '0.50', shipping: '0', tax: '0.00', grandTotal: '0.50' },
      payment: { method: 'card', status: 'paid', amount: '0.50', currency: 'PLN' },
    });
    const res = await post(order);
    expect(res.status).toBe(201);
    expect(res.body.data.totals.grandTotal).toBe('0.50');
    const row = await t.database.db.selectFrom('orders').select('grand_total_minor').where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.grand_total_minor).toBe('50');
  });

  it('answers 200 with the same order when the same body is sent again, and 409 for another body under the same key', async () => {
    const order = validOrder({ externalId: 'INTAKE-DUP' });
    const first = await post(order);
    // Same content, keys in another order and other spacing: still the same order.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(order).reverse()), null, 2);
    const again = await post(reordered);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    const changed = await post({ ...order, currency: 'EUR' });
    expect(changed.status).toBe(409);
    expect(changed.headers['content-type']).toContain('application/problem+json');
    expect(changed.body).toMatchObject({ status: 409, code: 'CONFLICT', orderId: first.body.id });
    const count = await t.database.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('external_id', '=', 'INTAKE-DUP').executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('creates exactly one order under 20 concurrent identical POSTs, never a 500', async () => {
    const order = validOrder({ externalId: 'INTAKE-RACE' });
    const results = await Promise.all(Array.from({ length: 20 }, () => post(order)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const events = await t.database.db.selectFrom('order_events').select('id').where('order_id', '=', results[0]!.body.id).where('kind', '=', 'received').execute();
    expect(events).toHaveLength(1);
  });

  it('lists every shape error at once, with field paths, as problem+json', async () => {
    const bad = {
      ...validOrder({ externalId: 'INTAKE-BAD' }),
      currency: 'zł',
      delivery: { method: 'drone' },
      lines: [{ sku: 'X', quantity: 0, unitPrice: 12.5 }],
      totals: { subtotal: '1.234', shipping: '0', tax: '0', grandTotal: '1' },
      extra: true,
    } as unknown;
    const res = await post(bad);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['currency', 'delivery.method', 'lines[0].quantity', 'lines[0].unitPrice', 'totals.subtotal', 'extra']));
    const method = res.body.errors.find((e: { field: string }) => e.field === 'delivery.method');
    expect(method.message).toMatch(/courier, parcel_locker, pickup_in_store, digital/);
    const stored = await t.database.db.selectFrom('orders').select('id').where('external_id', '=', 'INTAKE-BAD').execute();
    expect(stored).toHaveLength(0);
  });

  it('refuses an order without lines and names the missing fields', async () => {
    const { lines: _lines, payment: _payment, ...rest } = validOrder({ externalId: 'INTAKE-NOLINES' });
    const res = await post(rest);
    expect(res.status).toBe(400);
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['lines', 'payment']));
    const empty = await post({ ...validOrder({ externalId: 'INTAKE-EMPTY' }), lines: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0]).toMatchObject({ field: 'lines' });
  });

  it('accepts business-rule breaks (missing phone, bad postal code): they become tickets, not 400s', async () => {
    const order = validOrder({ externalId: 'INTAKE-RULES', customer: { name: 'Anna', email: null, phone: null } });
    order.shippingAddress = { ...order.shippingAddress!, postalCode: '12345' };
    const res = await post(order);
    expect(res.status).toBe(201);
  });

  it('answers malformed JSON with 400 problem+json saying why, and no stack trace', async () => {
    const res = await post('{"channel": "webshop", ');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
    expect(res.body.detail).toMatch(/^The body could not be parsed as JSON: .*(end of JSON input|Expected)/i);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    const token = await post('{"channel": tru}');
    expect(token.body.detail).toMatch(/Unexpected token/);
    const empty = await post('  ');
    expect(empty.status).toBe(400);
    expect(empty.body.detail).toBe('The body is empty; send the JSON document.');
  });

  it('refuses prototype-pollution keys, naming where they are', async () => {
    const res = await post('{"__proto__": {"admin": true}, "channel": "webshop"}');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MALFORMED_JSON');
    expect(res.body.field).toBe('__proto__');
    const nested = await post('{"channel": "webshop", "lines": [{"sku": "A"}, {"constructor": {"prototype": {"x": 1}}}]}');
    expect(nested.status).toBe(400);
    expect(nested.body.field).toBe('lines[1].constructor.prototype');
    expect(nested.body.detail).toContain('forbidden key at lines[1].constructor.prototype');
    // Spelled with escapes, it is the same key.
    const escaped = await post('{"customer": {"\\u005f_proto__": {"admin": true}}}');
    expect(escaped.status).toBe(400);
    expect(escaped.body.field).toBe('customer.__proto__');
    // A key merely named constructor is data.
    const plain = await post({ ...validOrder({ externalId: 'INTAKE-CTOR' }), metadata: { constructor: 'Bob the builder' } });
    expect(plain.status).toBe(201);
    expect(await t.database.db.selectFrom('orders').select('id').where('external_id', '=', 'INTAKE-CTOR').execute()).toHaveLength(1);
  });

  it('answers 413 for bodies over 1 MiB', async () => {
    const huge = { ...validOrder({ externalId: 'INTAKE-HUGE' }), metadata: { blob: 'x'.repeat(1024 * 1024) } };
    const res = await post(huge);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('BODY_TOO_LARGE');
  });

  it('answers 415 for a body that is not JSON, saying what to send', async () => {
    const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).set('content-type', 'text/csv').send('a,b');
    expect(res.status).toBe(415);
    expect(res.body.detail).toContain('Send application/json');
    // JSON sent as text/plain is not read as a string that then fails validation.
    const text = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).set('content-type', 'text/plain').send(JSON.stringify(validOrder({ externalId: 'INTAKE-TEXT' })));
    expect(text.status).toBe(415);
    // A merge patch's media type is for PATCH only.
    const patchType = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).set('content-type', 'application/merge-patch+json').send(JSON.stringify(validOrder({ externalId: 'INTAKE-MP' })));
    expect(patchType.status).toBe(415);
  });
});

describe('GET /api/v1/orders', () => {
  it('returns one order by id, and 404 for an unknown or malformed id', async () => {
    const created = await post(validOrder({ externalId: 'GET-1' }));
    const res = await t.http.get(`/api/v1/orders/${created.body.id}`).set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created.body.id, externalId: 'GET-1', status: 'received', tickets: [], activeSteps: [] });
    const missing = await t.http.get('/api/v1/orders/00000000-0000-4000-8000-000000000000').set('authorization', `Bearer ${t.token}`);
    expect(missing.status).toBe(404);
    const junk = await t.http.get('/api/v1/orders/not-an-id').set('authorization', `Bearer ${t.token}`);
    expect(junk.status).toBe(404);
  });

  it('filters by channel and search text and pages with a keyset cursor without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) {
      const res = await post(validOrder({ channel: 'marketplace', externalId: `PAGE-${i}`, customer: { name: i % 2 ? 'Jan Kowalski' : 'Ola Wiśniewska', email: null, phone: null } }));
      expect(res.status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/orders?channel=marketplace&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.http.get(url).set('authorization', `Bearer ${t.token}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((o: { externalId: string }) => o.externalId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['PAGE-6', 'PAGE-5', 'PAGE-4', 'PAGE-3', 'PAGE-2', 'PAGE-1', 'PAGE-0']);

    const search = await t.http.get('/api/v1/orders?q=wiśniew').set('authorization', `Bearer ${t.token}`);
    expect(search.body.items.map((o: { externalId: string }) => o.externalId).sort()).toEqual(['PAGE-0', 'PAGE-2', 'PAGE-4', 'PAGE-6']);

    const byStatus = await t.http.get('/api/v1/orders?status=cancelled').set('authorization', `Bearer ${t.token}`);
    expect(byStatus.body.items).toEqual([]);

    // A tag as people type it finds the tag as stored (trimmed, lower case).
    await t.database.db.updateTable('orders').set({ tags: ['vip'] }).where('external_id', '=', 'PAGE-3').execute();
    const byTag = await t.http.get('/api/v1/orders?tag=%20VIP%20').set('authorization', `Bearer ${t.token}`);
    expect(byTag.body.items.map((o: { externalId: string }) => o.externalId)).toEqual(['PAGE-3']);

    const future = await t.http.get('/api/v1/orders?from=2999-01-01T00:00:00Z').set('authorization', `Bearer ${t.token}`);
    expect(future.body.items).toEqual([]);
  });

  it('filters by status and by a from/to window on the time received (to exclusive)', async () => {
    const get = (q: string) => t.http.get(`/api/v1/orders?channel=b2b&${q}`).set('authorization', `Bearer ${t.token}`).then((r) => {
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return (r.body.items as Array<{ externalId: string }>).map((o) => o.externalId).sort();
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(validOrder({ channel: 'b2b', externalId: `WIN-${i}` }));
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // Received on three different days.
    const days = ['2026-03-01T12:00:00Z', '2026-03-02T12:00:00Z', '2026-03-03T12:00:00Z'];
    for (const [i, id] of ids.entries()) await sql`update orders set created_at = ${days[i]!}::timestamptz where id = ${id}::uuid`.execute(t.database.db);
    const cancelled = await t.http.post(`/api/v1/orders/${ids[1]}/cancel`).set('authorization', `Bearer ${t.token}`).send({ reason: 'test' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);

    expect(await get('status=cancelled')).toEqual(['WIN-1']);
    expect(await get('status=received')).toEqual(['WIN-0', 'WIN-2']);
    expect(await get('from=2026-03-02T00:00:00Z')).toEqual(['WIN-1', 'WIN-2']);
    expect(await get('to=2026-03-02T12:00:00Z')).toEqual(['WIN-0']);
    expect(await get('from=2026-03-01T12:00:00Z&to=2026-03-03T12:00:00Z')).toEqual(['WIN-0', 'WIN-1']);
    expect(await get('from=2026-03-02T00:00:00Z&status=received')).toEqual(['WIN-2']);
  });

  it('refuses an unknown status filter and a forged cursor with 400', async () => {
    const res = await t.http.get('/api/v1/orders?status=lost').set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toContain('status');
    const forged = await t.http.get('/api/v1/orders?cursor=bm9wZQ').set('authorization', `Bearer ${t.token}`);
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('INVALID_CURSOR');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../src/db/tables/orders.table.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { loginAs, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';
import type { Order } from '../../src/orders/schema.ts';

let t: TestApp;
let operator: ConsoleBrowser;
let analyst: ConsoleBrowser;

async function order(overrides: Partial<Order>, status?: OrderStatus): Promise<string> {
  const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder(overrides));
  expect(res.status).toBe(201);
  if (status) await t.database.db.updateTable('orders').set({ status }).where('id', '=', res.body.id).execute();
  return res.body.id;
}

/** External ids of the rows in an order list page or fragment, in order. */
function rows(html: string): string[] {
  return [...html.matchAll(/<a href="\/orders\/[0-9a-f-]{36}" class="strong">([^<]+)<\/a>/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  t = await createTestApp();
  [operator, analyst] = await Promise.all([loginAs(t, 'operator'), loginAs(t, 'analyst')]);
});
afterAll(async () => {
  await t?.close();
});

describe('/orders', () => {
  it('lists orders newest first with a status badge per row and filters by status, channel, search and tag', async () => {
    const held = await order({ externalId: 'LIST-HOLD', customer: { name: 'Zofia Held', email: null, phone: null } }, 'on_hold');
    await order({ externalId: 'LIST-PAY', channel: 'marketplace' }, 'awaiting_payment');
    await order({ externalId: 'LIST-REL' }, 'released');
    await order({ externalId: 'LIST-CAN' }, 'cancelled');
    await t.database.db.updateTable('orders').set({ tags: ['vip'] }).where('id', '=', held).execute();

    const all = await operator.get('/orders');
    expect(all.status).toBe(200);
    expect(rows(all.text)).toEqual(['LIST-CAN', 'LIST-REL', 'LIST-PAY', 'LIST-HOLD']);
    expect(all.text).toContain('<span class="badge badge-on_hold">on hold</span>');
    expect(all.text).toContain('<span class="badge badge-awaiting_payment">awaiting payment</span>');
    expect(all.text).toContain('<span class="badge badge-released">released</span>');
    expect(all.text).toContain('<span class="badge badge-cancelled">cancelled</span>');
    // Every filter input has a label.
    for (const id of ['orders-q', 'orders-status', 'orders-channel', 'orders-tag', 'orders-from', 'orders-to']) expect(all.text).toContain(`<label for="${id}">`);

    expect(rows((await operator.get('/orders?status=on_hold')).text)).toEqual(['LIST-HOLD']);
    expect(rows((await operator.get('/orders?channel=marketplace')).text)).toEqual(['LIST-PAY']);
    expect(rows((await operator.get('/orders?q=zofia')).text)).toEqual(['LIST-HOLD']);

    expect(rows((await operator.get('/orders?tag=VIP')).text)).toEqual(['LIST-HOLD']);
    const today = new Date().toISOString().slice(0, 10);
    expect(rows((await operator.get(`/orders?from=${today}&to=${today}&status=released`)).text)).toEqual(['LIST-REL']);
    expect(rows((await operator.get('/orders?from=2999-01-01')).text)).toEqual([]);
    // The chosen filters stay in the form.
    const filtered = await operator.get('/orders?status=on_hold&q=zofia');
    expect(filtered.text).toContain('<option value="on_hold" selected>');
    expect(filtered.text).toContain('value="zofia"');
  });

  it('names an order number typed whole above the list, in any case; words without digits are only searched', async () => {
    await order({ externalId: 'MP-2026-77', channel: 'marketplace' }, 'released');
    const exact = await operator.get('/orders?q=mp-2026-77');
    expect(exact.text).toMatch(/<p class="message message-info exact-match">Order number MP-2026-77 \(marketplace\): <a href="\/orders\/[0-9a-f-]{36}" class="strong">open order MP-2026-77<\/a>/);
    expect((await operator.get('/orders?q=MP-2026')).text).not.toContain('exact-match');
    expect((await operator.get('/orders?q=LIST-PAY')).text).not.toContain('exact-match');
  });

  it('explains filters it cannot use instead of failing', async () => {
    const res = await operator.get('/orders?status=lost&from=yesterday');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Unknown status &quot;lost&quot; ignored.');
    expect(res.text).toContain('must be a date');
  });

  it('pages with a keyset cursor that keeps the filters, without gaps or repeats', async () => {
    for (let i = 0; i < 55; i++) await order({ externalId: `PAGE-${String(i).padStart(2, '0')}`, channel: 'pager' });
    const first = await operator.get('/orders?channel=pager');
    const firstRows = rows(first.text);
    expect(firstRows).toHaveLength(50);
    const next = /<a href="([^"]+)" hx-get="[^"]+" hx-target="#orders-list" hx-push-url="true" rel="next">/.exec(first.text)![1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/orders\?channel=pager&cursor=/);
    const second = await operator.htmx('get', next);
    expect(second.text).not.toContain('<html');
    const secondRows = rows(second.text);
    expect(secondRows).toHaveLength(5);
    expect(new Set([...firstRows, ...secondRows]).size).toBe(55);
    expect(second.text).not.toContain('rel="next"');
    const forged = await operator.get('/orders?cursor=bm9wZQ');
    expect(forged.status).toBe(400);
    expect(forged.text).toContain('start again from the first page');
  });
});

describe('/orders/:id', () => {
  it('shows the order readably: customer, delivery, addresses, invoice, lines with totals, payment', async () => {
    const id = await order({ externalId: 'SHOW-1' }, 'on_hold');
    const res = await analyst.get(`/orders/${id}`);
    expect(res.status).toBe(200);
    const html = res.text;
    expect(html).toContain('Order SHOW-1 <span class="badge badge-on_hold">on hold</span>');
    for (const text of ['Anna Nowak', 'anna@example.com', '+48 601 234 567', 'Courier', 'ul. Prosta 51', '00-838 Warszawa', 'Nowak Sp. z o.o.', 'PL5260250274', 'Green tea', '49.95', '99.90', '114.90 PLN', 'Card', 'authorized', 'ch_123']) {
      expect(html).toContain(text);
    }
    expect(html).not.toContain('"customer"');
    expect(html).toContain('<h2 id="timeline-h">Timeline</h2>');
    expect(html).toContain('Received from webshop');
  });

  it('marks missing customer fields', async () => {
    const id = await order({ externalId: 'SHOW-MISSING', customer: { name: 'No Phone', email: null, phone: null } });
    const html = (await operator.get(`/orders/${id}`)).text;
    expect(html).toContain('<dt>Phone</dt><dd><span class="missing">missing</span></dd>');
  });

  it('adds and removes tags (normalised, audited with who did it), with and without htmx', async () => {
    const id = await order({ externalId: 'TAGS-1' });
    const plain = await operator.post(`/orders/${id}/tags`, { tag: '  Needs Call ' });
    expect(plain.status).toBe(303);
    expect(plain.headers.location).toBe(`/orders/${id}#tags`);
    const fragment = await operator.htmx('post', `/orders/${id}/tags`, { tag: 'vip' });
    expect(fragment.status).toBe(200);
    expect(fragment.text.trim()).toMatch(/^<section class="card" aria-labelledby="tags-h" id="tags">/);
    expect(fragment.text).toContain('needs-call');
    // The timeline comes along out of band, already recording the change.
    expect(fragment.text).toContain('id="timeline" hx-swap-oob="true"');
    expect(fragment.text).toContain('Tag “vip” added');
    // Adding a tag twice changes nothing.
    await operator.post(`/orders/${id}/tags`, { tag: 'VIP' });
    let row = await t.database.db.selectFrom('orders').select('tags').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.tags).toEqual(['needs-call', 'vip']);
    // The list's tag filter takes the tag as typed, normalised the same way.
    expect(rows((await operator.get('/orders?tag=VIP')).text)).toContain('TAGS-1');
    expect(rows((await operator.get('/orders?tag=Needs%20Call')).text)).toContain('TAGS-1');

    const invalid = await operator.htmx('post', `/orders/${id}/tags`, { tag: '<b>' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('A tag is 1–40 letters');
    const invalidPlain = await operator.post(`/orders/${id}/tags`, { tag: '!!!' });
    expect(invalidPlain.status).toBe(422);
    expect(invalidPlain.text).toContain('<html');
    expect(invalidPlain.text).toContain('A tag is 1–40 letters');

    expect((await operator.post(`/orders/${id}/tags/remove`, { tag: 'vip' })).status).toBe(303);
    row = await t.database.db.selectFrom('orders').select('tags').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.tags).toEqual(['needs-call']);

    const events = await t.database.db.selectFrom('order_events').select(['kind', 'actor', 'data']).where('order_id', '=', id).where('kind', 'like', 'tag_%').orderBy('id').execute();
    expect(events).toEqual([
      { kind: 'tag_added', actor: `user:${operator.user.email}`, data: { tag: 'needs-call' } },
      { kind: 'tag_added', actor: `user:${operator.user.email}`, data: { tag: 'vip' } },
      { kind: 'tag_removed', actor: `user:${operator.user.email}`, data: { tag: 'vip' } },
    ]);
    const page = await operator.get(`/orders/${id}`);
    expect(page.text).toContain('Tag “vip” removed');
    expect(page.text).toContain('href="/orders?tag=needs-call"');
  });

  it('adds notes with their author and time, newest first, and refuses empty ones', async () => {
    const id = await order({ externalId: 'NOTES-1' });
    expect((await operator.post(`/orders/${id}/notes`, { text: 'Called the customer.\nNo answer.' })).status).toBe(303);
    const fragment = await analyst.htmx('post', `/orders/${id}/notes`, { text: 'Looks like a test order.' });
    expect(fragment.status).toBe(200);
    expect(fragment.text.indexOf('Looks like a test order.')).toBeLessThan(fragment.text.indexOf('Called the customer.'));
    expect(fragment.text).toContain(analyst.user.email);
    const empty = await operator.htmx('post', `/orders/${id}/notes`, { text: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Write something first.');
    const notes = await t.database.db.selectFrom('order_notes').select(['author', 'author_id', 'text']).where('order_id', '=', id).orderBy('id').execute();
    expect(notes).toEqual([
      { author: operator.user.email, author_id: operator.user.id, text: 'Called the customer.\nNo answer.' },
      { author: analyst.user.email, author_id: analyst.user.id, text: 'Looks like a test order.' },
    ]);
    const page = await operator.get(`/orders/${id}`);
    expect(page.text).toContain('Note added');
  });

  it('answers 404 pages for unknown orders, also on posts', async () => {
    expect((await operator.get('/orders/not-a-uuid')).status).toBe(404);
    expect((await operator.post('/orders/00000000-0000-4000-8000-000000000000/tags', { tag: 'x' })).status).toBe(404);
    expect((await operator.post('/orders/00000000-0000-4000-8000-000000000000/notes', { text: 'x' })).status).toBe(404);
  });

  it('has a place for the lifecycle diagram once the order has a process instance', async () => {
    const id = await order({ externalId: 'DIAGRAM-1' });
    const before = await operator.get(`/orders/${id}`);
    expect(before.text).toContain('The lifecycle has not started for this order yet.');
    expect((await operator.get(`/orders/${id}/diagram.bpmn`)).status).toBe(404);

    const xml = '<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="order-lifecycle" isExecutable="true"/></bpmn:definitions>';
    const db = t.database.db;
    const dep = await db.insertInto('deployments').values({ xml, hash: 'h', deployed_by: 'test' }).returning('id').executeTakeFirstOrThrow();
    const def = await db
      .insertInto('process_definitions')
      .values({ deployment_id: dep.id, key: 'order-lifecycle', version: 3, name: null, executable: true, hash: 'h' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('process_instances')
      .values({ definition_id: def.id, process_key: 'order-lifecycle', version: 3, order_id: id, status: 'active', state: '{}', waiting_at: ['validate_address'] })
      .execute();
    const page = await operator.get(`/orders/${id}`);
    expect(page.text).toContain(`<div id="order-diagram" class="diagram" data-bpmn-url="/orders/${id}/diagram.bpmn"`);
    expect(page.text).toContain('data-highlight-active="validate_address"');
    expect(page.text).toContain('<link rel="stylesheet" href="/assets/build/viewer.css">');
    expect(page.text).toContain('<script src="/assets/build/viewer.js" defer></script>');
    const diagram = await operator.get(`/orders/${id}/diagram.bpmn`);
    expect(diagram.status).toBe(200);
    expect(diagram.headers['content-type']).toContain('application/xml');
    expect(diagram.headers['content-disposition']).toContain('attachment');
    expect(diagram.text).toBe(xml);
  });
});

describe('/ (dashboard)', () => {
  it('counts orders per status, today and overall', async () => {
    const res = await operator.get('/');
    expect(res.status).toBe(200);
    const onHold = /<a href="\/orders\?status=on_hold">.*?<\/a><\/td>\s*<td class="num">(\d+)<\/td>\s*<td class="num">(\d+)<\/td>/s.exec(res.text);
    const expected = await t.database.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'on_hold').executeTakeFirstOrThrow();
    expect(Number(onHold![2])).toBe(Number(expected.n));
    expect(Number(onHold![2])).toBeGreaterThan(0);
    expect(res.text).toContain('id="dashboard-tickets"');
  });
});

import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { loginAs, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';
import type { Order } from '../../src/orders/schema.ts';

/**
 * The analysts' process pages against a real PostgreSQL with the workers running: list and version pages,
 * the heatmap, the console deploy, the version diff, what-if over seeded orders with known outcomes, and
 * the migration of waiting instances from version 1 to version 2.
 */

const LIFECYCLE = readFileSync(new URL('../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');
const KEY = 'order-lifecycle';

let t: TestApp;
let analyst: ConsoleBrowser;
let operator: ConsoleBrowser;

function edit(xml: string, from: string, to: string): string {
  expect(xml).toContain(from);
  return xml.replace(from, to);
}

const noPhone = (externalId: string) => validOrder({ externalId, customer: { name: 'No Phone', email: 'np@example.com', phone: null } });
const pending = (externalId: string) => validOrder({ externalId, payment: { method: 'bank_transfer', status: 'pending', amount: '114.90', currency: 'PLN', reference: null } });
const cheap = (externalId: string) =>
  validOrder({
    externalId,
    lines: [{ sku: 'TEA-001', name: 'Green tea', quantity: 1, unitPrice: '49.95', taxRate: '0.23' }],
    totals: { subtotal: '49.95', shipping: '15.00', tax: '0.00', grandTotal: '64.95' },
    payment: { method: 'card', status: 'authorized', amount: '64.95', currency: 'PLN', reference: 'ch_1' },
  });
/** At or above the default approval threshold (10000.00): waits at the "Approve large order" user task. */
const large = (externalId: string) =>
  validOrder({
    externalId,
    lines: [{ sku: 'SAMOVAR', name: 'Samovar', quantity: 1, unitPrice: '10000.00', taxRate: '0.23' }],
    totals: { subtotal: '10000.00', shipping: '15.00', tax: '0.00', grandTotal: '10015.00' },
    payment: { method: 'card', status: 'authorized', amount: '10015.00', currency: 'PLN', reference: 'ch_big' },
  });

const ids = new Map<string, string>();

async function post(order: Order): Promise<string> {
  const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(order);
  expect(res.status).toBe(201);
  ids.set(order.externalId, res.body.id);
  return res.body.id;
}

/** Until every order's lifecycle has run to where it waits. */
async function settle(): Promise<void> {
  await expect
    .poll(
      async () => {
        const moving = await t.database.db.selectFrom('orders').select('id').where('status', 'in', ['received', 'in_progress']).execute();
        return moving.length;
      },
      { timeout: 20_000, interval: 100 },
    )
    .toBe(0);
}

function postXml(browser: ConsoleBrowser | null, url: string, xml: string, options: { csrf?: boolean; accept?: string } = {}) {
  let req = t.http.post(url).set('content-type', 'application/xml');
  if (browser) req = req.set('cookie', browser.cookie);
  if (browser && options.csrf !== false) req = req.set('x-csrf-token', browser.csrf);
  if (options.accept) req = req.set('accept', options.accept);
  return req.send(xml);
}

/** Row counts of every table a lifecycle step writes to, and pg-boss's jobs. */
async function footprint() {
  const count = async (table: string) => Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(t.database.db)).rows[0]!.n);
  const tables = ['orders', 'order_events', 'process_instances', 'instance_history', 'tickets', 'ticket_events', 'job_effects', 'pgboss.job'];
  return Object.fromEntries(await Promise.all(tables.map(async (name) => [name, await count(name)] as const)));
}

async function instanceOf(orderId: string) {
  return t.database.db.selectFrom('process_instances').selectAll().where('order_id', '=', orderId).where('parent_id', 'is', null).executeTakeFirstOrThrow();
}

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  [analyst, operator] = await Promise.all([loginAs(t, 'analyst'), loginAs(t, 'operator')]);
});
afterAll(async () => {
  await t?.close();
});

describe('/processes and the version page', () => {
  it('lists every process with its versions: who deployed, when, running instances, open tickets', async () => {
    const res = await analyst.get('/processes');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Processes</h1>');
    expect(res.text).toContain('data-process-key="order-lifecycle"');
    expect(res.text).toMatch(/<tr data-version="1">\s*<td><a href="\/processes\/order-lifecycle\?version=1">Version 1<\/a> <span class="badge badge-released">latest<\/span>/);
    expect(res.text).toContain('<td>Ordo</td>');
    expect(res.text).toContain('href="/processes/order-lifecycle/edit"');
    expect(res.text).toContain('href="/processes/new"');
    // Analysts see the area in the navigation; operators may read it but not edit.
    expect(res.text).toContain('<a href="/processes" aria-current="page">Processes</a>');
    const asOperator = await operator.get('/processes');
    expect(asOperator.status).toBe(200);
    expect(asOperator.text).not.toContain('/processes/order-lifecycle/edit');
    expect(asOperator.text).not.toContain('href="/processes/new"');
  });

  it('shows a version with its diagram wired to the heatmap and to the orders waiting at each step', async () => {
    const res = await analyst.get('/processes/order-lifecycle');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Order lifecycle · version 1');
    expect(res.text).toContain('data-bpmn-url="/processes/order-lifecycle/diagram.bpmn?version&#x3D;1"');
    expect(res.text).toContain('data-overlays-url="/processes/order-lifecycle/heatmap.json?version&#x3D;1"');
    expect(res.text).toContain('data-element-link="/processes/order-lifecycle/elements/{id}?version&#x3D;1"');
    expect(res.text).toContain('<script src="/assets/build/viewer.js" defer></script>');
    const fragment = await analyst.htmx('get', '/processes/order-lifecycle');
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('id="process-diagram"');

    const xml = await analyst.get('/processes/order-lifecycle/diagram.bpmn');
    expect(xml.status).toBe(200);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    expect(xml.text).toContain('<bpmn:process id="order-lifecycle"');
    expect((await analyst.get('/processes/order-lifecycle?version=9')).status).toBe(404);
    for (const url of ['/processes/order-lifecycle?version=99999999999999', '/processes/order-lifecycle?compare=2147483648', '/processes/order-lifecycle/elements/Task_ValidateAddress?version=2147483648']) {
      expect((await analyst.get(url)).status, url).toBe(400);
    }
    expect((await analyst.get('/processes/nope')).status).toBe(404);
  });

  it('counts, per element, the orders waiting, open tickets, failures in 24 h and jobs retrying', async () => {
    for (let i = 0; i < 3; i++) await post(noPhone(`HEAT-NOPHONE-${i}`));
    for (let i = 0; i < 2; i++) await post(pending(`HEAT-PENDING-${i}`));
    for (let i = 0; i < 2; i++) await post(large(`HEAT-LARGE-${i}`));
    const valid = await post(validOrder({ externalId: 'HEAT-VALID' }));
    await settle();

    // A service job pg-boss still retries for the valid order's instance (due later, so no worker takes it).
    const instance = await instanceOf(valid);
    await sql`insert into pgboss.job (name, data, state, retry_limit, retry_count, start_after)
              values ('ordo-service', ${JSON.stringify({ instanceId: instance.id, jobId: 'j-test', job: 'reserve-stock', elementId: 'Task_ReserveStock' })}::jsonb, 'retry', 5, 1, now() + interval '1 hour')`.execute(t.database.db);

    const res = await analyst.get('/processes/order-lifecycle/heatmap.json');
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect(res.body.elements.Task_ValidateAddress).toEqual({ waiting: 3, openTickets: 3, failures24h: 3, retrying: 0 });
    expect(res.body.elements.Gateway_WaitForPayment).toEqual({ waiting: 2, openTickets: 0, failures24h: 0, retrying: 0 });
    expect(res.body.elements.Task_ApproveOrder).toEqual({ waiting: 2, openTickets: 2, failures24h: 2, retrying: 0 });
    expect(res.body.elements.Gateway_WaitForDelivery).toEqual({ waiting: 1, openTickets: 0, failures24h: 0, retrying: 0 });
    expect(res.body.elements.Task_ReserveStock).toEqual({ waiting: 0, openTickets: 0, failures24h: 0, retrying: 1 });

    // The same counts as a table on the page, and a click-through list of the orders waiting at a step.
    const page = await analyst.get('/processes/order-lifecycle');
    expect(page.text).toMatch(/<tr data-element-id="Task_ValidateAddress">\s*<td><a href="\/processes\/order-lifecycle\/elements\/Task_ValidateAddress\?version=1">Validate address<\/a><\/td>\s*<td class="num">3<\/td>\s*<td class="num">3<\/td>/);
    const waiting = await analyst.get('/processes/order-lifecycle/elements/Task_ValidateAddress?version=1');
    expect(waiting.status).toBe(200);
    expect(waiting.text).toContain('Waiting at “Validate address”');
    const listed = [...waiting.text.matchAll(/class="strong">([^<]+)<\/a>/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(['HEAT-NOPHONE-0', 'HEAT-NOPHONE-1', 'HEAT-NOPHONE-2']);
    expect((await analyst.get('/processes/order-lifecycle/elements/Nope?version=1')).status).toBe(404);
  });
});

describe('permissions', () => {
  it('refuses operators the modeler, deploy, what-if and migration (403)', async () => {
    expect((await operator.get('/processes/order-lifecycle/edit')).status).toBe(403);
    expect((await operator.get('/processes/new')).status).toBe(403);
    expect((await postXml(operator, '/processes/deploy', LIFECYCLE)).status).toBe(403);
    expect((await postXml(operator, '/processes/order-lifecycle/what-if', LIFECYCLE)).status).toBe(403);
    expect((await operator.get('/processes/order-lifecycle/migrate?from=1')).status).toBe(403);
    expect((await operator.post('/processes/order-lifecycle/migrate', { from: '1' })).status).toBe(403);
  });

  it('answers a script without a session with 401 JSON, not a redirect to the login page', async () => {
    const res = await postXml(null, '/processes/deploy', LIFECYCLE, { accept: 'application/json, application/problem+json' });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect((await t.http.get('/processes')).status).toBe(303);
  });
});

describe('the modeler page', () => {
  it('wires the modeler bundle to the latest XML, the console deploy and the FEEL functions', async () => {
    const res = await analyst.get('/processes/order-lifecycle/edit');
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-ordo-modeler');
    expect(res.text).toContain('data-bpmn-url="/processes/order-lifecycle/diagram.bpmn"');
    expect(res.text).toContain('data-deploy-url="/processes/deploy"');
    expect(res.text).toContain('data-feel-functions-url="/processes/-/feel-functions"');
    expect(res.text).toContain('data-what-if-url="/processes/order-lifecycle/what-if"');
    for (const id of ['ordo-deploy', 'ordo-download', 'ordo-upload', 'ordo-modeler-canvas', 'ordo-modeler-properties', 'ordo-modeler-status', 'ordo-lint-panel', 'ordo-what-if']) {
      expect(res.text).toContain(`id="${id}"`);
    }
    expect(res.text).toContain('<script src="/assets/build/modeler.js" defer></script>');
    expect(res.text).toContain('<script src="/assets/processes.js" defer></script>');
    expect(res.text).toContain('<meta name="csrf-token"');

    const feel = await analyst.get('/processes/-/feel-functions');
    expect(feel.status).toBe(200);
    expect(feel.body.find((f: { name: string }) => f.name === 'validate address').raises).toContain('PHONE_MISSING');

    const fresh = await analyst.get('/processes/new?key=returns');
    expect(fresh.status).toBe(200);
    expect(fresh.text).toContain('data-bpmn-url="/processes/new/starter.bpmn?key&#x3D;returns"');
    const starter = await analyst.get('/processes/new/starter.bpmn?key=returns');
    expect(starter.text).toContain('<bpmn:process id="returns" name="returns" isExecutable="true">');
    expect((await analyst.get('/processes/new?key=1%20bad')).status).toBe(400);
  });
});

describe('what-if before deploy', () => {
  let draft: string;

  beforeAll(async () => {
    // 20 orders, newest: 6 without a phone, 9 at 114.90, 5 at 64.95.
    for (let i = 0; i < 6; i++) await post(noPhone(`WI-NOPHONE-${i}`));
    for (let i = 0; i < 9; i++) await post(validOrder({ externalId: `WI-MID-${i}` }));
    for (let i = 0; i < 5; i++) await post(cheap(`WI-CHEAP-${i}`));
    // The address check no longer checks the phone; approval from 100.00 instead of the setting.
    draft = edit(LIFECYCLE, '<bpmn:script>validate address(order)</bpmn:script>', '<bpmn:script>validate address(order)[item.code != "PHONE_MISSING"]</bpmn:script>');
    draft = edit(draft, 'money(order.totals.grandTotal) &gt;= money(settings.approvalThreshold)', 'money(order.totals.grandTotal) &gt;= money("100.00")');
  });

  it('says per element how many of the last N orders would pass instead of failing, or take another branch', async () => {
    await settle();
    const before = await footprint();
    const res = await postXml(analyst, '/processes/order-lifecycle/what-if?limit=20', draft, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const report = res.body;
    expect(report).toMatchObject({ key: KEY, currentVersion: 1, limit: 20, orders: 20 });
    const at = (id: string) => report.elements.find((e: { elementId: string }) => e.elementId === id);
    expect(at('Task_ValidateAddress').changes.passInsteadOfFail).toBe(6);
    expect(at('Task_ValidateAddress').changes.failInsteadOfPass).toBe(0);
    for (const e of at('Task_ValidateAddress').examples) {
      expect(e.externalId).toMatch(/^WI-NOPHONE-/);
      expect(e.current.codes).toEqual(['PHONE_MISSING']);
    }
    expect(at('Task_ValidateAddress').examples).toHaveLength(5);
    expect(at('Gateway_ApprovalNeeded').changes.otherBranch).toBe(9);
    expect(report.diff.changed.map((c: { id: string }) => c.id).sort()).toEqual(['Flow_ApprovalNeeded', 'Task_ValidateAddress']);
    // Nothing was written: the same rows everywhere the lifecycle writes.
    expect(await footprint()).toEqual(before);
  });

  it('renders the report as a table with one row per step, for the page and its diagram overlays', async () => {
    const res = await postXml(analyst, '/processes/order-lifecycle/what-if?limit=20', draft, { accept: 'text/html' });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<html');
    expect(res.text).toContain('The latest 20 orders ran through the draft and through version 1');
    expect(res.text).toMatch(/<tr data-whatif-element="Task_ValidateAddress" class="what-if-changed">/);
    expect(res.text).toContain('<li data-change="passInsteadOfFail" data-count="6"><strong>6</strong> would pass instead of failing</li>');
    expect(res.text).toContain('<li data-change="otherBranch" data-count="9"><strong>9</strong> would take another branch</li>');
    expect(res.text).toMatch(/WI-NOPHONE-\d<\/a> <span class="sub">now failed: PHONE_MISSING · draft passed → /);
  });

  it('refuses a broken draft with its element errors (422), like a deploy', async () => {
    const broken = edit(LIFECYCLE, '<bpmn:script>validate address(order)</bpmn:script>', '<bpmn:script>validate address(order</bpmn:script>');
    const json = await postXml(analyst, '/processes/order-lifecycle/what-if', broken, { accept: 'application/json' });
    expect(json.status).toBe(422);
    expect(json.body.errors).toEqual([expect.objectContaining({ elementId: 'Task_ValidateAddress' })]);
    const html = await postXml(analyst, '/processes/order-lifecycle/what-if', broken, { accept: 'text/html' });
    expect(html.status).toBe(422);
    expect(html.text).toContain('<li data-element-id="Task_ValidateAddress">');
    expect((await postXml(analyst, '/processes/order-lifecycle/what-if', '<nope/>', { accept: 'application/json' })).status).toBe(422);
  });

  it('is also an API call with a bearer token', async () => {
    const res = await t.http.post('/api/v1/processes/order-lifecycle/what-if?limit=20').set('authorization', `Bearer ${t.token}`).set('content-type', 'application/xml').send(draft);
    expect(res.status).toBe(200);
    expect(res.body.elements.find((e: { elementId: string }) => e.elementId === 'Task_ValidateAddress').changes.passInsteadOfFail).toBe(6);
  });
});

/** Version 2: "Wait for payment" gets a new id (so instances waiting there cannot move) and a new phone instruction. */
const V2_TEXT = 'Ask the customer for a mobile number by e-mail first; call only if there is no answer within a day.';
const v2 = edit(LIFECYCLE.replaceAll('Gateway_WaitForPayment', 'Gateway_AwaitPayment'), '1. Courier and parcel locker deliveries need a phone number', `1. ${V2_TEXT} Courier and parcel locker deliveries need a phone number`);

describe('console deploy', () => {
  it('refuses a deploy without the CSRF token (403)', async () => {
    const res = await postXml(analyst, '/processes/deploy', v2, { csrf: false, accept: 'application/json' });
    expect(res.status).toBe(403);
    expect((await t.database.db.selectFrom('process_definitions').select('version').where('key', '=', KEY).execute()).length).toBe(1);
  });

  it('refuses a broken diagram with the element errors (422)', async () => {
    const broken = edit(v2, '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">order.invoice.requested = true</bpmn:conditionExpression>', '');
    const res = await postXml(analyst, '/processes/deploy', broken, { accept: 'application/json, application/problem+json' });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ elementId: expect.stringMatching(/Flow_InvoiceRequested|Gateway_InvoiceRequested/) })]));
  });

  it('deploys with the session and CSRF header as version 2 (201), and the list shows it', async () => {
    const res = await postXml(analyst, '/processes/deploy', v2, { accept: 'application/json, application/problem+json' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ key: KEY, version: 2, created: true });
    const again = await postXml(analyst, '/processes/deploy', v2, { accept: 'application/json' });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
    const list = await analyst.get('/processes');
    // Who deployed it, as a person reads it: the e-mail, not the actor tag.
    expect(list.text).toMatch(/<tr data-version="2">[\s\S]*?latest[\s\S]*?<td>analyst/);
    expect(list.text).not.toContain("<td>user:");
    const versions = await analyst.htmx('get', '/processes/order-lifecycle/versions');
    expect(versions.text).toContain('id="process-versions"');
    expect(versions.text).toContain('Version 2');
  });

  it('summarises what changed from version 1 to version 2', async () => {
    const res = await analyst.get('/processes/order-lifecycle?version=2&compare=1');
    expect(res.status).toBe(200);
    expect(res.text).toContain('What changed from version 1 to version 2');
    expect(res.text).toMatch(/<li data-diff-id="Gateway_AwaitPayment" data-diff="added"><strong>Wait for payment<\/strong>/);
    expect(res.text).toMatch(/<li data-diff-id="Gateway_WaitForPayment" data-diff="removed"><strong>Wait for payment<\/strong>/);
    expect(res.text).toMatch(/<li data-diff-id="Task_ValidateAddress" data-diff="changed">[\s\S]*?<dt>Instructions for PHONE_MISSING<\/dt>/);
    expect(res.text).toContain(V2_TEXT);
    // Without ?compare the page compares with the version before.
    expect((await analyst.get('/processes/order-lifecycle?version=2')).text).toContain('What changed from version 1 to version 2');
  });
});

describe('migration of waiting instances', () => {
  it('previews which instances of version 1 map to version 2 and which do not, and why', async () => {
    await settle();
    const res = await analyst.get('/processes/order-lifecycle/migrate?from=1');
    expect(res.status).toBe(200);
    const total = Number(/data-total="(\d+)"/.exec(res.text)![1]);
    expect(total).toBe(28);
    expect(res.text).toContain('data-mappable="26" data-unmappable="2"');
    expect(res.text).toContain('It waits at “Wait for payment” (Gateway_WaitForPayment), which version 2 does not have.');
    expect(res.text).toContain('Migrate 26');
    const unmappable = res.text.slice(res.text.indexOf('id="unmappable-table"'));
    expect(unmappable).toContain('HEAT-PENDING-0');
    expect(unmappable).toContain('HEAT-PENDING-1');
    expect((await analyst.get('/processes/order-lifecycle/migrate?from=2')).status).toBe(422);
  });

  it('moves the mappable ones in the background with progress, leaves the others alone, and they go on under version 2', async () => {
    const start = await analyst.post('/processes/order-lifecycle/migrate', { from: '1' });
    expect(start.status).toBe(303);
    const url = start.headers.location as string;
    expect(url).toMatch(/^\/processes\/order-lifecycle\/migrations\/[0-9a-f-]{36}$/);
    await expect.poll(async () => /data-status="(\w+)"/.exec((await analyst.get(url)).text)?.[1], { timeout: 20_000, interval: 200 }).toBe('done');
    const done = await analyst.get(url);
    expect(done.text).toContain('<strong data-migrated>26</strong>');
    expect(done.text).toContain('<strong data-skipped>2</strong>');

    const approval = await instanceOf(ids.get('HEAT-LARGE-0')!);
    expect(approval.version).toBe(2);
    const history = await t.database.db.selectFrom('instance_history').select(['event', 'data', 'actor']).where('instance_id', '=', approval.id).where('event', '=', 'migrated').execute();
    expect(history).toEqual([{ event: 'migrated', data: expect.objectContaining({ fromVersion: 1, toVersion: 2 }), actor: `user:${analyst.user.email}` }]);
    const stuck = await instanceOf(ids.get('HEAT-PENDING-0')!);
    expect(stuck.version).toBe(1);
    expect(stuck.waiting_at).toEqual(['Gateway_WaitForPayment']);

    // The heatmap of version 2 now shows them; an event moves a migrated order on under version 2.
    const heat = await analyst.get('/processes/order-lifecycle/heatmap.json?version=2');
    expect(heat.body.elements.Task_ApproveOrder.waiting).toBe(2);
    expect(heat.body.elements.Task_ValidateAddress.waiting).toBe(9);
    const delivered = await t.http.post(`/api/v1/orders/${ids.get('HEAT-VALID')}/messages`).set('authorization', `Bearer ${t.token}`).send({ name: 'order-delivered', variables: {} });
    expect(delivered.status).toBeLessThan(300);
    await expect.poll(async () => (await t.database.db.selectFrom('orders').select('status').where('id', '=', ids.get('HEAT-VALID')!).executeTakeFirstOrThrow()).status).toBe('completed');

    const page = await analyst.get('/processes/order-lifecycle');
    expect(page.text).toContain('Version 1 → 2</a>: 26 moved, 2 left');
  });
});

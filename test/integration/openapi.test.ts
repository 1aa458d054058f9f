import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { deploy, eventually, fixture } from './engine/helpers.ts';

/**
 * The OpenAPI document at /api/v1/openapi.json says what the API really answers: every operation has
 * a schema for its answers and its refusals, and the real answers of the main routes (successes and
 * refusals alike) validate against the schema the document gives for their status and media type.
 */

type Operation = {
  parameters?: Array<{ name: string; in: string; description?: string }>;
  requestBody?: { required?: boolean; content: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; headers?: Record<string, { required?: boolean; description?: string }> }>;
};
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Record<string, unknown>> } };

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let t: TestApp;
let doc: Document;
let ajv: Ajv2020;
const auth = () => ({ authorization: `Bearer ${t.token}` });

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  expect((await deploy(t, await fixture('approval.bpmn'))).status).toBe(201);
  const res = await t.http.get('/api/v1/openapi.json').set(auth());
  expect(res.status).toBe(200);
  doc = res.body as Document;
  ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  ajv.addSchema(doc as object, 'openapi.json');
});
afterAll(async () => {
  await t?.close();
});

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op, name: `${method.toUpperCase()} ${path}` })));
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The answer holds to the schema the document gives for its status and media type; an undocumented status or media type fails. */
function conforms(res: Response, method: string, path: string): void {
  const said = `${method.toUpperCase()} ${path} → ${res.status}`;
  const op = doc.paths[path]?.[method];
  expect(op, `${said}: operation not documented`).toBeDefined();
  const response = op!.responses[String(res.status)];
  expect(response, `${said}: status not documented (documented: ${Object.keys(op!.responses)})`).toBeDefined();
  const mediaType = String(res.headers['content-type']).split(';')[0]!;
  expect(Object.keys(response!.content ?? {}), said).toContain(mediaType);
  // A header the document says the answer carries is there, and a Location leads back into the API.
  for (const [name, header] of Object.entries(response!.headers ?? {})) {
    if (header.required) expect(res.headers[name.toLowerCase()], `${said}: no ${name} header`).toBeDefined();
  }
  if (response!.headers?.Location) expect(res.headers.location, said).toMatch(/^\/api\/v1\/[a-z]+\/[^/?#]+/);
  const validate = ajv.getSchema(`openapi.json#/${pointer('paths', path, method, 'responses', String(res.status), 'content', mediaType, 'schema')}`)!;
  expect(validate(res.body), `${said}: ${JSON.stringify(validate.errors?.slice(0, 5))}\n${JSON.stringify(res.body).slice(0, 1500)}`).toBe(true);
}

describe('the OpenAPI document', () => {
  it('gives every operation a schema for its success, and problem+json for 401, 403 and every other refusal', () => {
    expect(operations().length).toBeGreaterThanOrEqual(24);
    for (const { op, name } of operations()) {
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      expect(success.length, name).toBeGreaterThan(0);
      for (const status of success) expect(op.responses[status]!.content?.['application/json']?.schema, `${name} ${status}`).toBeDefined();
      expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '403']));
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => /^[45]\d\d$/.test(s))) {
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual(['application/problem+json']);
        expect(response.content!['application/problem+json']!.schema, `${name} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
      }
      // A body that is too large or of another media type is refused before the handler: 413 and 415.
      if (op.requestBody) expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['413', '415']));
    }
  });

  it('the routes the review found bare have their answers and refusals documented', () => {
    for (const [path, method, status] of [
      ['/api/v1/tickets', 'get', '200'],
      ['/api/v1/tickets/{id}', 'get', '200'],
      ['/api/v1/tickets/bulk/{id}', 'get', '200'],
      ['/api/v1/processes', 'get', '200'],
      ['/api/v1/processes/{key}/versions/{version}', 'get', '200'],
      ['/api/v1/feel-functions', 'get', '200'],
      ['/api/v1/tickets/bulk', 'post', '202'],
      ['/api/v1/tickets/{id}/comments', 'post', '201'],
    ] as const) {
      const op = doc.paths[path]![method]!;
      const schema = op.responses[status]!.content!['application/json']!.schema as Record<string, unknown>;
      expect(Object.keys(schema).length, `${method} ${path}`).toBeGreaterThan(0);
      expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
    }
    expect(Object.keys(doc.paths['/api/v1/tickets/{id}']!.get!.responses)).toContain('404');
  });

  it('says which request bodies may be left out: retry and complete take none, an order must have one', () => {
    expect(doc.paths['/api/v1/tickets/{id}/retry']!.post!.requestBody).toMatchObject({ required: false });
    expect(doc.paths['/api/v1/tickets/{id}/complete']!.post!.requestBody).toMatchObject({ required: false });
    expect(doc.paths['/api/v1/orders']!.post!.requestBody).toMatchObject({ required: true });
    expect(JSON.stringify(doc)).not.toContain('x-ordo-optional-body');
  });

  it('lists the Location header on the answers that carry one: a new order, a deployed version, a started instance, a bulk action', () => {
    const located = operations().flatMap(({ name, op }) =>
      Object.entries(op.responses)
        .filter(([, r]) => r.headers?.Location)
        .map(([status]) => `${name} ${status}`),
    );
    expect(located.sort()).toEqual(['POST /api/v1/orders 200', 'POST /api/v1/orders 201', 'POST /api/v1/processes 201', 'POST /api/v1/processes/{key}/instances 201', 'POST /api/v1/tickets/bulk 202']);
    expect(doc.paths['/api/v1/processes']!.post!.responses['201']!.headers!.Location!.description).toMatch(/\/api\/v1\/processes\/\{key\}\/versions\/\{version\}/);
    expect(JSON.stringify(doc)).not.toContain('x-ordo-location');
  });

  it('documents the BPMN XML body of a deployment and a what-if under each media type the routes take', () => {
    for (const path of ['/api/v1/processes', '/api/v1/processes/{key}/what-if']) {
      const body = doc.paths[path]!.post!.requestBody!;
      expect(Object.keys(body.content), path).toEqual(['application/xml', 'text/xml', 'application/bpmn+xml']);
      expect(body.content['application/xml']!.schema).toMatchObject({ type: 'string', contentMediaType: 'application/xml' });
    }
  });

  it('names its components (Order, Ticket, Problem, ...) and uses them: an order lists Tickets, an instance state is the SPEC enum', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(expect.arrayContaining(['Order', 'Ticket', 'Problem', 'OrderSummary', 'Instance', 'BulkAction']));
    expect(names.filter((n) => /^def-\d+$/.test(n))).toEqual([]);
    expect(JSON.stringify(doc)).not.toMatch(/#\/components\/schemas\/def-\d+/);
    const order = doc.components.schemas.Order as { properties: Record<string, { items?: unknown }> };
    expect(order.properties.tickets!.items).toEqual({ $ref: '#/components/schemas/Ticket' });
    const instance = doc.components.schemas.Instance as { properties: Record<string, unknown> };
    expect(ajv.validate(instance.properties.state as object, 'failed')).toBe(true);
    expect(ajv.validate(instance.properties.state as object, 'running')).toBe(false);
    expect(doc.paths['/api/v1/orders/{id}']!.get!.responses['200']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Order' });
  });

  it('says that GET /orders takes `from` inclusive and `to` exclusive', () => {
    const params = doc.paths['/api/v1/orders']!.get!.parameters!;
    expect(params.find((p) => p.name === 'from')?.description).toMatch(/inclusive/);
    expect(params.find((p) => p.name === 'to')?.description).toMatch(/exclusive/);
  });
});

describe('real answers against the document', () => {
  it('orders, tickets, bulk actions, processes, instances and messages answer as documented, refusals included', async () => {
    // An order on hold with a validation ticket (no phone), and one waiting for a manual approval (a big amount).
    const held = await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: 'OAS-HELD', customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: null } }));
    conforms(held, 'post', '/api/v1/orders');
    expect(held.status).toBe(201);
    const big = validOrder({ externalId: 'OAS-BIG' });
    big.lines = [{ sku: 'TV-85', name: 'Television', quantity: 1, unitPrice: '12000.00', taxRate: '0.23' }];
    big.totals = { subtotal: '12000.00', shipping: '0.00', tax: '0.00', grandTotal: '12000.00' };
    big.payment.amount = '12000.00';
    conforms(await t.http.post('/api/v1/orders').set(auth()).send(big), 'post', '/api/v1/orders');
    conforms(await t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: 'OAS-HELD', customer: { name: 'Anna Nowak', email: 'anna@example.com', phone: null } })), 'post', '/api/v1/orders');
    const orderId = held.body.id as string;

    const order = await eventually(() => t.http.get(`/api/v1/orders/${orderId}`).set(auth()), (r) => r.body.tickets?.length === 1, 20_000);
    conforms(order, 'get', '/api/v1/orders/{id}');
    // Nothing of a ticket is lost to the serializer now that the order's tickets have a schema.
    expect(Object.keys(order.body.tickets[0])).toEqual(expect.arrayContaining(['id', 'kind', 'status', 'queue', 'issues', 'instructions', 'fields', 'assignee', 'revision']));
    expect(order.body.tickets[0].instructions.length).toBeGreaterThan(0);
    expect(order.body.history.length).toBeGreaterThan(0);
    const ticketId = order.body.tickets[0].id as string;

    const manual = await eventually(() => t.http.get('/api/v1/tickets?kind=manual').set(auth()), (r) => r.body.items?.length === 1, 20_000);
    conforms(manual, 'get', '/api/v1/tickets');
    expect(manual.body.items[0].fields[0]).toMatchObject({ name: 'approved', type: 'boolean', label: expect.any(String), required: true });
    const list = await t.http.get('/api/v1/tickets').set(auth());
    conforms(list, 'get', '/api/v1/tickets');
    expect(list.body.counts).toMatchObject({ total: 2, queues: expect.any(Array), codes: [{ code: 'PHONE_MISSING', count: 1 }] });
    conforms(await t.http.get('/api/v1/orders?from=2000-01-01T00:00:00Z').set(auth()), 'get', '/api/v1/orders');

    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/assign`).set(auth()).send({ assignee: 'me' }), 'post', '/api/v1/tickets/{id}/assign');
    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/comments`).set(auth()).send({ text: 'Calling the customer.' }), 'post', '/api/v1/tickets/{id}/comments');
    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/dry-run`).set(auth()).send({ patch: { customer: { phone: '+48 601 234 567' } } }), 'post', '/api/v1/tickets/{id}/dry-run');
    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({ patch: { customer: { email: 'anna.n@example.com' } } }), 'post', '/api/v1/tickets/{id}/retry');
    const detail = await t.http.get(`/api/v1/tickets/${ticketId}`).set(auth());
    conforms(detail, 'get', '/api/v1/tickets/{id}');
    expect(detail.body.history.map((h: { kind: string }) => h.kind)).toEqual(['opened', 'assigned', 'comment', 'retried', 'still_failing']);
    expect(detail.body.order).toMatchObject({ id: orderId, customerName: 'Anna Nowak', data: { externalId: 'OAS-HELD' } });
    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/complete`).set(auth()).send({}), 'post', '/api/v1/tickets/{id}/complete');
    const patched = await t.http.patch(`/api/v1/orders/${orderId}`).set(auth()).set('x-reason', 'phoned').send({ customer: { phone: '+48 601 234 567' } });
    conforms(patched, 'patch', '/api/v1/orders/{id}');
    expect(patched.body.retried).toHaveLength(1);
    conforms(await t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({}), 'post', '/api/v1/tickets/{id}/retry');
    conforms(await t.http.post('/api/v1/orders/validate').set(auth()).send(validOrder()), 'post', '/api/v1/orders/validate');

    const bulk = await t.http.post('/api/v1/tickets/bulk').set(auth()).send({ action: 'assign', ticketIds: [ticketId], assignee: null });
    conforms(bulk, 'post', '/api/v1/tickets/bulk');
    const done = await eventually(() => t.http.get(`/api/v1/tickets/bulk/${bulk.body.id}`).set(auth()), (r) => r.body.status === 'done', 20_000);
    conforms(done, 'get', '/api/v1/tickets/bulk/{id}');
    expect(done.body.results).toHaveLength(1);

    conforms(await t.http.get('/api/v1/processes').set(auth()), 'get', '/api/v1/processes');
    const version = await t.http.get('/api/v1/processes/order-lifecycle/versions/1').set(auth());
    conforms(version, 'get', '/api/v1/processes/{key}/versions/{version}');
    expect(Object.values(version.body.stats.elements)).toContainEqual({ waiting: expect.any(Number), openTickets: expect.any(Number), failures24h: expect.any(Number) });
    const feel = await t.http.get('/api/v1/feel-functions').set(auth());
    conforms(feel, 'get', '/api/v1/feel-functions');
    expect(feel.body[0]).toMatchObject({ name: 'validate address', params: [{ name: 'order' }], raises: expect.arrayContaining(['PHONE_MISSING']) });
    const xml = await fixture('approval.bpmn');
    conforms(await t.http.post('/api/v1/processes').set(auth()).set('content-type', 'text/xml').send(xml), 'post', '/api/v1/processes');
    conforms(await t.http.post('/api/v1/processes').set(auth()).set('content-type', 'application/xml').send('<definitions/>'), 'post', '/api/v1/processes');
    conforms(await t.http.post('/api/v1/processes').set(auth()).send({ xml }), 'post', '/api/v1/processes');
    conforms(await t.http.post('/api/v1/processes/order-lifecycle/what-if?limit=5').set(auth()).set('content-type', 'application/xml').send(await fixture('../../../../processes/order-lifecycle.bpmn')), 'post', '/api/v1/processes/{key}/what-if');

    const started = await t.http.post('/api/v1/processes/approval/instances').set(auth()).send({ variables: { amount: 21, customer: 'Fjord AS' }, businessKey: 'OAS-BK' });
    conforms(started, 'post', '/api/v1/processes/{key}/instances');
    conforms(await t.http.get(`/api/v1/instances/${started.body.id}`).set(auth()), 'get', '/api/v1/instances/{id}');
    conforms(await t.http.post('/api/v1/messages').set(auth()).send({ name: 'nobody-waits', businessKey: 'x' }), 'post', '/api/v1/messages');
    conforms(await t.http.post(`/api/v1/orders/${orderId}/cancel`).set(auth()).send({ reason: 'customer withdrew' }), 'post', '/api/v1/orders/{id}/cancel');

    // Refusals: no token, a role that may not, unknown ids, bad shapes, wrong media types, conflicts.
    const analyst = await t.tokenFor('analyst');
    const refusals: Array<[Promise<Response>, string, string, number]> = [
      [t.http.get('/api/v1/tickets'), 'get', '/api/v1/tickets', 401],
      [t.http.get('/api/v1/feel-functions').set('authorization', 'Bearer nope'), 'get', '/api/v1/feel-functions', 401],
      [t.http.post(`/api/v1/tickets/${ticketId}/comments`).set('authorization', `Bearer ${analyst}`).send({ text: 'x' }), 'post', '/api/v1/tickets/{id}/comments', 403],
      [t.http.get('/api/v1/tickets/999999').set(auth()), 'get', '/api/v1/tickets/{id}', 404],
      [t.http.get('/api/v1/tickets/bulk/00000000-0000-4000-8000-000000000000').set(auth()), 'get', '/api/v1/tickets/bulk/{id}', 404],
      [t.http.get('/api/v1/processes/nope/versions/1').set(auth()), 'get', '/api/v1/processes/{key}/versions/{version}', 404],
      [t.http.get('/api/v1/tickets?status=lost').set(auth()), 'get', '/api/v1/tickets', 400],
      [t.http.post('/api/v1/orders').set(auth()).send({ channel: 'webshop' }), 'post', '/api/v1/orders', 400],
      [t.http.post('/api/v1/orders').set(auth()).set('content-type', 'text/plain').send('{}'), 'post', '/api/v1/orders', 415],
      [t.http.post('/api/v1/tickets/bulk').set(auth()).set('content-type', 'application/x-www-form-urlencoded').send('action=retry'), 'post', '/api/v1/tickets/bulk', 415],
      [t.http.post('/api/v1/orders').set(auth()).send(validOrder({ externalId: 'OAS-HELD' })), 'post', '/api/v1/orders', 409],
      [t.http.post(`/api/v1/tickets/${ticketId}/retry`).set(auth()).send({}), 'post', '/api/v1/tickets/{id}/retry', 409],
    ];
    for (const [request, method, path, status] of refusals) {
      const res = await request;
      expect(res.status, `${method} ${path}`).toBe(status);
      conforms(res, method, path);
    }
  });
});

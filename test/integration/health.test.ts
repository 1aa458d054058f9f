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

describe('operational endpoints', () => {
  it('/healthz and /readyz answer while the database is reachable', async () => {
    expect((await t.http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.database).toBe('reachable');
  });

  it('/metrics counts received orders and records HTTP latency', async () => {
    await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'METRICS-1' }));
    await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'METRICS-1' }));
    const res = await t.http.get('/metrics').set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('ordo_orders_received_total{channel="webshop",outcome="created"} 1');
    expect(res.text).toContain('ordo_orders_received_total{channel="webshop",outcome="existing"} 1');
    expect(res.text).toMatch(/ordo_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/orders",status="201"\} 1/);
  });

  it('publishes an OpenAPI 3.1 document describing the order routes', async () => {
    const res = await t.http.get('/api/v1/openapi.json').set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/orders', '/api/v1/orders/{id}']));
    expect(res.body.paths['/api/v1/orders'].post.requestBody).toBeDefined();
    // As the answers are sent: refusals as problem+json, a bulk action 202, a comment 201.
    const post = res.body.paths['/api/v1/orders'].post;
    expect(Object.keys(post.responses['400'].content)).toEqual(['application/problem+json']);
    expect(Object.keys(post.responses['201'].content)).toEqual(['application/json']);
    expect(Object.keys(res.body.paths['/api/v1/tickets/bulk'].post.responses)).toEqual(expect.arrayContaining(['202']));
    expect(Object.keys(res.body.paths['/api/v1/tickets/{id}/comments'].post.responses)).toEqual(expect.arrayContaining(['201']));
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const res = await t.http.get('/api/v1/nothing-here').set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});

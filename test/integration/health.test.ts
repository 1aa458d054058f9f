import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { loginAs } from '../support/console.ts';

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

  it('answers a known path asked with another method 405 with an Allow header, an unknown path still 404', async () => {
    const healthz = await t.http.post('/healthz');
    expect(healthz.status).toBe(405);
    expect(healthz.headers.allow).toBe('GET, HEAD');
    expect(healthz.headers['content-type']).toContain('application/problem+json');
    expect(healthz.body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED', title: 'Method not allowed', detail: '/healthz takes GET, HEAD, not POST.' });

    // API paths with parameters and a trailing slash are matched as the router matches them.
    const auth = { authorization: `Bearer ${t.token}` };
    const orders = await t.http.delete('/api/v1/orders/').set(auth);
    expect(orders.status).toBe(405);
    expect(orders.headers.allow).toBe('GET, HEAD, POST');
    const order = await t.http.put('/api/v1/orders/00000000-0000-4000-8000-000000000000?x=1').set(auth).send({});
    expect(order.status).toBe(405);
    expect(order.headers.allow).toBe('GET, HEAD, PATCH');
    // /tickets/bulk is a POST route, and GET goes to /tickets/:id.
    expect((await t.http.delete('/api/v1/tickets/bulk').set(auth)).headers.allow).toBe('GET, HEAD, POST');

    const unknown = await t.http.post('/api/v1/nothing-here').set(auth);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
    // A file missing under /assets is a 404, not a 405: GET is what /assets/* takes.
    expect((await t.http.get('/assets/missing.css')).status).toBe(404);
  });

  it('shows a browser a page for a path no route takes (404) or takes with another method (405); API paths stay problem+json', async () => {
    const operator = await loginAs(t, 'operator');
    const html = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const missing = await operator.get('/tickets-typo?q=<b>x</b>').set('accept', html);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('text/html');
    expect(missing.text).toContain('Page not found');
    expect(missing.text).toContain('There is no page at /tickets-typo.');
    expect(missing.text).toContain(operator.user.email); // in the console's layout, signed in
    expect(missing.text).not.toContain('<b>x</b>');
    // A link to a form's action (POST only) opened in a tab.
    const action = await operator.get('/tickets/00000000-0000-4000-8000-000000000000/retry').set('accept', html);
    expect(action.status).toBe(405);
    expect(action.headers.allow).toBe('POST');
    // In an operator's words, with a link to the page the form belongs to.
    expect(action.text).toContain("This address is a form&#x27;s action, not a page");
    expect(action.text).not.toContain('takes POST, not GET');
    expect(action.text).toContain('<a href="/tickets/00000000-0000-4000-8000-000000000000" data-back>');
    // No link where the path above is no page.
    const orphan = await operator.get('/logout').set('accept', html);
    expect(orphan.status).toBe(405);
    expect(orphan.text).not.toContain('data-back');
    // htmx gets the box for the page's alert area.
    const fragment = await operator.htmx('get', '/nowhere');
    expect(fragment.status).toBe(404);
    expect(fragment.headers['hx-retarget']).toBe('#console-alert');
    expect(fragment.text).not.toContain('<html');
    // A post to nowhere is a 404 whatever its CSRF token: nothing is changed either way.
    expect((await operator.post('/nowhere', { _csrf: null })).status).toBe(404);
    // Without a session too, and not a redirect to the login page.
    const anonymous = await t.http.get('/nowhere').set('accept', html);
    expect(anonymous.status).toBe(404);
    expect(anonymous.text).toContain('Page not found');
    // API paths and clients that do not ask for HTML get problem+json.
    const api = await t.http.get('/api/v1/nowhere').set('accept', html);
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toContain('application/problem+json');
    expect((await t.http.get('/nowhere')).headers['content-type']).toContain('application/problem+json');
  });

  it('answers a path climbing out of /assets as a file that is not there: 404 NOT_FOUND, not a refusal by role', async () => {
    for (const url of ['/assets/../package.json', '/assets/%2e%2e/package.json', '/assets/build/../../src/main.ts']) {
      const res = await t.http.get(url);
      expect(res.status, url).toBe(404);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.body, url).toMatchObject({ code: 'NOT_FOUND', title: 'Not found' });
      expect(res.text, url).not.toMatch(/"name":\s*"ordo"|role/);
    }
  });
});

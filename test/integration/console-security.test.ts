import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { loginAs, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

let t: TestApp;
let operator: ConsoleBrowser;
let analyst: ConsoleBrowser;
let admin: ConsoleBrowser;
let orderId: string;

const MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;';

beforeAll(async () => {
  t = await createTestApp();
  [operator, analyst, admin] = await Promise.all([loginAs(t, 'operator'), loginAs(t, 'analyst'), loginAs(t, 'admin')]);
  const res = await t.http
    .post('/api/v1/orders')
    .set('authorization', `Bearer ${t.token}`)
    .send(validOrder({ externalId: 'XSS-1', customer: { name: MARKUP, email: 'xss@example.com', phone: null }, metadata: { note: MARKUP } }));
  expect(res.status).toBe(201);
  orderId = res.body.id;
  await t.database.db.updateTable('orders').set({ tags: [MARKUP.slice(0, 30)] }).where('id', '=', orderId).execute();
});
afterAll(async () => {
  await t?.close();
});

describe('CSRF', () => {
  it('refuses a console post without a token, with a wrong one, or with a stale one from before re-login', async () => {
    const missing = await operator.post(`/orders/${orderId}/notes`, { text: 'no token', _csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.headers['content-type']).toContain('text/html');
    expect(missing.text).toContain('This form has expired');
    expect(missing.text).toContain('<h1>This form has expired</h1>');
    expect(missing.text).not.toContain('Not allowed for your role');
    expect(missing.text).not.toContain('Ask an administrator');

    const wrong = await operator.post(`/orders/${orderId}/notes`, { text: 'wrong token', _csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);

    // Another user's token does not fit this session.
    const foreign = await operator.post(`/orders/${orderId}/notes`, { text: 'foreign token', _csrf: analyst.csrf });
    expect(foreign.status).toBe(403);

    // Same user logs in again: the old session and its token are gone.
    const again = await loginAs(t, operator.user);
    const stale = await t.http.post(`/orders/${orderId}/notes`).set('cookie', again.cookie).type('form').send({ text: 'stale', _csrf: operator.csrf });
    expect(stale.status).toBe(403);

    const notes = await t.database.db.selectFrom('order_notes').select('text').where('order_id', '=', orderId).execute();
    expect(notes).toEqual([]);
    operator = again;
  });

  it('accepts the token as form field or as the x-csrf-token header (htmx)', async () => {
    const form = await operator.post(`/orders/${orderId}/notes`, { text: 'by form' });
    expect(form.status).toBe(303);
    const htmx = await operator.htmx('post', `/orders/${orderId}/notes`, { text: 'by htmx' });
    expect(htmx.status).toBe(200);
    const notes = await t.database.db.selectFrom('order_notes').select('text').where('order_id', '=', orderId).orderBy('id').execute();
    expect(notes.map((n) => n.text)).toEqual(['by form', 'by htmx']);
  });

  it('refuses a cross-site request even with a token', async () => {
    const res = await t.http
      .post(`/orders/${orderId}/notes`)
      .set('cookie', operator.cookie)
      .set('sec-fetch-site', 'cross-site')
      .type('form')
      .send({ text: 'cross', _csrf: operator.csrf });
    expect(res.status).toBe(403);
  });

  it('answers an htmx post with a missing token by a 403 fragment aimed at the alert area', async () => {
    const res = await t.http
      .post(`/orders/${orderId}/tags`)
      .set('cookie', operator.cookie)
      .set('hx-request', 'true')
      .type('form')
      .send({ tag: 'x' });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('<html');
    expect(res.headers['hx-retarget']).toBe('#console-alert');
  });

  it('leaves the JSON API to its bearer tokens (no CSRF there)', async () => {
    const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'API-NO-CSRF' }));
    expect(res.status).toBe(201);
  });
});

describe('roles', () => {
  it('lets only administrators into user administration; the others get a 403 page', async () => {
    for (const browser of [operator, analyst]) {
      const res = await browser.get('/admin/users');
      expect(res.status, browser.user.role).toBe(403);
      expect(res.text).toContain('Not allowed for your role');
      expect(res.text).not.toContain(admin.user.email);
      const post = await browser.post('/admin/users', { email: `sneaky-${browser.user.role}@test.local`, role: 'admin', password: 'long enough password' });
      expect(post.status).toBe(403);
    }
    expect(await t.database.db.selectFrom('users').select('id').where('email', 'like', 'sneaky-%').execute()).toEqual([]);
    const res = await admin.get('/admin/users');
    expect(res.status).toBe(200);
    expect(res.text).toContain(operator.user.email);
  });

  it('shows each role only the navigation it may use', async () => {
    const nav = async (b: ConsoleBrowser) => (await b.get('/')).text;
    const op = await nav(operator);
    expect(op).toContain('href="/orders"');
    expect(op).not.toContain('href="/processes"');
    expect(op).not.toContain('href="/admin/users"');
    const an = await nav(analyst);
    expect(an).toContain('href="/processes"');
    expect(an).not.toContain('href="/admin/users"');
    const ad = await nav(admin);
    expect(ad).toContain('href="/processes"');
    expect(ad).toContain('href="/admin/users"');
    expect(ad).toContain(admin.user.email);
  });
});

describe('headers', () => {
  it('sends a strict CSP and the other security headers with every page', async () => {
    for (const res of [await t.http.get('/login'), await operator.get('/orders'), await operator.get(`/orders/${orderId}`)]) {
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('sends the same security headers with every answer: API, refusals, unknown routes, assets, health', async () => {
    const expected = {
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'DENY',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
      // HSTS only where Ordo is served over HTTPS (the switch of the Secure cookie flag).
      ...(t.config.secureCookies ? { 'strict-transport-security': 'max-age=15552000' } : {}),
    };
    const labels = ['API answer', 'API refusal (no token)', 'malformed JSON', 'unknown route', 'asset', 'health'];
    const answers = [
      await t.http.get('/api/v1/orders').set('authorization', `Bearer ${t.token}`),
      await t.http.get('/api/v1/orders'),
      await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).set('content-type', 'application/json').send('{"broken'),
      await t.http.get('/no/such/page'),
      await t.http.get('/assets/console.css'),
      await t.http.get('/healthz'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 400, 404, 200, 200]);
    for (const [i, res] of answers.entries()) {
      const security = Object.fromEntries(Object.entries(res.headers).filter(([name]) => name in expected || /^(strict-transport-security|x-.*-options|cross-origin-|content-security-)/.test(name)));
      expect(security, labels[i]).toEqual(expected);
    }
  });

  it('serves the console assets', async () => {
    const css = await t.http.get('/assets/console.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    const js = await t.http.get('/assets/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
  });

  it('keeps console routes out of the OpenAPI document', async () => {
    const res = await t.http.get('/api/v1/openapi.json').set('authorization', `Bearer ${t.token}`);
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths ?? {});
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toMatch(/^\/api\/v1\//);
  });

  it('keeps pages out of caches and varies on HX-Request', async () => {
    const res = await operator.get('/orders');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.vary).toContain('HX-Request');
  });
});

describe('order data is text, never markup', () => {
  it('escapes a customer name full of markup on the order list', async () => {
    const res = await operator.get('/orders');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(MARKUP);
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).toContain(ESCAPED);
  });

  it('escapes it on the order page, in the data, the header and the tags', async () => {
    const res = await operator.get(`/orders/${orderId}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(MARKUP);
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).toContain(ESCAPED);
    // The only <script> elements are Ordo's own, loaded by src.
    const scripts = res.text.match(/<script[^>]*>/g) ?? [];
    for (const s of scripts) expect(s).toMatch(/^<script src="\/assets\/[^"]+" defer>$/);
  });

  it('escapes it in htmx fragments too', async () => {
    const res = await operator.htmx('get', '/orders?q=XSS');
    expect(res.text).not.toContain(MARKUP);
    expect(res.text).toContain(ESCAPED);
  });

  it('has no triple-stash in any template but the layout body', () => {
    const root = path.resolve('views');
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith('.hbs'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const file = path.join(f.parentPath, f.name);
      const source = readFileSync(file, 'utf8');
      const triples = source.match(/\{\{\{[^}]*\}\}\}/g) ?? [];
      expect(triples, file).toEqual(file.endsWith(path.join('layouts', 'main.hbs')) ? ['{{{body}}}'] : []);
      expect(source, file).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(source, file).not.toMatch(/\son[a-z]+=/i);
    }
  });
});

describe('page or fragment', () => {
  it('answers a plain request with the whole page and an htmx request with the fragment only', async () => {
    for (const url of ['/', '/orders', `/orders/${orderId}`]) {
      const full = await operator.get(url);
      expect(full.text, url).toMatch(/^<!doctype html>/);
      expect(full.text, url).toContain('<html');
      const fragment = await operator.htmx('get', url);
      expect(fragment.status, url).toBe(200);
      expect(fragment.text, url).not.toContain('<html');
      expect(fragment.text, url).not.toMatch(/<head[\s>]/);
      expect(fragment.text, url).not.toContain('class="topbar"');
    }
    const list = await operator.htmx('get', '/orders');
    expect(list.text.trim()).toMatch(/^<table class="table zebra" id="orders-table">/);
    const page = await operator.htmx('get', `/orders/${orderId}`);
    expect(page.text.trim()).toMatch(/^<article id="order"/);
  });

  it('gives boosted and history-restore requests the whole page', async () => {
    const boosted = await operator.get('/orders').set('hx-request', 'true').set('hx-boosted', 'true');
    expect(boosted.text).toContain('<html');
    const restore = await operator.get('/orders').set('hx-request', 'true').set('hx-history-restore-request', 'true');
    expect(restore.text).toContain('<html');
  });

  it('renders errors as pages: an unknown order is a 404 page, not JSON', async () => {
    const res = await operator.get('/orders/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.text).toContain('There is no order with this id');
  });
});

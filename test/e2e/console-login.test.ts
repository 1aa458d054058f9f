import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, listenForBrowser, logInThroughForm, watchPage, type PageWatch } from '../support/browser.ts';
import { createConsoleUser, type ConsoleUser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * The console in a real browser (Debian's Chromium): log in through the form, find an order, open it,
 * and prove that markup in order data is shown as text, runs nothing, and that the pages pass their own
 * Content-Security-Policy.
 */
const MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>';

let t: TestApp;
let browser: Browser;
let baseUrl: string;
let user: ConsoleUser;
let orderId: string;

let context: BrowserContext;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  t = await createTestApp();
  baseUrl = await listenForBrowser(t);
  user = await createConsoleUser(t, 'operator');
  const res = await t.http
    .post('/api/v1/orders')
    .set('authorization', `Bearer ${t.token}`)
    .send(validOrder({ externalId: 'E2E-XSS', customer: { name: MARKUP, email: 'xss@example.com', phone: null } }));
  expect(res.status).toBe(201);
  orderId = res.body.id;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

beforeEach(async () => {
  await context?.close();
  context = await browser.newContext({ baseURL: baseUrl });
  page = await context.newPage();
  watch = watchPage(page, 'dismiss');
});

async function logIn(target = '/orders') {
  await page.goto(target);
  await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
  await logInThroughForm(page, user, new URL(target, baseUrl).pathname);
}

describe('console in Chromium', () => {
  it('logs in through the form and comes back to the page asked for', async () => {
    await logIn('/orders');
    await expect.poll(() => page.getByRole('heading', { name: 'Orders', level: 1 }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('link', { name: 'E2E-XSS' }).isVisible()).toBe(true);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'ordo_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: true });
    // The session cookie is invisible to scripts.
    expect(await page.evaluate(() => document.cookie)).not.toContain('ordo_session');
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('shows a wrong password as one generic message', async () => {
    await page.goto('/login');
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'E-mail or password is wrong.' }).isVisible()).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('shows markup in a customer name as text and runs none of it, on the list and the order page', async () => {
    await logIn('/orders');
    const row = page.locator('#orders-table tbody tr', { has: page.getByRole('link', { name: 'E2E-XSS' }) });
    expect(await row.locator('td.customer').innerText()).toContain(MARKUP);
    await page.getByRole('link', { name: 'E2E-XSS' }).click();
    await page.waitForURL(`**/orders/${orderId}`);
    expect(await page.locator('.customer-name').innerText()).toBe(MARKUP);
    // The markup is text: no <img src=x> element, no script besides Ordo's own files.
    expect(await page.locator('img').count()).toBe(0);
    const scripts = await page.locator('script').evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).src));
    for (const src of scripts) expect(new URL(src).pathname).toMatch(/^\/assets\//);
    // Give a would-be onerror handler time to fire.
    await page.waitForTimeout(300);
    expect(watch.dialogs).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('adds a note with markup through the plain form and shows it literally', async () => {
    await logIn(`/orders/${orderId}`);
    await page.getByLabel('Add a note').fill(`Customer wrote ${MARKUP}`);
    await page.getByRole('button', { name: 'Save note' }).click();
    await expect.poll(() => page.locator('.note-text').first().innerText()).toBe(`Customer wrote ${MARKUP}`);
    await page.waitForTimeout(300);
    expect(watch.dialogs).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
  });

  it('focuses the search with "/" on the order list (console.js runs under the CSP)', async () => {
    await logIn('/orders');
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('orders-q');
    expect(watch.cspViolations).toEqual([]);
  });

  it('draws the order’s lifecycle diagram with the current step marked, within the CSP', async () => {
    const db = t.database.db;
    const xml = readFileSync(new URL('../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');
    const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'E2E-DIAGRAM' }));
    const dep = await db.insertInto('deployments').values({ xml, hash: 'e2e', deployed_by: 'e2e' }).returning('id').executeTakeFirstOrThrow();
    const def = await db
      .insertInto('process_definitions')
      .values({ deployment_id: dep.id, key: 'order-lifecycle-e2e', version: 1, name: null, executable: true, hash: 'e2e' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('process_instances')
      .values({ definition_id: def.id, process_key: 'order-lifecycle-e2e', version: 1, order_id: res.body.id, status: 'active', state: '{}', waiting_at: ['Task_ValidatePayment'] })
      .execute();

    await logIn(`/orders/${res.body.id}`);
    const diagram = page.locator('#order-diagram');
    await expect.poll(() => diagram.getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect(await diagram.locator('.djs-element').count()).toBeGreaterThan(10);
    expect(await diagram.locator('[data-element-id="Task_ValidatePayment"].ordo-active').count()).toBe(1);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('logs out and cannot come back with the back button', async () => {
    await logIn('/orders');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.goto('/orders');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
  });
});

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { openTicketOf, postOrder } from '../support/orders.ts';
import { launchChromium, listenForBrowser, logInThroughForm, watchPage, type PageWatch } from '../support/browser.ts';
import { createConsoleUser, type ConsoleUser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * The operator's two-action fix in real Chromium: find the ticket in the queue, type the phone (the live
 * check says ✓), Save and retry, see the result line, and the order is released. And the queue's
 * auto-refresh keeps what the operator was doing: a checked box, the typed search, the row focus.
 */
const SHOTS = process.env.ORDO_E2E_SCREENSHOTS;

let t: TestApp;
let browser: Browser;
let baseUrl: string;
let user: ConsoleUser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

const withoutPhone = (externalId: string, name = 'Anna Nowak') => {
  const o = validOrder({ externalId });
  o.customer = { ...o.customer, name, phone: null };
  return o;
};

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  baseUrl = await listenForBrowser(t);
  user = await createConsoleUser(t, 'operator');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

beforeEach(async () => {
  await context?.close();
  context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1400, height: 1000 } });
  page = await context.newPage();
  watch = watchPage(page, 'dismiss');
});

async function logIn(target: string) {
  await page.goto(target);
  await expect.poll(() => new URL(page.url()).pathname).toBe('/login');
  await logInThroughForm(page, user, new URL(target, baseUrl).pathname);
}

describe('ticket pages in Chromium', () => {
  it('fixes a missing phone in two actions: type it (live ✓), Save and retry; the order is released', async () => {
    const orderId = await postOrder(t, withoutPhone('E2E-PHONE-1'));
    const ticketId = await openTicketOf(t, orderId);

    await logIn('/tickets');
    const row = page.locator(`#ticket-row-${ticketId}`);
    await expect.poll(() => row.isVisible()).toBe(true);
    expect(await row.locator('td.problem').innerText()).toMatch(/phone/i);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/queue.png`, fullPage: true });
    await row.getByRole('link', { name: 'E2E-PHONE-1' }).click();
    await page.waitForURL(`**/tickets/${ticketId}`);

    // Only the field at fault, labelled, empty.
    const phone = page.getByLabel('Phone', { exact: true });
    expect(await page.locator('input[name^="v."]').count()).toBe(1);
    expect(await phone.inputValue()).toBe('');
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect(await page.locator('#ticket-diagram [data-element-id="Task_ValidateAddress"].ordo-failed').count()).toBe(1);
    // Drawn red: the step is also where the order waits (ordo-active, blue), and failed must win.
    const stroke = await page.locator('#ticket-diagram [data-element-id="Task_ValidateAddress"] .djs-visual > :nth-child(1)').evaluate((el) => getComputedStyle(el).stroke);
    expect(stroke).toBe('rgb(198, 40, 40)');

    await phone.pressSequentially('+48 601 234 567', { delay: 20 });
    await expect.poll(() => page.locator('#check-customer-phone').innerText(), { timeout: 10_000 }).toContain('✓');
    expect(await page.locator('#fix-summary').innerText()).toContain('The step would pass');
    expect(await phone.getAttribute('aria-invalid')).toBeNull();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket.png`, fullPage: true });

    await phone.press('Enter');
    const outcome = page.locator('#fix-outcome');
    await expect.poll(() => outcome.isVisible(), { timeout: 10_000 }).toBe(true);
    // The line polls itself until the order has reached fulfilment.
    await expect.poll(() => outcome.innerText(), { timeout: 20_000 }).toContain('Released to fulfilment');
    expect(await page.locator('[data-ticket-status]').innerText()).toBe('resolved');
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/fixed.png`, fullPage: true });

    // The header followed the order; the cancel form went away with the open ticket.
    await expect.poll(() => page.locator('#ticket-head .order-line .badge').innerText()).toBe('released');
    expect(await page.locator('#ticket-cancel').count()).toBe(0);

    await outcome.getByRole('link', { name: /Open order E2E-PHONE-1/ }).click();
    await page.waitForURL(`**/orders/${orderId}`);
    expect(await page.locator('h1 .badge').innerText()).toBe('released');
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('refreshes the queue without losing the checked box, the typed search, or the row focus', { timeout: 90_000 }, async () => {
    const orderIds = await Promise.all([postOrder(t, withoutPhone('E2E-KEEP-1', 'Keep One')), postOrder(t, withoutPhone('E2E-KEEP-2', 'Keep Two'))]);
    const [first, second] = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));

    await logIn('/tickets');
    let refreshes = 0;
    page.on('request', (request) => {
      if (request.headers()['hx-target'] === 'ticket-rows') refreshes++;
    });
    const search = page.getByLabel(/Search/);
    await search.pressSequentially('E2E-KEEP', { delay: 20 });
    // The filter applies as the operator types, and the URL keeps it.
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('E2E-KEEP');

    const box = page.locator(`#select-${first}`);
    // Wait until the search has settled (no filter request in flight), then select.
    await page.waitForLoadState('networkidle');
    await box.check();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('1 selected:');

    // Meanwhile a colleague takes the other ticket; the next refresh shows it.
    const colleague = await createConsoleUser(t, 'operator');
    await t.http.post(`/api/v1/tickets/${second}/assign`).set('authorization', `Bearer ${t.token}`).send({ assignee: colleague.id });

    await search.focus();
    await page.keyboard.type('  ');
    const before = refreshes;
    await expect.poll(() => refreshes, { timeout: 15_000 }).toBeGreaterThan(before);
    await expect.poll(() => page.locator(`#ticket-row-${second} td.assignee`).innerText(), { timeout: 10_000 }).toContain(colleague.email);
    expect(await box.isChecked()).toBe(true);
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('1 selected:');
    expect(await search.inputValue()).toBe('E2E-KEEP  ');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tickets-q');

    // Keyboard: j moves the row focus down to the checked ticket, a assigns it to me (that row alone is
    // swapped, racing the list's own refresh), and both its tick and the focus stay through refreshes.
    // Both tickets fall due at the same minute, so where the checked one sits is the server's order: read it.
    const ids = await page.locator('#ticket-rows tr[data-ticket-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ticket-id')));
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-ticket-id'));
    await page.locator('h1').click();
    for (let i = 0; i <= ids.indexOf(String(first)); i++) await page.keyboard.press('j');
    await expect.poll(focused).toBe(String(first));
    await page.keyboard.press('a');
    await expect.poll(() => page.locator(`#ticket-row-${first} td.assignee`).innerText(), { timeout: 10_000 }).toContain('me');
    expect(await box.isChecked()).toBe(true);
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('1 selected:');
    const refreshed = refreshes;
    await expect.poll(() => refreshes, { timeout: 15_000 }).toBeGreaterThan(refreshed);
    expect(await box.isChecked()).toBe(true);
    await expect.poll(focused).toBe(String(first));
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/tickets/${first}`);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('fixes a group in the browser: preview before → after, apply, watch the progress bar finish', async () => {
    const postal = (externalId: string, code: string) => {
      const o = validOrder({ externalId });
      o.shippingAddress = { ...o.shippingAddress!, postalCode: code };
      return o;
    };
    const orderIds = await Promise.all([postOrder(t, postal('E2E-GF-1', '00838')), postOrder(t, postal('E2E-GF-2', '02495'))]);
    const ids = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));

    await logIn('/tickets/groups');
    await page.locator('tr[data-group-code="POSTAL_CODE_INVALID"]').getByRole('link', { name: 'Fix all like this…' }).click();
    await page.waitForURL('**/tickets/groups/fix?**');
    await page.getByRole('button', { name: 'Preview' }).click();
    const table = page.locator('#group-preview-table');
    await expect.poll(() => table.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await table.locator('tr[data-outcome="passes"]').count()).toBe(2);
    expect(await table.innerText()).toContain('00-838');
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/group-preview.png`, fullPage: true });

    await page.getByLabel('Reason').fill('hyphen missing in Polish postal codes');
    await page.getByRole('button', { name: 'Apply to 2' }).click();
    await expect.poll(() => page.locator('[data-bulk-status]').getAttribute('data-bulk-status'), { timeout: 20_000 }).toBe('done');
    expect(await page.locator('#bulk-progress progress').getAttribute('value')).toBe('2');
    const statuses = await t.database.db.selectFrom('tickets').select('status').where('id', 'in', ids).execute();
    expect(statuses.map((s) => s.status)).toEqual(['resolved', 'resolved']);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/group-applied.png`, fullPage: true });

    await page.goto('/');
    expect(await page.locator('#dashboard-throughput svg rect.bar-resolved').count()).toBe(24);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('shows a refused form (422 on a bulk action, 409 on a ticket handled meanwhile) without a browser console error', async () => {
    const orderIds = await Promise.all([postOrder(t, withoutPhone('E2E-REFUSE-1', 'Refuse One')), postOrder(t, withoutPhone('E2E-REFUSE-2', 'Refuse Two'))]);
    const [first, second] = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));

    await logIn('/tickets');
    await page.goto('/tickets?q=E2E-REFUSE');
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count(), { timeout: 10_000 }).toBe(2);
    await page.locator(`#select-${first}`).check();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('1 selected:');
    // Cancelling orders without a reason: 422, the message in place, the selection kept for a second try.
    const refusal = page.waitForResponse((r) => r.url().endsWith('/tickets/bulk') && r.request().method() === 'POST');
    await page.getByText('Cancel orders…').click();
    await page.getByRole('button', { name: 'Cancel the selected orders' }).click();
    expect((await refusal).status()).toBe(422);
    await expect.poll(() => page.locator('#bulk-progress [role="alert"]').innerText()).toBe('Cancelling orders needs a reason.');
    expect(await page.locator(`#select-${first}`).isChecked()).toBe(true);
    expect(await page.locator('[data-selected-count]').innerText()).toBe('1 selected:');

    // A ticket page left open while a colleague cancels the order: Save and retry answers 409, "Already handled".
    await page.goto(`/tickets/${second}`);
    await page.getByLabel('Phone', { exact: true }).fill('+48 601 234 567');
    const cancelled = await t.http.post(`/api/v1/orders/${orderIds[1]}/cancel`).set('authorization', `Bearer ${t.token}`).send({ reason: 'customer withdrew' });
    expect(cancelled.status).toBe(200);
    const stale = page.waitForResponse((r) => r.url().endsWith(`/tickets/${second}/retry`));
    await page.getByRole('button', { name: 'Save and retry' }).click();
    expect((await stale).status()).toBe(409);
    await expect.poll(() => page.locator('#ticket-handled').innerText()).toContain('Already handled.');

    // htmx logs nothing for these answers. Chromium's own network line for a 4xx response stays: the page
    // cannot silence it, and it names the status, not an error of the page.
    expect(watch.consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of (409|422) /.test(m))).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('the queue keeps the operator where they are', () => {
  let ids: string[] = [];
  beforeAll(async () => {
    const orderIds = await Promise.all(Array.from({ length: 8 }, (_, i) => postOrder(t, withoutPhone(`E2E-PLACE-${i}`, `Place ${i}`))));
    ids = await Promise.all(orderIds.map((id) => openTicketOf(t, id)));
  });

  it('shows a bulk result where the operator is, without pushing the list, and says why a retried ticket still fails', async () => {
    await page.setViewportSize({ width: 1200, height: 560 });
    await logIn('/tickets');
    await page.goto('/tickets?q=E2E-PLACE');
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count(), { timeout: 10_000 }).toBe(8);
    await page.locator('[data-select-all]').check();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('8 selected:');
    await page.mouse.wheel(0, 2000);
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(100);
    const last = page.locator('#ticket-rows tr[data-ticket-id]').last();
    const before = (await last.boundingBox())!.y;
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect.poll(() => page.locator('[data-bulk-status]').getAttribute('data-bulk-status'), { timeout: 20_000 }).toBe('done');
    // In view, over the list: the rows stay where they were.
    const panel = (await page.locator('#bulk-progress').boundingBox())!;
    expect(panel.y).toBeGreaterThanOrEqual(0);
    expect(panel.y + panel.height).toBeLessThanOrEqual(560);
    expect((await last.boundingBox())!.y).toBe(before);
    // Each still-failing ticket says what still fails, in words.
    const results = await page.locator('#bulk-progress li').allInnerTexts();
    expect(results).toHaveLength(8);
    for (const r of results) expect(r).toMatch(/still failing: \S.*phone/i);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/bulk-docked.png` });

    // Scrolled fully down, the page has room below for the dock: the last row and the pager are above it,
    // to be read and clicked, not under it.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await expect.poll(() => page.evaluate(() => Math.ceil(window.scrollY + window.innerHeight) >= document.documentElement.scrollHeight)).toBe(true);
    const dock = (await page.locator('.bulk-dock').boundingBox())!;
    expect(dock.height).toBeGreaterThan(0);
    for (const locator of [last, page.locator('#ticket-pager')]) {
      const box = (await locator.boundingBox())!;
      const overlaps = box.x < dock.x + dock.width && dock.x < box.x + box.width && box.y < dock.y + dock.height && dock.y < box.y + box.height;
      expect(overlaps).toBe(false);
    }
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/bulk-docked-bottom.png` });

    // Closed, the dock leaves no room behind.
    await page.getByRole('button', { name: "Close the bulk action's result" }).click();
    expect(await page.locator('#bulk-progress').innerText()).toBe('');
    await expect.poll(() => page.evaluate(() => getComputedStyle(document.body).paddingBottom)).toBe('0px');
    expect(watch.pageErrors).toEqual([]);
  });

  it('leaves no gap between the sticky bulk bar and the table header at 859 px', async () => {
    await page.setViewportSize({ width: 859, height: 600 });
    await logIn('/tickets');
    await page.goto('/tickets?q=E2E-PLACE');
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count(), { timeout: 10_000 }).toBe(8);
    await page.locator(`#select-${ids[0]}`).check();
    await page.mouse.wheel(0, 400);
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(300);
    const gap = await page.evaluate(() => {
      const bar = document.querySelector('#bulk-form .bulk-bar')!.getBoundingClientRect();
      const th = document.querySelector('#ticket-table thead th')!.getBoundingClientRect();
      return { barTop: bar.top, gap: th.top - bar.bottom };
    });
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/sticky-859.png` });
    expect(gap.barTop).toBe(0);
    expect(gap.gap).toBeLessThanOrEqual(0);
  });

  it("counts the Problem menu for the queue tab chosen, and keeps the menu's focus when the list is swapped", async () => {
    const failed = validOrder({ externalId: 'E2E-MENU-PAY' });
    failed.payment.status = 'failed';
    await openTicketOf(t, await postOrder(t, failed));
    await logIn('/tickets');
    const menu = page.locator('#tickets-code');
    const labels = () => menu.locator('option').allInnerTexts();
    await expect.poll(labels).toContainEqual(expect.stringMatching(/^Phone .*\(\d+ open\)$/));
    // A tab swaps the list only; the menu comes with it out of band, counted for the tab.
    await page.locator('#ticket-queues a', { hasText: 'payment' }).click();
    await page.waitForURL('**/tickets?queue=payment');
    await expect.poll(labels).toContainEqual(expect.stringMatching(/^Payment .*\(1 open in payment\)$/));
    expect((await labels()).some((l) => /^Phone /.test(l))).toBe(false);
    // The swap keeps what the operator chose: nothing yet, so the menu still says Any.
    expect(await menu.inputValue()).toBe('');
    await page.locator('#tickets-q').fill('E2E');
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('E2E');
    expect(await menu.inputValue()).toBe('');
    // Chosen from the keyboard, the menu swaps the list and keeps its focus (htmx finds it again by its id).
    await menu.focus();
    const paymentCode = await menu.locator('option', { hasText: 'open in payment' }).first().getAttribute('value');
    await menu.selectOption(paymentCode!);
    await page.waitForURL(`**/tickets?*code=${paymentCode}*`);
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tickets-code');
    expect(await menu.inputValue()).toBe(paymentCode);
    await page.locator('#ticket-queues a', { hasText: 'All' }).click();
    await expect.poll(labels).toContainEqual(expect.stringMatching(/^Phone .*\(\d+ open\)$/));
    expect(await menu.inputValue()).toBe(paymentCode);
    expect(watch.pageErrors).toEqual([]);
  });

  it('puts the row focus back on the ticket last opened when the operator comes Back', async () => {
    await logIn('/tickets');
    await page.goto('/tickets?q=E2E-PLACE');
    await expect.poll(() => page.locator('#ticket-rows tr[data-ticket-id]').count(), { timeout: 10_000 }).toBe(8);
    const order = await page.locator('#ticket-rows tr[data-ticket-id]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ticket-id')));
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-ticket-id'));
    await page.locator('h1').click();
    for (let i = 0; i < 3; i++) await page.keyboard.press('j');
    await expect.poll(focused).toBe(order[2]);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/tickets/${order[2]}`);
    await page.goBack();
    await page.waitForURL('**/tickets?q=E2E-PLACE');
    await expect.poll(focused, { timeout: 5_000 }).toBe(order[2]);
    await page.keyboard.press('j');
    await expect.poll(focused).toBe(order[3]);
    expect(watch.pageErrors).toEqual([]);
  });
});

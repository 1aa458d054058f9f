import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Order } from '../../src/orders/schema.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { openTicketOf, postOrder } from '../support/orders.ts';
import { launchChromium, listenForBrowser, logInThroughForm, watchPage, type PageWatch } from '../support/browser.ts';
import { createConsoleUser, type ConsoleUser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * What the operator sees without scrolling, in real Chromium: the Fix card beside what failed (a ticket
 * with three issues at 1440×900, one with a single issue at 1024×768), the steps grouped per issue, the
 * lifecycle zoomed to the ticket's step so that it can be read, and the queue's bulk bar in view while
 * tickets are selected further down the list.
 */
const SHOTS = process.env.ORDO_E2E_SCREENSHOTS;

let t: TestApp;
let browser: Browser;
let baseUrl: string;
let user: ConsoleUser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

const withoutPhone = (externalId: string) => {
  const o = validOrder({ externalId });
  o.customer = { ...o.customer, phone: null };
  return o;
};

/** Phone missing, postal code without its hyphen, a comma in the e-mail: three issues, 4 + 5 + 4 steps. */
const threeIssues = (externalId: string) => {
  const o = withoutPhone(externalId);
  o.customer = { ...o.customer, email: 'anna@example,com' };
  o.shippingAddress = { ...o.shippingAddress!, postalCode: '00838' };
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
  context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  watch = watchPage(page, 'dismiss');
  await page.goto('/login');
  await logInThroughForm(page, user, '/');
});

/** The element's box lies wholly inside the window as the page stands (no scrolling done). */
async function inView(locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const size = page.viewportSize()!;
  return !!box && box.width > 0 && box.y >= 0 && box.x >= 0 && box.y + box.height <= size.height && box.x + box.width <= size.width;
}

async function diagramStep(): Promise<{ width: number; height: number; x: number; y: number }> {
  const box = await page.locator('#ticket-diagram [data-element-id="Task_ValidateAddress"] .djs-visual > :nth-child(1)').boundingBox();
  return box!;
}

/**
 * The drawn element's box (getBoundingClientRect, as rendered) lies wholly inside the diagram's frame: not
 * cut at the card's edge.
 */
async function wholeInDiagram(elementId: string): Promise<boolean> {
  const frame = (await page.locator('#ticket-diagram').boundingBox())!;
  const box = await page.locator(`#ticket-diagram .djs-element[data-element-id="${elementId}"]`).evaluate((e) => {
    const r = e.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
  return box.width > 0 && box.x >= frame.x && box.y >= frame.y && box.x + box.width <= frame.x + frame.width && box.y + box.height <= frame.y + frame.height;
}

describe('the ticket page without scrolling', () => {
  it('shows the Fix card beside three issues at 1440×900, the steps grouped per issue, the step readable in the diagram', async () => {
    const orderId = await postOrder(t, threeIssues('E2E-LAYOUT-3'));
    const ticketId = await openTicketOf(t, orderId);
    await page.goto(`/tickets/${ticketId}`);
    expect(await page.locator('#ticket-failed .issue').count()).toBe(3);

    // Save and retry, the fields at fault and the reason: all in the window as the page opens.
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    expect(await inView(page.locator('#fix-submit'))).toBe(true);
    expect(await inView(page.getByLabel('Phone', { exact: true }))).toBe(true);
    expect(await inView(page.locator('#fix-reason'))).toBe(true);

    // One numbered list per issue, headed by the issue in words, in the order the issues came.
    const groups = page.locator('#ticket-todo .instruction-group');
    expect(await groups.count()).toBe(3);
    expect(await page.locator('#ticket-todo ol.instructions').count()).toBe(3);
    const headings = await groups.locator('.instruction-heading').allInnerTexts();
    const issues = await page.locator('#ticket-failed .issue-text').allInnerTexts();
    expect(headings).toEqual(issues.map((text) => text.replace(/^✗\s*/, '')));
    const counts = await groups.evaluateAll((sections) => sections.map((s) => s.querySelectorAll('li').length));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(13);
    const firstSteps = await groups.evaluateAll((sections) => sections.map((s) => s.querySelector('li')!.textContent ?? ''));
    const byIssue = Object.fromEntries(headings.map((h, i) => [/phone/i.test(h) ? 'phone' : /postal/i.test(h) ? 'postal' : /mail/i.test(h) ? 'email' : h, { steps: counts[i], first: firstSteps[i] }]));
    expect(byIssue.phone?.steps).toBe(4);
    expect(byIssue.phone?.first).toMatch(/need a phone number/);
    expect(byIssue.postal?.steps).toBe(5);
    expect(byIssue.postal?.first).toContain('"00838"');
    expect(byIssue.email?.steps).toBe(4);
    expect(byIssue.email?.first).toContain('"anna@example,com"');

    // The diagram opens on the failing step and its neighbours, at a size that can be read.
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect(await page.locator('#ticket-diagram').getAttribute('data-ordo-view')).toBe('focus');
    const zoomed = await diagramStep();
    expect(zoomed.width).toBeGreaterThanOrEqual(70);
    const frame = (await page.locator('#ticket-diagram').boundingBox())!;
    expect(zoomed.x).toBeGreaterThanOrEqual(frame.x);
    expect(zoomed.x + zoomed.width).toBeLessThanOrEqual(frame.x + frame.width);
    expect(zoomed.y).toBeGreaterThanOrEqual(frame.y);
    expect(zoomed.y + zoomed.height).toBeLessThanOrEqual(frame.y + frame.height);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket-3-issues-1440.png`, fullPage: true });

    // The whole lifecycle on demand, and back to the step.
    // The button sits in the card's header, above the drawing, covering none of it.
    const toggle = page.locator('#ticket-lifecycle .card-head').getByRole('button', { name: 'Whole diagram' });
    const toggleBox = (await toggle.boundingBox())!;
    expect(toggleBox.y + toggleBox.height).toBeLessThanOrEqual(frame.y);
    expect(await page.locator('#ticket-diagram button').count()).toBe(0);
    await toggle.click();
    expect(await page.locator('#ticket-diagram').getAttribute('data-ordo-view')).toBe('whole');
    expect((await diagramStep()).width).toBeLessThan(zoomed.width);
    await page.locator('#ticket-lifecycle').getByRole('button', { name: 'Zoom to “Validate address”' }).click();
    expect(await page.locator('#ticket-diagram').getAttribute('data-ordo-view')).toBe('focus');
    expect((await diagramStep()).width).toBeCloseTo(zoomed.width, 0);

    // Scrolled to the history, the Fix card is still there.
    await page.locator('#ticket-history').scrollIntoViewIfNeeded();
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    expect(await inView(page.locator('#fix-submit'))).toBe(true);

    // A partial fix saves while the e-mail is still wrong: the server's checks judge the form, not the
    // browser's own e-mail syntax (which would block the submit with a tooltip).
    await page.getByLabel('Phone', { exact: true }).fill('+48 601 234 567');
    await page.locator('#fix-submit').click();
    await expect.poll(() => page.locator('#ticket-failed .issue').count(), { timeout: 10_000 }).toBe(2);

    // Fixing two of the three: what to do follows what is still wrong (one list, no heading).
    await page.getByLabel('E-mail', { exact: true }).fill('anna@example.com');
    await page.locator('#fix-submit').click();
    await expect.poll(() => page.locator('#ticket-failed .issue').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('#ticket-todo ol.instructions').count()).toBe(1);
    expect(await page.locator('#ticket-todo .instruction-heading').count()).toBe(0);
    expect(await page.locator('#ticket-todo').innerText()).toContain('"00838"');
    expect(await page.locator('#ticket-todo').innerText()).not.toMatch(/need a phone number/);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('shows Save and retry without scrolling at 1024×768 for a one-issue ticket, its steps as one list', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    const ticketId = await openTicketOf(t, await postOrder(t, withoutPhone('E2E-LAYOUT-1')));
    await page.goto(`/tickets/${ticketId}`);
    expect(await inView(page.locator('#fix-submit'))).toBe(true);
    expect(await inView(page.getByLabel('Phone', { exact: true }))).toBe(true);
    expect(await page.locator('#ticket-todo ol.instructions').count()).toBe(1);
    expect(await page.locator('#ticket-todo .instruction-heading').count()).toBe(0);
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect((await diagramStep()).width).toBeGreaterThanOrEqual(70);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket-1-issue-1024.png`, fullPage: true });

    // Enter in the field saves and retries.
    const phone = page.getByLabel('Phone', { exact: true });
    await phone.fill('+48 601 234 567');
    await phone.press('Enter');
    await expect.poll(() => page.locator('#fix-outcome').isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.locator('[data-ticket-status]').innerText(), { timeout: 20_000 }).toBe('resolved');

    // Resolved: nothing left to do (the steps folded away), and the diagram shows where the order is now,
    // with nothing outlined in red.
    await expect.poll(() => page.locator('#todo-done').isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#ticket-todo ol.instructions').isVisible()).toBe(false);
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-focus'), { timeout: 20_000 }).not.toBe('Task_ValidateAddress');
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect(await page.locator('#ticket-diagram .ordo-failed').count()).toBe(0);
    const now = (await page.locator('#ticket-diagram').getAttribute('data-focus'))!.split(' ');
    expect(now.length).toBeGreaterThan(0);
    expect(await page.locator(`#ticket-diagram [data-element-id="${now[0]}"].ordo-active, #ticket-diagram [data-element-id="${now[0]}"].ordo-done`).count()).toBe(1);
    expect(await page.locator('#ticket-lifecycle .card-head button').count()).toBe(1);
    // Released, the order waits for delivery: the note the lifecycle has on that wait is shown whole.
    expect(now).toEqual(['Gateway_WaitForDelivery']);
    expect(await wholeInDiagram('Annotation_Released')).toBe(true);
    // And the events it waits for, with their names under them.
    for (const id of ['Event_Delivered', 'Event_Delivered_label', 'Event_CancelledAfterRelease', 'Event_CancelledAfterRelease_label']) expect(await wholeInDiagram(id), id).toBe(true);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket-resolved-1024.png`, fullPage: true });
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('the lifecycle zoomed to where the order is', () => {
  it('keeps the note on the step whole in a narrow card, the step readable', async () => {
    // A phone's width: the card is too narrow for the payment wait's neighbours at a readable size, but not
    // for the wait and the note the lifecycle has on it (up and to its left).
    await page.setViewportSize({ width: 430, height: 900 });
    const o = withoutPhone('E2E-LAYOUT-NOTE');
    o.payment = { ...o.payment, status: 'pending' };
    const ticketId = await openTicketOf(t, await postOrder(t, o));
    await page.goto(`/tickets/${ticketId}`);
    const phone = page.getByLabel('Phone', { exact: true });
    await phone.fill('+48 601 234 567');
    await phone.press('Enter');
    await expect.poll(() => page.locator('[data-ticket-status]').innerText(), { timeout: 20_000 }).toBe('resolved');
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-focus'), { timeout: 20_000 }).toBe('Gateway_WaitForPayment');
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    expect(await page.locator('#ticket-diagram').getAttribute('data-ordo-view')).toBe('focus');
    await page.locator('#ticket-diagram').scrollIntoViewIfNeeded();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket-note-430.png` });
    expect(await wholeInDiagram('Annotation_PaymentWait')).toBe(true);
    expect(await wholeInDiagram('Gateway_WaitForPayment')).toBe(true);
    // Still within the zoom limits: a 100-unit task would be at least 70 px wide.
    const scale = await page.evaluate(async () => {
      const handle = await window.OrdoViewer!.mount(document.getElementById('ticket-diagram')!);
      return handle!.viewer.get<{ zoom(): number }>('canvas').zoom();
    });
    expect(scale).toBeGreaterThanOrEqual(0.7 - 1e-6);
    expect(scale).toBeLessThanOrEqual(1);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('the lifecycle zoomed to any step', () => {
  it("shows the names of the step's neighbours whole whenever it shows the neighbours", async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    const ticketId = await openTicketOf(t, await postOrder(t, withoutPhone('E2E-LAYOUT-NEAR')));
    await page.goto(`/tickets/${ticketId}`);
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    await page.locator('#ticket-diagram').scrollIntoViewIfNeeded();
    // Every flow node of the lifecycle in turn: focused on it with its neighbours all in the card, is a
    // neighbour's external label (an event's or a gateway's name) cut at the card's edge?
    const cut = await page.evaluate(async () => {
      const container = document.getElementById('ticket-diagram')!;
      const handle = (await window.OrdoViewer!.mount(container))!;
      type Shape = { id: string; type: string; label?: Shape; waypoints?: unknown; incoming?: Array<{ source?: Shape }>; outgoing?: Array<{ target?: Shape }>; businessObject?: { name?: string } };
      const registry = handle.viewer.get<{ filter(f: (e: Shape) => boolean): Shape[] }>('elementRegistry');
      const frame = container.getBoundingClientRect();
      const whole = (id: string) => {
        const node = container.querySelector(`.djs-element[data-element-id="${id}"]`);
        if (!node) return false;
        const r = node.getBoundingClientRect();
        return r.width > 0 && r.left >= frame.left && r.top >= frame.top && r.right <= frame.right && r.bottom <= frame.bottom;
      };
      const found: string[] = [];
      const steps = registry.filter((e) => !e.waypoints && e.type !== 'label' && /Task|Event|Gateway/.test(e.type));
      for (const step of steps) {
        handle.focus([step.id]);
        const near = [...(step.incoming ?? []).map((f) => f.source), ...(step.outgoing ?? []).map((f) => f.target)].filter((e): e is Shape => !!e);
        // A card too small for the whole neighbourhood at a readable size shows the step alone: not judged here.
        if (!near.every((other) => whole(other.id))) continue;
        for (const other of near) if (other.label?.businessObject?.name && !whole(other.label.id)) found.push(`${step.id} → ${other.label.id}`);
      }
      return { steps: steps.length, found };
    });
    expect(cut.steps).toBeGreaterThan(20);
    expect(cut.found).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

/** A total at the approval threshold (10000.00): the lifecycle asks an operator to approve it. */
const largeOrder = (externalId: string) => {
  const o = validOrder({ externalId });
  o.lines = [{ sku: 'BIG', name: 'Big', quantity: 1, unitPrice: '12000.00', taxRate: '0.23' }];
  o.totals = { subtotal: '12000.00', shipping: '0.00', tax: '0.00', grandTotal: '12000.00' };
  o.payment = { ...o.payment, amount: '12000.00' };
  return o;
};

describe('the approval form', () => {
  it('shows yes and no side by side in the narrow card, each radio on the line of its word, and completes', async () => {
    const orderId = await postOrder(t, largeOrder('E2E-APPROVE-1'));
    const ticketId = await openTicketOf(t, orderId);
    await page.goto(`/tickets/${ticketId}`);
    const group = page.locator('#complete-form fieldset.yes-no');
    const choices = group.locator('label.choice');
    expect(await choices.count()).toBe(2);
    const boxes = [];
    for (const answer of ['yes', 'no']) {
      const label = group.locator('label.choice', { hasText: answer });
      const radio = label.locator('input[type="radio"]');
      const [l, r] = [(await label.boundingBox())!, (await radio.boundingBox())!];
      // The radio is a small circle at the start of its label, on the same line as the word.
      expect(r.width).toBeLessThan(24);
      expect(r.x - l.x).toBeLessThan(20);
      expect(l.height).toBeLessThan(44);
      expect(r.y).toBeGreaterThanOrEqual(l.y);
      expect(r.y + r.height).toBeLessThanOrEqual(l.y + l.height);
      boxes.push(l);
    }
    // Both answers on one row, right under the question.
    expect(Math.abs(boxes[0]!.y - boxes[1]!.y)).toBeLessThan(2);
    const legend = (await group.locator('legend').boundingBox())!;
    expect(boxes[0]!.y - (legend.y + legend.height)).toBeLessThan(16);
    // No label of the diagram is broken inside a word ("ye/s", "threshol/d"): every line holds whole words.
    await expect.poll(() => page.locator('#ticket-diagram').getAttribute('data-ordo-viewer'), { timeout: 15_000 }).toBe('ready');
    const broken = await page.evaluate(async () => {
      const handle = await window.OrdoViewer!.mount(document.getElementById('ticket-diagram')!);
      const registry = handle!.viewer.get<{ filter(fn: (e: { type: string; businessObject?: { name?: string } }) => boolean): Array<{ id: string; type: string; businessObject?: { name?: string } }>; getGraphics(e: unknown): SVGElement }>('elementRegistry');
      const out: string[] = [];
      let labels = 0;
      for (const label of registry.filter((e) => e.type === 'label' && !!e.businessObject?.name)) {
        labels++;
        const words = new Set(label.businessObject!.name!.split(/\s+/));
        const lines = Array.from(registry.getGraphics(label).querySelectorAll('tspan'), (t) => (t.textContent ?? '').trim());
        if (lines.some((line) => line.split(/\s+/).some((w: string) => w && !words.has(w)))) out.push(`${label.id}: ${lines.join(' / ')}`);
      }
      return labels > 10 ? out : [`only ${labels} labels`];
    });
    expect(broken).toEqual([]);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/ticket-approval-1440.png` });

    // Clicking the word chooses the answer.
    await group.getByText('yes', { exact: true }).click();
    expect(await page.getByRole('radio', { name: 'yes' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Complete' }).click();
    await expect.poll(() => page.locator('[data-ticket-status]').innerText(), { timeout: 20_000 }).toBe('resolved');
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('the queue', () => {
  it('keeps the bulk bar in the window while tickets are selected, however far the list is scrolled', { timeout: 90_000 }, async () => {
    await page.setViewportSize({ width: 1400, height: 600 });
    const orderIds = await Promise.all(Array.from({ length: 14 }, (_, i) => postOrder(t, withoutPhone(`E2E-BAR-${String(i + 1).padStart(2, '0')}`))));
    await Promise.all(orderIds.map((id) => openTicketOf(t, id)));
    await page.goto('/tickets?q=E2E-BAR');
    const rows = page.locator('#ticket-rows tr[data-ticket-id]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(14);
    const bar = page.locator('.bulk-bar');

    await rows.first().locator('input[name="ids"]').check();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('1 selected:');
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(300);
    expect(await inView(bar)).toBe(true);
    expect(await inView(bar.getByRole('button', { name: 'Retry' }))).toBe(true);
    // The table's header row sits below the bar, not under it.
    const barBox = (await bar.boundingBox())!;
    const headBox = (await page.locator('#ticket-table thead th').nth(1).boundingBox())!;
    expect(headBox.y).toBeGreaterThanOrEqual(barBox.y + barBox.height - 1);

    // Selecting further down counts too, and the bar says so where the operator is.
    await rows.last().locator('input[name="ids"]').check();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('2 selected:');
    expect(await inView(bar)).toBe(true);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/queue-bulk-bar.png` });

    // Nothing selected: the bar stays at the top of the list.
    await rows.first().locator('input[name="ids"]').uncheck();
    await rows.last().locator('input[name="ids"]').uncheck();
    await expect.poll(() => page.locator('[data-selected-count]').innerText()).toBe('Select tickets');
    expect(await inView(bar)).toBe(false);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

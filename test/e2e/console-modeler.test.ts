import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { launchChromium, listenForBrowser, logInThroughForm, watchPage, type PageWatch } from '../support/browser.ts';
import { createConsoleUser, type ConsoleUser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * The analyst's modeler in real Chromium against the real server: rehearse a change with What-if, change a
 * ticket instruction in the properties panel, deploy it as version 2, see it listed, see a new order's ticket
 * carry the new text, watch a lint error block a broken deploy, edit the ticket, job and script settings and
 * deploy them, see a ticket template that does not compile flagged before the deploy, and see the real server
 * refuse what the browser cannot check (a job no worker handles) on the element and in the Problems panel.
 * Under the console's own CSP.
 */
const LIFECYCLE = readFileSync(new URL('../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');
const NEW_TEXT = 'E2E: write to {{order.customer.email}} and ask for a mobile number with its country code.';

let t: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let baseUrl: string;
let analyst: ConsoleUser;
let watch: PageWatch;

/** Position of PHONE_MISSING among the address ticket's instructions: the panel lists them in file order. */
function phoneInstructionIndex(): number {
  const task = LIFECYCLE.slice(LIFECYCLE.indexOf('<bpmn:scriptTask id="Task_ValidateAddress"'), LIFECYCLE.indexOf('</bpmn:scriptTask>'));
  const codes = [...task.matchAll(/<ordo:instructions(?: code="([A-Z_]+)")?>/g)].map((m) => m[1] ?? null);
  return codes.indexOf('PHONE_MISSING');
}

const noPhone = (externalId: string) => validOrder({ externalId, customer: { name: 'No Phone', email: 'np@example.com', phone: null } });

async function postOrder(order: ReturnType<typeof validOrder>): Promise<string> {
  const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(order);
  expect(res.status).toBe(201);
  return res.body.id;
}

const savedXml = () => page.evaluate(async () => (await window.modeler!.saveXML({ format: true })).xml ?? '');
/** The order lifecycle's deployed versions, in order. */
const lifecycleVersions = async () =>
  (await t.database.db.selectFrom('process_definitions').select('version').where('key', '=', 'order-lifecycle').execute()).map((v) => v.version).sort();

async function openGroup(groupId: string) {
  const group = page.locator(`[data-group-id="${groupId}"]`);
  await group.waitFor();
  if ((await group.locator('.bio-properties-panel-group-entries.open').count()) === 0) await group.locator('.bio-properties-panel-group-header').click();
}

async function select(elementId: string) {
  await page.evaluate((id) => {
    const modeler = window.modeler!;
    modeler.get<{ select(e: unknown): void }>('selection').select(modeler.get<{ get(id: string): unknown }>('elementRegistry').get(id));
  }, elementId);
}

/**
 * How far, in pixels, the drawn diagram reaches past the canvas's free area (right of the palette, above the
 * lint button, inside the canvas) on its worst side; 0 when it is all in view beside the palette.
 */
const diagramOverhang = () =>
  page.evaluate(() => {
    const host = document.querySelector('#ordo-modeler-canvas')!;
    const canvas = host.getBoundingClientRect();
    const palette = host.querySelector('.djs-palette')!.getBoundingClientRect();
    const lint = host.querySelector('.bjsl-button')?.getBoundingClientRect();
    const free = { left: palette.right, top: canvas.top, right: canvas.right, bottom: lint && lint.height > 0 ? lint.top : canvas.bottom };
    const root = window.modeler!.get<{ getRootElement(): { id: string } }>('canvas').getRootElement().id;
    const boxes = Array.from(host.querySelectorAll<SVGGElement>('.djs-element[data-element-id]'))
      .filter((e) => e.dataset.elementId !== root)
      .map((e) => e.getBoundingClientRect());
    return Math.max(0, ...boxes.flatMap((b) => [free.left - b.left, free.top - b.top, b.right - free.right, b.bottom - free.bottom]));
  });

/** The canvas's zoom and scroll, and whether bpmn-js knows the container's present width. */
const canvasView = () =>
  page.evaluate(() => {
    const canvas = window.modeler!.get<{ viewbox(): { x: number; y: number; scale: number; outer: { width: number } }; getContainer(): HTMLElement }>('canvas');
    const { x, y, scale, outer } = canvas.viewbox();
    return { x, y, scale, knowsWidth: outer.width === canvas.getContainer().clientWidth };
  });

async function openModeler() {
  await page.goto('/processes/order-lifecycle/edit');
  await page.waitForSelector('[data-ordo-modeler][data-ordo-modeler-state="ready"]', { timeout: 30_000 });
  await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
}

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  baseUrl = await listenForBrowser(t);
  analyst = await createConsoleUser(t, 'analyst');
  // Two orders the current version stops at the address check for want of a phone.
  await postOrder(noPhone('E2E-NOPHONE-1'));
  await postOrder(noPhone('E2E-NOPHONE-2'));
  browser = await launchChromium();
  context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1500, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  watch = watchPage(page, 'accept');

  await page.goto('/processes/order-lifecycle/edit');
  await page.waitForURL((url) => url.pathname === '/login');
  await logInThroughForm(page, analyst, '/processes/order-lifecycle/edit');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('the modeler in the console', () => {
  it('opens the latest version with the properties panel and a clean lint', async () => {
    await page.waitForSelector('[data-ordo-modeler][data-ordo-modeler-state="ready"]', { timeout: 30_000 });
    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
    expect(await page.evaluate(() => typeof window.modeler?.saveXML)).toBe('function');
    await expect(page.locator('.djs-element[data-element-id="Task_ValidateAddress"]').first().isVisible()).resolves.toBe(true);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('fits the diagram beside the palette, not under it, with the context pad clear of it too', async () => {
    const overlaps = await page.evaluate(() => {
      type Rect = { left: number; top: number; right: number; bottom: number };
      const intersects = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      const palette = document.querySelector('#ordo-modeler-canvas .djs-palette')!.getBoundingClientRect();
      const root = window.modeler!.get<{ getRootElement(): { id: string } }>('canvas').getRootElement().id;
      const elements = Array.from(document.querySelectorAll<SVGGElement>('#ordo-modeler-canvas .djs-element[data-element-id]')).filter((e) => e.dataset.elementId !== root);
      return { count: elements.length, overlapping: elements.filter((e) => intersects(e.getBoundingClientRect(), palette)).map((e) => e.dataset.elementId) };
    });
    expect(overlaps.count).toBeGreaterThan(20);
    expect(overlaps.overlapping).toEqual([]);

    // The first step selected: its context pad sits right of it, away from the palette.
    await select('Task_ValidateAddress');
    const pad = page.locator('.djs-context-pad.open');
    await pad.waitFor();
    const [padBox, paletteBox] = await Promise.all([pad.boundingBox(), page.locator('#ordo-modeler-canvas .djs-palette').boundingBox()]);
    expect(padBox!.x).toBeGreaterThanOrEqual(paletteBox!.x + paletteBox!.width);
    await page.evaluate(() => window.modeler!.get<{ select(e: unknown): void }>('selection').select(null));
  });

  it('keeps the properties panel beside the canvas at 1024×768, in view without scrolling', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      await openModeler();
      const [canvas, panel] = await Promise.all([page.locator('#ordo-modeler-canvas').boundingBox(), page.locator('#ordo-modeler-properties').boundingBox()]);
      expect(panel!.x).toBeGreaterThanOrEqual(canvas!.x + canvas!.width);
      expect(panel!.y).toBeLessThan(768);
      expect(canvas!.width).toBeGreaterThan(600);
    } finally {
      await page.setViewportSize({ width: 1500, height: 1000 });
      await openModeler();
    }
  });

  it("fits the diagram beside the palette again when the window narrows, and keeps the analyst's own zoom on the next resize", async () => {
    const wide = await page.locator('#ordo-modeler-canvas').boundingBox();
    expect(await diagramOverhang()).toBeLessThanOrEqual(1);
    // A step at the right end selected: bpmn-js scrolls a selection that a resize hides back into view, which
    // must not pass for the analyst's own scroll. It notes what is visible 300 ms after a change.
    await select('Event_Delivered');
    await page.waitForTimeout(500);
    try {
      await page.setViewportSize({ width: 1100, height: 800 });
      const narrow = await page.locator('#ordo-modeler-canvas').boundingBox();
      expect(narrow!.width).toBeLessThan(wide!.width - 200);
      await expect.poll(diagramOverhang).toBeLessThanOrEqual(1);
      await page.evaluate(() => window.modeler!.get<{ select(e: unknown): void }>('selection').select(null));

      // The analyst zooms in with the wheel: from now on the view is theirs, and a resize leaves it be.
      const fitted = await canvasView();
      await page.mouse.move(narrow!.x + narrow!.width / 2, narrow!.y + narrow!.height / 2);
      await page.keyboard.down('Control');
      await page.mouse.wheel(0, -200);
      await page.keyboard.up('Control');
      await expect.poll(async () => (await canvasView()).scale).toBeGreaterThan(fitted.scale);
      const zoomed = await canvasView();
      await page.setViewportSize({ width: 1300, height: 900 });
      await expect.poll(async () => (await canvasView()).knowsWidth).toBe(true);
      expect(await canvasView()).toEqual(zoomed);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1500, height: 1000 });
      await openModeler();
    }
  });

  it('offers the upload as a labelled control, not a native file field with a cut-off "No file chosen"', async () => {
    const input = page.getByLabel('Upload .bpmn');
    expect(await input.getAttribute('id')).toBe('ordo-upload');
    expect(await input.getAttribute('type')).toBe('file');
    // The native control (its button and file name) takes no room; the label is what shows, whole.
    const box = await input.boundingBox();
    expect(box === null || (box.width <= 1 && box.height <= 1)).toBe(true);
    const label = page.locator('label[for="ordo-upload"]');
    expect(await label.isVisible()).toBe(true);
    expect(await label.evaluate((l) => l.scrollWidth <= l.clientWidth)).toBe(true);
    // Still reachable from the keyboard.
    await input.focus();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('ordo-upload');
  });

  it('rehearses a looser address check with What-if: the two orders without a phone would pass, shown in a table and on the diagram', async () => {
    await page.locator('.djs-element[data-element-id="Task_ValidateAddress"]').first().click();
    await openGroup('group-ordo-script');
    const script = page.locator('#bio-properties-panel-ordo-script');
    await script.fill('validate address(order)[item.code != "PHONE_MISSING"]');
    await expect.poll(savedXml).toContain('<bpmn:script>validate address(order)[item.code != "PHONE_MISSING"]</bpmn:script>');

    await page.locator('#ordo-what-if').click();
    await page.waitForSelector('#what-if-report .what-if-summary');
    const row = page.locator('#what-if-report tr[data-whatif-element="Task_ValidateAddress"]');
    expect(await row.locator('[data-change="passInsteadOfFail"]').getAttribute('data-count')).toBe('2');
    const badge = page.locator('.djs-overlays .what-if-heat[data-element-id="Task_ValidateAddress"] .what-if-passInsteadOfFail');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('2');

    // Back to the real check: the report goes stale and its badges come off.
    await script.fill('validate address(order)');
    await page.waitForSelector('#what-if-results.what-if-stale');
    expect(await page.locator('.djs-overlays .what-if-heat').count()).toBe(0);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('changes a ticket instruction in the properties panel and deploys it as version 2, listed on /processes', async () => {
    const index = phoneInstructionIndex();
    expect(index).toBeGreaterThanOrEqual(0);
    await select('Task_ValidateAddress');
    await openGroup('group-ordo-instructions');
    const item = page.locator(`[data-entry-id="ordo-instructions-${index}"]`);
    await item.locator('.bio-properties-panel-collapsible-entry-header').click();
    expect(await page.locator(`#bio-properties-panel-ordo-instructions-${index}-code`).inputValue()).toBe('PHONE_MISSING');
    await page.locator(`#bio-properties-panel-ordo-instructions-${index}-text`).fill(NEW_TEXT);
    await expect.poll(savedXml).toContain(`<ordo:instructions code="PHONE_MISSING">${NEW_TEXT}</ordo:instructions>`);

    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-success');
    expect(await page.locator('#ordo-modeler-status').textContent()).toContain('Deployed order-lifecycle as version 2.');
    // The versions list on the page refreshes itself (htmx on ordo:deployed).
    await page.waitForSelector('#process-versions tr[data-version="2"]');

    await page.goto('/processes');
    const row = page.locator('tr[data-version="2"]');
    await row.waitFor();
    expect(await row.innerText()).toContain(analyst.email);
    expect(await row.locator('.badge').innerText()).toBe('latest');
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('gives a new order without a phone a ticket with the new text', async () => {
    const orderId = await postOrder(noPhone('E2E-NOPHONE-NEW'));
    let instructions: string[] = [];
    await expect
      .poll(
        async () => {
          const res = await t.http.get(`/api/v1/tickets?orderId=${orderId}`).set('authorization', `Bearer ${t.token}`);
          instructions = res.body.items?.[0]?.instructions ?? [];
          return instructions.length;
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    expect(instructions.join('\n')).toContain('E2E: write to np@example.com and ask for a mobile number with its country code.');
    const instance = await t.database.db.selectFrom('process_instances').select('version').where('order_id', '=', orderId).executeTakeFirstOrThrow();
    expect(instance.version).toBe(2);
  });

  it('refuses to deploy a diagram with a gateway branch that lost its condition (lint error)', async () => {
    await openModeler();
    await select('Flow_InvoiceRequested');
    await openGroup('group-ordo-condition');
    await page.locator('#bio-properties-panel-ordo-condition').fill('');
    await page.locator('#bio-properties-panel-ordo-condition').blur();
    await expect.poll(savedXml).not.toContain('order.invoice.requested = true');
    await page.waitForSelector('#ordo-lint-panel li.ordo-issue-error[data-element-id="Flow_InvoiceRequested"][data-rule="ordo/condition-required"]');

    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-error');
    expect(await page.locator('#ordo-modeler-status').textContent()).toMatch(/Not deployed: fix 1 lint error first/);
    expect(await lifecycleVersions()).toEqual([1, 2]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it('edits the ticket, the job and the script settings in the properties panel, and deploys them as version 3', async () => {
    await openModeler();
    // The service task's ticket and job.
    await select('Task_ReserveStock');
    await openGroup('group-ordo-ticket');
    await page.locator('#bio-properties-panel-ordo-ticket-title').fill('Stock reservation failed: call the warehouse');
    await page.locator('#bio-properties-panel-ordo-ticket-queue').fill('warehouse');
    await page.locator('select#bio-properties-panel-ordo-ticket-priority').selectOption('normal');
    await page.locator('#bio-properties-panel-ordo-ticket-due').fill('PT30M');
    await openGroup('group-ordo-job');
    expect(await page.locator('#bio-properties-panel-ordo-job').inputValue()).toBe('reserve-stock');
    await page.locator('#bio-properties-panel-ordo-retries').fill('3');
    await page.locator('#bio-properties-panel-ordo-backoff').fill('PT1M');
    await expect.poll(savedXml).toContain('<ordo:ticket title="Stock reservation failed: call the warehouse" queue="warehouse" priority="normal" due="PT30M">');
    await expect.poll(savedXml).toMatch(/<bpmn:serviceTask id="Task_ReserveStock" name="Reserve stock" ordo:job="reserve-stock" ordo:retries="3" ordo:backoff="PT1M">/);

    // A script task: its result variable, and what it does on issues.
    await select('Task_ValidateInvoice');
    await openGroup('group-ordo-script');
    await page.locator('#bio-properties-panel-ordo-resultVariable').fill('invoiceIssues');
    await page.locator('select#bio-properties-panel-ordo-onIssues').selectOption('continue');
    await expect.poll(savedXml).toMatch(/<bpmn:scriptTask id="Task_ValidateInvoice"[^>]*ordo:onIssues="continue"/);
    await page.locator('select#bio-properties-panel-ordo-onIssues').selectOption('ticket');
    await expect.poll(savedXml).not.toMatch(/<bpmn:scriptTask id="Task_ValidateInvoice"[^>]*ordo:onIssues=/);

    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-success');
    expect(await page.locator('#ordo-modeler-status').textContent()).toContain('Deployed order-lifecycle as version 3.');
    const v3 = await t.http.get('/api/v1/processes/order-lifecycle/versions/3').set('authorization', `Bearer ${t.token}`);
    expect(v3.status).toBe(200);
    expect(v3.body.xml).toContain('queue="warehouse"');
    expect(v3.body.xml).toContain('ordo:retries="3" ordo:backoff="PT1M"');
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it("flags a ticket instruction that does not compile before the deploy, in the server's words", async () => {
    await openModeler();
    const index = phoneInstructionIndex();
    await select('Task_ValidateAddress');
    await openGroup('group-ordo-instructions');
    await page.locator(`[data-entry-id="ordo-instructions-${index}"] .bio-properties-panel-collapsible-entry-header`).click();
    await page.locator(`#bio-properties-panel-ordo-instructions-${index}-text`).fill('1. Call {{order.customer.name at {{#if}}');
    await expect.poll(savedXml).toContain('1. Call {{order.customer.name at {{#if}}');
    const issue = page.locator('#ordo-lint-panel li.ordo-issue-error[data-element-id="Task_ValidateAddress"][data-rule="ordo/ticket-template"]');
    await issue.waitFor();
    expect(await issue.textContent()).toContain(
      'The instructions for PHONE_MISSING cannot be compiled as a template: Parse error on line 1 near "...er.customer.name at {{#if}}": found "{{#" where "}}" was expected.',
    );
    // Named by the element, as every problem in the panel.
    expect(await issue.locator('.ordo-issue-element').textContent()).toBe('Validate address');

    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-error');
    expect(await page.locator('#ordo-modeler-status').textContent()).toMatch(/Not deployed: fix 1 lint error first/);
    expect(await lifecycleVersions()).toEqual([1, 2, 3]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });

  it("shows the real server's refusal (422) of what the browser's lint lets through on the element and in the Problems panel", async () => {
    await openModeler();
    // A job no worker handles: only the server knows which jobs its workers run.
    await select('Task_ReserveStock');
    await openGroup('group-ordo-job');
    await page.locator('#bio-properties-panel-ordo-job').fill('reserve-stok');
    await expect.poll(savedXml).toContain('ordo:job="reserve-stok"');
    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');

    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-error');
    expect(await page.locator('#ordo-modeler-status').textContent()).toMatch(/Not deployed: the server found 1 problem/);
    await page.waitForSelector('.djs-element.ordo-deploy-error[data-element-id="Task_ReserveStock"]');
    expect(await page.locator('#ordo-modeler-status .ordo-deploy-errors li[data-element-id="Task_ReserveStock"]').textContent()).toContain('Unknown job "reserve-stok"');
    // The panel under the canvas does not say "No problems found" under the refusal.
    const summary = await page.locator('#ordo-lint-panel .ordo-lint-summary').textContent();
    expect(summary).not.toContain('No problems found');
    expect(summary).toBe('The checks here find no problems, but the server refused the last deploy for 1 problem.');
    expect(await page.locator('#ordo-lint-panel li[data-source="server"][data-element-id="Task_ReserveStock"]').textContent()).toContain('Unknown job "reserve-stok"');
    // Nor does the lint's badge on the canvas.
    expect(await page.locator('#ordo-modeler-canvas .bjsl-button-success').isVisible()).toBe(false);
    expect(await lifecycleVersions()).toEqual([1, 2, 3]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

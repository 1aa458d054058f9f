import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAssets } from '../../scripts/build-assets.ts';
import { BUNDLE_CSP_DIRECTIVES } from '../../src/modeler/csp.ts';
import { launchChromium } from '../support/browser.ts';

/**
 * The browser bundles on their own, in real Chromium, without the Ordo server: a tiny static server hands out
 * the built files, a modeler page and a viewer page shaped like docs/modeler.md describes, and fakes the
 * three endpoints the bundles call (diagram XML, FEEL functions, deploy).
 */

const FIXTURES = fileURLToPath(new URL('../unit/modeler/fixtures/', import.meta.url));
const CSRF_TOKEN = 'csrf-token-for-tests';

interface DeployRequest {
  contentType: string | undefined;
  csrf: string | undefined;
  body: string;
}

const deploys: DeployRequest[] = [];
let deployAnswer: 'created' | 'refused' = 'created';
let outDir = '';
let server: Server;
let baseUrl = '';
let browser: Browser;

const MODELER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Edit order-lifecycle</title>
<meta name="csrf-token" content="${CSRF_TOKEN}">
<link rel="stylesheet" href="/build/modeler.css">
<link rel="stylesheet" href="/page.css">
</head><body>
<main data-ordo-modeler data-bpmn-url="/diagram.bpmn" data-deploy-url="/deploy" data-feel-functions-url="/api/v1/feel-functions">
  <button id="ordo-deploy" type="button">Deploy</button>
  <button id="ordo-download" type="button">Download .bpmn</button>
  <label>Upload <input id="ordo-upload" type="file" accept=".bpmn,.xml"></label>
  <div class="row"><div id="ordo-modeler-canvas"></div><aside id="ordo-modeler-properties"></aside></div>
  <div id="ordo-modeler-status" role="status" aria-live="polite"></div>
  <section id="ordo-lint-panel" aria-label="Problems"></section>
</main>
<script src="/build/modeler.js"></script>
</body></html>`;

const VIEWER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order</title>
<link rel="stylesheet" href="/build/viewer.css">
<link rel="stylesheet" href="/page.css">
</head><body>
<div id="order-diagram" data-bpmn-url="/diagram.bpmn" data-highlight-done="Start,Flow_ToValidate" data-highlight-failed="ValidateAddress"
     data-highlight-active="NotInThisDiagram" data-overlays-url="/overlays.json" data-element-link="/orders?element={id}"></div>
<div id="undrawn" data-bpmn-url="/undrawn.bpmn"></div>
<script src="/build/viewer.js"></script>
</body></html>`;

const PAGE_CSS = `.row{display:flex}
#ordo-modeler-canvas{width:900px;height:560px}
#ordo-modeler-properties{width:360px;height:560px;overflow:auto}
.ordo-diagram{width:900px;--ordo-diagram-height:400px}`;

const FEEL_FUNCTIONS = [
  { name: 'validate address', raises: ['ADDRESS_MISSING', 'PHONE_MISSING'], params: [{ name: 'order' }] },
  { name: 'issue', raises: [], params: [{ name: 'code' }, { name: 'field' }], raisesCodeFromParam: 'code' },
];

const OVERLAYS = { elements: { ValidateAddress: { waiting: 3, openTickets: 2, failures24h: 5, retrying: 0 }, Unknown: { waiting: 1 } } };

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
};

/** The policy of docs/modeler.md: the bundles must run under it without a violation. */
const CSP = Object.entries(BUNDLE_CSP_DIRECTIVES)
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join('; ');

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...(type.startsWith('text/html') ? { 'content-security-policy': CSP } : {}) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/build/')) {
    const file = path.join(outDir, path.normalize(url.pathname.slice('/build/'.length)));
    if (!file.startsWith(outDir)) return send(res, 403, 'text/plain', 'no');
    try {
      return send(res, 200, CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', await readFile(file));
    } catch {
      return send(res, 404, 'text/plain', 'not found');
    }
  }
  switch (`${req.method} ${url.pathname}`) {
    case 'GET /page.css':
      return send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
    case 'GET /favicon.ico':
      return send(res, 204, 'image/x-icon', '');
    case 'GET /modeler':
      return send(res, 200, 'text/html; charset=utf-8', MODELER_PAGE);
    case 'GET /viewer':
      return send(res, 200, 'text/html; charset=utf-8', VIEWER_PAGE);
    case 'GET /orders':
      return send(res, 200, 'text/html; charset=utf-8', `<!doctype html><title>Orders</title><p>Orders at ${url.searchParams.get('element') ?? ''}</p>`);
    case 'GET /diagram.bpmn':
      return send(res, 200, 'application/xml', await readFile(path.join(FIXTURES, 'lifecycle.bpmn')));
    case 'GET /undrawn.bpmn':
      return send(res, 200, 'application/xml', await readFile(path.join(FIXTURES, 'tickets.bpmn')));
    case 'GET /overlays.json':
      return send(res, 200, 'application/json', JSON.stringify(OVERLAYS));
    case 'GET /api/v1/feel-functions':
      return send(res, 200, 'application/json', JSON.stringify(FEEL_FUNCTIONS));
    case 'POST /deploy': {
      deploys.push({ contentType: req.headers['content-type'], csrf: req.headers['x-csrf-token'] as string | undefined, body: await readBody(req) });
      if (deployAnswer === 'refused') {
        return send(res, 422, 'application/problem+json', JSON.stringify({
          type: 'about:blank',
          title: 'The process cannot be deployed',
          status: 422,
          errors: [{ elementId: 'ReserveStock', elementType: 'bpmn:ServiceTask', message: 'Unknown job "reserve-stock": no worker handles it.' }],
        }));
      }
      return send(res, 201, 'application/json', JSON.stringify({ key: 'order-lifecycle', version: deploys.length + 1 }));
    }
    default:
      return send(res, 404, 'text/plain', 'not found');
  }
}

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'ordo-assets-'));
  const built = await buildAssets({ outDir, force: true });
  expect(built.files).toEqual(expect.arrayContaining(['viewer.js', 'viewer.css', 'modeler.js', 'modeler.css', 'htmx.min.js']));
  server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, 'text/plain', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** A page that records uncaught errors: the bundles must not throw. */
async function openPage(pathname: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    // Chromium logs every 4xx as "Failed to load resource"; responses are judged below instead.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  page.on('response', (response) => {
    // The 422 deploy refusal is an answer the test asks for; anything else failing is a missing file.
    if (response.status() >= 400 && !response.url().endsWith('/deploy')) errors.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(`${baseUrl}${pathname}`);
  return { page, errors };
}

const savedXml = (page: Page) => page.evaluate(async () => (await window.modeler!.saveXML({ format: true })).xml ?? '');

describe('buildAssets', () => {
  it('skips the build while the outputs are newer than every input', async () => {
    const again = await buildAssets({ outDir });
    expect(again.skipped).toBe(true);
    expect(again.files).toContain('modeler.js');
    // A different minify setting is a different build.
    const readable = await buildAssets({ outDir: `${outDir}-readable`, minify: false });
    try {
      expect(readable.skipped).toBe(false);
      expect(await readFile(path.join(readable.outDir, 'viewer.js'), 'utf8')).toContain('OrdoViewer');
    } finally {
      await rm(readable.outDir, { recursive: true, force: true });
    }
  });
});

describe('the modeler bundle', () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ page, errors } = await openPage('/modeler'));
    await page.waitForFunction(() => document.querySelector('[data-ordo-modeler]')?.getAttribute('data-ordo-modeler-state') === 'ready');
  });

  afterAll(async () => {
    await page?.close();
  });

  it('renders the diagram, exposes window.modeler and lints it clean', async () => {
    expect(await page.evaluate(() => typeof window.modeler?.saveXML)).toBe('function');
    await expect(page.locator('.djs-element[data-element-id="ValidateAddress"]').first().isVisible()).resolves.toBe(true);
    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
    expect(errors).toEqual([]);
  });

  it('edits a ticket instruction through the properties panel, and saveXML has it', async () => {
    await page.locator('.djs-element[data-element-id="ValidateAddress"]').first().click();
    await page.locator('[data-group-id="group-ordo-instructions"] .bio-properties-panel-group-header').click();
    const item = page.locator('[data-entry-id="ordo-instructions-0"]');
    await item.locator('.bio-properties-panel-collapsible-entry-header').click();
    const text = page.locator('#bio-properties-panel-ordo-instructions-0-text');
    await text.fill('Call {{order.customer.name}} and ask for a phone number with its country code.');
    await expect.poll(() => savedXml(page)).toContain('<ordo:instructions code="PHONE_MISSING">Call {{order.customer.name}} and ask for a phone number with its country code.</ordo:instructions>');

    // The codes the script can raise come from /api/v1/feel-functions: PHONE_MISSING is covered, ADDRESS_MISSING falls back.
    await page.locator('[data-group-id="group-ordo-ticket"] .bio-properties-panel-group-header').click();
    await expect(page.locator('[data-entry-id="ordo-ticket-codes"] .ordo-code-covered[data-code="PHONE_MISSING"]').count()).resolves.toBe(1);
    expect(errors).toEqual([]);
  });

  it('shows FEEL parse errors while the analyst types', async () => {
    await page.locator('[data-group-id="group-ordo-script"] .bio-properties-panel-group-header').click();
    const script = page.locator('#bio-properties-panel-ordo-script');
    await script.fill('validate address(order');
    await page.waitForSelector('[data-entry-id="ordo-script"] .bio-properties-panel-error');
    expect(await page.locator('[data-entry-id="ordo-script"] .bio-properties-panel-error').textContent()).toMatch(/FEEL syntax error/);
    await script.fill('validate address(order)');
    await page.waitForSelector('[data-entry-id="ordo-script"] .bio-properties-panel-error', { state: 'detached' });
    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
  });

  it('deploys a clean diagram as XML with the CSRF token, and shows the new version', async () => {
    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-success');
    expect(await page.locator('#ordo-modeler-status').textContent()).toContain('Deployed order-lifecycle as version 2');
    expect(deploys).toHaveLength(1);
    expect(deploys[0]!.contentType).toBe('application/xml');
    expect(deploys[0]!.csrf).toBe(CSRF_TOKEN);
    expect(deploys[0]!.body).toContain('ask for a phone number with its country code.');
  });

  it('marks a gateway branch without condition as a lint error and refuses to deploy', async () => {
    await page.evaluate(() => {
      const modeler = window.modeler!;
      const flow = modeler.get<{ get(id: string): unknown }>('elementRegistry').get('Flow_Cod');
      modeler.get<{ select(e: unknown): void }>('selection').select(flow);
    });
    await page.locator('[data-group-id="group-ordo-condition"] .bio-properties-panel-group-header').click();
    await page.locator('#bio-properties-panel-ordo-condition').fill('');
    await page.locator('#bio-properties-panel-ordo-condition').blur();
    await expect.poll(() => savedXml(page)).not.toContain('order.payment.method = "cod"');

    // On the diagram (bpmn-js-bpmnlint's overlay) and in the problems list.
    await page.waitForSelector('.djs-overlays[data-container-id="Flow_Cod"] .bjsl-overlay .bjsl-icon-error');
    await page.waitForSelector('#ordo-lint-panel li.ordo-issue-error[data-element-id="Flow_Cod"][data-rule="ordo/condition-required"]');

    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-error');
    expect(await page.locator('#ordo-modeler-status').textContent()).toMatch(/Not deployed: fix 1 lint error first/);
    expect(deploys).toHaveLength(1);
  });

  it("shows the server's deploy refusals (422) as markers on the elements and in a list", async () => {
    await page.evaluate(() => window.modeler!.get<{ undo(): void }>('commandStack').undo());
    await page.waitForSelector('#ordo-lint-panel .ordo-lint-summary[data-errors="0"]');
    deployAnswer = 'refused';
    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('.djs-element.ordo-deploy-error[data-element-id="ReserveStock"]');
    expect(deploys).toHaveLength(2);
    expect(await page.locator('#ordo-modeler-status .ordo-deploy-errors li[data-element-id="ReserveStock"]').textContent()).toContain('Unknown job "reserve-stock"');
    // The Problems panel under the canvas agrees with the refusal above it.
    const summary = page.locator('#ordo-lint-panel .ordo-lint-summary');
    expect(await summary.textContent()).toBe('The checks here find no problems, but the server refused the last deploy for 1 problem.');
    expect(await page.locator('#ordo-lint-panel li[data-source="server"][data-element-id="ReserveStock"]').textContent()).toContain('Unknown job "reserve-stock"');
    // A change may have fixed it: the panel says so until the next deploy.
    await page.evaluate(() => {
      const modeler = window.modeler!;
      const element = modeler.get<{ get(id: string): unknown }>('elementRegistry').get('ReserveStock');
      modeler.get<{ updateProperties(e: unknown, p: Record<string, unknown>): void }>('modeling').updateProperties(element, { name: 'Reserve the stock' });
    });
    await expect.poll(() => summary.textContent()).toContain('The diagram has changed since: deploy again to check.');
    deployAnswer = 'created';
    await page.locator('#ordo-deploy').click();
    await page.waitForSelector('#ordo-modeler-status .ordo-status-success');
    expect(await summary.textContent()).toBe('No problems found.');
    expect(errors).toEqual([]);
  });

  it('downloads the diagram as a .bpmn file named after the process', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#ordo-download').click()]);
    expect(download.suggestedFilename()).toBe('order-lifecycle.bpmn');
    const file = await download.path();
    expect(await readFile(file, 'utf8')).toContain('<bpmn:process id="order-lifecycle"');
  });

  it('uploads a .bpmn file; one without a drawing gets a clear message and the diagram on screen stays, where it was', async () => {
    const view = () => page.evaluate(() => document.querySelector('#ordo-modeler-canvas g.viewport')!.getAttribute('transform'));
    const before = await view();
    await page.setInputFiles('#ordo-upload', path.join(FIXTURES, 'tickets.bpmn'));
    await expect.poll(() => page.locator('#ordo-modeler-status').textContent()).toContain('"tickets.bpmn" was not opened. This diagram has no drawing');
    await expect(page.locator('.djs-element[data-element-id="ValidateAddress"]').count()).resolves.toBeGreaterThan(0);
    expect(await view()).toBe(before);

    const upload = await readFile(path.join(FIXTURES, 'lifecycle.bpmn'), 'utf8');
    await page.setInputFiles('#ordo-upload', { name: 'renamed.bpmn', mimeType: 'application/xml', buffer: Buffer.from(upload.replace('name="Reserve stock"', 'name="Reserve stock now"')) });
    await expect.poll(() => page.locator('#ordo-modeler-status').textContent()).toContain('Opened "renamed.bpmn"');
    expect(await savedXml(page)).toContain('name="Reserve stock now"');
    expect(errors).toEqual([]);
  });
});

describe('the viewer bundle', () => {
  it('highlights the failed and done steps, shows the heatmap badges and links elements to their orders', async () => {
    const { page, errors } = await openPage('/viewer');
    try {
      await page.waitForSelector('#order-diagram[data-ordo-viewer="ready"]');
      await page.waitForSelector('#undrawn[data-ordo-viewer="no-drawing"]');

      const failed = page.locator('#order-diagram .djs-element[data-element-id="ValidateAddress"]').first();
      expect(await failed.getAttribute('class')).toContain('ordo-failed');
      expect(await page.locator('#order-diagram .djs-element[data-element-id="Start"]').first().getAttribute('class')).toContain('ordo-done');
      expect(await page.locator('#order-diagram .djs-element[data-element-id="ReserveStock"]').first().getAttribute('class')).not.toMatch(/ordo-(failed|active|done)/);

      const badges = page.locator('#order-diagram .ordo-heat[data-element-id="ValidateAddress"] .ordo-badge');
      expect(await badges.allTextContents()).toEqual(['3', '2', '5']);
      expect(await badges.first().getAttribute('title')).toBe('3 orders wait here');

      expect(await page.locator('#undrawn .ordo-diagram-message').textContent()).toContain('This diagram has no drawing');

      await page.locator('#order-diagram .djs-element[data-element-id="ReserveStock"]').first().click();
      await page.waitForURL(/\/orders\?element=ReserveStock$/);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('fits the whole diagram again when its container narrows, and leaves a view the operator zoomed as it is', async () => {
    const { page, errors } = await openPage('/viewer');
    try {
      await page.waitForSelector('#order-diagram[data-ordo-viewer="ready"]');
      /** How far, in pixels, the drawing reaches outside its container (0: all of it in view). */
      const overhang = () =>
        page.evaluate(() => {
          const frame = document.querySelector('#order-diagram')!.getBoundingClientRect();
          const drawing = document.querySelector('#order-diagram g.viewport')!.getBoundingClientRect();
          return Math.max(0, frame.left - drawing.left, drawing.right - frame.right, frame.top - drawing.top, drawing.bottom - frame.bottom);
        });
      const transform = () => page.evaluate(() => document.querySelector('#order-diagram g.viewport')!.getAttribute('transform'));
      const setWidth = (px: number) =>
        page.evaluate(async (width) => {
          (document.querySelector('#order-diagram') as HTMLElement).style.width = `${width}px`;
          // The resize observer runs before the next frame is painted.
          await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        }, px);
      expect(await overhang()).toBeLessThanOrEqual(1);

      await setWidth(450);
      await expect.poll(overhang).toBeLessThanOrEqual(1);

      const box = (await page.locator('#order-diagram').boundingBox())!;
      const fitted = await transform();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.keyboard.down('Control');
      await page.mouse.wheel(0, -400);
      await page.keyboard.up('Control');
      await expect.poll(transform).not.toBe(fitted);
      const zoomed = await transform();
      await setWidth(700);
      expect(await transform()).toBe(zoomed);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

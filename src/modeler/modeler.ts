/// <reference lib="dom" />
import Modeler from 'bpmn-js/lib/Modeler';
import type { Canvas, ElementRegistry, EventBus, Overlays } from 'bpmn-js/lib/BaseViewer';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import lintModule from 'bpmn-js-bpmnlint';
import { config as lintConfig, resolver as lintResolver } from 'virtual:ordo-bpmnlint-config';
import ordoDescriptor from '../engine/model/ordo.json' with { type: 'json' };
import { OrdoModelingDefaultsModule } from './behaviors.ts';
import type { FeelFunctionInfo } from './feel-functions.ts';
import { FittedView, coveredInsets, viewboxFitting } from './fit.ts';
import { withFeelFunctions } from './lint/index.ts';
import { FEEL_FUNCTIONS_LOADED, OrdoFeelFunctions, OrdoFeelFunctionsModule } from './properties/feel-functions-service.ts';
import { OrdoPropertiesProviderModule } from './properties/provider.ts';
import { DiagramLoadError, NO_DRAWING_MESSAGE, csrfToken, describeImportError, drawnElementCount, el, emit, fetchDiagramXml, hasFlowElements, showMessage } from './shared.ts';

/**
 * The analysts' editor: bpmn-js Modeler with the properties panel for the `ordo:` extension, bpmnlint with
 * Ordo's rules, deploy, download and upload. It binds to a server-rendered page by element ids and data
 * attributes (docs/modeler.md) and exposes the bpmn-js instance as `window.modeler`.
 */

export const IDS = {
  canvas: 'ordo-modeler-canvas',
  properties: 'ordo-modeler-properties',
  deploy: 'ordo-deploy',
  download: 'ordo-download',
  upload: 'ordo-upload',
  lintPanel: 'ordo-lint-panel',
  status: 'ordo-modeler-status',
} as const;

const DEFAULT_FEEL_FUNCTIONS_URL = '/api/v1/feel-functions';

interface LintIssue {
  id: string;
  actualElementId?: string;
  message: string;
  category: 'error' | 'warn' | 'info' | 'rule-error';
  rule?: string;
}

interface Linting {
  lint(): Promise<Record<string, LintIssue[]>>;
  toggle(active?: boolean): boolean;
  isActive(): boolean;
  setLinterConfig(config: { config: unknown; resolver: unknown }): void;
}

interface Selection {
  select(element: unknown): void;
}

interface CommandStackService {
  canUndo(): boolean;
}

export interface DeployError {
  elementId: string;
  elementType?: string;
  message: string;
}

export type DeployOutcome =
  | { ok: true; key: string | null; version: number | string | null; body: unknown }
  | { ok: false; reason: 'lint'; errors: LintIssue[] }
  | { ok: false; reason: 'server'; status: number; errors: DeployError[]; message: string }
  | { ok: false; reason: 'busy' | 'no-diagram' | 'no-url' | 'network'; message: string };

export interface LintSummary {
  errors: LintIssue[];
  warnings: LintIssue[];
}

function byId<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function newDiagramXml(processKey: string | undefined): string {
  const id = processKey && /^[A-Za-z_][\w.-]*$/.test(processKey) ? processKey : 'new-process';
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:ordo="urn:ordo:bpmn:1" id="Definitions_${id.replace(/[^\w]/g, '_')}" targetNamespace="urn:ordo:processes">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="Start" name="Order received" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_1">
    <bpmndi:BPMNPlane id="Plane_1" bpmnElement="${id}">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start">
        <dc:Bounds x="152" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}

function flatten(results: Record<string, LintIssue[]>): LintIssue[] {
  return Object.entries(results).flatMap(([rule, reports]) => reports.map((report) => ({ ...report, rule: report.rule ?? rule })));
}

function isError(issue: LintIssue): boolean {
  return issue.category === 'error' || issue.category === 'rule-error';
}

class OrdoModelerPage {
  readonly modeler: Modeler;
  private readonly canvasHost: HTMLElement;
  private readonly statusEl: HTMLElement | null;
  private readonly lintPanel: HTMLElement | null;
  private readonly deployButton: HTMLButtonElement | null;
  private deployErrors: DeployError[] = [];
  /** The diagram changed since the server refused it: its problems may be fixed. */
  private deployErrorsStale = false;
  private lintIssues: LintIssue[] = [];
  private deploying = false;
  private dirty = false;
  private readonly view = new FittedView();

  constructor(private readonly root: HTMLElement) {
    this.canvasHost = byId(IDS.canvas) ?? root;
    this.statusEl = byId(IDS.status);
    this.lintPanel = byId(IDS.lintPanel);
    this.deployButton = byId<HTMLButtonElement>(IDS.deploy);
    const propertiesParent = byId(IDS.properties);
    const feelFunctionsUrl = root.dataset.feelFunctionsUrl ?? DEFAULT_FEEL_FUNCTIONS_URL;

    this.modeler = new Modeler({
      container: this.canvasHost,
      moddleExtensions: { ordo: ordoDescriptor },
      additionalModules: [
        ...(propertiesParent ? [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, OrdoPropertiesProviderModule] : []),
        OrdoFeelFunctionsModule,
        OrdoModelingDefaultsModule,
        lintModule,
      ],
      ...(propertiesParent ? { propertiesPanel: { parent: propertiesParent } } : {}),
      linting: { bpmnlint: { config: lintConfig, resolver: lintResolver }, active: true },
      ordo: { feelFunctionsUrl: feelFunctionsUrl === '' ? null : feelFunctionsUrl },
    });

    const eventBus = this.modeler.get<EventBus>('eventBus');
    eventBus.on('canvas.viewbox.changed', () => this.view.viewboxChanged());
    eventBus.on('linting.completed', (event) => this.renderLint(event.issues as Record<string, LintIssue[]>));
    eventBus.on('commandStack.changed', () => {
      this.dirty = this.modeler.get<CommandStackService>('commandStack').canUndo();
      if (this.deployErrors.length > 0 && !this.deployErrorsStale) {
        this.deployErrorsStale = true;
        this.renderProblems();
      }
    });
    eventBus.on(FEEL_FUNCTIONS_LOADED, (event) => {
      const functions = event.functions as FeelFunctionInfo[] | null;
      if (functions && functions.length > 0) {
        this.linting().setLinterConfig({ resolver: lintResolver, config: { rules: withFeelFunctions(lintConfig.rules, functions) } });
      }
    });
    this.bindControls();
    this.followResizes();
  }

  /**
   * The canvas container changes size with the window, and with the layout around it (the properties panel,
   * the Problems panel): bpmn-js learns of it, and a view that is still the page's fit is fitted again.
   * Observations are gathered into one per frame, since dragging a window's edge reports many.
   */
  private followResizes(): void {
    if (typeof ResizeObserver === 'undefined') return;
    let frame = 0;
    new ResizeObserver(() => {
      if (frame !== 0) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        this.view.resized(this.modeler.get<Canvas>('canvas'), () => this.fitViewbox());
      });
    }).observe(this.canvasHost);
  }

  private linting(): Linting {
    return this.modeler.get<Linting>('linting');
  }

  private bindControls(): void {
    this.deployButton?.addEventListener('click', () => void this.deploy());
    byId(IDS.download)?.addEventListener('click', (event) => {
      event.preventDefault();
      void this.download();
    });
    const upload = byId<HTMLInputElement>(IDS.upload);
    upload?.addEventListener('change', () => {
      const file = upload.files?.[0];
      if (file) void this.upload(file).finally(() => (upload.value = ''));
    });
    window.addEventListener('beforeunload', (event) => {
      if (!this.dirty) return;
      event.preventDefault();
      event.returnValue = '';
    });
  }

  status(text: string, kind: 'info' | 'success' | 'error', extra?: Node): void {
    if (!this.statusEl) return;
    this.statusEl.dataset.kind = kind;
    this.statusEl.replaceChildren(el('p', { class: `ordo-status ordo-status-${kind}` }, text), ...(extra ? [extra] : []));
  }

  /** Import XML, keeping the diagram on screen when the new one cannot be read or has no drawing. */
  async importXML(xml: string, what: string): Promise<boolean> {
    const previous = this.modeler.getDefinitions() ? (await this.modeler.saveXML({ format: false })).xml : undefined;
    const previousDirty = this.dirty;
    let failure: DiagramLoadError | null = null;
    try {
      await this.modeler.importXML(xml);
      if (drawnElementCount(this.modeler.get<ElementRegistry>('elementRegistry')) === 0 && hasFlowElements(this.modeler.getDefinitions())) {
        failure = new DiagramLoadError(NO_DRAWING_MESSAGE, 'no-drawing');
      }
    } catch (err) {
      failure = describeImportError(err, this.modeler.getDefinitions());
    }
    if (failure) {
      if (previous) {
        await this.modeler.importXML(previous);
        this.dirty = previousDirty;
        this.status(`${what} was not opened. ${failure.message}`, 'error');
      } else {
        this.showLoadFailure(failure);
      }
      return false;
    }
    this.clearDeployErrors();
    this.canvasHost.querySelector(':scope > .ordo-diagram-message')?.remove();
    this.dirty = false;
    this.fitDiagram();
    this.loadFeelFunctionsIfScripts();
    return true;
  }

  /** The whole diagram in view, beside the palette rather than under it (fit-viewport ignores the palette). */
  fitDiagram(): void {
    this.view.fit(() => this.fitViewbox());
  }

  private fitViewbox(): void {
    const canvas = this.modeler.get<Canvas>('canvas');
    const { inner, outer } = canvas.viewbox();
    if (outer.width <= 0 || outer.height <= 0) return;
    canvas.viewbox(viewboxFitting(inner, outer, coveredInsets(canvas.getContainer())));
  }

  private showLoadFailure(failure: DiagramLoadError): void {
    showMessage(this.canvasHost, failure.message, failure.kind === 'no-drawing' ? 'info' : 'error');
    this.root.dataset.ordoModelerState = failure.kind === 'no-drawing' ? 'no-drawing' : 'error';
    this.status(failure.message, 'error');
  }

  /** The library of FEEL functions matters only to script tasks: fetch it when the diagram has one. */
  private loadFeelFunctionsIfScripts(): void {
    const registry = this.modeler.get<ElementRegistry>('elementRegistry');
    if (registry.filter((element) => element.type === 'bpmn:ScriptTask').length > 0) {
      void this.modeler.get<OrdoFeelFunctions>('ordoFeelFunctions').load();
    }
  }

  async lint(): Promise<LintSummary> {
    const issues = flatten(await this.linting().lint());
    return { errors: issues.filter(isError), warnings: issues.filter((i) => i.category === 'warn') };
  }

  private renderLint(grouped: Record<string, LintIssue[]>): void {
    this.lintIssues = Object.values(grouped).flat();
    const errors = this.lintIssues.filter(isError);
    const warnings = this.lintIssues.filter((i) => i.category === 'warn');
    this.root.dataset.lintErrors = String(errors.length);
    this.root.dataset.lintWarnings = String(warnings.length);
    if (this.deployButton) {
      this.deployButton.dataset.lintErrors = String(errors.length);
      this.deployButton.title = errors.length > 0 ? `Fix ${plural(errors.length, 'lint error', 'lint errors')} before deploying.` : '';
    }
    emit(this.root, 'ordo:lint', { errors: errors.length, warnings: warnings.length, issues: this.lintIssues });
    this.renderProblems();
  }

  /**
   * The Problems panel: the lint's findings and, until the next deploy or upload, the problems the server
   * found in the last deploy, so the panel never says "No problems found" under a refusal.
   */
  private renderProblems(): void {
    if (!this.lintPanel) return;
    const errors = this.lintIssues.filter(isError);
    const warnings = this.lintIssues.filter((i) => i.category === 'warn');
    const server = this.deployErrors;
    const lintWords =
      errors.length + warnings.length === 0
        ? server.length === 0
          ? 'No problems found.'
          : 'The checks here find no problems,'
        : `${plural(errors.length, 'error', 'errors')}, ${plural(warnings.length, 'warning', 'warnings')}${errors.length > 0 ? ' — errors block the deploy.' : '.'}`;
    let serverWords = '';
    if (server.length > 0) {
      const found = `the server refused the last deploy for ${plural(server.length, 'problem', 'problems')}`;
      serverWords = errors.length + warnings.length === 0 ? ` but ${found}.` : ` Also, ${found}.`;
      if (this.deployErrorsStale) serverWords += ' The diagram has changed since: deploy again to check.';
    }
    const summary = lintWords + serverWords;
    // The lint's green "No Issues" badge on the canvas would contradict the refusal above it.
    this.canvasHost.classList.toggle('ordo-server-refused', server.length > 0);
    const items = [
      ...server.map((e) => this.issueItem(e.elementId, e.message, 'error', 'server', 'server')),
      ...[...errors, ...warnings].map((issue) => this.issueItem(issue.actualElementId ?? issue.id, issue.message, isError(issue) ? 'error' : 'warning', issue.rule)),
    ];
    this.lintPanel.replaceChildren(
      el('p', { class: 'ordo-lint-summary', 'data-errors': String(errors.length), 'data-server-errors': String(server.length) }, summary),
      ...(items.length > 0 ? [el('ul', { class: 'ordo-lint-list' }, ...items)] : []),
    );
  }

  /** One problem in a list: the element it concerns (a button that shows it), what is wrong, and the rule. */
  private issueItem(elementId: string, message: string, kind: 'error' | 'warning', rule?: string, source: 'lint' | 'server' = 'lint'): HTMLElement {
    const registry = this.modeler.get<ElementRegistry>('elementRegistry');
    const element = registry.get(elementId);
    const name = element && typeof element.businessObject.name === 'string' && element.businessObject.name.trim() ? element.businessObject.name.trim() : elementId;
    const children: (Node | string)[] = [];
    if (element && element.parent) {
      const button = el('button', { type: 'button', class: 'ordo-issue-element', title: `Show ${elementId}` }, name);
      button.addEventListener('click', () => this.reveal(elementId));
      children.push(button);
    } else {
      children.push(el('span', { class: 'ordo-issue-element' }, name));
    }
    children.push(' ', el('span', { class: 'ordo-issue-message' }, message));
    if (rule) children.push(' ', el('span', { class: 'ordo-issue-rule' }, rule));
    return el('li', { class: `ordo-issue ordo-issue-${kind}`, 'data-element-id': elementId, 'data-source': source, ...(rule ? { 'data-rule': rule } : {}) }, ...children);
  }

  private reveal(elementId: string): void {
    const element = this.modeler.get<ElementRegistry>('elementRegistry').get(elementId);
    if (!element) return;
    this.modeler.get<Canvas>('canvas').scrollToElement(element);
    this.modeler.get<Selection>('selection').select(element);
  }

  private clearDeployErrors(): void {
    const canvas = this.modeler.get<Canvas>('canvas');
    const registry = this.modeler.get<ElementRegistry>('elementRegistry');
    for (const error of this.deployErrors) {
      if (registry.get(error.elementId)) canvas.removeMarker(error.elementId, 'ordo-deploy-error');
    }
    this.modeler.get<Overlays>('overlays').remove({ type: 'ordo-deploy-error' });
    const had = this.deployErrors.length > 0;
    this.deployErrors = [];
    this.deployErrorsStale = false;
    if (had) this.renderProblems();
  }

  private showDeployErrors(errors: DeployError[]): HTMLElement {
    this.deployErrors = errors;
    this.deployErrorsStale = false;
    this.renderProblems();
    const canvas = this.modeler.get<Canvas>('canvas');
    const registry = this.modeler.get<ElementRegistry>('elementRegistry');
    const overlays = this.modeler.get<Overlays>('overlays');
    const byElement = new Map<string, string[]>();
    for (const error of errors) byElement.set(error.elementId, [...(byElement.get(error.elementId) ?? []), error.message]);
    for (const [id, messages] of byElement) {
      const element = registry.get(id);
      if (!element || !element.parent) continue;
      canvas.addMarker(element, 'ordo-deploy-error');
      overlays.add(element, 'ordo-deploy-error', {
        position: element.waypoints ? { top: -14, left: 0 } : { top: -10, right: 10 },
        html: el('span', { class: 'ordo-deploy-error-badge', title: messages.join('\n'), 'aria-label': messages.join(' ') }, '!'),
      });
    }
    return el('ul', { class: 'ordo-deploy-errors' }, ...errors.map((e) => this.issueItem(e.elementId, e.message, 'error')));
  }

  async deploy(): Promise<DeployOutcome> {
    if (this.deploying) return { ok: false, reason: 'busy', message: 'A deploy is already running.' };
    if (!this.modeler.getDefinitions()) {
      const message = 'There is no diagram to deploy.';
      this.status(message, 'error');
      return { ok: false, reason: 'no-diagram', message };
    }
    this.clearDeployErrors();
    const lint = await this.lint();
    if (lint.errors.length > 0) {
      if (!this.linting().isActive()) this.linting().toggle(true);
      const message = `Not deployed: fix ${plural(lint.errors.length, 'lint error', 'lint errors')} first (marked on the diagram and listed under Problems).`;
      this.status(message, 'error');
      emit(this.root, 'ordo:deploy-refused', { reason: 'lint', errors: lint.errors });
      return { ok: false, reason: 'lint', errors: lint.errors };
    }
    const url = this.root.dataset.deployUrl;
    if (!url) {
      const message = 'This page has no deploy address (data-deploy-url).';
      this.status(message, 'error');
      return { ok: false, reason: 'no-url', message };
    }

    this.deploying = true;
    this.deployButton?.setAttribute('aria-busy', 'true');
    if (this.deployButton) this.deployButton.disabled = true;
    this.status('Deploying…', 'info');
    try {
      const { xml } = await this.modeler.saveXML({ format: true });
      const headers: Record<string, string> = { 'content-type': 'application/xml', accept: 'application/json, application/problem+json' };
      const token = csrfToken();
      if (token) headers['x-csrf-token'] = token;
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', credentials: 'same-origin', headers, body: xml ?? '' });
      } catch {
        const message = 'Not deployed: the server did not answer. Your changes are still here; try again.';
        this.status(message, 'error');
        return { ok: false, reason: 'network', message };
      }
      const body: unknown = await response.json().catch(() => null);
      const record = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
      if (response.status === 201 || response.status === 200) {
        const version = typeof record.version === 'number' || typeof record.version === 'string' ? record.version : null;
        const key = typeof record.key === 'string' ? record.key : typeof record.processKey === 'string' ? record.processKey : null;
        this.dirty = false;
        this.status(version !== null ? `Deployed${key ? ` ${key}` : ''} as version ${version}.` : 'Deployed.', 'success');
        emit(this.root, 'ordo:deployed', { key, version, body });
        return { ok: true, key, version, body };
      }
      const errors: DeployError[] = Array.isArray(record.errors)
        ? (record.errors as unknown[])
            .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
            .map((e) => ({ elementId: String(e.elementId ?? ''), elementType: typeof e.elementType === 'string' ? e.elementType : undefined, message: String(e.message ?? '') }))
        : [];
      let message: string;
      let extra: HTMLElement | undefined;
      if (response.status === 422 && errors.length > 0) {
        message = `Not deployed: the server found ${plural(errors.length, 'problem', 'problems')}.`;
        extra = this.showDeployErrors(errors);
      } else if (response.status === 401 || response.status === 403) {
        message = 'Not deployed: your session has expired or your role may not deploy. Log in again (download the diagram first to keep your changes).';
      } else {
        const detail = typeof record.detail === 'string' ? record.detail : typeof record.title === 'string' ? record.title : `HTTP ${response.status}`;
        message = `Not deployed: ${detail}`;
      }
      this.status(message, 'error', extra);
      emit(this.root, 'ordo:deploy-refused', { reason: 'server', status: response.status, errors });
      return { ok: false, reason: 'server', status: response.status, errors, message };
    } finally {
      this.deploying = false;
      this.deployButton?.removeAttribute('aria-busy');
      if (this.deployButton) this.deployButton.disabled = false;
    }
  }

  private fileName(): string {
    const named = this.root.dataset.downloadName;
    if (named) return named.endsWith('.bpmn') ? named : `${named}.bpmn`;
    const definitions = this.modeler.getDefinitions();
    const process = Array.isArray(definitions?.rootElements)
      ? (definitions.rootElements as Array<{ $type: string; id?: string }>).find((e) => e.$type === 'bpmn:Process')
      : undefined;
    return `${(process?.id ?? this.root.dataset.processKey ?? 'diagram').replace(/[^\w.-]+/g, '_')}.bpmn`;
  }

  async download(): Promise<void> {
    if (!this.modeler.getDefinitions()) return;
    const { xml } = await this.modeler.saveXML({ format: true });
    const url = URL.createObjectURL(new Blob([xml ?? ''], { type: 'application/xml' }));
    const link = el('a', { href: url, download: this.fileName(), hidden: '' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async upload(file: File): Promise<boolean> {
    const opened = await this.importXML(await file.text(), `"${file.name}"`);
    if (opened) {
      this.dirty = true;
      this.status(`Opened "${file.name}". Deploy it to make it a new version.`, 'info');
    }
    return opened;
  }

  async load(): Promise<void> {
    const url = this.root.dataset.bpmnUrl;
    let xml: string;
    if (url) {
      try {
        xml = await fetchDiagramXml(url);
      } catch (err) {
        this.showLoadFailure(err instanceof DiagramLoadError ? err : new DiagramLoadError(String(err), 'unreadable'));
        return;
      }
    } else {
      xml = newDiagramXml(this.root.dataset.processKey);
    }
    if (await this.importXML(xml, 'The diagram')) this.root.dataset.ordoModelerState = 'ready';
  }
}

export interface OrdoModelerApi {
  ready: Promise<void>;
  page: OrdoModelerPage | null;
}

declare global {
  interface Window {
    modeler?: Modeler;
    OrdoModeler?: OrdoModelerApi;
  }
}

function start(): OrdoModelerApi {
  const root = document.querySelector<HTMLElement>('[data-ordo-modeler]');
  if (!root) return { ready: Promise.resolve(), page: null };
  const page = new OrdoModelerPage(root);
  window.modeler = page.modeler;
  const ready = page.load().then(() => emit(root, 'ordo:modeler-ready', { modeler: page.modeler }));
  return { ready, page };
}

function boot(): void {
  window.OrdoModeler = start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();

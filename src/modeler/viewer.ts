/// <reference lib="dom" />
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import type { Canvas, DiagramElement, ElementRegistry, EventBus, GraphicsFactory, Overlays } from 'bpmn-js/lib/BaseViewer';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import ordoDescriptor from '../engine/model/ordo.json' with { type: 'json' };
import { FittedView } from './fit.ts';
import { boxAround, focusViewbox, type Placed } from './focus.ts';
import { DiagramLoadError, describeImportError, drawnElementCount, el, emit, fetchDiagramXml, hasFlowElements, listAttribute, NO_DRAWING_MESSAGE, showMessage } from './shared.ts';

/**
 * The operators' diagram: a read-only bpmn-js NavigatedViewer on any element with `data-bpmn-url`, showing
 * where an order stands (highlights) or where orders wait and fail (heatmap). See docs/modeler.md.
 */

export const HIGHLIGHTS = {
  failed: 'ordo-failed',
  active: 'ordo-active',
  done: 'ordo-done',
} as const;

export type HighlightKind = keyof typeof HIGHLIGHTS;

/** Per-element counts for the heatmap, as `data-overlays-url` answers them. */
export interface ElementStats {
  waiting?: number;
  openTickets?: number;
  failures24h?: number;
  retrying?: number;
}

const BADGES: ReadonlyArray<{ key: keyof ElementStats; className: string; describe: (n: number) => string }> = [
  { key: 'waiting', className: 'ordo-badge-waiting', describe: (n) => `${n} ${n === 1 ? 'order waits' : 'orders wait'} here` },
  { key: 'openTickets', className: 'ordo-badge-tickets', describe: (n) => `${n} open ${n === 1 ? 'ticket' : 'tickets'}` },
  { key: 'failures24h', className: 'ordo-badge-failures', describe: (n) => `${n} ${n === 1 ? 'failure' : 'failures'} in the last 24 hours` },
  { key: 'retrying', className: 'ordo-badge-retrying', describe: (n) => `${n} ${n === 1 ? 'job' : 'jobs'} still retrying` },
];

export interface ViewerHandle {
  readonly viewer: NavigatedViewer;
  readonly container: HTMLElement;
  /** Replace the highlights of one kind. Ids the diagram does not have are ignored. */
  highlight(kind: HighlightKind, ids: readonly string[]): void;
  /**
   * Zoom to these elements, the text annotations joined to them and the steps right before and after them
   * (at most life size; never so small that the elements cannot be read). False when the diagram has none
   * of them (nothing changes).
   */
  focus(ids: readonly string[]): boolean;
  /** Show the whole diagram. */
  fit(): void;
  /** Fetch `data-overlays-url` again and redraw the badges. */
  refreshOverlays(): Promise<void>;
  destroy(): void;
}

const mounted = new WeakMap<HTMLElement, Promise<ViewerHandle | null>>();
const handles = new Set<ViewerHandle>();

function isElementShape(element: DiagramElement): boolean {
  return !!element.parent && !element.labelTarget;
}

/** The elements' places for the focus geometry (src/modeler/focus.ts). */
function placesOf(elements: readonly DiagramElement[]): Placed[] {
  return elements.map((e) => (e.waypoints ? { waypoints: e.waypoints as Array<{ x: number; y: number }> } : { x: e.x, y: e.y, width: e.width, height: e.height }));
}

/**
 * The text annotations joined to the shapes by an association (drawn either way), with the association
 * lines: notes the diagram's author put on the step, which the focused view must not cut off.
 */
function notesOf(shapes: readonly DiagramElement[]): DiagramElement[] {
  const notes = new Set<DiagramElement>();
  for (const shape of shapes) {
    for (const link of [...(shape.incoming ?? []), ...(shape.outgoing ?? [])]) {
      if (link.type !== 'bpmn:Association') continue;
      const other = link.source === shape ? link.target : link.source;
      if (!other || other.type !== 'bpmn:TextAnnotation') continue;
      notes.add(other);
      notes.add(link);
    }
  }
  return [...notes];
}

/** The shapes and the shapes one sequence flow away, with their labels (an event's name under it). */
function neighbourhood(shapes: readonly DiagramElement[]): DiagramElement[] {
  const near = new Set<DiagramElement>(shapes);
  for (const shape of shapes) {
    for (const flow of shape.incoming ?? []) if (flow.source) near.add(flow.source);
    for (const flow of shape.outgoing ?? []) if (flow.target) near.add(flow.target);
  }
  for (const shape of [...near]) if (shape.label) near.add(shape.label);
  return [...near];
}

/** bpmn-js draws external labels (events, gateways, flows) in 11 px Arial. */
const EXTERNAL_LABEL_FONT = '11px Arial, sans-serif';
const LABEL_SLACK_PX = 4;

/**
 * bpmn-js wraps an external label within the width its diagram gives it, breaking a word that does not fit
 * ("ye/s", "threshol/d"): a label narrower than its longest word is widened around its centre and drawn
 * again. The diagram's file is not changed.
 */
function widenNarrowLabels(viewer: NavigatedViewer): void {
  const context = document.createElement('canvas').getContext('2d');
  if (!context) return;
  context.font = EXTERNAL_LABEL_FONT;
  const registry = viewer.get<ElementRegistry>('elementRegistry');
  const graphics = viewer.get<GraphicsFactory>('graphicsFactory');
  for (const label of registry.filter((e) => e.type === 'label' && !!e.labelTarget)) {
    const name = label.businessObject?.name;
    if (typeof name !== 'string' || typeof label.width !== 'number' || typeof label.x !== 'number') continue;
    const longest = Math.max(0, ...name.split(/\s+/).map((word) => context.measureText(word).width));
    const needed = Math.ceil(longest) + LABEL_SLACK_PX;
    if (label.width >= needed) continue;
    const gfx = registry.getGraphics(label);
    if (!gfx) continue;
    label.x -= (needed - label.width) / 2;
    label.width = needed;
    graphics.update('shape', label, gfx);
  }
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

async function fetchStats(url: string): Promise<Record<string, ElementStats>> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body: unknown = await response.json();
  const elements = body && typeof body === 'object' ? (body as { elements?: unknown }).elements : undefined;
  return elements && typeof elements === 'object' ? (elements as Record<string, ElementStats>) : {};
}

function createHandle(container: HTMLElement, viewer: NavigatedViewer): ViewerHandle {
  const canvas = viewer.get<Canvas>('canvas');
  const registry = viewer.get<ElementRegistry>('elementRegistry');
  const overlays = viewer.get<Overlays>('overlays');
  const current: Record<HighlightKind, string[]> = { failed: [], active: [], done: [] };
  let resizeObserver: ResizeObserver | null = null;
  // What the diagram shows: the elements focused on (null: the whole diagram), kept through resizes.
  let focused: string[] | null = null;

  const shapesOf = (ids: readonly string[]) =>
    ids.map((id) => registry.get(id)).filter((e): e is DiagramElement => !!e && isElementShape(e) && !e.waypoints);

  // The page's view (the whole diagram fitted, or the focus) until the operator zooms or scrolls it.
  const view = new FittedView();
  viewer.get<EventBus>('eventBus').on('canvas.viewbox.changed', () => view.viewboxChanged());
  const place = () => {
    const shapes = focused ? shapesOf(focused) : [];
    const size = canvas.getSize();
    const labels = shapes.flatMap((s) => (s.label ? [s.label] : []));
    const step = boxAround(placesOf([...shapes, ...labels]));
    // A hidden container has no size to fit into; the resize observer fits once it shows.
    if (size.width <= 0 || size.height <= 0) return;
    if (!step) return canvas.zoom('fit-viewport', 'auto');
    canvas.viewbox(focusViewbox(size, { step, notes: boxAround(placesOf(notesOf(shapes))), near: boxAround(placesOf(neighbourhood(shapes))) }));
  };
  const show = () => view.fit(place);

  const handle: ViewerHandle = {
    viewer,
    container,
    highlight(kind, ids) {
      const marker = HIGHLIGHTS[kind];
      for (const id of current[kind]) if (registry.get(id)) canvas.removeMarker(id, marker);
      if (kind === 'done') overlays.remove({ type: 'ordo-done' });
      current[kind] = ids.filter((id) => {
        const element = registry.get(id);
        return !!element && isElementShape(element);
      });
      for (const id of current[kind]) {
        canvas.addMarker(id, marker);
        const element = registry.get(id)!;
        if (kind === 'done' && !element.waypoints) {
          overlays.add(id, 'ordo-done', { position: { top: -8, right: 8 }, html: el('span', { class: 'ordo-done-tick', title: 'Done' }, '✓') });
        }
      }
    },
    focus(ids) {
      if (shapesOf(ids).length === 0) return false;
      focused = [...ids];
      container.dataset.ordoView = 'focus';
      show();
      return true;
    },
    fit() {
      focused = null;
      container.dataset.ordoView = 'whole';
      show();
    },
    async refreshOverlays() {
      const url = container.dataset.overlaysUrl;
      overlays.remove({ type: 'ordo-heat' });
      if (!url) return;
      let stats: Record<string, ElementStats>;
      try {
        stats = await fetchStats(url);
      } catch (err) {
        container.dataset.overlaysError = err instanceof Error ? err.message : String(err);
        return;
      }
      delete container.dataset.overlaysError;
      for (const [id, entry] of Object.entries(stats)) {
        const element = registry.get(id);
        if (!element || !isElementShape(element) || !entry || typeof entry !== 'object') continue;
        const badges = BADGES.filter((b) => count(entry[b.key]) > 0).map((b) => {
          const n = count(entry[b.key]);
          return el('span', { class: `ordo-badge ${b.className}`, title: b.describe(n), 'aria-label': b.describe(n) }, String(n));
        });
        if (badges.length === 0) continue;
        const position = element.waypoints ? { top: -12, left: 0 } : { bottom: 8, left: -8 };
        overlays.add(id, 'ordo-heat', { position, html: el('div', { class: 'ordo-heat', 'data-element-id': id }, ...badges) });
      }
    },
    destroy() {
      resizeObserver?.disconnect();
      handles.delete(handle);
      mounted.delete(container);
      viewer.destroy();
      delete container.dataset.ordoViewer;
    },
  };

  const visible = () => container.clientWidth > 0 && container.clientHeight > 0;
  let wasVisible = visible();
  show();
  if (typeof ResizeObserver === 'function') {
    resizeObserver = new ResizeObserver(() => {
      // The page's view (the whole diagram, or the step focused on) is made again for the new size, so a
      // narrower page does not cut it off; a view the operator zoomed or scrolled is left as it is. A viewer
      // mounted while hidden (a collapsed panel) has nothing fitted yet: fit once it shows.
      const now = visible();
      if (now) view.resized(canvas, place, !wasVisible);
      else canvas.resized();
      wasVisible = now;
    });
    resizeObserver.observe(container);
  }
  return handle;
}

/**
 * `data-focus`: the diagram opens zoomed to those elements and their neighbours, with a button to see the
 * whole diagram and back. `data-focus-toggle` names the element (by id) the button goes in, e.g. the card's
 * header, so that it covers nothing of the drawing; without it the button floats in the corner.
 */
function bindFocus(container: HTMLElement, viewer: NavigatedViewer, handle: ViewerHandle): void {
  const ids = listAttribute(container.dataset.focus);
  if (ids.length === 0 || !handle.focus(ids)) return;
  const registry = viewer.get<ElementRegistry>('elementRegistry');
  const names = ids.map((id) => registry.get(id)?.businessObject?.name).filter((n): n is string => typeof n === 'string' && n.trim() !== '');
  const zoomLabel = names.length === 1 ? `Zoom to “${names[0]}”` : 'Zoom to the step';
  const button = el('button', { type: 'button', class: 'ordo-diagram-toggle' }, 'Whole diagram');
  button.addEventListener('click', () => {
    if (container.dataset.ordoView === 'focus') {
      handle.fit();
      button.textContent = zoomLabel;
    } else {
      handle.focus(ids);
      button.textContent = 'Whole diagram';
    }
  });
  const host = container.dataset.focusToggle ? document.getElementById(container.dataset.focusToggle) : null;
  if (host) host.replaceChildren(button);
  else container.append(button);
}

function bindElementLinks(container: HTMLElement, viewer: NavigatedViewer): void {
  const template = container.dataset.elementLink;
  if (!template) return;
  container.classList.add('ordo-linkable');
  viewer.get<EventBus>('eventBus').on('element.click', (event) => {
    let element = event.element;
    if (!element) return;
    if (element.labelTarget) element = element.labelTarget;
    if (!element.parent || !is(element.businessObject, 'bpmn:FlowNode')) return;
    window.location.assign(template.replace(/\{id\}/g, encodeURIComponent(element.id)));
  });
}

async function mountNow(container: HTMLElement): Promise<ViewerHandle | null> {
  const url = container.dataset.bpmnUrl;
  if (!url) throw new Error('OrdoViewer.mount: the element has no data-bpmn-url.');
  container.dataset.ordoViewer = 'loading';
  container.classList.add('ordo-diagram');
  container.setAttribute('aria-busy', 'true');
  if (!container.hasAttribute('aria-label')) container.setAttribute('aria-label', 'Process diagram');
  const canvasHost = el('div', { class: 'ordo-diagram-canvas' });
  container.replaceChildren(canvasHost);

  const viewer = new NavigatedViewer({ container: canvasHost, moddleExtensions: { ordo: ordoDescriptor } });
  try {
    const xml = await fetchDiagramXml(url);
    try {
      await viewer.importXML(xml);
    } catch (err) {
      throw describeImportError(err, viewer.getDefinitions());
    }
    if (drawnElementCount(viewer.get<ElementRegistry>('elementRegistry')) === 0 && hasFlowElements(viewer.getDefinitions())) {
      throw new DiagramLoadError(NO_DRAWING_MESSAGE, 'no-drawing');
    }
  } catch (err) {
    viewer.destroy();
    const failure = err instanceof DiagramLoadError ? err : new DiagramLoadError(String(err), 'unreadable');
    canvasHost.remove();
    container.dataset.ordoViewer = failure.kind === 'no-drawing' ? 'no-drawing' : 'error';
    container.removeAttribute('aria-busy');
    showMessage(container, failure.message, failure.kind === 'no-drawing' ? 'info' : 'error');
    emit(container, 'ordo:viewer-error', { kind: failure.kind, message: failure.message });
    return null;
  }

  widenNarrowLabels(viewer);
  // Fitted as it is made (when the container has a size), then focused by bindFocus if asked.
  const handle = createHandle(container, viewer);
  handle.highlight('done', listAttribute(container.dataset.highlightDone));
  handle.highlight('active', listAttribute(container.dataset.highlightActive));
  handle.highlight('failed', listAttribute(container.dataset.highlightFailed));
  bindFocus(container, viewer, handle);
  bindElementLinks(container, viewer);
  await handle.refreshOverlays();
  handles.add(handle);
  container.dataset.ordoViewer = 'ready';
  container.removeAttribute('aria-busy');
  emit(container, 'ordo:viewer-ready', { handle });
  return handle;
}

/** Show the diagram of `data-bpmn-url` in this element. Mounting twice returns the first mount. */
export function mount(container: HTMLElement): Promise<ViewerHandle | null> {
  let pending = mounted.get(container);
  if (!pending) {
    pending = mountNow(container);
    mounted.set(container, pending);
  }
  return pending;
}

const SELECTOR = '[data-bpmn-url]:not([data-ordo-modeler])';

/** Mount every diagram element in (and including) root. */
export function mountAll(root: ParentNode = document): Promise<Array<ViewerHandle | null>> {
  const targets = Array.from(root.querySelectorAll<HTMLElement>(SELECTOR));
  if (root instanceof HTMLElement && root.matches(SELECTOR)) targets.unshift(root);
  return Promise.all(targets.map((target) => mount(target)));
}

/** Viewers whose element htmx is about to discard are destroyed with it. */
function destroyWithin(root: Element): void {
  for (const handle of [...handles]) {
    if (root === handle.container || root.contains(handle.container)) handle.destroy();
  }
}

declare global {
  interface Window {
    OrdoViewer?: { mount: typeof mount; mountAll: typeof mountAll };
  }
}

window.OrdoViewer = { mount, mountAll };

function start(): void {
  void mountAll();
  // htmx swaps in fragments (ticket page refreshes, order timeline): mount the diagrams they bring.
  document.addEventListener('htmx:load', (event) => {
    if (event.target instanceof HTMLElement) void mountAll(event.target);
  });
  document.addEventListener('htmx:beforeCleanupElement', (event) => {
    if (event.target instanceof Element) destroyWithin(event.target);
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();

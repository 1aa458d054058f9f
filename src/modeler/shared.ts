/// <reference lib="dom" />
import type { ElementRegistry, ModdleElement } from 'bpmn-js/lib/BaseViewer';

/**
 * What the viewer and the modeler bundles share: loading a diagram from Ordo, telling a diagram without a
 * drawing from a broken one, and the small DOM helpers both pages use.
 */

export class DiagramLoadError extends Error {
  constructor(
    message: string,
    readonly kind: 'http' | 'network' | 'no-drawing' | 'unreadable',
  ) {
    super(message);
  }
}

export const NO_DRAWING_MESSAGE =
  'This diagram has no drawing: the file describes the process but not where its elements sit, so there is nothing to show. Open it in a BPMN modeler, lay it out and save it with its diagram.';

/**
 * The diagram's XML from a same-origin URL (the session cookie goes along). Accepts the XML itself, or JSON
 * with an `xml` field (as `GET /api/v1/processes/:key/versions/:version` answers).
 */
export async function fetchDiagramXml(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/xml, text/xml, application/json;q=0.9' } });
  } catch {
    throw new DiagramLoadError('The diagram could not be loaded: the server did not answer.', 'network');
  }
  if (!response.ok) {
    throw new DiagramLoadError(`The diagram could not be loaded (HTTP ${response.status}).`, 'http');
  }
  const type = response.headers.get('content-type') ?? '';
  if (/json/i.test(type)) {
    const body: unknown = await response.json();
    const xml = body && typeof body === 'object' ? (body as { xml?: unknown }).xml : undefined;
    if (typeof xml !== 'string') throw new DiagramLoadError('The diagram could not be loaded: the answer holds no BPMN XML.', 'unreadable');
    return xml;
  }
  return response.text();
}

/** Whether the definitions carry a drawing (BPMN DI) bpmn-js can render. */
export function hasDrawing(definitions: ModdleElement | undefined): boolean {
  const diagrams = definitions?.diagrams;
  if (!Array.isArray(diagrams) || diagrams.length === 0) return false;
  return diagrams.some((diagram: { plane?: { planeElement?: unknown[]; bpmnElement?: unknown } }) => {
    const plane = diagram?.plane;
    return !!plane?.bpmnElement && Array.isArray(plane.planeElement) && plane.planeElement.length > 0;
  });
}

/** Translate what bpmn-js throws on import into a sentence for the page. */
export function describeImportError(err: unknown, definitions: ModdleElement | undefined): DiagramLoadError {
  const message = err instanceof Error ? err.message : String(err);
  if (/no diagram to display|no process or collaboration to display/.test(message) || (definitions && !hasDrawing(definitions))) {
    return new DiagramLoadError(NO_DRAWING_MESSAGE, 'no-drawing');
  }
  return new DiagramLoadError(`The diagram could not be read: ${message}`, 'unreadable');
}

/** Whether any process (or sub-process) of the definitions has flow elements: something that could be drawn. */
export function hasFlowElements(definitions: ModdleElement | undefined): boolean {
  const roots = definitions?.rootElements;
  return Array.isArray(roots) && roots.some((root: { flowElements?: unknown }) => Array.isArray(root?.flowElements) && root.flowElements.length > 0);
}

/** Shapes drawn on the canvas, besides the root (an empty plane draws none). */
export function drawnElementCount(registry: ElementRegistry): number {
  return registry.filter((element) => !!element.parent && !element.labelTarget).length;
}

export function listAttribute(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

export function emit(target: HTMLElement, name: string, detail: unknown): void {
  target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
}

/** A DOM element with text content only: nothing from a diagram or the server is ever parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** A message in place of (or beside) the diagram. */
export function showMessage(container: HTMLElement, text: string, kind: 'error' | 'info'): HTMLElement {
  container.querySelector(':scope > .ordo-diagram-message')?.remove();
  const message = el('div', { class: `ordo-diagram-message ordo-diagram-message-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  container.prepend(message);
  return message;
}

export function csrfToken(): string | null {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? null;
}

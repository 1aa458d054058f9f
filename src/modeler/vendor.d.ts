/// <reference lib="dom" />
/**
 * Declarations for the browser libraries the modeler and viewer use, narrowed to what Ordo calls.
 * bpmn-js ships declarations, but as CommonJS-flavoured `export default` that NodeNext reads as a namespace;
 * these say what the esbuild bundle actually gets.
 */

declare module 'bpmn-js/lib/BaseViewer' {
  export interface ModdleElement {
    $type: string;
    id?: string;
    name?: string;
    $parent?: ModdleElement;
    get(name: string): unknown;
    set(name: string, value: unknown): void;
    [key: string]: unknown;
  }

  export interface DiagramElement {
    id: string;
    type: string;
    businessObject: ModdleElement;
    parent?: DiagramElement;
    labelTarget?: DiagramElement;
    waypoints?: unknown[];
    x?: number;
    y?: number;
    width?: number;
    height?: number;
    /** A shape's connections, and a connection's ends. */
    incoming?: DiagramElement[];
    outgoing?: DiagramElement[];
    source?: DiagramElement;
    target?: DiagramElement;
    label?: DiagramElement;
  }

  export interface Rect {
    x: number;
    y: number;
    width: number;
    height: number;
  }

  export type Listener = (event: { type?: string; element?: DiagramElement; [key: string]: unknown }) => unknown;

  export interface EventBus {
    on(events: string | string[], listener: Listener): void;
    on(events: string | string[], priority: number, listener: Listener): void;
    off(events: string | string[], listener?: Listener): void;
    once(events: string | string[], listener: Listener): void;
    fire(type: string, data?: Record<string, unknown>): unknown;
  }

  export interface Canvas {
    zoom(level?: 'fit-viewport' | number, center?: 'auto' | { x: number; y: number }): number;
    /** The visible area in diagram coordinates, with the diagram's extent (`inner`) and the container's size in pixels (`outer`); or set it. */
    viewbox(box?: { x: number; y: number; width: number; height: number }): {
      x: number;
      y: number;
      width: number;
      height: number;
      scale: number;
      inner: { x: number; y: number; width: number; height: number };
      outer: { width: number; height: number };
    };
    addMarker(element: DiagramElement | string, marker: string): void;
    removeMarker(element: DiagramElement | string, marker: string): void;
    hasMarker(element: DiagramElement | string, marker: string): boolean;
    getRootElement(): DiagramElement;
    scrollToElement(element: DiagramElement | string, padding?: number): void;
    getContainer(): HTMLElement;
    resized(): void;
    /** Show exactly this area (scaled to fit, top left aligned); without an argument, the area shown. */
    viewbox(box?: Rect): Rect & { scale: number; outer: { width: number; height: number } };
    getSize(): { width: number; height: number };
  }

  export interface GraphicsFactory {
    /** Draw an element again (after its bounds changed). */
    update(type: 'shape' | 'connection', element: DiagramElement, gfx: SVGElement): void;
  }

  export interface Overlays {
    add(element: DiagramElement | string, type: string, overlay: { position: { top?: number; left?: number; bottom?: number; right?: number }; html: HTMLElement | string; show?: { minZoom?: number; maxZoom?: number }; scale?: boolean | { min?: number; max?: number } }): string;
    remove(filter: { type?: string; element?: DiagramElement | string } | string): void;
  }

  export interface ElementRegistry {
    get(id: string): DiagramElement | undefined;
    getAll(): DiagramElement[];
    filter(fn: (element: DiagramElement) => boolean): DiagramElement[];
    getGraphics(element: DiagramElement | string): SVGElement | undefined;
  }

  export interface ImportResult {
    warnings: Array<{ message: string }>;
  }

  export interface ViewerOptions {
    container?: HTMLElement | string;
    width?: string | number;
    height?: string | number;
    moddleExtensions?: Record<string, unknown>;
    additionalModules?: unknown[];
    [key: string]: unknown;
  }

  export default class BaseViewer {
    constructor(options?: ViewerOptions);
    importXML(xml: string): Promise<ImportResult>;
    saveXML(options?: { format?: boolean }): Promise<{ xml?: string }>;
    getDefinitions(): ModdleElement | undefined;
    get<T = unknown>(name: string, strict?: boolean): T;
    on(events: string | string[], listener: Listener): void;
    on(events: string | string[], priority: number, listener: Listener): void;
    attachTo(parent: HTMLElement): void;
    destroy(): void;
    clear(): void;
  }
}

declare module 'bpmn-js/lib/NavigatedViewer' {
  import BaseViewer from 'bpmn-js/lib/BaseViewer';
  export default class NavigatedViewer extends BaseViewer {}
}

declare module 'bpmn-js/lib/Modeler' {
  import BaseViewer from 'bpmn-js/lib/BaseViewer';
  export default class Modeler extends BaseViewer {
    createDiagram(): Promise<{ warnings: unknown[] }>;
  }
}

declare module 'bpmn-js/lib/util/ModelUtil' {
  export function is(element: unknown, type: string): boolean;
  export function getBusinessObject(element: unknown): import('bpmn-js/lib/BaseViewer').ModdleElement;
}

declare module 'bpmn-js-properties-panel' {
  export const BpmnPropertiesPanelModule: unknown;
  export const BpmnPropertiesProviderModule: unknown;
  export function useService<T = unknown>(name: string): T;
}

declare module '@bpmn-io/properties-panel' {
  type Component = (props: Record<string, unknown>) => unknown;
  export const TextFieldEntry: Component;
  export const TextAreaEntry: Component;
  export const SelectEntry: Component;
  export const ListGroup: Component;
  export const Group: Component;
  export function isTextFieldEntryEdited(node: unknown): boolean;
  export function isTextAreaEntryEdited(node: unknown): boolean;
  export function isSelectEntryEdited(node: unknown): boolean;
}

declare module '@bpmn-io/properties-panel/preact' {
  export type VNode = { readonly __ordoVNode?: never };
  export function h(type: unknown, props: Record<string, unknown> | null, ...children: unknown[]): VNode;
}

declare module '@bpmn-io/properties-panel/preact/hooks' {
  export function useState<T>(initial: T): [T, (value: T) => void];
  export function useEffect(effect: () => void | (() => void), deps?: unknown[]): void;
}

declare module 'bpmn-js-bpmnlint' {
  const lintModule: unknown;
  export default lintModule;
}

declare module 'bpmnlint' {
  export interface LintReport {
    id?: string;
    message: string;
    category: 'error' | 'warn' | 'info' | 'rule-error';
    path?: string[];
  }
  export interface LinterOptions {
    config?: { extends?: string | string[]; rules?: Record<string, unknown> };
    resolver: {
      resolveRule(pkg: string, ruleName: string): unknown;
      resolveConfig(pkg: string, configName: string): unknown;
    };
  }
  export class Linter {
    constructor(options: LinterOptions);
    lint(definitions: unknown, config?: LinterOptions['config']): Promise<Record<string, LintReport[]>>;
  }
}

/** The bpmnlint configuration, packed for the browser by scripts/build-assets.ts. */
declare module 'virtual:ordo-bpmnlint-config' {
  export const config: { rules: Record<string, string | number | [string | number, unknown?]> };
  export const resolver: {
    resolveRule(pkg: string, ruleName: string): unknown;
    resolveConfig(pkg: string, configName: string): unknown;
  };
}

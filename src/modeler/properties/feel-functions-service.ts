/// <reference lib="dom" />
import type { EventBus } from 'bpmn-js/lib/BaseViewer';
import { readFeelFunctions, type FeelFunctionInfo } from '../feel-functions.ts';

export const FEEL_FUNCTIONS_LOADED = 'ordo.feelFunctions.loaded';

export interface OrdoModelerConfig {
  /** GET answering `[{ name, raises: [...] }]`; null: do not ask. */
  feelFunctionsUrl?: string | null;
}

/**
 * The FEEL function library as the server describes it, fetched once and only when needed (a script task
 * is shown or linted). A server without the endpoint (404) or a failed request leaves the library
 * unknown: the modeler then works without it.
 */
export class OrdoFeelFunctions {
  static $inject = ['config.ordo', 'eventBus'];

  private pending: Promise<FeelFunctionInfo[] | null> | null = null;
  private loaded: FeelFunctionInfo[] | null = null;
  state: 'idle' | 'loading' | 'ready' | 'unavailable' = 'idle';

  constructor(
    private readonly config: OrdoModelerConfig | undefined,
    private readonly eventBus: EventBus,
  ) {}

  /** The library, when it has been loaded. */
  current(): FeelFunctionInfo[] | null {
    return this.loaded;
  }

  load(): Promise<FeelFunctionInfo[] | null> {
    if (!this.pending) {
      this.pending = this.fetch();
    }
    return this.pending;
  }

  private async fetch(): Promise<FeelFunctionInfo[] | null> {
    const url = this.config?.feelFunctionsUrl;
    if (!url) {
      this.state = 'unavailable';
      return null;
    }
    this.state = 'loading';
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.loaded = readFeelFunctions(await response.json());
      this.state = 'ready';
      this.eventBus.fire(FEEL_FUNCTIONS_LOADED, { functions: this.loaded });
      return this.loaded;
    } catch {
      this.state = 'unavailable';
      this.eventBus.fire(FEEL_FUNCTIONS_LOADED, { functions: null });
      return null;
    }
  }
}

export const OrdoFeelFunctionsModule = {
  ordoFeelFunctions: ['type', OrdoFeelFunctions],
};

import type { ModdleNode } from '../model.ts';
import type { FeelFunctionInfo } from '../feel-functions.ts';

/** bpmnlint's rule contract (bpmnlint/lib/types.d.ts), typed for Ordo's rules. */
export interface Reporter {
  report(id: string, message: string, path?: string[]): void;
}

export interface RuleDefinition {
  check: (node: ModdleNode, reporter: Reporter) => boolean | void;
}

/** Options the modeler passes to Ordo's rules once it knows the FEEL function library. */
export interface OrdoRuleOptions {
  functions?: readonly FeelFunctionInfo[];
}

export type RuleFactory = (options?: OrdoRuleOptions) => RuleDefinition;

/** The id to report an element under: its own, or the nearest ancestor's (bpmnlint needs one). */
export function reportId(node: ModdleNode): string {
  for (let current: ModdleNode | undefined = node, depth = 0; current && depth < 1000; current = current.$parent, depth++) {
    if (typeof current.id === 'string' && current.id !== '') return current.id;
  }
  return 'definitions';
}

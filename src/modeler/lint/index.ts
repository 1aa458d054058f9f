import type { FeelFunctionInfo } from '../feel-functions.ts';
import conditionRequired from './rules/condition-required.ts';
import feelSyntax from './rules/feel-syntax.ts';
import serviceJob from './rules/service-job.ts';
import ticketInstructions from './rules/ticket-instructions.ts';
import ticketTemplate from './rules/ticket-template.ts';
import unsupportedElement from './rules/unsupported-element.ts';
import type { RuleFactory } from './types.ts';

/**
 * Ordo's bpmnlint plugin. bpmnlint names it `bpmnlint-plugin-ordo` and its rules `ordo/<name>`; the build
 * (scripts/build-assets.ts) maps that package name onto ./rules/, and tests resolve it through `ordoRules`.
 *
 * Why some recommended rules are off (bpmnlintrc.json): conditional-flows is replaced by ordo/condition-required
 * (stricter, and Ordo's semantics); no-inclusive-gateway warns about what Ordo runs; no-complex-gateway and
 * ad-hoc-sub-process are covered by ordo/unsupported-element with Ordo's reasons.
 */
export const ORDO_LINT_PACKAGE = 'bpmnlint-plugin-ordo';

export const ordoRules: Readonly<Record<string, RuleFactory>> = Object.freeze({
  'unsupported-element': unsupportedElement,
  'condition-required': conditionRequired,
  'feel-syntax': feelSyntax,
  'ticket-instructions': ticketInstructions,
  'ticket-template': ticketTemplate,
  'service-job': serviceJob,
});

/** Rules that read the FEEL function library from their options. */
const RULES_WITH_FUNCTIONS = ['ordo/feel-syntax', 'ordo/ticket-instructions'];

export type RuleValue = string | number | [string | number, unknown?];

/** The same rules, with the FEEL function library handed to the rules that use it. */
export function withFeelFunctions(rules: Readonly<Record<string, RuleValue>>, functions: readonly FeelFunctionInfo[]): Record<string, RuleValue> {
  const out: Record<string, RuleValue> = { ...rules };
  for (const name of RULES_WITH_FUNCTIONS) {
    const value = rules[name];
    if (value === undefined) continue;
    const category = Array.isArray(value) ? value[0] : value;
    out[name] = [category, { functions }];
  }
  return out;
}

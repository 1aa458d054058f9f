import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Linter, type LintReport } from 'bpmnlint';
import { createModdle } from '../../../src/engine/model/parse.ts';
import { ORDO_LINT_PACKAGE, ordoRules } from '../../../src/modeler/lint/index.ts';

const require = createRequire(import.meta.url);

/** Resolves bpmnlint's own rules from node_modules and Ordo's from the source, as the packed config does. */
export const nodeResolver = {
  resolveRule(pkg: string, ruleName: string): unknown {
    if (pkg === ORDO_LINT_PACKAGE) return ordoRules[ruleName];
    return require(`${pkg}/rules/${ruleName}`);
  },
  resolveConfig(pkg: string, configName: string): unknown {
    return require(`${pkg}/config/${configName}`);
  },
};

export const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

export async function readDefinitions(name: string): Promise<unknown> {
  const xml = await readFile(fixture(name), 'utf8');
  const { rootElement, warnings } = await createModdle().fromXML(xml);
  if (warnings.length > 0) throw new Error(`fixture ${name} parsed with warnings: ${warnings.map((w) => w.message).join('; ')}`);
  return rootElement;
}

export type Reports = Record<string, LintReport[]>;

export async function lint(name: string, rules: Record<string, unknown>): Promise<Reports> {
  const linter = new Linter({ resolver: nodeResolver });
  return linter.lint(await readDefinitions(name), { rules });
}

/** The ids a rule reported, sorted. */
export function idsOf(reports: Reports, rule: string): string[] {
  return (reports[rule] ?? []).map((r) => r.id ?? '').sort();
}

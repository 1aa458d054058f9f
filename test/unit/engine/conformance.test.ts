import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createModdle, parseBpmn } from '../../../src/engine/model/parse.ts';
import type { ModdleElement } from '../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../src/engine/model/validate.ts';
import type { ValidationResult } from '../../../src/engine/model/validate.ts';

/**
 * The OMG BPMN MIWG reference models: diagrams nobody here wrote, drawn by other tools. Each must parse,
 * round-trip through moddle without losing an element, and deploy either cleanly or refused element by
 * element, never with a crash.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MIWG_DIR = path.resolve(repoRoot, '..', 'shared', 'conformance', 'miwg');
const present = existsSync(MIWG_DIR);
const files = present ? readdirSync(MIWG_DIR).filter((f) => f.endsWith('.bpmn')).sort() : [];

type Outcome =
  | { outcome: 'documentation' } // no executable process: stored as documentation, nothing judged
  | { outcome: 'accepted' }
  | { outcome: 'refused'; refusals: number; byType: Record<string, number> };

/** Inspected by hand; a change here is a behaviour change of the validator, to be reviewed as such. */
const EXPECTED: Record<string, Outcome> = {
  'A.1.0.bpmn': { outcome: 'documentation' },
  'A.2.0.bpmn': { outcome: 'documentation' },
  'A.2.1.bpmn': { outcome: 'documentation' },
  'A.3.0.bpmn': { outcome: 'documentation' },
  'A.4.0.bpmn': { outcome: 'documentation' },
  'A.4.1.bpmn': { outcome: 'documentation' },
  'B.1.0.bpmn': { outcome: 'documentation' },
  'B.2.0.bpmn': { outcome: 'documentation' },
  // JUEL conditions (${approved}, ${clarified == 'yes'}) and a service task without ordo:job.
  'C.1.0.bpmn': { outcome: 'refused', refusals: 5, byType: { 'bpmn:SequenceFlow': 4, 'bpmn:ServiceTask': 1 } },
  'C.1.1.bpmn': { outcome: 'refused', refusals: 5, byType: { 'bpmn:SequenceFlow': 4, 'bpmn:ServiceTask': 1 } },
  'C.2.0.bpmn': { outcome: 'documentation' },
  // A collapsed, empty sub-process, a message boundary event, an XPath-ish condition, gateways without conditions.
  'C.3.0.bpmn': { outcome: 'refused', refusals: 9, byType: { 'bpmn:BoundaryEvent': 1, 'bpmn:SequenceFlow': 7, 'bpmn:SubProcess': 1 } },
  'C.4.0.bpmn': { outcome: 'documentation' },
  'C.5.0.bpmn': { outcome: 'documentation' },
  'C.6.0.bpmn': { outcome: 'documentation' },
  'C.7.0.bpmn': { outcome: 'documentation' },
  'C.8.0.bpmn': { outcome: 'documentation' },
  // Unresolved triso:unspecified references on operations, send and business rule tasks, service tasks without ordo:job.
  'C.8.1.bpmn': {
    outcome: 'refused',
    refusals: 11,
    byType: { 'bpmn:BusinessRuleTask': 1, 'bpmn:Operation': 3, 'bpmn:SendTask': 4, 'bpmn:ServiceTask': 3 },
  },
  // Camunda 8 style: event sub-processes, "=" prefixed conditions, zeebe task definitions instead of ordo:job.
  'C.9.0.bpmn': {
    outcome: 'refused',
    refusals: 13,
    byType: { 'bpmn:BusinessRuleTask': 1, 'bpmn:SendTask': 1, 'bpmn:SequenceFlow': 4, 'bpmn:ServiceTask': 5, 'bpmn:SubProcess': 2 },
  },
  'C.9.1.bpmn': { outcome: 'refused', refusals: 2, byType: { 'bpmn:SendTask': 2 } },
  'C.9.2.bpmn': { outcome: 'refused', refusals: 3, byType: { 'bpmn:SubProcess': 3 } },
};

/**
 * Refusals when every process is treated as executable: the rules run against every diagram, which is where a
 * validator crash on an odd shape would show.
 */
const EXPECTED_IF_ALL_EXECUTABLE: Record<string, number> = {
  'A.1.0.bpmn': 0,
  'A.2.0.bpmn': 3,
  'A.2.1.bpmn': 5,
  'A.3.0.bpmn': 3,
  'A.4.0.bpmn': 0,
  'A.4.1.bpmn': 0,
  'B.1.0.bpmn': 10,
  'B.2.0.bpmn': 46,
  'C.1.0.bpmn': 9,
  'C.1.1.bpmn': 5,
  'C.2.0.bpmn': 12,
  'C.3.0.bpmn': 9,
  'C.4.0.bpmn': 16,
  'C.5.0.bpmn': 14,
  'C.6.0.bpmn': 21,
  'C.7.0.bpmn': 6,
  'C.8.0.bpmn': 8,
  'C.8.1.bpmn': 11,
  'C.9.0.bpmn': 13,
  'C.9.1.bpmn': 2,
  'C.9.2.bpmn': 3,
};

function outcomeOf(result: ValidationResult): Outcome {
  if (!result.processes.some((p) => p.executable)) return { outcome: 'documentation' };
  if (result.errors.length === 0) return { outcome: 'accepted' };
  const byType: Record<string, number> = {};
  for (const error of result.errors) byType[error.elementType] = (byType[error.elementType] ?? 0) + 1;
  return { outcome: 'refused', refusals: result.errors.length, byType };
}

function expectWellFormed(result: ValidationResult): void {
  for (const error of result.errors) {
    expect(error.elementId).toEqual(expect.any(String));
    expect(error.elementId.length).toBeGreaterThan(0);
    expect(error.elementType.length).toBeGreaterThan(0);
    expect(error.message.length).toBeGreaterThan(0);
    expect(error.message).not.toMatch(/internal error/);
  }
}

/** Every id in the model tree (semantic and DI), following containment and references alike. */
function elementIds(root: ModdleElement): Set<string> {
  const ids = new Set<string>();
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    const element = value as ModdleElement;
    if (typeof element.id === 'string') ids.add(element.id);
    for (const key of Object.keys(element)) if (key !== '$parent') visit(element[key]);
  };
  visit(root);
  return ids;
}

async function load(file: string) {
  return parseBpmn(await readFile(path.join(MIWG_DIR, file)));
}

describe.skipIf(!present)(`MIWG reference models${present ? '' : ` (skipped: ${MIWG_DIR} not found)`}`, () => {
  it('has an expected outcome for every file in the folder, and a file for every expectation', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    expect(files).toEqual(Object.keys(EXPECTED_IF_ALL_EXECUTABLE).sort());
  });

  it.each(files)('%s: parses, and deploys or is refused element by element', async (file) => {
    const parsed = await load(file);
    const result = validateDefinitions(parsed, { knownJobs: null });
    expectWellFormed(result);
    expect(outcomeOf(result)).toEqual(EXPECTED[file]);
  });

  it.each(files)('%s: the validator survives every process treated as executable', async (file) => {
    const parsed = await load(file);
    for (const root of (parsed.definitions.rootElements as ModdleElement[] | undefined) ?? []) {
      if (root.$type === 'bpmn:Process') root.isExecutable = true;
    }
    const result = validateDefinitions(parsed, { knownJobs: [], feelFunctions: [{ name: 'validate address', raises: ['X'] }], validateTemplate: () => null });
    expectWellFormed(result);
    expect(result.errors.length).toBe(EXPECTED_IF_ALL_EXECUTABLE[file]);
  });

  it.each(files)('%s: round-trips through moddle without losing an element', async (file) => {
    const parsed = await load(file);
    const { xml } = await createModdle().toXML(parsed.definitions, { format: true });
    const reparsed = await parseBpmn(xml);
    const before = elementIds(parsed.definitions);
    expect(before.size).toBeGreaterThan(0);
    expect(elementIds(reparsed.definitions)).toEqual(before);
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../src/engine/model/validate.ts';
import { compileDefinitions } from '../../../src/engine/model/compile.ts';

/**
 * The contract between the deploy validator and the compiler: whatever the validator accepts, compile
 * compiles (it may throw on anything else, since it never sees it). Checked over every diagram around:
 * the validator's fixtures, the shipped lifecycles and the OMG MIWG reference models when present.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const dirs = [path.join(here, 'validate', 'fixtures'), path.join(here, 'fixtures'), path.join(root, 'processes'), path.resolve(root, '..', 'shared', 'conformance', 'miwg')];
const files = dirs.filter((d) => existsSync(d)).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.bpmn')).map((f) => path.join(d, f)));

describe('validator and compiler agree', () => {
  it.each(files.map((f) => [path.relative(root, f), f]))('%s: accepted means compiled', async (_name, file) => {
    let parsed;
    try {
      parsed = await parseBpmn(readFileSync(file));
    } catch {
      return; // unreadable files are parseBpmn's business
    }
    if (validateDefinitions(parsed).errors.length > 0) return;
    const compiled = compileDefinitions(parsed.definitions);
    expect(compiled.length).toBe(parsed.definitions['rootElements'] ? (parsed.definitions['rootElements'] as Array<{ $type: string; isExecutable?: boolean }>).filter((e) => e.$type === 'bpmn:Process' && e.isExecutable === true).length : 0);
  });
});

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../src/engine/model/validate.ts';
import type { FeelFunctionInfo } from '../../../src/modeler/feel-functions.ts';
import { templateError } from '../../../src/tickets/instructions.ts';
import { fixture, idsOf, lint } from './lint-support.ts';

const LIBRARY: FeelFunctionInfo[] = [
  { name: 'validate address', raises: ['ADDRESS_MISSING', 'PHONE_MISSING', 'POSTAL_CODE_INVALID'] },
  { name: 'issue', raises: [], params: [{ name: 'code' }, { name: 'field' }, { name: 'message' }], raisesCodeFromParam: 'code' },
];

describe('ordo/unsupported-element', () => {
  it('reports what Ordo cannot execute in executable processes, once per refused element', async () => {
    const reports = await lint('unsupported.bpmn', { 'ordo/unsupported-element': 'error' });
    expect(idsOf(reports, 'ordo/unsupported-element')).toEqual(['Complex', 'Looping', 'MessageBoundary', 'RuleInSub', 'Send', 'Throw', 'Tx']);
  });

  it("gives the server's reason and what to draw instead", async () => {
    const reports = await lint('unsupported.bpmn', { 'ordo/unsupported-element': 'error' });
    const send = reports['ordo/unsupported-element']!.find((r) => r.id === 'Send');
    expect(send?.message).toMatch(/Send tasks are not supported.*service task with ordo:job/);
  });
});

describe('ordo/condition-required', () => {
  it('reports branches without a condition, empty conditions and conditions where Ordo evaluates none', async () => {
    const reports = await lint('conditions.bpmn', { 'ordo/condition-required': 'error' });
    // Not reported: XorCod (has a condition), XorDefault (the default), JoinOut (only way out), OrA,
    // AndPlain, Xor2Other, and the flows of the documentation-only process.
    expect(idsOf(reports, 'ordo/condition-required')).toEqual(['AndCond', 'OrBare', 'WorkCond', 'Xor2Default', 'XorBare', 'XorEmpty']);
  });

  it('tells the analyst how to fix a branch without condition', async () => {
    const reports = await lint('conditions.bpmn', { 'ordo/condition-required': 'error' });
    const bare = reports['ordo/condition-required']!.find((r) => r.id === 'XorBare');
    expect(bare?.message).toContain('add a FEEL condition, or make it the default flow');
  });
});

describe('ordo/feel-syntax', () => {
  it('reports FEEL that does not parse in scripts, conditions, collections and timers', async () => {
    const reports = await lint('feel.bpmn', { 'ordo/feel-syntax': 'error' });
    expect(idsOf(reports, 'ordo/feel-syntax')).toEqual(['BadCondition', 'BadTimer', 'Broken', 'Empty', 'Javascript', 'JuelCondition', 'PerLine']);
  });

  it('with the FEEL library, reports calls to functions that exist nowhere, as the server would refuse them', async () => {
    const reports = await lint('feel.bpmn', { 'ordo/feel-syntax': ['error', { functions: LIBRARY }] });
    expect(idsOf(reports, 'ordo/feel-syntax')).toEqual(['BadCondition', 'BadTimer', 'Broken', 'Empty', 'Javascript', 'JuelCondition', 'PerLine', 'Typo']);
    const typo = reports['ordo/feel-syntax']!.find((r) => r.id === 'Typo');
    expect(typo?.message).toBe('The script calls "validate adress", which is neither a FEEL built-in function nor one of Ordo\'s. Did you mean "validate address"?');
  });

  it('says where the expression breaks', async () => {
    const reports = await lint('feel.bpmn', { 'ordo/feel-syntax': 'error' });
    const broken = reports['ordo/feel-syntax']!.find((r) => r.id === 'Broken');
    expect(broken?.message).toMatch(/^The script: FEEL syntax error: the expression ends too early/);
  });
});

describe('ordo/ticket-instructions', () => {
  it('without the FEEL library, asks for instructions on every ticket and text in every instruction', async () => {
    const reports = await lint('tickets.bpmn', { 'ordo/ticket-instructions': 'error' });
    expect(idsOf(reports, 'ordo/ticket-instructions')).toEqual(['BadDue', 'EmptyText', 'NoInstructions']);
    const due = reports['ordo/ticket-instructions']!.find((r) => r.id === 'BadDue');
    expect(due?.message).toBe('The ticket\'s due time "four hours" is not an ISO 8601 duration: write PT4H for four hours, P1D for a day.');
  });

  it('with the FEEL library, asks for instructions for every code the script can raise', async () => {
    const reports = await lint('tickets.bpmn', { 'ordo/ticket-instructions': ['error', { functions: LIBRARY }] });
    expect(idsOf(reports, 'ordo/ticket-instructions')).toEqual(['BadDue', 'EmptyText', 'NoInstructions', 'NoTicket', 'OwnCodeUncovered', 'PartlyCovered']);
    const partly = reports['ordo/ticket-instructions']!.find((r) => r.id === 'PartlyCovered');
    expect(partly?.message).toContain('ADDRESS_MISSING, POSTAL_CODE_INVALID');
    expect(partly?.message).not.toContain('PHONE_MISSING');
    const own = reports['ordo/ticket-instructions']!.find((r) => r.id === 'OwnCodeUncovered');
    expect(own?.message).toContain('GIFT_NOTE_TOO_LONG');
  });
});

describe('ordo/ticket-template', () => {
  it('reports the ticket titles and instructions that do not compile, on their task, in executable processes only', async () => {
    const reports = await lint('templates.bpmn', { 'ordo/ticket-template': 'error' });
    expect(idsOf(reports, 'ordo/ticket-template')).toEqual(['BrokenInstructions', 'BrokenTitle', 'BrokenTitle']);
    expect(reports['ordo/ticket-template']!.find((r) => r.id === 'BrokenInstructions')?.message).toBe(
      'The instructions for PHONE_MISSING cannot be compiled as a template: Parse error on line 1 near "...er.customer.name at {{#if}}": found "{{#" where "}}" was expected.',
    );
  });

  it("says what the server's deploy says, word for word", async () => {
    const reports = await lint('templates.bpmn', { 'ordo/ticket-template': 'error' });
    const parsed = await parseBpmn(await readFile(fixture('templates.bpmn')));
    const server = validateDefinitions(parsed, { validateTemplate: templateError }).errors.filter((e) => /as a template/.test(e.message));
    expect(server.length).toBe(3);
    expect(reports['ordo/ticket-template']!.map((r) => `${r.id}: ${r.message}`).sort()).toEqual(server.map((e) => `${e.elementId}: ${e.message}`).sort());
  });
});

describe('ordo/service-job', () => {
  it('asks for a job name, whole-number retries and an ISO 8601 backoff', async () => {
    const reports = await lint('service.bpmn', { 'ordo/service-job': 'error' });
    expect(idsOf(reports, 'ordo/service-job')).toEqual(['BadBackoff', 'BadRetries', 'NoJob']);
  });
});

describe('the shipped configuration', () => {
  it('lints a well-formed order lifecycle without errors', async () => {
    const config = JSON.parse(await readFile(new URL('../../../src/modeler/lint/bpmnlintrc.json', import.meta.url), 'utf8')) as { rules: Record<string, unknown> };
    const { Linter } = await import('bpmnlint');
    const { nodeResolver, readDefinitions } = await import('./lint-support.ts');
    const reports = await new Linter({ resolver: nodeResolver }).lint(await readDefinitions('lifecycle.bpmn'), { extends: 'bpmnlint:recommended', rules: config.rules });
    const errors = Object.entries(reports).flatMap(([rule, list]) => list.filter((r) => r.category === 'error').map((r) => `${rule}: ${r.id} ${r.message}`));
    expect(errors).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { analyzeScript, readFeelFunctions, type FeelFunctionInfo } from '../../../src/modeler/feel-functions.ts';
import { withFeelFunctions } from '../../../src/modeler/lint/index.ts';
import { missingInstructionCodes, type ModdleNode } from '../../../src/modeler/model.ts';

const LIBRARY: FeelFunctionInfo[] = [
  { name: 'validate address', raises: ['ADDRESS_MISSING', 'PHONE_MISSING'] },
  { name: 'validate payment', raises: ['PAYMENT_FAILED'] },
  { name: 'issue', raises: [], params: [{ name: 'code' }, { name: 'field' }], raisesCodeFromParam: 'code' },
];

describe('analyzeScript', () => {
  it('collects the codes of every library function the script calls', () => {
    expect(analyzeScript('concatenate(validate address(order), validate payment(order))', LIBRARY)).toEqual({
      calls: ['validate address', 'validate payment'],
      codes: ['ADDRESS_MISSING', 'PHONE_MISSING', 'PAYMENT_FAILED'],
    });
  });

  it('reads the code passed to issue(), positionally or by name', () => {
    expect(analyzeScript('[issue("A_CODE", "x"), issue(field: "y", code: "B_CODE")]', LIBRARY).codes).toEqual(['A_CODE', 'B_CODE']);
  });

  it('ignores unknown functions and does not throw on broken FEEL', () => {
    expect(analyzeScript('count(order.lines)', LIBRARY)).toEqual({ calls: [], codes: [] });
    expect(analyzeScript('validate address(order', LIBRARY).codes).toEqual(['ADDRESS_MISSING', 'PHONE_MISSING']);
    expect(analyzeScript('', LIBRARY)).toEqual({ calls: [], codes: [] });
  });
});

describe('readFeelFunctions', () => {
  it('accepts a list or { functions }, and drops malformed entries', () => {
    const json = [{ name: 'validate  address', raises: ['A', 3] }, { raises: [] }, null, { name: 'money' }];
    expect(readFeelFunctions(json)).toEqual([
      { name: 'validate address', raises: ['A'] },
      { name: 'money', raises: [] },
    ]);
    expect(readFeelFunctions({ functions: json })).toHaveLength(2);
    expect(readFeelFunctions('nonsense')).toEqual([]);
  });
});

describe('missingInstructionCodes', () => {
  const instructions = (...codes: (string | undefined)[]) => codes.map((code) => ({ $type: 'ordo:Instructions', code }) as ModdleNode);

  it('lists codes without instructions, none once a fallback exists', () => {
    expect(missingInstructionCodes(['A', 'B', 'C'], instructions('B'))).toEqual(['A', 'C']);
    expect(missingInstructionCodes(['A', 'B'], instructions('B', undefined))).toEqual([]);
  });
});

describe('withFeelFunctions', () => {
  it('hands the library to the rules that use it, keeping their severity', () => {
    const rules = withFeelFunctions({ 'ordo/feel-syntax': 'error', 'ordo/ticket-instructions': ['warn'], 'label-required': 'error' }, LIBRARY);
    expect(rules).toEqual({
      'ordo/feel-syntax': ['error', { functions: LIBRARY }],
      'ordo/ticket-instructions': ['warn', { functions: LIBRARY }],
      'label-required': 'error',
    });
  });
});

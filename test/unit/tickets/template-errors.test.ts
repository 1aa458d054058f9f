import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { templateError } from '../../../src/tickets/instructions.ts';
import { TEMPLATE_OPTIONS } from '../../../src/tickets/template-check.ts';

describe('templateError', () => {
  it('says where a template breaks, what was found and what was expected, in one sentence', () => {
    expect(templateError('1. Call {{order.customer.name at {{#if}}')).toBe(
      'Parse error on line 1 near "...er.customer.name at {{#if}}": found "{{#" where "}}" was expected.',
    );
    expect(templateError('{{#if order.invoice.requested}}Check the tax id')).toBe(
      'Parse error on line 1 near "...ed}}Check the tax id": found the end of the text where "{{else" or "{{/" was expected.',
    );
    expect(templateError('Call {{order.customer.phone}')).toMatch(/found a character that cannot stand there where "}}" was expected\.$/);
  });

  it('names a stray {{else}} as such', () => {
    expect(templateError('1. Call the customer. {{else}} Write to them.')).toBe(
      'Parse error on line 1 near "... Call the customer. {{else}} Write to th": found "{{else}}" outside any {{#if}}, {{#unless}} or {{#each}} block.',
    );
  });

  it('names a block closed by another', () => {
    expect(templateError('{{#if order.invoice}}x{{/each}}')).toBe('{{#if}} on line 1 is closed by {{/each}}.');
  });

  it('has nothing to say about a template that compiles', () => {
    expect(templateError('Call {{order.customer.name}} at {{order.customer.phone}}.')).toBeNull();
  });

  it('names a helper the templates do not have', () => {
    expect(templateError('Call {{uppercase order.customer.name}}')).toBe(
      '"uppercase" on line 1 is used as a helper, and templates know only if, unless, each and with: write a field alone in its braces, as in {{order.customer.name}}.',
    );
  });

  // The browser runs only the parser and the opcode compiler (not the code generator): they must refuse
  // exactly what Handlebars' full precompile, which renders the tickets, refuses.
  it.each([
    'Call {{order.customer.name}}.',
    '1. Call {{order.customer.name at {{#if}}',
    '{{#if order.invoice}}x{{/each}}',
    '{{#each order.lines}}{{sku}}: {{quantity}}{{/each}}',
    '{{#with order.customer as |c|}}{{c.name}}{{/with}}',
    '{{#unless order.customer.phone}}no phone{{else}}{{order.customer.phone}}{{/unless}}',
    '{{uppercase order.customer.name}}',
    '{{lookup order.lines 0}}',
    '{{> partial}}',
    '{{{order.customer.name}}}',
    '{{{order.customer.name}}',
    '{{#if}}{{/if}}',
    '{{else}}',
    '{{!-- a comment --}}Call',
    '{{#*inline "x"}}y{{/inline}}',
    '{{order.customer.[first name]}}',
    '{{../order}}',
    '{{this/../order}}',
    '{{{{raw}}}}{{x}}{{{{/raw}}}}',
    '{{#if a}}{{else if b}}{{/if}}',
    '{{@index}} {{@root.order.id}}',
  ])('agrees with Handlebars.precompile on %j', (text) => {
    let precompiled: string | null = null;
    try {
      Handlebars.create().precompile(text, { ...TEMPLATE_OPTIONS, knownHelpers: { ...TEMPLATE_OPTIONS.knownHelpers } });
    } catch (err) {
      precompiled = (err as Error).message;
    }
    expect(templateError(text) === null).toBe(precompiled === null);
  });
});

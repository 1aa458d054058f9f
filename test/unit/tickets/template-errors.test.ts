import { describe, expect, it } from 'vitest';
import { templateError } from '../../../src/tickets/instructions.ts';

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

  it('names a block closed by another', () => {
    expect(templateError('{{#if order.invoice}}x{{/each}}')).toBe('{{#if}} on line 1 is closed by {{/each}}.');
  });

  it('has nothing to say about a template that compiles', () => {
    expect(templateError('Call {{order.customer.name}} at {{order.customer.phone}}.')).toBeNull();
  });
});

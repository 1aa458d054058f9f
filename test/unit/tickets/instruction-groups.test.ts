import { describe, expect, it } from 'vitest';
import { groupInstructions, renderInstructions, type InstructionSource } from '../../../src/tickets/instructions.ts';

const SOURCES: InstructionSource[] = [
  { code: 'PHONE_MISSING', text: '1. Phone needed for {{order.customer.name}}.\n2. Write to {{order.customer.email}}.\n3. Enter it.' },
  { code: 'EMAIL_INVALID', text: '1. The e-mail "{{order.customer.email}}" is wrong.\n2. Call {{#if order.customer.phone}}{{order.customer.phone}}{{else}}the customer{{/if}}.' },
  { code: 'EMAIL_INVALID', text: '- Or clear it.' },
  { code: null, text: '1. Read the problems.\n2. Fix the fields.' },
];
const order = { customer: { name: 'Anna', email: 'anna@example,com', phone: null } };

describe('groupInstructions', () => {
  it('splits the stored steps per issue code, in the order the issues came, the same code once', () => {
    const issues = [{ code: 'EMAIL_INVALID' }, { code: 'PHONE_MISSING' }];
    const steps = renderInstructions(SOURCES, issues, { order });
    expect(groupInstructions(SOURCES, issues, steps)).toEqual([
      { code: 'EMAIL_INVALID', steps: ['The e-mail "anna@example,com" is wrong.', 'Call the customer.', 'Or clear it.'] },
      { code: 'PHONE_MISSING', steps: ['Phone needed for Anna.', 'Write to anna@example,com.', 'Enter it.'] },
    ]);
  });

  it('keeps one list for the fallback, and when the steps do not match the templates', () => {
    const unknown = [{ code: 'SOMETHING_ELSE' }];
    expect(groupInstructions(SOURCES, unknown, ['Read the problems.', 'Fix the fields.'])).toEqual([{ code: null, steps: ['Read the problems.', 'Fix the fields.'] }]);
    const issues = [{ code: 'PHONE_MISSING' }, { code: 'EMAIL_INVALID' }];
    // Stored by another version of the diagram: one step fewer than these templates make.
    const stored = ['a', 'b', 'c', 'd', 'e'];
    expect(groupInstructions(SOURCES, issues, stored)).toEqual([{ code: null, steps: stored }]);
    expect(groupInstructions(SOURCES, issues, [])).toEqual([{ code: null, steps: [] }]);
  });
});

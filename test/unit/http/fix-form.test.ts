import { describe, expect, it } from 'vitest';
import { fixGroups, fixPaths, openedIssues } from '../../../src/http/routes/console/fix-form.ts';

describe('the Fix form’s fields', () => {
  it('keeps the order the ticket opened with when a partial fix leaves a later field at fault', () => {
    const opened = [{ field: 'customer.phone', code: 'PHONE_MISSING' }, { field: 'customer.email', code: 'EMAIL_INVALID' }];
    const now = [{ field: 'customer.email', code: 'EMAIL_INVALID' }];
    const typed = { 'customer.email': 'anna@example,com', 'customer.phone': '+48 601 234 567' };
    expect(fixPaths(opened, now, typed)).toEqual(['customer.phone', 'customer.email']);
    // A field a later retry found comes after those the ticket opened with.
    expect(fixPaths(opened, [{ field: 'shippingAddress.postalCode' }], {})).toEqual(['customer.phone', 'customer.email', 'shippingAddress.postalCode']);
  });

  it('reads the issues a ticket opened with from its history', () => {
    const history = [
      { kind: 'opened', data: { issues: [{ field: 'customer.phone', code: 'PHONE_MISSING' }] } },
      { kind: 'still_failing', data: { issues: [{ field: 'customer.email', code: 'EMAIL_INVALID' }] } },
    ];
    expect(openedIssues(history)).toEqual([{ field: 'customer.phone', code: 'PHONE_MISSING' }]);
    expect(openedIssues([{ kind: 'opened', data: null }])).toEqual([]);
  });

  it('asks for a failed payment’s reference next to its status, as the instructions do', () => {
    const paths = fixPaths([{ field: 'payment.status', code: 'PAYMENT_FAILED' }], [], {});
    expect(paths).toEqual(['payment.status', 'payment.reference']);
    const order = { payment: { method: 'card', status: 'failed', amount: '10.00', currency: 'PLN', reference: 'ch_123' } };
    const inputs = fixGroups(paths, order).flatMap((g) => g.inputs);
    expect(inputs.map((i) => [i.label, i.kind, i.value])).toEqual([
      ['Status', 'enum', 'failed'],
      ['Reference', 'text', 'ch_123'],
    ]);
  });

  it('says a typed value looks right only when the step judged it', () => {
    const values = { 'customer.phone': '+48 601 234 567' };
    const judged = fixGroups(['customer.phone'], {}, values, [], { judged: true });
    expect(judged[0]!.inputs[0]!.checked).toBe(true);
    expect(fixGroups(['customer.phone'], {}, values, [])[0]!.inputs[0]!.checked).toBe(false);
    const stillBad = fixGroups(['customer.phone'], {}, values, [{ field: 'customer.phone', message: 'not a number' }], { judged: true });
    expect(stillBad[0]!.inputs[0]!.checked).toBe(false);
  });
});

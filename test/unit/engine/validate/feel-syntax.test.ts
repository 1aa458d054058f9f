import { describe, expect, it } from 'vitest';
import { checkFeelSyntax, checkTimerExpression, feelFunctionCalls, isIsoDateTime, isIsoDuration } from '../../../../src/engine/model/feel-syntax.ts';

describe('checkFeelSyntax', () => {
  it.each([
    'order.payment.method = "cod"',
    'if x then 1 else 2',
    'count(order.lines) > 0 and order.total >= 100',
    'for line in order.lines return line.qty * line.price',
    'some line in order.lines satisfies line.qty > 10',
    'order.lines[qty > 1]',
    '{ code: "PHONE_MISSING", field: "customer.phone" }',
    'date and time("2026-12-01T10:00:00Z")',
    '[1..10]',
  ])('given %s, then it parses', (expression) => {
    expect(checkFeelSyntax(expression, 'expression')).toBeNull();
  });

  it('given an expression that stops after an operator, then it reports where it ends', () => {
    expect(checkFeelSyntax('a = ', 'expression')).toEqual({
      message: 'FEEL syntax error: the expression ends too early (at position 4).',
      position: 4,
    });
  });

  it('given a stray token, then it reports the token and its position', () => {
    expect(checkFeelSyntax('x ))', 'expression')).toEqual({ message: 'FEEL syntax error at position 2: unexpected ")".', position: 2 });
    expect(checkFeelSyntax('${approved}', 'expression')?.position).toBe(0);
  });

  it('given an empty expression, then it is an error', () => {
    expect(checkFeelSyntax('   ', 'expression')?.message).toBe('The FEEL expression is empty.');
  });

  it('given a leading "=" (Camunda style), then it is refused with a hint, since it would evaluate to a function', () => {
    expect(checkFeelSyntax('= approved', 'expression')?.message).toContain('without a leading "="');
    expect(checkFeelSyntax('> 5', 'expression')?.message).toContain('starts with a comparison operator');
  });

  it('given a function name with spaces, then it parses as one name', () => {
    expect(checkFeelSyntax('validate address(order)', 'expression', ['validate address'])).toBeNull();
    expect(feelFunctionCalls('validate address(order)', ['validate address'])).toEqual(['validate address']);
  });

  it('given a function name with a dash, then it is only one name when the parser is told so', () => {
    expect(feelFunctionCalls('check-vat(order)', ['check-vat'])).toEqual(['check-vat']);
    expect(feelFunctionCalls('check-vat(order)')).toEqual(['vat']);
  });

  it('given several calls, then each callee is listed once, whitespace collapsed', () => {
    expect(feelFunctionCalls('validate  address(order) ++ count(x) ++ count(y)', ['validate address'])).toEqual(['validate address', 'count']);
  });

  it('given unary tests, then they parse as unary tests', () => {
    expect(checkFeelSyntax('> 10', 'unaryTests')).toBeNull();
    expect(checkFeelSyntax('"a", "b"', 'unaryTests')).toBeNull();
    expect(checkFeelSyntax('>', 'unaryTests')?.position).toBe(1);
  });
});

describe('checkTimerExpression', () => {
  it.each([
    ['timeDuration', 'PT10S'],
    ['timeDuration', 'P1DT2H'],
    ['timeDuration', 'P2W'],
    ['timeDuration', 'PT0.5S'],
    ['timeDate', '2026-12-01T10:00:00Z'],
    ['timeDate', '2026-12-01T10:00:00.250+01:00'],
    ['timeCycle', 'R/PT1H'],
    ['timeCycle', 'R3/PT10M'],
    ['timeCycle', 'R5/2026-12-01T00:00:00Z/P1D'],
    ['timeCycle', 'R/P1D/2026-12-01T00:00:00Z'],
    ['timeDuration', '=duration("PT" + string(order.slaHours) + "H")'],
    ['timeDate', '= date and time(order.deadline)'],
  ] as const)('given %s %s, then it is accepted', (kind, text) => {
    expect(checkTimerExpression(kind, text)).toBeNull();
  });

  it.each([
    ['timeDuration', 'P', 'is not an ISO 8601 duration'],
    ['timeDuration', 'PT', 'is not an ISO 8601 duration'],
    ['timeDuration', '10 minutes', 'is not an ISO 8601 duration'],
    ['timeDate', '2026-12-01T10:00:00', 'with an offset'],
    ['timeDate', '2026-02-30T10:00:00Z', 'is not an ISO 8601 date-time'],
    ['timeCycle', 'PT1H', 'is not an ISO 8601 repeating interval'],
    ['timeCycle', '0 0 9 * * ?', 'is not an ISO 8601 repeating interval'],
    ['timeCycle', 'R3/tomorrow', 'is not an ISO 8601 duration'],
    ['timeCycle', 'R3/PT1H/PT2H', 'must be R[n]/duration'],
    ['timeDuration', '=duration(', 'In the timer expression: FEEL syntax error'],
    ['timeDuration', '  ', 'empty'],
  ] as const)('given %s %s, then it is refused', (kind, text, fragment) => {
    expect(checkTimerExpression(kind, text)).toContain(fragment);
  });

  it('exposes the ISO checks the validator uses for backoff and due', () => {
    expect(isIsoDuration('PT10S')).toBe(true);
    expect(isIsoDuration('10s')).toBe(false);
    expect(isIsoDateTime('2026-12-31T23:59:59Z')).toBe(true);
    expect(isIsoDateTime('2026-13-01T00:00:00Z')).toBe(false);
  });
});

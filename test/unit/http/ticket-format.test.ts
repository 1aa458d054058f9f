import { describe, expect, it } from 'vitest';
import { codeInWords } from '../../../src/http/routes/console/ticket-format.ts';

describe('codeInWords', () => {
  it('reads an issue code as an operator would say it, abbreviations included', () => {
    expect(codeInWords('PHONE_MISSING')).toBe('Phone missing');
    expect(codeInWords('COD_NOT_ALLOWED')).toBe('Cash on delivery not allowed');
    expect(codeInWords('TAX_ID_INVALID')).toBe('Tax ID invalid');
    expect(codeInWords('FEEL_ERROR')).toBe('FEEL error');
    expect(codeInWords('VAT_INVALID')).toBe('VAT invalid');
  });
});

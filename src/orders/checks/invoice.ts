import { issueFactory, type Issue, type MessageCatalogue } from '../messages.ts';
import { addressProblems, asRecord, isBlankAddress, isoCountry, readText } from './address.ts';
import { verifyTaxId } from './taxid.ts';

/**
 * The invoice check, only when `invoice.requested` is exactly `true`: a company name, a tax id that is
 * right for the invoice country (format, check digits, prefix), and a complete invoice address whose
 * postal code fits its country (the address rules of the shipping check, for any ISO country: a company
 * may be invoiced in a country Ordo does not ship to).
 *
 * A tax id is required in every country; where Ordo knows no format (outside the EU, NO, CH, GB, US,
 * CN) any 4–20 letters and digits are accepted. Without a usable invoice country the tax id is checked
 * against its own prefix, or not at all (the address issue comes first; the re-run checks it).
 */

export const INVOICE_CODES = ['INVOICE_COMPANY_MISSING', 'TAX_ID_MISSING', 'TAX_ID_INVALID', 'INVOICE_ADDRESS_INCOMPLETE'] as const;
export type InvoiceCode = (typeof INVOICE_CODES)[number];

export interface InvoiceCheckOptions {
  /** Message catalogue; default English. */
  messages?: MessageCatalogue;
}

export function checkInvoice(order: unknown, options: InvoiceCheckOptions = {}): Issue[] {
  const root = asRecord(order) ?? {};
  const invoice = asRecord(root.invoice);
  if (invoice === undefined || invoice.requested !== true) return [];
  const issue = issueFactory(options.messages);
  const issues: Issue[] = [];

  if (readText(invoice.companyName) === undefined) issues.push(issue('INVOICE_COMPANY_MISSING', 'invoice.companyName'));

  const address = asRecord(invoice.address);
  if (address === undefined || isBlankAddress(address)) {
    issues.push(issue('INVOICE_ADDRESS_INCOMPLETE', 'invoice.address', { part: 'address' }));
  } else {
    for (const problem of addressProblems(address)) {
      issues.push(issue('INVOICE_ADDRESS_INCOMPLETE', `invoice.address.${problem.part}`, problem));
    }
  }

  const taxId = readText(invoice.taxId);
  if (taxId === undefined) {
    issues.push(issue('TAX_ID_MISSING', 'invoice.taxId'));
  } else {
    const verdict = verifyTaxId(taxId, isoCountry(address?.country));
    if (verdict.status === 'invalid') {
      issues.push(
        issue('TAX_ID_INVALID', 'invoice.taxId', {
          reason: verdict.reason,
          value: taxId,
          ...(verdict.country ? { country: verdict.country } : {}),
          ...(verdict.otherCountry ? { otherCountry: verdict.otherCountry } : {}),
          ...(verdict.example ? { example: verdict.example } : {}),
        }),
      );
    }
  }
  return issues;
}

import fc from 'fast-check';
import { belgium, checkVAT, countries as jsvatCountries, greece, poland } from 'jsvat';
import { describe, expect, it } from 'vitest';
import {
  TAX_ID_EXAMPLES,
  isValidNip,
  isValidOrgnr,
  isValidTaxId,
  isValidUstIdNr,
  luhnCheckDigit,
  nipCheckDigit,
  orgnrCheckDigit,
  ustIdCheckDigit,
  verifyTaxId,
} from '../../../src/orders/checks/taxid.ts';

/** Country a VAT prefix stands for (Greece writes EL). */
const prefixCountry = (id: string) => {
  const prefix = id.replace(/[^A-Za-z]/g, '').slice(0, 2).toUpperCase();
  return prefix === 'EL' ? 'GR' : prefix === 'CH' ? 'CH' : prefix;
};

// VAT numbers published by their owners (the test list python-stdnum keeps of numbers found online),
// written as people write them.
const KNOWN_GOOD = [
  'ATU 142 43 102', 'ATU13585627', 'ATU46080404',
  'BE 0202.239.951', 'BE 0462423150', 'BE 444.503.092', 'BE0428759497', 'BE697449992',
  'BE1000003682', 'BE1001686633', // 1-series, issued since 2023
  'BG 103873594', 'BG 124 551 319', 'BG7523169263',
  'CY 10246672X', 'CY-10189098G', 'CY00632993 F',
  'CZ 25123891', 'CZ 640903926', 'CZ 682127228', 'CZ 736028/5163', 'CZ6011270177',
  'DE - 113866163', 'DE 118619592', 'DE 181 207 708', 'DE 221.304.969', 'DE136308783', 'DE136695976',
  'DK 10 50 32 80', 'DK 2566 2202', 'DK-27630308',
  'EE 100 931 558', 'EE101256753',
  'ES - Q0818001J', 'ES 54362315K', 'ES A-28184661', 'ES B-58378431', 'ES X5277343Q', 'ES Y5277343F', 'ESA78109592',
  'EL 039868210', 'EL 094012834', 'EL 94051189', 'El 800 179 925',
  'FI 02459042', 'FI 2094606-3', 'FI18261444',
  'FR 04409414364', 'FR 13 393 892 815', 'FR K 7399859412', 'Fr 40 303 265 045', 'FR32000000330',
  'HR33392005961',
  'HU 10672101', 'HU-10402434', 'HU12892312',
  'IE 0005306C', 'IE 632 3420 C', 'IE6433435IH', 'IE8D79739I', 'IE9Y71814N',
  'IT 00118439991', 'IT 12920760159', 'IT00743110157',
  'LT 100001354118', 'LT 119511515', 'LT290068995116',
  'LU 10059929', 'LU 150 274 42',
  'LV 40003189718', 'LV 5000 399 3021', 'LV 90000528023',
  'MT 1039-6417', 'MT 20630321',
  'NL 001241 643 B01', 'NL-8197.38.116.B.01', 'NL004495445B01', 'NL000099998B57', 'NL002342672B42',
  'PL 5211355116', 'PL 584-030-44-72', 'PL 687-16-26-585', 'PL-951-157-77-68', 'PL5261025421', 'PL5260250274',
  'PT 500 019 720', 'PT502448911',
  'RO 11358544', 'RO 1822964', 'RO 241 30 20', 'RO 573768',
  'SE 202 100-5000 01', 'SE 556.383.740.901', 'SE-5562245190-01', 'SE556703748501',
  'SI 26808498', 'SI 3609 7152',
  'SK 1078449064', 'SK 202 274 96 19',
  'GB980780684', 'GB 340 8043 29', 'GB346270013', 'GB 434031494', 'GBGD001', 'GBHA500', 'XI980780684',
  'NO923609016MVA', 'NO 123 456 785 MVA',
  'CHE-116.281.710 MWST', 'CHE-116.281.710 TVA', 'CHE116281710',
];

// The same numbers with one digit changed.
const CHECKSUM_BAD = [
  'ATU 143 43 102', 'ATU46080904', 'BE 0406.139.583', 'BE697449982', 'BE1000003683', 'BG 147147471',
  'CY 10246672F', 'CZ 25557481', 'DE 125014855', 'DE 246 495 415', 'DK 11 96 56 58', 'EE 100 941 558',
  'ES 54362415K', 'EL 094013834', 'FR 04409414264', 'IE 4731823H', 'LV 40003189715', 'SK 1078449164',
  'PL5260250275', 'PL 584-030-44-73', 'SE556703748601', 'GB980780685', 'NO923609017MVA', 'CHE-116.281.711 MWST',
];

describe('tax ids', () => {
  it.each(KNOWN_GOOD)('accepts the published number %s for its own country', (id) => {
    expect(verifyTaxId(id, prefixCountry(id === 'XI980780684' ? 'GB' : id))).toMatchObject({ status: 'valid' });
  });

  it.each(CHECKSUM_BAD)('refuses %s: check digits do not match', (id) => {
    expect(verifyTaxId(id, prefixCountry(id))).toMatchObject({ status: 'invalid', reason: 'checksum' });
  });

  it.each(Object.entries(TAX_ID_EXAMPLES))('the example for %s (%s) is valid', (country, id) => {
    expect(isValidTaxId(id, country)).toBe(true);
  });

  it('accepts a Polish NIP with or without prefix and hyphens, for a PL invoice', () => {
    for (const id of ['PL5260250274', '526-025-02-74', '5260250274', 'PL 526-025-02-74', 'pl5260250274']) {
      expect(verifyTaxId(id, 'PL'), id).toMatchObject({ status: 'valid', country: 'PL' });
    }
  });

  it('refuses a NIP whose weighted sum leaves remainder 10 (jsvat wrongly accepts it)', () => {
    expect(nipCheckDigit('123456789')).toBeNull();
    expect(isValidTaxId('PL1234567890', 'PL')).toBe(false);
    expect(checkVAT('PL1234567890', [poland]).isValid).toBe(true); // the jsvat 2.5 bug Ordo works around
  });

  it('accepts Belgian 1-series and old 8-digit Greek numbers (jsvat refuses both)', () => {
    expect(isValidTaxId('BE1000003682', 'BE')).toBe(true);
    expect(checkVAT('BE1000003682', [belgium]).isValid).toBe(false);
    expect(isValidTaxId('EL94051189', 'GR')).toBe(true);
    expect(checkVAT('EL94051189', [greece]).isValid).toBe(false);
  });

  it('agrees with jsvat on the countries it delegates to', () => {
    const delegated = KNOWN_GOOD.filter((id) => !/^(PL|BE|EL|GB|XI|NO|CH|DE|SE)/i.test(id.replace(/\s/g, '')));
    for (const id of delegated) expect(checkVAT(id.replace(/[()]/g, ''), jsvatCountries).isValid, id).toBe(true);
  });

  it('accepts the Norwegian and Swedish forms people write', () => {
    for (const id of ['NO123456785MVA', 'NO 123 456 785 MVA', '123456785', '123 456 785 MVA', 'NO923609016']) {
      expect(verifyTaxId(id, 'NO'), id).toMatchObject({ status: 'valid' });
    }
    for (const id of ['SE556703748501', '556703-7485', '5567037485', '556703748501']) {
      expect(verifyTaxId(id, 'SE'), id).toMatchObject({ status: 'valid' });
    }
    // With the SE prefix it is a VAT number and must end in 01.
    expect(verifyTaxId('SE5567037485', 'SE')).toMatchObject({ status: 'invalid', reason: 'format' });
  });

  it('checks US EINs by prefix and Chinese credit codes by their mod-31 character', () => {
    expect(isValidTaxId('12-3456789', 'US')).toBe(true);
    expect(verifyTaxId('07-3456789', 'US')).toMatchObject({ status: 'invalid', reason: 'format' });
    expect(isValidTaxId('91350100M000100Y43', 'CN')).toBe(true);
    expect(verifyTaxId('91350100M000100Y44', 'CN')).toMatchObject({ status: 'invalid', reason: 'checksum' });
    expect(verifyTaxId('9135010', 'CN')).toMatchObject({ status: 'invalid', reason: 'format' });
  });

  it('refuses a prefix of another country than the invoice address, saying whose it is', () => {
    expect(verifyTaxId('DE136695976', 'PL')).toEqual({
      status: 'invalid',
      reason: 'country_mismatch',
      country: 'PL',
      otherCountry: 'DE',
      compact: 'DE136695976',
    });
    expect(verifyTaxId('EL094012834', 'GR')).toMatchObject({ status: 'valid' });
    expect(verifyTaxId('GR094012834', 'GR')).toMatchObject({ status: 'valid' });
    expect(verifyTaxId('XI980780684', 'GB')).toMatchObject({ status: 'valid' });
    expect(verifyTaxId('CHE-116.281.710 MWST', 'DE')).toMatchObject({ reason: 'country_mismatch', otherCountry: 'CH' });
  });

  it('tells format errors from check-digit errors', () => {
    expect(verifyTaxId('PL52602502', 'PL')).toMatchObject({ status: 'invalid', reason: 'format', example: 'PL5260250274' });
    expect(verifyTaxId('DE036695976', 'DE')).toMatchObject({ status: 'invalid', reason: 'format' });
    expect(verifyTaxId('ATU1358562', 'AT')).toMatchObject({ status: 'invalid', reason: 'format' });
    expect(verifyTaxId('', 'PL')).toMatchObject({ status: 'invalid', reason: 'format' });
  });

  it('without a country, the prefix decides, and a bare number stays unchecked', () => {
    expect(verifyTaxId('PL5260250274')).toMatchObject({ status: 'valid', country: 'PL' });
    expect(verifyTaxId('5260250274')).toEqual({ status: 'unchecked', compact: '5260250274' });
    expect(isValidTaxId('5260250274')).toBe(false);
  });

  it('accepts any plausible id where Ordo knows no format', () => {
    expect(isValidTaxId('T-1234567-8', 'JP')).toBe(true);
    expect(isValidTaxId('??', 'JP')).toBe(false);
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (id, country) => {
        verifyTaxId(id, country);
      }),
    );
  });

  // ── property tests ──
  const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

  function changedDigit(id: string, position: number, delta: number): string {
    const d = (Number(id[position]) + delta) % 10;
    return id.slice(0, position) + String(d) + id.slice(position + 1);
  }

  it('every generated NIP is valid, in every written form; changing one digit breaks it', () => {
    const nip = digits(9)
      .filter((first9) => nipCheckDigit(first9) !== null)
      .map((first9) => first9 + String(nipCheckDigit(first9)));
    fc.assert(
      fc.property(nip, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 }), (id, position, delta) => {
        expect(isValidNip(id)).toBe(true);
        const hyphenated = `${id.slice(0, 3)}-${id.slice(3, 6)}-${id.slice(6, 8)}-${id.slice(8)}`;
        for (const form of [`PL${id}`, id, hyphenated]) expect(isValidTaxId(form, 'PL')).toBe(true);
        expect(isValidTaxId(`PL${changedDigit(id, position, delta)}`, 'PL')).toBe(false);
      }),
    );
  });

  it('every generated Norwegian organisasjonsnummer is valid; changing one digit breaks it', () => {
    const orgnr = digits(8)
      .filter((first8) => orgnrCheckDigit(first8) !== null)
      .map((first8) => first8 + String(orgnrCheckDigit(first8)));
    fc.assert(
      fc.property(orgnr, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (id, position, delta) => {
        expect(isValidOrgnr(id)).toBe(true);
        expect(isValidTaxId(`NO${id}MVA`, 'NO')).toBe(true);
        expect(isValidTaxId(id, 'NO')).toBe(true);
        expect(isValidTaxId(`NO${changedDigit(id, position, delta)}MVA`, 'NO')).toBe(false);
      }),
    );
  });

  it('every generated USt-IdNr is valid (and jsvat agrees); changing one digit breaks it', () => {
    const ustId = fc
      .tuple(fc.integer({ min: 1, max: 9 }), digits(7))
      .map(([first, rest]) => `${first}${rest}`)
      .map((first8) => first8 + String(ustIdCheckDigit(first8)));
    fc.assert(
      fc.property(ustId, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (id, position, delta) => {
        expect(isValidUstIdNr(id)).toBe(true);
        expect(isValidTaxId(`DE${id}`, 'DE')).toBe(true);
        expect(checkVAT(`DE${id}`, jsvatCountries).isValid).toBe(true);
        const changed = changedDigit(id, position, delta);
        if (changed[0] !== '0') expect(isValidTaxId(`DE${changed}`, 'DE')).toBe(false);
      }),
    );
  });

  it('every generated Swedish VAT number (Luhn + 01) is valid; changing one digit breaks it', () => {
    const vat = digits(9).map((first9) => `${first9}${luhnCheckDigit(first9)}01`);
    fc.assert(
      fc.property(vat, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 }), (id, position, delta) => {
        expect(isValidTaxId(`SE${id}`, 'SE')).toBe(true);
        expect(isValidTaxId(`SE${changedDigit(id, position, delta)}`, 'SE')).toBe(false);
      }),
    );
  });
});

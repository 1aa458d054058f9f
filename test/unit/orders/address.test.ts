import { getExampleNumber } from 'libphonenumber-js/max';
import mobileExamples from 'libphonenumber-js/mobile/examples';
import { validate as postalCodesJs } from 'postal-codes-js';
import { describe, expect, it } from 'vitest';
import {
  ADDRESS_CODES,
  EU_COUNTRIES,
  POSTAL_CODE_FORMATS,
  SHIPPING_COUNTRIES,
  checkAddress,
  isIsoCountry,
  isValidEmail,
  isValidPhone,
  isValidPostalCode,
  verifyPhone,
  verifyPostalCode,
} from '../../../src/orders/checks/address.ts';
import type { Issue } from '../../../src/orders/messages.ts';
import { COUNTRY, COUNTRY_DATA, copy, validOrder } from './fixtures.ts';

const codes = (issues: Issue[]) => issues.map((i) => `${i.code}@${i.field}`);

describe('postal codes', () => {
  // Real codes: capitals, second cities, edge ranges (Finnish 00100, Danish 0800, US ZIP+4, Irish D6W).
  const VALID: Record<string, string[]> = {
    AT: ['1010', '6020', '8010'],
    BE: ['1000', '9000', '2000'],
    BG: ['1000', '4000', '9000'],
    HR: ['10000', '21000', '51000'],
    CY: ['1010', '3036', '6023'],
    CZ: ['110 00', '11000', '602 00'],
    DK: ['1050', '8000', '0800', 'DK-1050'],
    EE: ['10111', '51003'],
    FI: ['00100', '33100', '90100'],
    FR: ['75001', '13001', '97400', '20000'],
    DE: ['10115', '01067', '80331', '20095'],
    GR: ['105 57', '10557', '546 24'],
    HU: ['1051', '4024', '6720'],
    IE: ['D02 X285', 'T12 XY56', 'D6W 1234', 'A65 F4E2', 'd02x285'],
    IT: ['00184', '20121', '80133'],
    LV: ['LV-1050', 'LV1050', '1050'],
    LT: ['LT-01100', '01100', 'LT-44248'],
    LU: ['L-1009', '1009', 'L-4001'],
    MT: ['VLT 1117', 'MSK 1010', 'VLT1117'],
    NL: ['1012 AB', '1012AB', '3011 aa'],
    PL: ['00-838', '90-001', '30-001', '80-001', ' 00-838 '],
    PT: ['1100-148', '4000-322'],
    RO: ['010011', '400001', '700001'],
    SK: ['811 01', '81101', '040 01', '974 01'],
    SI: ['1000', '2000'],
    ES: ['28013', '08001', '41001', '52001'],
    SE: ['111 52', '11152', '411 04', '981 31'],
    NO: ['0150', '5003', '9170', '7010'],
    CH: ['8001', '1201', '3011'],
    GB: ['SW1A 1AA', 'EC1A 1BB', 'W1A 0AX', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'DN55 1PT', 'BT1 5GS', 'EH1 1YZ', 'GIR 0AA', 'sw1a 1aa', 'SW1A1AA'],
    US: ['10001', '20500-0003', '90210', '00501'],
    CN: ['100000', '100006', '200000', '518000'],
  };

  const INVALID: Record<string, string[]> = {
    AT: ['101', '10100', '0100'],
    DE: ['1011', '101155', '10-115', '1 0 1 1 5', 'ABCDE', '00123'],
    PL: ['00838', '00-8388', '0-0838', '00 838', '10115'],
    GB: ['SW1A', '12345', 'SW1A 1A', 'SW1A-1AA', 'QQ1 1AA', 'SW1A 1AAX'],
    NL: ['1012', '0123 AB', '1012 SA'],
    US: ['1000', '100011', '10001-12'],
    CN: ['10000', '1000000'],
    NO: ['015', '01500'],
    SE: ['1115', '011 52'],
    IE: ['D02', '12345', 'Z02 X285'],
    PT: ['1100', '1100148'],
    CH: ['800', '0000', 'CH-8001'],
    FR: ['7500', '00100'],
    CZ: ['1100', '810 00'],
    SK: ['110 00'],
    ES: ['53001', '00001'],
  };

  it('covers every country Ordo ships to with its own format and an example that passes', () => {
    expect(Object.keys(POSTAL_CODE_FORMATS).sort()).toEqual([...SHIPPING_COUNTRIES].sort());
    for (const [country, format] of Object.entries(POSTAL_CODE_FORMATS)) {
      expect(isValidPostalCode(format.example, country), `${country} ${format.example}`).toBe(true);
    }
  });

  it('has valid real codes for every EU country', () => {
    for (const country of EU_COUNTRIES) expect(VALID[country]?.length, country).toBeGreaterThan(0);
  });

  for (const [country, list] of Object.entries(VALID)) {
    it.each(list)(`accepts %j for ${country}`, (code) => {
      expect(verifyPostalCode(code, country)).toBe('valid');
    });
  }
  for (const [country, list] of Object.entries(INVALID)) {
    it.each(list)(`refuses %j for ${country}`, (code) => {
      expect(verifyPostalCode(code, country)).toBe('invalid');
    });
  }

  it('says missing, or unknown country, instead of invalid', () => {
    expect(verifyPostalCode('', 'PL')).toBe('missing');
    expect(verifyPostalCode(null, 'PL')).toBe('missing');
    expect(verifyPostalCode('00-838', 'XX')).toBe('unknown_country');
    expect(verifyPostalCode('00-838', 'POL')).toBe('unknown_country');
    expect(verifyPostalCode('00-838', 'pl')).toBe('valid');
    // Hong Kong has no postal codes: nothing to require.
    expect(verifyPostalCode('', 'HK')).toBe('valid');
    // A JSON number is read as its digits; a German code that lost its leading zero is then wrong.
    expect(verifyPostalCode(10115, 'DE')).toBe('valid');
    expect(verifyPostalCode(1067, 'DE')).toBe('invalid');
  });

  it('falls back to postal-codes-js outside the shipping countries', () => {
    expect(isValidPostalCode('100-0001', 'JP')).toBe(true);
    expect(isValidPostalCode('K1A 0B1', 'CA')).toBe(true);
    expect(isValidPostalCode('12', 'JP')).toBe(false);
  });

  describe('what postal-codes-js 2.5 does (why Ordo has its own table)', () => {
    it('answers true or an error string, never false', () => {
      expect(postalCodesJs('PL', '00-838')).toBe(true);
      expect(typeof postalCodesJs('PL', '00838')).toBe('string');
      expect(typeof postalCodesJs('XX', '1')).toBe('string');
    });
    it('deletes spaces and hyphens anywhere, letters through what Royal Mail never issues', () => {
      expect(postalCodesJs('DE', '10-115')).toBe(true);
      expect(postalCodesJs('DE', '1 0 1 1 5')).toBe(true);
      expect(postalCodesJs('GB', 'QQ1 1AA')).toBe(true);
      expect(postalCodesJs('CH', '0000')).toBe(true);
      expect(isValidPostalCode('10-115', 'DE')).toBe(false);
      expect(isValidPostalCode('QQ1 1AA', 'GB')).toBe(false);
    });
  });
});

describe('phone numbers', () => {
  it.each(COUNTRY_DATA.map((d) => [d.country, d.phone]))('accepts the %s number %s for its country', (country, phone) => {
    expect(verifyPhone(phone, country)).toMatchObject({ ok: true });
  });

  it.each([
    ['PL', '+48 601 234 567'],
    ['PL', '601 234 567'],
    ['PL', '0048 601 234 567'],
    ['PL', '+48 42 636 00 00'],
    ['DE', '+49 151 23456789'],
    ['DE', '030 901820'],
    ['SE', '070-123 45 67'],
    ['NO', '+47 412 34 567'],
    ['GB', '020 7946 0958'],
    ['US', '(202) 456-1111'],
    ['CN', '+86 138 0013 8000'],
    ['CN', '010 6552 9988'],
    ['FR', '+33 6 12 34 56 78'],
    ['CH', '+41 79 123 45 67'],
  ])('accepts the %s number %s (mobile and national forms)', (country, phone) => {
    expect(isValidPhone(phone, country)).toBe(true);
  });

  it('accepts the libphonenumber example mobile number of every country Ordo ships to', () => {
    for (const country of SHIPPING_COUNTRIES) {
      const example = getExampleNumber(country as Parameters<typeof getExampleNumber>[0], mobileExamples);
      expect(example, country).toBeDefined();
      expect(isValidPhone(example?.formatInternational(), country), country).toBe(true);
    }
  });

  it('refuses a German number for a Polish address, naming where it is from', () => {
    expect(verifyPhone('+49 30 1234567', 'PL')).toEqual({ ok: false, reason: 'wrong_country', numberCountry: 'DE' });
    expect(verifyPhone('+1 416 555 0123', 'US')).toMatchObject({ ok: false, reason: 'wrong_country', numberCountry: 'CA' });
  });

  it('treats Crown dependency and Åland numbers as domestic (shared numbering plan), not the other way round', () => {
    // libphonenumber files 07911 under Guernsey; dialled in London it is a UK mobile.
    expect(verifyPhone('07911 123456', 'GB')).toMatchObject({ ok: true, numberCountry: 'GG' });
    expect(verifyPhone('+358 18 12345', 'FI')).toMatchObject({ ok: true, numberCountry: 'AX' });
    expect(verifyPhone('+44 7911 123456', 'DE')).toMatchObject({ ok: false, reason: 'wrong_country' });
  });

  it.each([
    ['PL', '12'],
    ['PL', '+48 601 234 56'],
    ['PL', 'abc'],
    ['DE', '+49 30'],
    ['US', '555-0100'],
    ['GB', '+44 7700 900123'], // Ofcom's drama range: not a real number
    ['PL', 'call me: +48 601 234 567'],
  ])('refuses %s %j', (country, phone) => {
    expect(verifyPhone(phone, country)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('without a country needs the international form', () => {
    expect(verifyPhone('+48 601 234 567')).toMatchObject({ ok: true, numberCountry: 'PL' });
    expect(verifyPhone('601 234 567')).toEqual({ ok: false, reason: 'not_international' });
    expect(verifyPhone('+48 12')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(isValidPhone('+48 601 234 567', null)).toBe(true);
    expect(isValidPhone('+48 601 234 567', 'XX')).toBe(false);
    expect(verifyPhone(null, 'PL')).toEqual({ ok: false, reason: 'missing' });
    expect(verifyPhone('   ', 'PL')).toEqual({ ok: false, reason: 'missing' });
  });
});

describe('e-mail addresses', () => {
  it.each([
    'anna@example.com',
    'anna.nowak+orders@example.co.uk',
    'o\'brien@example.ie',
    'jürgen@müller.de',
    'anna@łódź.pl',
    '王芳@例子.中国',
    'x@xn--80ak6aa92e.com',
    'a_b-c@sub-domain.example.org',
  ])('accepts %s', (email) => {
    expect(isValidEmail(email)).toBe(true);
  });

  it.each([
    'anna',
    'anna@',
    '@example.com',
    'anna@example',
    'anna@@example.com',
    'anna @example.com',
    'anna@exa mple.com',
    'anna..nowak@example.com',
    '.anna@example.com',
    'anna.@example.com',
    'anna@-example.com',
    'anna@example-.com',
    'anna@example.c',
    'anna@example.123',
    'anna@[127.0.0.1]',
    '"anna nowak"@example.com',
    `${'a'.repeat(65)}@example.com`,
    42,
    null,
  ])('refuses %j', (email) => {
    expect(isValidEmail(email)).toBe(false);
  });
});

describe('countries', () => {
  it('knows ISO alpha-2 codes, not alpha-3 or made-up ones', () => {
    expect(isIsoCountry('PL')).toBe(true);
    expect(isIsoCountry('pl')).toBe(true);
    expect(isIsoCountry('POL')).toBe(false);
    expect(isIsoCountry('UK')).toBe(false);
    expect(isIsoCountry('XX')).toBe(false);
    expect(isIsoCountry(null)).toBe(false);
  });
});

describe('checkAddress', () => {
  it.each(COUNTRY_DATA.map((d) => d.country))('finds nothing wrong with a valid courier order to %s', (country) => {
    expect(checkAddress(validOrder(country))).toEqual([]);
  });

  it('finds nothing wrong with the Polish, Chinese and Greek texts (letters are not validated away)', () => {
    const order = validOrder('PL');
    order.shippingAddress = { street: 'ul. Piotrkowska 104', postalCode: '90-926', city: 'Łódź', country: 'PL' };
    expect(checkAddress(order)).toEqual([]);
    expect(checkAddress(validOrder('CN'))).toEqual([]);
    expect(checkAddress(validOrder('GR'))).toEqual([]);
  });

  type Case = [name: string, mutate: (o: ReturnType<typeof validOrder>) => void, expected: string[]];
  const cases: Case[] = [
    ['unknown delivery method', (o) => void (o.delivery.method = 'drone' as never), ['DELIVERY_METHOD_INVALID@delivery.method']],
    ['courier without a shipping address', (o) => void (o.shippingAddress = null), ['ADDRESS_MISSING@shippingAddress']],
    ['courier with an empty shipping address', (o) => void (o.shippingAddress = { street: ' ', city: '' }), ['ADDRESS_MISSING@shippingAddress']],
    ['blank street', (o) => void (o.shippingAddress!.street = '   '), ['STREET_MISSING@shippingAddress.street']],
    ['missing city', (o) => void delete o.shippingAddress!.city, ['CITY_MISSING@shippingAddress.city']],
    ['postal code without its hyphen', (o) => void (o.shippingAddress!.postalCode = '00838'), ['POSTAL_CODE_INVALID@shippingAddress.postalCode']],
    ['German postal code on a Polish address', (o) => void (o.shippingAddress!.postalCode = '10115'), ['POSTAL_CODE_INVALID@shippingAddress.postalCode']],
    ['no postal code', (o) => void (o.shippingAddress!.postalCode = null), ['POSTAL_CODE_INVALID@shippingAddress.postalCode']],
    ['country Ordo does not ship to', (o) => {
      o.shippingAddress = { street: '1-1 Chiyoda', postalCode: '100-0001', city: '東京', country: 'JP' };
      o.customer.phone = '+81 3 1234 5678';
    }, ['COUNTRY_UNSUPPORTED@shippingAddress.country']],
    ['"UK" for the United Kingdom', (o) => void (o.shippingAddress!.country = 'UK'), ['COUNTRY_UNSUPPORTED@shippingAddress.country']],
    ['no country', (o) => void (o.shippingAddress!.country = ''), ['COUNTRY_UNSUPPORTED@shippingAddress.country']],
    ['courier without phone', (o) => void (o.customer.phone = null), ['PHONE_MISSING@customer.phone']],
    ['German phone on a Polish address', (o) => void (o.customer.phone = '+49 30 1234567'), ['PHONE_INVALID@customer.phone']],
    ['phone too short', (o) => void (o.customer.phone = '+48 601'), ['PHONE_INVALID@customer.phone']],
    ['malformed e-mail', (o) => void (o.customer.email = 'anna.nowak@example'), ['EMAIL_INVALID@customer.email']],
    ['e-mail that is not text', (o) => void ((o.customer as Record<string, unknown>).email = 42), ['EMAIL_INVALID@customer.email']],
    ['parcel locker without locker', (o) => void (o.delivery = { method: 'parcel_locker', lockerId: ' ' }), ['LOCKER_MISSING@delivery.lockerId']],
    ['parcel locker without phone', (o) => {
      o.delivery = { method: 'parcel_locker', lockerId: 'WAW01M' };
      o.customer.phone = '';
    }, ['PHONE_MISSING@customer.phone']],
    ['store pickup without store', (o) => void (o.delivery = { method: 'pickup_in_store', storeId: null }), ['STORE_MISSING@delivery.storeId']],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const order = copy(validOrder('PL'));
    mutate(order);
    expect(codes(checkAddress(order))).toEqual(expected);
  });

  it('every address code is raised by some case above', () => {
    const raised = new Set(cases.flatMap(([, , expected]) => expected.map((e) => e.split('@')[0])));
    expect([...raised].sort()).toEqual([...ADDRESS_CODES].sort());
  });

  it('reports each missing part of a partial address', () => {
    const order = validOrder('DE');
    order.shippingAddress = { street: '', postalCode: '', city: 'Berlin', country: 'DE' };
    expect(codes(checkAddress(order))).toEqual(['STREET_MISSING@shippingAddress.street', 'POSTAL_CODE_INVALID@shippingAddress.postalCode']);
  });

  it('writes sentences an operator understands', () => {
    const order = validOrder('PL');
    order.customer.phone = '+49 30 1234567';
    order.shippingAddress!.postalCode = '10115';
    const [postal, phone] = checkAddress(order);
    expect(postal?.message).toBe('The postal code "10115" is not a valid postal code for Poland (PL) (for example 00-838).');
    expect(phone?.message).toBe('The phone number +49 30 1234567 is not a valid number for Poland (PL). It is a number from Germany (DE).');
  });

  it('parcel locker: no street needed; the phone is judged by the shipping, else the invoice country', () => {
    const order = validOrder('PL');
    order.delivery = { method: 'parcel_locker', lockerId: 'WAW01M' };
    order.shippingAddress = null;
    expect(checkAddress(order)).toEqual([]);
    order.customer.phone = '+49 30 1234567';
    expect(codes(checkAddress(order))).toEqual(['PHONE_INVALID@customer.phone']);
  });

  it('parcel locker with no country anywhere: the phone must be international', () => {
    const order = validOrder('PL');
    order.delivery = { method: 'parcel_locker', lockerId: 'WAW01M' };
    order.shippingAddress = null;
    order.invoice = null;
    expect(checkAddress(order)).toEqual([]);
    order.customer.phone = '601 234 567';
    const issues = checkAddress(order);
    expect(codes(issues)).toEqual(['PHONE_INVALID@customer.phone']);
    expect(issues[0]?.message).toContain('international form');
  });

  it('digital and store orders need no address or phone, but a given phone must be right', () => {
    const order = validOrder('SE');
    order.delivery = { method: 'digital' };
    order.shippingAddress = null;
    order.invoice = null;
    order.customer = { name: 'Åsa', email: null, phone: null };
    expect(checkAddress(order)).toEqual([]);
    order.customer.phone = '601 234 567'; // national form, no country: cannot be judged, not refused
    expect(checkAddress(order)).toEqual([]);
    order.customer.phone = '+46 8 12'; // international and wrong: refused
    expect(codes(checkAddress(order))).toEqual(['PHONE_INVALID@customer.phone']);
    order.delivery = { method: 'pickup_in_store', storeId: 'STO-1' };
    order.customer.phone = '+46 8 123 456 78';
    expect(checkAddress(order)).toEqual([]);
  });

  it('ships where the option says', () => {
    const order = validOrder('US');
    expect(codes(checkAddress(order, { shippingCountries: ['PL', 'DE'] }))).toEqual(['COUNTRY_UNSUPPORTED@shippingAddress.country']);
    expect(checkAddress(order, { shippingCountries: ['us'] })).toEqual([]);
  });

  it('never throws on JSON that is not an order', () => {
    for (const junk of [null, undefined, 42, 'order', [], [1, 2], { delivery: 'courier' }, { delivery: { method: 7 }, customer: [] }]) {
      expect(() => checkAddress(junk)).not.toThrow();
      expect(codes(checkAddress(junk))).toContain('DELIVERY_METHOD_INVALID@delivery.method');
    }
    const order = { ...validOrder('PL'), shippingAddress: { street: 5, postalCode: { x: 1 }, city: ['Warszawa'], country: 7 } };
    expect(codes(checkAddress(order))).toEqual([
      'POSTAL_CODE_INVALID@shippingAddress.postalCode',
      'CITY_MISSING@shippingAddress.city',
      'COUNTRY_UNSUPPORTED@shippingAddress.country',
    ]);
  });

  it('fixtures are what they claim to be', () => {
    expect(COUNTRY.PL?.city).toBe('Warszawa');
    expect(COUNTRY_DATA.map((d) => d.country).sort()).toEqual([...SHIPPING_COUNTRIES].sort());
  });
});

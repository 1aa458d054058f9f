import type { Order } from '../../../src/orders/schema.ts';

/**
 * Real-world delivery data per country: an address people would recognise, a phone number in the
 * country's own numbering plan, a tax id published by its owner (or, for US/CN, of the official form),
 * and the currency a shop there charges in.
 */
export interface CountryData {
  country: string;
  currency: string;
  street: string;
  postalCode: string;
  city: string;
  phone: string;
  taxId: string;
  company: string;
  customer: string;
}

export const COUNTRY_DATA: readonly CountryData[] = [
  { country: 'AT', currency: 'EUR', street: 'Stephansplatz 3', postalCode: '1010', city: 'Wien', phone: '+43 1 515520', taxId: 'ATU13585627', company: 'Kaffeehaus Wien GmbH', customer: 'Lukas Gruber' },
  { country: 'BE', currency: 'EUR', street: 'Grand-Place 1', postalCode: '1000', city: 'Bruxelles', phone: '+32 2 511 12 34', taxId: 'BE 0428.759.497', company: 'Chocolaterie SA', customer: 'Élodie Peeters' },
  { country: 'BG', currency: 'EUR', street: 'бул. Витоша 1', postalCode: '1000', city: 'София', phone: '+359 2 987 6543', taxId: 'BG175074752', company: 'Роза ООД', customer: 'Иван Петров' },
  { country: 'HR', currency: 'EUR', street: 'Trg bana Josipa Jelačića 1', postalCode: '10000', city: 'Zagreb', phone: '+385 1 4567 890', taxId: 'HR33392005961', company: 'Kravata d.o.o.', customer: 'Ana Horvat' },
  { country: 'CY', currency: 'EUR', street: 'Λεωφόρος Μακαρίου 1', postalCode: '1065', city: 'Λευκωσία', phone: '+357 22 123456', taxId: 'CY10259033P', company: 'Halloumi Ltd', customer: 'Andreas Georgiou' },
  { country: 'CZ', currency: 'CZK', street: 'Václavské náměstí 1', postalCode: '110 00', city: 'Praha', phone: '+420 224 123 456', taxId: 'CZ25123891', company: 'Pivovar s.r.o.', customer: 'Jiří Novák' },
  { country: 'DK', currency: 'DKK', street: 'Kongens Nytorv 1', postalCode: '1050', city: 'København K', phone: '+45 33 12 34 56', taxId: 'DK 13 58 56 28', company: 'Hygge ApS', customer: 'Søren Jensen' },
  { country: 'EE', currency: 'EUR', street: 'Raekoja plats 1', postalCode: '10146', city: 'Tallinn', phone: '+372 612 3456', taxId: 'EE100931558', company: 'Rukkileib OÜ', customer: 'Kärt Tamm' },
  { country: 'FI', currency: 'EUR', street: 'Mannerheimintie 1', postalCode: '00100', city: 'Helsinki', phone: '+358 9 1234 567', taxId: 'FI20774740', company: 'Sauna Oy', customer: 'Mikko Virtanen' },
  { country: 'FR', currency: 'EUR', street: '1 Rue de Rivoli', postalCode: '75001', city: 'Paris', phone: '+33 1 42 68 53 00', taxId: 'FR 40 303 265 045', company: 'Fromagerie SARL', customer: 'Camille Dubois' },
  { country: 'DE', currency: 'EUR', street: 'Unter den Linden 77', postalCode: '10117', city: 'Berlin', phone: '+49 30 901820', taxId: 'DE136695976', company: 'Müller & Söhne GmbH', customer: 'Jürgen Müller' },
  { country: 'GR', currency: 'EUR', street: 'Ερμού 1', postalCode: '105 57', city: 'Αθήνα', phone: '+30 21 0123 4567', taxId: 'EL094012834', company: 'Ελιά Α.Ε.', customer: 'Γιώργος Παπαδόπουλος' },
  { country: 'HU', currency: 'HUF', street: 'Széchenyi István tér 1', postalCode: '1051', city: 'Budapest', phone: '+36 1 234 5678', taxId: 'HU12892312', company: 'Paprika Kft.', customer: 'Zsófia Nagy' },
  { country: 'IE', currency: 'EUR', street: "1 O'Connell Street Upper", postalCode: 'D01 F5P2', city: 'Dublin', phone: '+353 1 234 5678', taxId: 'IE6388047V', company: 'Shamrock Ltd', customer: 'Siobhán Murphy' },
  { country: 'IT', currency: 'EUR', street: 'Via Nazionale 1', postalCode: '00184', city: 'Roma', phone: '+39 06 4567 8901', taxId: 'IT00743110157', company: 'Pasta S.r.l.', customer: 'Giulia Rossi' },
  { country: 'LV', currency: 'EUR', street: 'Brīvības iela 1', postalCode: 'LV-1050', city: 'Rīga', phone: '+371 6712 3456', taxId: 'LV40003521600', company: 'Dzintars SIA', customer: 'Jānis Bērziņš' },
  { country: 'LT', currency: 'EUR', street: 'Gedimino pr. 1', postalCode: 'LT-01103', city: 'Vilnius', phone: '+370 5 212 3456', taxId: 'LT119511515', company: 'Gintaras UAB', customer: 'Rūta Kazlauskienė' },
  { country: 'LU', currency: 'EUR', street: 'Avenue de la Liberté 1', postalCode: 'L-1930', city: 'Luxembourg', phone: '+352 4796 2000', taxId: 'LU15027442', company: 'Banque S.à r.l.', customer: 'Luc Schmit' },
  { country: 'MT', currency: 'EUR', street: 'Republic Street 1', postalCode: 'VLT 1117', city: 'Valletta', phone: '+356 2122 4567', taxId: 'MT20630321', company: 'Ħobż Ltd', customer: 'Marija Borg' },
  { country: 'NL', currency: 'EUR', street: 'Dam 1', postalCode: '1012 JS', city: 'Amsterdam', phone: '+31 20 123 4567', taxId: 'NL004495445B01', company: 'Stroopwafel B.V.', customer: 'Daan de Vries' },
  { country: 'PL', currency: 'PLN', street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', phone: '+48 601 234 567', taxId: 'PL5260250274', company: 'Nowak Sp. z o.o.', customer: 'Anna Nowak' },
  { country: 'PT', currency: 'EUR', street: 'Rua Augusta 1', postalCode: '1100-048', city: 'Lisboa', phone: '+351 21 123 4567', taxId: 'PT501964843', company: 'Azulejo Lda', customer: 'João Silva' },
  { country: 'RO', currency: 'RON', street: 'Calea Victoriei 1', postalCode: '030023', city: 'București', phone: '+40 21 123 4567', taxId: 'RO18547290', company: 'Carpați S.R.L.', customer: 'Ioana Popescu' },
  { country: 'SK', currency: 'EUR', street: 'Hlavné námestie 1', postalCode: '811 01', city: 'Bratislava', phone: '+421 2 5937 1111', taxId: 'SK2022749619', company: 'Tatry s.r.o.', customer: 'Ľubica Kováčová' },
  { country: 'SI', currency: 'EUR', street: 'Prešernov trg 1', postalCode: '1000', city: 'Ljubljana', phone: '+386 1 234 56 78', taxId: 'SI50223054', company: 'Kranjska d.o.o.', customer: 'Žiga Novak' },
  { country: 'ES', currency: 'EUR', street: 'Calle Gran Vía 1', postalCode: '28013', city: 'Madrid', phone: '+34 91 123 45 67', taxId: 'ESA28184661', company: 'Jamón S.A.', customer: 'Lucía García' },
  { country: 'SE', currency: 'SEK', street: 'Drottninggatan 1', postalCode: '111 51', city: 'Stockholm', phone: '+46 8 123 456 78', taxId: 'SE556703748501', company: 'Fika AB', customer: 'Åsa Lindström' },
  { country: 'NO', currency: 'NOK', street: 'Karl Johans gate 1', postalCode: '0154', city: 'Oslo', phone: '+47 22 12 34 56', taxId: 'NO 923 609 016 MVA', company: 'Fjord AS', customer: 'Øystein Hansen' },
  { country: 'CH', currency: 'CHF', street: 'Bahnhofstrasse 1', postalCode: '8001', city: 'Zürich', phone: '+41 44 668 18 00', taxId: 'CHE-116.281.710 MWST', company: 'Uhren AG', customer: 'Reto Meier' },
  { country: 'GB', currency: 'GBP', street: '10 Downing Street', postalCode: 'SW1A 2AA', city: 'London', phone: '+44 20 7946 0958', taxId: 'GB 980 7806 84', company: 'Tea Ltd', customer: 'Oliver Smith' },
  { country: 'US', currency: 'USD', street: '1600 Pennsylvania Avenue NW', postalCode: '20500', city: 'Washington, DC', phone: '+1 202 456 1111', taxId: '12-3456789', company: 'Acme Inc.', customer: 'Emily Johnson' },
  { country: 'CN', currency: 'CNY', street: '东城区东长安街1号', postalCode: '100006', city: '北京', phone: '+86 10 6552 9988', taxId: '91350100M000100Y43', company: '北京茶叶有限公司', customer: '王芳' },
];

export const COUNTRY: Readonly<Record<string, CountryData>> = Object.fromEntries(COUNTRY_DATA.map((d) => [d.country, d]));

/** A courier order with an invoice, card-paid, whose totals add up: no check should find anything. */
export function validOrder(country = 'PL'): Order {
  const d = COUNTRY[country];
  if (!d) throw new Error(`no fixture for ${country}`);
  const address = { street: d.street, postalCode: d.postalCode, city: d.city, country: d.country };
  return {
    channel: 'webshop',
    externalId: `WS-${country}-10001`,
    placedAt: '2026-11-21T10:00:00Z',
    currency: d.currency,
    customer: { name: d.customer, email: 'anna.nowak+orders@example.com', phone: d.phone },
    delivery: { method: 'courier', lockerId: null, storeId: null },
    shippingAddress: { name: d.customer, company: null, ...address },
    invoice: { requested: true, companyName: d.company, taxId: d.taxId, address: { ...address } },
    lines: [
      { sku: 'TEA-001', name: 'Green tea', quantity: 2, unitPrice: '49.95', taxRate: '0.23' },
      { sku: 'MUG-002', name: 'Mug', quantity: 1, unitPrice: '0.10' },
    ],
    totals: { subtotal: '100.00', shipping: '15.00', tax: '0.00', grandTotal: '115.00' },
    payment: { method: 'card', status: 'authorized', amount: '115.00', currency: d.currency, reference: 'ch_123' },
  };
}

/** A deep copy to mutate in one test without touching the others. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

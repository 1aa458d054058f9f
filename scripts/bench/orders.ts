/**
 * Realistic orders for the benchmarks and `npm run seed`: countries with real addresses, phones and tax
 * ids, every delivery method, card / BLIK / PayPal / transfer / cash on delivery, invoices for half of
 * them, 1–5 lines, and a share of defects of the kinds a shop sends (missing phone, postal code that
 * does not exist, underpaid, failed payment, wrong tax id, ...). Deterministic for a seed, so every run
 * makes the same orders.
 *
 * Two mixes: `ENGINE_BENCH_MIX` (the default: nine countries, eight kinds of defect; the engine
 * benchmark's workload, kept exactly as its published figures were measured) and `SEED_MIX` (what
 * `npm run seed` loads: 22 countries with local names, four channels, every kind of defect the checks
 * know that an order can arrive with, and a few large business orders that need an approval).
 *
 * What each order should become is not guessed from how it was made: `expectedStatus` runs the same
 * checks the default lifecycle runs (validate address, payment without PAYMENT_PENDING, invoice when
 * requested), so a benchmark can verify its outcome.
 */
import type { DeliveryMethod, Order, PaymentMethod } from '../../src/orders/schema.ts';
import { checkAddress, checkInvoice, checkPayment } from '../../src/orders/checks/index.ts';

export interface Place {
  country: string;
  currency: string;
  street: string;
  postalCode: string;
  city: string;
  phone: string;
  taxId: string;
  /** Given and family names for customers there (SEED_MIX only). */
  names?: { given: readonly string[]; family: readonly string[] };
}

const PLACES: Place[] = [
  { country: 'PL', currency: 'PLN', street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', phone: '+48 601 234 567', taxId: 'PL5260250274' },
  { country: 'PL', currency: 'PLN', street: 'ul. Piotrkowska 104', postalCode: '90-926', city: 'Łódź', phone: '+48 42 636 00 00', taxId: 'PL5260250274' },
  { country: 'DE', currency: 'EUR', street: 'Unter den Linden 77', postalCode: '10117', city: 'Berlin', phone: '+49 30 901820', taxId: 'DE136695976' },
  { country: 'NO', currency: 'NOK', street: 'Karl Johans gate 1', postalCode: '0154', city: 'Oslo', phone: '+47 22 12 34 56', taxId: 'NO923609016MVA' },
  { country: 'SE', currency: 'SEK', street: 'Drottninggatan 1', postalCode: '111 51', city: 'Stockholm', phone: '+46 8 123 456 78', taxId: 'SE556703748501' },
  { country: 'GB', currency: 'GBP', street: '10 Downing Street', postalCode: 'SW1A 2AA', city: 'London', phone: '+44 20 7946 0958', taxId: 'GB980780684' },
  { country: 'US', currency: 'USD', street: '1600 Pennsylvania Avenue NW', postalCode: '20500', city: 'Washington', phone: '+1 202 456 1111', taxId: '12-3456789' },
  { country: 'FR', currency: 'EUR', street: '1 Rue de Rivoli', postalCode: '75001', city: 'Paris', phone: '+33 1 42 68 53 00', taxId: 'FR40303265045' },
  { country: 'CZ', currency: 'CZK', street: 'Václavské náměstí 1', postalCode: '110 00', city: 'Praha', phone: '+420 224 000 000', taxId: 'CZ00064581' },
];
const DELIVERY = ['courier', 'courier', 'courier', 'parcel_locker', 'pickup_in_store', 'digital'] as const;
const PAYMENT = ['card', 'card', 'blik', 'paypal', 'bank_transfer', 'cod'] as const;

type Defect = (o: Order) => void;

/** Defects a shop really sends, each one a ticket in the lifecycle. */
const DEFECTS: Defect[] = [
  (o) => (o.customer = { ...o.customer, phone: null }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, postalCode: '1234' }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, street: '' }),
  (o) => (o.customer = { ...o.customer, email: 'customer@example,com' }),
  (o) => (o.payment = { ...o.payment, amount: '1.00' }),
  (o) => (o.payment = { ...o.payment, status: 'failed' }),
  (o) => (o.totals = { ...o.totals, subtotal: '0.01' }),
  (o) => o.invoice?.requested && (o.invoice = { ...o.invoice, taxId: 'PL5260250275' }),
];

const names = (given: string[], family: string[]) => ({ given, family });
const PL_NAMES = names(['Anna', 'Piotr', 'Katarzyna', 'Tomasz', 'Magdalena', 'Jakub', 'Agnieszka', 'Michał', 'Zofia', 'Paweł'], ['Nowak', 'Kowalski', 'Wiśniewska', 'Wójcik', 'Kamińska', 'Lewandowski', 'Zielińska', 'Szymański', 'Dąbrowska', 'Mazur']);
const DE_NAMES = names(['Lukas', 'Anna', 'Jonas', 'Lea', 'Felix', 'Sophie', 'Maximilian', 'Marie', 'Paul', 'Hannah'], ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schäfer']);
const EN_NAMES = names(['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Emily', 'Jack', 'Grace', 'Noah', 'Olivia'], ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Evans', 'Walker']);
const US_NAMES = names(['James', 'Mary', 'Robert', 'Patricia', 'Michael', 'Jennifer', 'David', 'Linda', 'Daniel', 'Sarah'], ['Miller', 'Garcia', 'Rodriguez', 'Martinez', 'Anderson', 'Thomas', 'Moore', 'Jackson', 'Lee', 'Harris']);
const NORDIC_NAMES = names(['Lars', 'Ingrid', 'Erik', 'Astrid', 'Nils', 'Sofie', 'Magnus', 'Freja', 'Oskar', 'Maja'], ['Hansen', 'Johansson', 'Andersson', 'Nielsen', 'Larsen', 'Karlsson', 'Berg', 'Lindqvist', 'Jensen', 'Nilsson']);
const FR_NAMES = names(['Louis', 'Camille', 'Hugo', 'Chloé', 'Jules', 'Léa', 'Gabriel', 'Manon', 'Arthur', 'Inès'], ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau']);
const ES_NAMES = names(['Lucía', 'Hugo', 'Martina', 'Mateo', 'Sofía', 'Pablo', 'Valeria', 'Álvaro', 'Carmen', 'Diego'], ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz']);
const IT_NAMES = names(['Giulia', 'Leonardo', 'Sofia', 'Francesco', 'Aurora', 'Alessandro', 'Ginevra', 'Lorenzo', 'Beatrice', 'Matteo'], ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco']);
const NL_NAMES = names(['Daan', 'Emma', 'Sem', 'Julia', 'Lucas', 'Mila', 'Levi', 'Tess', 'Finn', 'Sara'], ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer']);
const CZ_NAMES = names(['Jan', 'Tereza', 'Jakub', 'Eliška', 'Tomáš', 'Anna', 'Petr', 'Adéla', 'Lukáš', 'Klára'], ['Novák', 'Svoboda', 'Novotná', 'Dvořák', 'Černá', 'Procházka', 'Kučerová', 'Veselý', 'Horák', 'Němcová']);
const CN_NAMES = names(['伟', '芳', '娜', '敏', '静', '磊', '洋', '艳', '勇', '杰'], ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周']);
const PT_NAMES = names(['João', 'Maria', 'Rodrigo', 'Leonor', 'Tiago', 'Beatriz', 'Duarte', 'Matilde', 'Tomás', 'Carolina'], ['Silva', 'Santos', 'Ferreira', 'Pereira', 'Oliveira', 'Costa', 'Rodrigues', 'Martins', 'Sousa', 'Fernandes']);
const HU_NAMES = names(['Bence', 'Hanna', 'Máté', 'Anna', 'Levente', 'Zsófia', 'Dominik', 'Luca', 'Ádám', 'Boglárka'], ['Nagy', 'Kovács', 'Tóth', 'Szabó', 'Horváth', 'Varga', 'Kiss', 'Molnár', 'Németh', 'Farkas']);

/** SEED_MIX's places: Poland and Germany weigh most, as for a Central European shop. */
const SEED_PLACES: Place[] = [
  { country: 'PL', currency: 'PLN', street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', phone: '+48 601 234 567', taxId: 'PL5260250274', names: PL_NAMES },
  { country: 'PL', currency: 'PLN', street: 'ul. Piotrkowska 104', postalCode: '90-926', city: 'Łódź', phone: '+48 42 636 00 00', taxId: 'PL5260250274', names: PL_NAMES },
  { country: 'PL', currency: 'PLN', street: 'ul. Floriańska 3/5', postalCode: '31-019', city: 'Kraków', phone: '+48 512 345 678', taxId: 'PL5260250274', names: PL_NAMES },
  { country: 'DE', currency: 'EUR', street: 'Unter den Linden 77', postalCode: '10117', city: 'Berlin', phone: '+49 30 901820', taxId: 'DE136695976', names: DE_NAMES },
  { country: 'DE', currency: 'EUR', street: 'Marienplatz 8', postalCode: '80331', city: 'München', phone: '+49 89 233 00', taxId: 'DE136695976', names: DE_NAMES },
  { country: 'DE', currency: 'EUR', street: 'Rathausmarkt 1', postalCode: '20095', city: 'Hamburg', phone: '+49 40 428 280', taxId: 'DE136695976', names: DE_NAMES },
  { country: 'AT', currency: 'EUR', street: 'Stephansplatz 1', postalCode: '1010', city: 'Wien', phone: '+43 1 512 6300', taxId: 'ATU13585627', names: DE_NAMES },
  { country: 'CH', currency: 'CHF', street: 'Bahnhofstrasse 1', postalCode: '8001', city: 'Zürich', phone: '+41 44 123 45 67', taxId: 'CHE-116.281.710 MWST', names: DE_NAMES },
  { country: 'CZ', currency: 'CZK', street: 'Václavské náměstí 1', postalCode: '110 00', city: 'Praha', phone: '+420 224 000 000', taxId: 'CZ00064581', names: CZ_NAMES },
  { country: 'HU', currency: 'HUF', street: 'Andrássy út 1', postalCode: '1051', city: 'Budapest', phone: '+36 1 234 5678', taxId: 'HU12892312', names: HU_NAMES },
  { country: 'NO', currency: 'NOK', street: 'Karl Johans gate 1', postalCode: '0154', city: 'Oslo', phone: '+47 22 12 34 56', taxId: 'NO923609016MVA', names: NORDIC_NAMES },
  { country: 'SE', currency: 'SEK', street: 'Drottninggatan 1', postalCode: '111 51', city: 'Stockholm', phone: '+46 8 123 456 78', taxId: 'SE556703748501', names: NORDIC_NAMES },
  { country: 'DK', currency: 'DKK', street: 'Strøget 1', postalCode: '1160', city: 'København K', phone: '+45 33 12 34 56', taxId: 'DK13585628', names: NORDIC_NAMES },
  { country: 'FI', currency: 'EUR', street: 'Mannerheimintie 1', postalCode: '00100', city: 'Helsinki', phone: '+358 9 123 4567', taxId: 'FI20774740', names: NORDIC_NAMES },
  { country: 'GB', currency: 'GBP', street: '221B Baker Street', postalCode: 'NW1 6XE', city: 'London', phone: '+44 20 7224 3688', taxId: 'GB980780684', names: EN_NAMES },
  { country: 'GB', currency: 'GBP', street: '1 Piccadilly', postalCode: 'M1 1AE', city: 'Manchester', phone: '+44 161 234 5678', taxId: 'GB980780684', names: EN_NAMES },
  { country: 'IE', currency: 'EUR', street: "1 O'Connell Street", postalCode: 'D01 F5P2', city: 'Dublin', phone: '+353 1 234 5678', taxId: 'IE6388047V', names: EN_NAMES },
  { country: 'US', currency: 'USD', street: '350 Fifth Avenue', postalCode: '10118', city: 'New York', phone: '+1 212 736 3100', taxId: '12-3456789', names: US_NAMES },
  { country: 'US', currency: 'USD', street: '1 Market Street', postalCode: '94103', city: 'San Francisco', phone: '+1 415 555 2671', taxId: '12-3456789', names: US_NAMES },
  { country: 'FR', currency: 'EUR', street: '1 Rue de Rivoli', postalCode: '75001', city: 'Paris', phone: '+33 1 42 68 53 00', taxId: 'FR40303265045', names: FR_NAMES },
  { country: 'BE', currency: 'EUR', street: 'Grote Markt 1', postalCode: '1000', city: 'Brussel', phone: '+32 2 279 22 11', taxId: 'BE0428759497', names: NL_NAMES },
  { country: 'NL', currency: 'EUR', street: 'Damrak 1', postalCode: '1012 LG', city: 'Amsterdam', phone: '+31 20 123 4567', taxId: 'NL004495445B01', names: NL_NAMES },
  { country: 'ES', currency: 'EUR', street: 'Calle de Alcalá 45', postalCode: '28014', city: 'Madrid', phone: '+34 912 345 678', taxId: 'ESA28184661', names: ES_NAMES },
  { country: 'IT', currency: 'EUR', street: 'Via del Corso 12', postalCode: '00186', city: 'Roma', phone: '+39 06 6982 1234', taxId: 'IT00743110157', names: IT_NAMES },
  { country: 'PT', currency: 'EUR', street: 'Rua Augusta 1', postalCode: '1100-048', city: 'Lisboa', phone: '+351 21 123 4567', taxId: 'PT501964843', names: PT_NAMES },
  { country: 'CN', currency: 'CNY', street: '东长安街1号', postalCode: '100006', city: '北京', phone: '+86 10 6552 9988', taxId: '91350100M000100Y43', names: CN_NAMES },
];

/** A number from another country than the shipping address: valid, but not reachable for the courier there. */
const foreignPhone = (o: Order) => (o.shippingAddress?.country === 'DE' ? '+48 601 234 567' : '+49 30 901820');

/**
 * SEED_MIX's defects: every kind of rule break an order can arrive with (the shape refuses the rest),
 * the common slips listed more than once so they come up as often as they do in a shop.
 */
const SEED_DEFECTS: Defect[] = [
  // delivery data
  (o) => (o.customer = { ...o.customer, phone: null }),
  (o) => (o.customer = { ...o.customer, phone: null }),
  (o) => (o.customer = { ...o.customer, phone: foreignPhone(o) }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, postalCode: '1234' }),
  (o) => o.shippingAddress?.country === 'PL' && (o.shippingAddress = { ...o.shippingAddress, postalCode: o.shippingAddress.postalCode!.replace('-', '') }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, street: '' }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, city: null }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, country: o.shippingAddress.country === 'GB' ? 'UK' : 'XX' }),
  (o) => o.delivery.method === 'courier' && (o.shippingAddress = null),
  (o) => o.delivery.method === 'parcel_locker' && (o.delivery = { ...o.delivery, lockerId: null }),
  (o) => o.delivery.method === 'pickup_in_store' && (o.delivery = { ...o.delivery, storeId: null }),
  (o) => (o.customer = { ...o.customer, email: `${o.customer.email?.split('@')[0]}@example,com` }),
  (o) => (o.customer = { ...o.customer, email: o.customer.email?.replace('@', ' at ') ?? null }),
  // payment
  (o) => (o.payment = { ...o.payment, amount: '1.00' }),
  (o) => (o.payment = { ...o.payment, status: 'failed' }),
  (o) => (o.payment = { ...o.payment, status: 'failed' }),
  (o) => (o.payment = { ...o.payment, status: 'refunded' }),
  (o) => (o.payment = { ...o.payment, currency: o.payment.currency === 'EUR' ? 'USD' : 'EUR' }),
  (o) => (o.totals = { ...o.totals, subtotal: '0.01' }),
  (o) => o.delivery.method === 'parcel_locker' && (o.payment = { ...o.payment, method: 'cod', status: 'pending' }),
  // invoice
  (o) => o.invoice?.requested && (o.invoice = { ...o.invoice, taxId: 'PL5260250275' }),
  (o) => o.invoice?.requested && (o.invoice = { ...o.invoice, taxId: null }),
  (o) => o.invoice?.requested && (o.invoice = { ...o.invoice, companyName: null }),
  (o) => o.invoice?.requested && o.invoice.address && (o.invoice = { ...o.invoice, address: { ...o.invoice.address, postalCode: null } }),
];

export interface OrderMix {
  places: readonly Place[];
  delivery: readonly DeliveryMethod[];
  payment: readonly PaymentMethod[];
  /** Channels and the prefix of their order numbers (`WS-…`); none: `<prefix>-<n>`. */
  channels: ReadonlyArray<{ channel: string; code?: string }>;
  defects: readonly Defect[];
  /** Customers named from their country's lists; otherwise "Customer <n>". */
  people: boolean;
  /** Share of clean orders that are large business orders (≥ 10,000: an approval ticket in the default lifecycle). */
  largeOrderRate: number;
}

export const ENGINE_BENCH_MIX: OrderMix = {
  places: PLACES,
  delivery: DELIVERY,
  payment: PAYMENT,
  channels: [{ channel: 'webshop' }, { channel: 'webshop' }, { channel: 'allegro' }, { channel: 'amazon' }],
  defects: DEFECTS,
  people: false,
  largeOrderRate: 0,
};

export const SEED_MIX: OrderMix = {
  places: SEED_PLACES,
  delivery: DELIVERY,
  payment: PAYMENT,
  channels: [
    { channel: 'webshop', code: 'WS' },
    { channel: 'webshop', code: 'WS' },
    { channel: 'webshop', code: 'WS' },
    { channel: 'allegro', code: 'ALG' },
    { channel: 'allegro', code: 'ALG' },
    { channel: 'amazon', code: 'AMZ' },
    { channel: 'b2b-portal', code: 'B2B' },
  ],
  defects: SEED_DEFECTS,
  people: true,
  largeOrderRate: 0.002,
};

export interface OrderOptions {
  defectRate: number;
  seed?: number;
  prefix: string;
  mix?: OrderMix;
  /** When the n-th order was placed (ISO 8601); default: one a second from 2026-11-21 08:00 UTC. */
  placedAt?: (n: number) => string;
}

/** mulberry32: a seeded generator, so every run makes the same orders. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const money = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;

/** "Zofia Wiśniewska" → "zofia.wisniewska": what people type as the local part of their e-mail. */
function mailbox(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/ø/g, 'o')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
  return ascii || 'customer';
}

/** What the SKUs are, for people reading the seeded orders (a SKU's number picks its name). */
const PRODUCTS = [
  'Green tea, loose leaf 250 g', 'Espresso beans 1 kg', 'Ceramic mug 350 ml', 'Cast-iron teapot', 'French press 1 l', 'Oat biscuits',
  'Linen tea towel', 'Bamboo cutting board', 'Chef knife 20 cm', 'Stainless steel kettle', 'Glass storage jar', 'Honey, acacia 400 g',
  'Dark chocolate 85 %', 'Olive oil, extra virgin 750 ml', 'Wool blanket', 'Scented candle', 'Cotton apron', 'Pour-over dripper',
  'Milk frother', 'Spice set (12)', 'Pasta, durum 500 g', 'Rice cooker', 'Salad bowl, oak', 'Water filter cartridges (3)',
];

const MAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'post.example'];

export function makeOrders(count: number, options: OrderOptions): Order[] {
  return [...orderStream(count, options)];
}

/** The same orders one at a time, so a benchmark need not hold them all (its memory is measured too). */
export function* orderStream(count: number, options: OrderOptions): Generator<Order> {
  const mix = options.mix ?? ENGINE_BENCH_MIX;
  const random = prng(options.seed ?? 20261122);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  for (let n = 0; n < count; n++) {
    const place = pick(mix.places);
    const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
      sku: `SKU-${Math.floor(random() * 5000)}`,
      name: '',
      quantity: 1 + Math.floor(random() * 3),
      unitPrice: `${10 + Math.floor(random() * 300)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
      taxRate: '0.23',
    }));
    for (const [i, l] of lines.entries()) l.name = mix.people ? PRODUCTS[Number(l.sku.slice(4)) % PRODUCTS.length]! : `Item ${i + 1}`;
    const method = pick(mix.delivery);
    // Cash on delivery needs a courier to collect it.
    let paymentMethod = pick(mix.payment);
    if (paymentMethod === 'cod' && method !== 'courier') paymentMethod = 'card';
    const address = { street: place.street, postalCode: place.postalCode, city: place.city, country: place.country };
    const invoice = random() < 0.5;
    const { channel, code } = pick(mix.channels);
    let name = `Customer ${n}`;
    let email = `customer${n}@example.com`;
    if (mix.people) {
      const given = pick(place.names?.given ?? ['Alex']);
      const family = pick(place.names?.family ?? ['Customer']);
      name = place.country === 'CN' ? `${family}${given}` : `${given} ${family}`;
      email = `${place.country === 'CN' ? `customer${n}` : `${mailbox(given)}.${mailbox(family)}${n % 1000}`}@${pick(MAIL_DOMAINS)}`;
    }
    // A business customer's restocking order: many units, paid up front, over the approval threshold.
    if (mix.largeOrderRate > 0 && random() < mix.largeOrderRate) {
      lines.length = 1;
      lines[0] = { sku: `SKU-${Math.floor(random() * 5000)}`, name: 'Wholesale carton (24 pcs)', quantity: 100 + Math.floor(random() * 400), unitPrice: `${100 + Math.floor(random() * 400)}.00`, taxRate: '0.23' };
      if (paymentMethod === 'cod') paymentMethod = 'bank_transfer';
    }
    const subtotal = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPrice.replace('.', '')), 0n);
    const shipping = 1500n;
    const grand = subtotal + shipping;
    const order: Order = {
      channel,
      externalId: code ? `${code}-${options.prefix}-${n}` : `${options.prefix}-${n}`,
      placedAt: options.placedAt ? options.placedAt(n) : new Date(Date.UTC(2026, 10, 21, 8) + n * 1000).toISOString(),
      currency: place.currency,
      customer: { name, email, phone: place.phone },
      delivery: { method, lockerId: method === 'parcel_locker' ? 'WAW01M' : null, storeId: method === 'pickup_in_store' ? 'WAW-01' : null },
      shippingAddress: method === 'courier' ? { name, company: null, ...address } : null,
      invoice: invoice ? { requested: true, companyName: mix.people ? `${name.split(' ').pop()} ${place.country === 'PL' ? 'Sp. z o.o.' : place.country === 'DE' || place.country === 'AT' || place.country === 'CH' ? 'GmbH' : 'Ltd'}` : `Company ${n} Ltd`, taxId: place.taxId, address } : { requested: false },
      lines,
      totals: { subtotal: money(subtotal), shipping: money(shipping), tax: '0.00', grandTotal: money(grand) },
      payment: {
        method: paymentMethod,
        status: paymentMethod === 'cod' ? 'pending' : paymentMethod === 'bank_transfer' ? 'paid' : 'authorized',
        amount: money(grand),
        currency: place.currency,
        reference: `ref-${n}`,
      },
    } as Order;
    if (random() < options.defectRate) {
      // Some defects do not apply to every order (no street on a locker order): add until one counts.
      for (let tries = 0; tries < 8 && expectedStatus(order) === 'released'; tries++) pick(mix.defects)(order);
    }
    yield order;
  }
}

/** What the default lifecycle makes of the order once it has run its checks: released or on hold. */
export function expectedStatus(order: Order): 'released' | 'on_hold' {
  const address = checkAddress(order);
  const payment = checkPayment(order).filter((i) => i.code !== 'PAYMENT_PENDING');
  const invoice = order.invoice?.requested ? checkInvoice(order) : [];
  return address.length + payment.length + invoice.length > 0 ? 'on_hold' : 'released';
}

/**
 * How long the order checks take per order: `npx tsx scripts/bench/checks.ts [orders] [rounds]`.
 *
 * Runs runAllChecks over a deterministic mix of orders (eight countries, all delivery methods, 1–20
 * lines, some 40 % with something broken), several rounds after a warm-up, and reports the median
 * round. The baseline, measured in the same process on the same orders, is a JSON round trip
 * (`JSON.parse(JSON.stringify(order))`): the least any code that looks at every field of an order pays.
 * The last line is machine-readable.
 */
import { runAllChecks } from '../../src/orders/checks/index.ts';
import { commandLine } from '../cli.ts';

const cli = commandLine({
  name: 'bench:checks',
  usage: 'npm run bench:checks -- [orders] [rounds]',
  about: 'How long the order checks take per order: the median of `rounds` rounds over `orders` orders (defaults 3000 and 7), against a JSON round trip.',
  options: {},
  positionals: ['orders', 'rounds'],
});
const ORDER_COUNT = cli.int('orders', { min: 1, default: 3000 });
const ROUNDS = cli.int('rounds', { min: 1, default: 7 });
const SEED = 20261121;

interface Place {
  country: string;
  currency: string;
  street: string;
  postalCode: string;
  city: string;
  phone: string;
  taxId: string;
}

const PLACES: Place[] = [
  { country: 'PL', currency: 'PLN', street: 'ul. Prosta 51', postalCode: '00-838', city: 'Warszawa', phone: '+48 601 234 567', taxId: 'PL5260250274' },
  { country: 'PL', currency: 'PLN', street: 'ul. Piotrkowska 104', postalCode: '90-926', city: 'Łódź', phone: '42 636 00 00', taxId: '526-025-02-74' },
  { country: 'DE', currency: 'EUR', street: 'Unter den Linden 77', postalCode: '10117', city: 'Berlin', phone: '+49 30 901820', taxId: 'DE136695976' },
  { country: 'NO', currency: 'NOK', street: 'Karl Johans gate 1', postalCode: '0154', city: 'Oslo', phone: '+47 22 12 34 56', taxId: 'NO923609016MVA' },
  { country: 'SE', currency: 'SEK', street: 'Drottninggatan 1', postalCode: '111 51', city: 'Stockholm', phone: '08-123 456 78', taxId: 'SE556703748501' },
  { country: 'GB', currency: 'GBP', street: '10 Downing Street', postalCode: 'SW1A 2AA', city: 'London', phone: '+44 20 7946 0958', taxId: 'GB980780684' },
  { country: 'US', currency: 'USD', street: '1600 Pennsylvania Avenue NW', postalCode: '20500', city: 'Washington', phone: '+1 202 456 1111', taxId: '12-3456789' },
  { country: 'CN', currency: 'CNY', street: '东长安街1号', postalCode: '100006', city: '北京', phone: '+86 10 6552 9988', taxId: '91350100M000100Y43' },
  { country: 'FR', currency: 'EUR', street: '1 Rue de Rivoli', postalCode: '75001', city: 'Paris', phone: '+33 1 42 68 53 00', taxId: 'FR40303265045' },
];
const DELIVERY = ['courier', 'courier', 'courier', 'parcel_locker', 'pickup_in_store', 'digital'];
const PAYMENT = ['card', 'blik', 'bank_transfer', 'paypal', 'cod'];

/** mulberry32: a seeded generator, so every run checks the same orders. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeOrders(count: number): unknown[] {
  const random = prng(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const orders: unknown[] = [];
  for (let n = 0; n < count; n++) {
    const place = pick(PLACES);
    const lines = Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => ({
      sku: `SKU-${i}`,
      name: `Item ${i}`,
      quantity: 1 + Math.floor(random() * 5),
      unitPrice: `${Math.floor(random() * 500)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
    }));
    const subtotalMinor = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPrice.replace('.', '')), 0n);
    const grandMinor = subtotalMinor + 1500n;
    const money = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
    const address = { street: place.street, postalCode: place.postalCode, city: place.city, country: place.country };
    const method = pick(DELIVERY);
    const order = {
      channel: 'webshop',
      externalId: `BENCH-${n}`,
      currency: place.currency,
      customer: { name: 'Customer', email: `customer${n}@example.com`, phone: place.phone },
      delivery: { method, lockerId: method === 'parcel_locker' ? 'LOCKER-1' : null, storeId: method === 'pickup_in_store' ? 'STORE-1' : null },
      shippingAddress: method === 'courier' ? { name: 'Customer', ...address } : null,
      invoice: random() < 0.5 ? { requested: true, companyName: 'Company Ltd', taxId: place.taxId, address } : { requested: false },
      lines,
      totals: { subtotal: money(subtotalMinor), shipping: '15.00', tax: '0.00', grandTotal: money(grandMinor) },
      payment: { method: pick(PAYMENT), status: 'authorized', amount: money(grandMinor), currency: place.currency, reference: `ref-${n}` },
    };
    // About a third of the orders break a rule, the way real ones do.
    const fault = random();
    if (fault < 0.05) order.customer.phone = '+49 30 1234567';
    else if (fault < 0.1) order.totals.subtotal = '0.01';
    else if (fault < 0.15) order.customer.email = 'customer@example';
    else if (fault < 0.2 && order.invoice.requested) (order.invoice as { taxId: string }).taxId = 'PL5260250275';
    else if (fault < 0.25 && order.shippingAddress) order.shippingAddress.postalCode = '1234';
    else if (fault < 0.3) order.payment.status = 'pending';
    else if (fault < 0.33) order.payment.amount = '1.00';
    orders.push(order);
  }
  return orders;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median over rounds of the mean microseconds per order. */
function measure(orders: readonly unknown[], work: (order: unknown) => number): { usPerOrder: number; sink: number } {
  let sink = 0;
  for (const order of orders) sink += work(order); // warm-up: JIT, lazy metadata in libphonenumber
  const perRound: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (const order of orders) sink += work(order);
    const elapsedNs = Number(process.hrtime.bigint() - start);
    perRound.push(elapsedNs / 1000 / orders.length);
  }
  return { usPerOrder: median(perRound), sink };
}

const orders = makeOrders(ORDER_COUNT);
const checks = measure(orders, (order) => runAllChecks(order).length);
const baseline = measure(orders, (order) => (JSON.parse(JSON.stringify(order)) as { lines: unknown[] }).lines.length);
const withIssues = orders.filter((order) => runAllChecks(order).length > 0).length;

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log(`orders: ${ORDER_COUNT} (${withIssues} with issues), rounds: ${ROUNDS}, node ${process.version}`);
console.log(`runAllChecks     ${fmt(checks.usPerOrder)} µs/order  ${fmt(1e6 / checks.usPerOrder, 0)} orders/s`);
console.log(`JSON round trip  ${fmt(baseline.usPerOrder)} µs/order  (baseline)`);
console.log(`ratio            ${fmt(checks.usPerOrder / baseline.usPerOrder, 2)}× the baseline`);
if (checks.sink < 0 || baseline.sink < 0) console.log('unreachable'); // keeps the work observable
console.log(
  `RESULT checks_us_per_order=${fmt(checks.usPerOrder)} checks_per_s=${fmt(1e6 / checks.usPerOrder, 0)} baseline_us=${fmt(baseline.usPerOrder, 2)} ratio=${fmt(checks.usPerOrder / baseline.usPerOrder, 2)}`,
);

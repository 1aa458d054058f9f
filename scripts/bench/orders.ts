/**
 * Realistic orders for the engine benchmark: nine countries, every delivery method, card / BLIK / PayPal
 * / transfer / cash on delivery, invoices for half of them, 1–5 lines, and a share of defects of every
 * kind a shop sends (missing phone, postal code that does not exist, underpaid, failed payment, wrong
 * tax id, ...). Deterministic for a seed, so every run posts the same orders.
 *
 * What each order should become is not guessed from how it was made: `expectedStatus` runs the same
 * checks the default lifecycle runs (validate address, payment without PAYMENT_PENDING, invoice when
 * requested), so the benchmark can verify its outcome.
 */
import type { Order } from '../../src/orders/schema.ts';
import { checkAddress, checkInvoice, checkPayment } from '../../src/orders/checks/index.ts';

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

/** Defects a shop really sends, each one a ticket in the lifecycle. */
const DEFECTS: Array<(o: Order) => void> = [
  (o) => (o.customer = { ...o.customer, phone: null }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, postalCode: '1234' }),
  (o) => o.shippingAddress && (o.shippingAddress = { ...o.shippingAddress, street: '' }),
  (o) => (o.customer = { ...o.customer, email: 'customer@example,com' }),
  (o) => (o.payment = { ...o.payment, amount: '1.00' }),
  (o) => (o.payment = { ...o.payment, status: 'failed' }),
  (o) => (o.totals = { ...o.totals, subtotal: '0.01' }),
  (o) => o.invoice?.requested && (o.invoice = { ...o.invoice, taxId: 'PL5260250275' }),
];

/** mulberry32: a seeded generator, so every run posts the same orders. */
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

const money = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;

export function makeOrders(count: number, options: { defectRate: number; seed?: number; prefix: string }): Order[] {
  return [...orderStream(count, options)];
}

/** The same orders one at a time, so a benchmark need not hold them all (its memory is measured too). */
export function* orderStream(count: number, options: { defectRate: number; seed?: number; prefix: string }): Generator<Order> {
  const random = prng(options.seed ?? 20261122);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  for (let n = 0; n < count; n++) {
    const place = pick(PLACES);
    const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) => ({
      sku: `SKU-${Math.floor(random() * 5000)}`,
      name: `Item ${i + 1}`,
      quantity: 1 + Math.floor(random() * 3),
      unitPrice: `${10 + Math.floor(random() * 300)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
      taxRate: '0.23',
    }));
    const subtotal = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPrice.replace('.', '')), 0n);
    const shipping = 1500n;
    const grand = subtotal + shipping;
    const method = pick(DELIVERY);
    // Cash on delivery needs a courier to collect it.
    let paymentMethod = pick(PAYMENT);
    if (paymentMethod === 'cod' && method !== 'courier') paymentMethod = 'card';
    const address = { street: place.street, postalCode: place.postalCode, city: place.city, country: place.country };
    const invoice = random() < 0.5;
    const order: Order = {
      channel: pick(['webshop', 'webshop', 'allegro', 'amazon']),
      externalId: `${options.prefix}-${n}`,
      placedAt: new Date(Date.UTC(2026, 10, 21, 8) + n * 1000).toISOString(),
      currency: place.currency,
      customer: { name: `Customer ${n}`, email: `customer${n}@example.com`, phone: place.phone },
      delivery: { method, lockerId: method === 'parcel_locker' ? 'WAW01M' : null, storeId: method === 'pickup_in_store' ? 'WAW-01' : null },
      shippingAddress: method === 'courier' ? { name: `Customer ${n}`, company: null, ...address } : null,
      invoice: invoice ? { requested: true, companyName: `Company ${n} Ltd`, taxId: place.taxId, address } : { requested: false },
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
      for (let tries = 0; tries < 8 && expectedStatus(order) === 'released'; tries++) pick(DEFECTS)(order);
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

import type Handlebars from 'handlebars';
import type { OrderStatus } from '../../../db/tables/orders.table.ts';

/**
 * How the console says things: labels in the operator's words, dates, money. Used as Handlebars helpers
 * and by the routes building view models. Every helper returns plain text; the templates escape it.
 */

export const STATUS_LABELS: Record<OrderStatus, string> = {
  received: 'received',
  in_progress: 'in progress',
  on_hold: 'on hold',
  awaiting_payment: 'awaiting payment',
  released: 'released',
  completed: 'completed',
  cancelled: 'cancelled',
};

const DELIVERY_LABELS: Record<string, string> = {
  courier: 'Courier',
  parcel_locker: 'Parcel locker',
  pickup_in_store: 'Pickup in store',
  digital: 'Digital delivery',
};

const PAYMENT_METHOD_LABELS: Record<string, string> = {
  card: 'Card',
  blik: 'BLIK',
  bank_transfer: 'Bank transfer',
  paypal: 'PayPal',
  cod: 'Cash on delivery',
};

const TICKET_STATUS_LABELS: Record<string, string> = { open: 'open', in_progress: 'in progress', resolved: 'resolved', cancelled: 'cancelled' };

const pad = (n: number) => String(n).padStart(2, '0');

function asDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** "2026-11-21 10:00 UTC"; console.js rewrites it in the browser's time zone. */
export function formatDateTime(value: unknown): string {
  const d = asDate(value);
  if (!d) return '';
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

export function formatIso(value: unknown): string {
  return asDate(value)?.toISOString() ?? '';
}

/** "YYYY-MM-DD" of a date in UTC (date inputs). */
export function formatDay(value: unknown): string {
  const d = asDate(value);
  return d ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : '';
}

function label(map: Record<string, string>, value: unknown): string {
  if (value == null) return '';
  const key = String(value);
  return map[key] ?? key.replace(/_/g, ' ');
}

export const consoleHelpers: Record<string, Handlebars.HelperDelegate> = {
  statusLabel: (status: unknown) => label(STATUS_LABELS, status),
  ticketStatusLabel: (status: unknown) => label(TICKET_STATUS_LABELS, status),
  deliveryLabel: (method: unknown) => label(DELIVERY_LABELS, method),
  paymentMethodLabel: (method: unknown) => label(PAYMENT_METHOD_LABELS, method),
  humanize: (value: unknown) => (value == null ? '' : String(value).replace(/_/g, ' ')),
  datetime: (value: unknown) => formatDateTime(value),
  iso: (value: unknown) => formatIso(value),
  money: (amount: unknown, currency: unknown) => (amount == null || amount === '' ? '' : `${String(amount)} ${typeof currency === 'string' ? currency : ''}`.trim()),
  /** A numbered list position: `{{inc @index}}`. */
  inc: (n: unknown) => Number(n) + 1,
  join: (items: unknown, sep: unknown) => (Array.isArray(items) ? items.map(String).join(typeof sep === 'string' ? sep : ', ') : ''),
  /** `{{#if (present x)}}`: neither null, undefined nor blank text. */
  present: (value: unknown) => value != null && !(typeof value === 'string' && value.trim() === ''),
};

/**
 * The message a redirect's `?done=` key names, from the route's own table: only its own keys, so
 * `?done=constructor` is no message rather than Object's constructor in the page.
 */
export function messageFor<T = string>(table: Readonly<Record<string, T>>, key: string | undefined): T | null {
  return key !== undefined && Object.hasOwn(table, key) ? table[key]! : null;
}

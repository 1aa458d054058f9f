/**
 * Money: integer minor units (bigint) inside, decimal strings at the edges (SPEC §3).
 *
 * Every currency Ordo handles is written with at most two decimals, so one minor unit is 1/100 of the
 * major unit. bigint, not number: twelve integer digits times a quantity of up to a million is past
 * 2^53, and a sum that is exact only "usually" is the bug this module exists to prevent.
 * Nothing here goes through a binary float.
 */

export type MinorUnits = bigint;

/** Decimals a money string may carry. */
export const MONEY_DECIMALS = 2;
const MINOR_PER_MAJOR = 100n;

/** "0", "7.5", "129.90"; no sign, no leading zeros, no exponent, no thousands separators. */
const MONEY_TEXT = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;
/** Longer strings are not amounts anyone meant; refusing them keeps BigInt work bounded. */
const MAX_MONEY_TEXT_LENGTH = 24;

/** Reads a decimal money string ("129.90") as minor units (12990n); `null` for anything else. */
export function parseMoney(value: unknown): MinorUnits | null {
  if (typeof value !== 'string' || value.length > MAX_MONEY_TEXT_LENGTH) return null;
  const match = MONEY_TEXT.exec(value);
  if (!match) return null;
  const whole = BigInt(match[1] ?? '0');
  const fraction = (match[2] ?? '').padEnd(MONEY_DECIMALS, '0');
  return whole * MINOR_PER_MAJOR + BigInt(fraction);
}

/** Whether the value is a money string `parseMoney` accepts. */
export function isMoney(value: unknown): value is string {
  return parseMoney(value) !== null;
}

/** Like `parseMoney`, for amounts that were already validated (e.g. by the order schema): throws on bad input. */
export function toMinorUnits(value: string): MinorUnits {
  const minor = parseMoney(value);
  if (minor === null) throw new RangeError(`Not a money amount with at most ${MONEY_DECIMALS} decimals: ${JSON.stringify(value)}`);
  return minor;
}

/** 12990n → "129.90"; -5n → "-0.05". Always two decimals. */
export function formatMinorUnits(minor: MinorUnits): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  const whole = abs / MINOR_PER_MAJOR;
  const fraction = (abs % MINOR_PER_MAJOR).toString().padStart(MONEY_DECIMALS, '0');
  return `${sign}${whole}.${fraction}`;
}

/** Canonical form of a money string: "7.5" → "7.50"; `null` when it is not money. */
export function normalizeMoney(value: unknown): string | null {
  const minor = parseMoney(value);
  return minor === null ? null : formatMinorUnits(minor);
}

export function sumMinorUnits(amounts: Iterable<MinorUnits>): MinorUnits {
  let total = 0n;
  for (const amount of amounts) total += amount;
  return total;
}

/** unit price × quantity; the quantity must be a whole number (a JS number must be a safe integer). */
export function multiplyMinorUnits(unit: MinorUnits, quantity: number | bigint): MinorUnits {
  if (typeof quantity === 'number' && !Number.isSafeInteger(quantity)) {
    throw new RangeError(`A quantity must be a whole number, got ${quantity}`);
  }
  return unit * BigInt(quantity);
}

/** Σ of decimal strings, as a decimal string: sumMoney(["0.10", "0.10", "0.10", "0.20"]) === "0.50". Throws on non-money. */
export function sumMoney(amounts: Iterable<string>): string {
  let total = 0n;
  for (const amount of amounts) total += toMinorUnits(amount);
  return formatMinorUnits(total);
}

/** amount × quantity as a decimal string: multiplyMoney("49.95", 2) === "99.90". Throws on non-money. */
export function multiplyMoney(amount: string, quantity: number | bigint): string {
  return formatMinorUnits(multiplyMinorUnits(toMinorUnits(amount), quantity));
}

/** -1, 0 or 1, like a sort comparator. */
export function compareMinorUnits(a: MinorUnits, b: MinorUnits): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

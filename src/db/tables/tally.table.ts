import type { Generated } from 'kysely';

/**
 * Running tallies (migration 0008): rows of +n / −n appended by statement triggers on tickets and
 * orders; the sum per key is the count. Written only by the triggers and folded by runtime/tallies.ts.
 */
export interface OpenTicketTallyTable {
  id: Generated<string>;
  kind: 'queue' | 'code';
  key: string;
  delta: string;
}

export interface OrderStatusTallyTable {
  id: Generated<string>;
  status: string;
  delta: string;
}

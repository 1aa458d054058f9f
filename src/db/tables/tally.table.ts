import type { Generated } from 'kysely';

/**
 * Running tallies (migration 0008): rows of +n / −n appended by statement triggers on tickets and
 * orders; the sum per key is the count. Written only by the triggers and folded by runtime/tallies.ts.
 */
export interface OpenTicketTallyTable {
  id: Generated<string>;
  /** 'queue_code': key `["<queue>","<code>"]` (migration 0013). */
  kind: 'queue' | 'code' | 'queue_code';
  key: string;
  delta: string;
}

export interface OrderStatusTallyTable {
  id: Generated<string>;
  status: string;
  delta: string;
}

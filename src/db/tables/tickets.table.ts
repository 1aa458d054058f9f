import type { ColumnType, Generated, Selectable } from 'kysely';

export const TICKET_STATUSES = Object.freeze(['open', 'in_progress', 'resolved', 'cancelled'] as const);
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_KINDS = Object.freeze(['validation', 'manual', 'technical'] as const);
export type TicketKindValue = (typeof TICKET_KINDS)[number];
/** Statuses in which a ticket still asks for work. */
export const OPEN_TICKET_STATUSES: readonly TicketStatus[] = Object.freeze(['open', 'in_progress']);

type Json = ColumnType<unknown, string | undefined, string>;

export interface TicketsTable {
  id: Generated<string>;
  order_id: string | null;
  instance_id: string;
  wait_id: string;
  element_id: string;
  element_name: string | null;
  kind: TicketKindValue;
  status: TicketStatus;
  queue: string;
  priority: string;
  priority_rank: number;
  due_at: Date | null;
  title: string;
  issues: Json;
  codes: ColumnType<string[], string[] | undefined, string[]>;
  instructions: Json;
  fields: Json;
  error: string | null;
  assignee_id: string | null;
  revision: Generated<number>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  closed_at: Date | null;
  /** Title and order number, customer name and e-mail, for the queue's search: written by triggers only (migration 0008). */
  search: ColumnType<string | null, never, never>;
}
export type TicketRow = Selectable<TicketsTable>;

export interface TicketEventsTable {
  id: Generated<string>;
  ticket_id: string;
  at: ColumnType<Date, Date | undefined, never>;
  actor: string;
  kind: string;
  data: ColumnType<unknown, string | undefined, never>;
}
export type TicketEventRow = Selectable<TicketEventsTable>;

import type { ColumnType, Generated, Selectable } from 'kysely';

export interface OrderNotesTable {
  id: Generated<string>;
  order_id: string;
  author: string;
  author_id: string | null;
  text: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type OrderNoteRow = Selectable<OrderNotesTable>;

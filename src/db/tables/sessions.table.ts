import type { ColumnType, Generated, Selectable } from 'kysely';

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's token; the token itself is never stored. */
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
}
export type SessionRow = Selectable<SessionsTable>;

export interface LoginAttemptsTable {
  id: Generated<string>;
  at: ColumnType<Date, Date | undefined, never>;
  email: string;
  ip: string;
  succeeded: ColumnType<boolean, boolean | undefined, boolean>;
}

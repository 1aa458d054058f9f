import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export const ROLES = Object.freeze(['operator', 'analyst', 'admin'] as const);
export type Role = (typeof ROLES)[number];

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  password_hash: string;
  role: Role;
  created_at: ColumnType<Date, never, never>;
  disabled_at: Date | null;
}
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;

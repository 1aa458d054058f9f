import { sql } from 'kysely';
import type { Db, DbOrTx, Tx } from '../db/database.ts';
import type { Role } from '../db/tables/users.table.ts';
import { accessChanged, isRole } from './identity.ts';
import { destroyUserSessions } from './sessions.ts';

/**
 * User administration for the console: list, change role, disable, and the tokens a user holds.
 * Creating users and issuing tokens stay in identity.ts. Changes that could leave Ordo without an
 * administrator are refused, under one lock so two admins demoting each other cannot both succeed.
 */

/** Serialises role changes and disabling (the "last admin" check must see a stable set of admins). */
const USER_ADMIN_LOCK = 7340002;

export const USERS_PAGE_SIZE = 100;

export class UserAdminError extends Error {
  constructor(
    readonly code: 'USER_NOT_FOUND' | 'ROLE_INVALID' | 'LAST_ADMIN' | 'SELF',
    message: string,
  ) {
    super(message);
  }
}

export interface UserSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
  disabledAt: Date | null;
  activeTokens: number;
}

export interface TokenSummary {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function usersQuery(db: DbOrTx) {
  return db
    .selectFrom('users as u')
    .select(['u.id', 'u.email', 'u.name', 'u.role', 'u.created_at', 'u.disabled_at'])
    .select((eb) =>
      eb
        .selectFrom('api_tokens as t')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('t.user_id', '=', 'u.id')
        .where('t.revoked_at', 'is', null)
        .as('active_tokens'),
    );
}

type UserListRow = { id: string; email: string; name: string; role: Role; created_at: Date; disabled_at: Date | null; active_tokens: number | null };

function toSummary(r: UserListRow): UserSummary {
  return { id: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at, disabledAt: r.disabled_at, activeTokens: r.active_tokens ?? 0 };
}

/** Users by e-mail, keyset-paged on the e-mail (unique). */
export async function listUsers(db: DbOrTx, options: { after?: string; limit?: number } = {}): Promise<{ items: UserSummary[]; nextAfter: string | null }> {
  const size = Math.min(Math.max(1, options.limit ?? USERS_PAGE_SIZE), 500);
  let query = usersQuery(db);
  if (options.after) query = query.where('u.email', '>', options.after);
  const rows = await query.orderBy('u.email').limit(size + 1).execute();
  const page = rows.slice(0, size);
  return { items: page.map(toSummary), nextAfter: rows.length > size ? page[page.length - 1]!.email : null };
}

export async function getUser(db: DbOrTx, id: string): Promise<UserSummary | null> {
  if (!isUuid(id)) return null;
  const row = await usersQuery(db).where('u.id', '=', id).executeTakeFirst();
  return row ? toSummary(row) : null;
}

async function lockedUser(trx: Tx, id: string) {
  await sql`select pg_advisory_xact_lock(${USER_ADMIN_LOCK})`.execute(trx);
  const user = isUuid(id) ? await trx.selectFrom('users').select(['id', 'email', 'role', 'disabled_at']).where('id', '=', id).executeTakeFirst() : undefined;
  if (!user) throw new UserAdminError('USER_NOT_FOUND', 'No such user.');
  return user;
}

async function otherActiveAdmins(trx: Tx, userId: string): Promise<number> {
  const r = await trx
    .selectFrom('users')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '<>', userId)
    .executeTakeFirstOrThrow();
  return r.n;
}

export async function setUserRole(db: Db, id: string, role: string): Promise<{ email: string; from: Role; to: Role }> {
  if (!isRole(role)) throw new UserAdminError('ROLE_INVALID', 'Role must be operator, analyst or admin.');
  const result = await db.transaction().execute(async (trx) => {
    const user = await lockedUser(trx, id);
    if (user.role === 'admin' && role !== 'admin' && !user.disabled_at && (await otherActiveAdmins(trx, id)) === 0) {
      throw new UserAdminError('LAST_ADMIN', `${user.email} is the only active administrator; make someone else an administrator first.`);
    }
    await trx.updateTable('users').set({ role }).where('id', '=', id).execute();
    return { email: user.email, from: user.role, to: role };
  });
  accessChanged();
  return result;
}

/**
 * Disable (or re-enable) a user. Disabling ends their sessions at once; their API tokens stop working
 * because token lookups skip disabled users, and come back if the user is enabled again.
 */
export async function setUserDisabled(db: Db, id: string, disabled: boolean, actingUserId: string): Promise<{ email: string; changed: boolean }> {
  const result = await db.transaction().execute(async (trx) => {
    const user = await lockedUser(trx, id);
    if (disabled && id === actingUserId) throw new UserAdminError('SELF', 'You cannot disable your own account.');
    if (disabled && user.role === 'admin' && !user.disabled_at && (await otherActiveAdmins(trx, id)) === 0) {
      throw new UserAdminError('LAST_ADMIN', `${user.email} is the only active administrator.`);
    }
    if (disabled === !!user.disabled_at) return { email: user.email, changed: false };
    await trx.updateTable('users').set({ disabled_at: disabled ? new Date() : null }).where('id', '=', id).execute();
    if (disabled) await destroyUserSessions(trx, id);
    return { email: user.email, changed: true };
  });
  accessChanged();
  return result;
}

export async function listTokens(db: DbOrTx, userId: string): Promise<TokenSummary[]> {
  if (!isUuid(userId)) return [];
  const rows = await db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(500)
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }));
}

/** Revoke one of a user's tokens; false when it is not theirs or already revoked. */
export async function revokeUserToken(db: DbOrTx, userId: string, tokenId: string): Promise<boolean> {
  if (!isUuid(userId) || !isUuid(tokenId)) return false;
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', tokenId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  accessChanged();
  return r.numUpdatedRows > 0n;
}

import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/database.ts';
import type { Role, User } from '../db/tables/users.table.ts';
import { ROLES } from '../db/tables/users.table.ts';
import { generatePassword, generateToken, hashPassword, hashToken, verifyPassword } from './passwords.ts';

export interface Principal {
  userId: string;
  email: string;
  name: string;
  role: Role;
  /** How the caller proved who they are. */
  via: 'token' | 'session';
  tokenId?: string;
}

export class IdentityError extends Error {
  constructor(
    readonly code: 'USER_EXISTS' | 'USER_NOT_FOUND' | 'ROLE_INVALID' | 'EMAIL_INVALID' | 'PASSWORD_WEAK' | 'TOKEN_EXISTS',
    message: string,
  ) {
    super(message);
  }
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

const MIN_PASSWORD_LENGTH = 10;
/** Advisory lock key serialising first-start bootstrap across processes. */
const BOOTSTRAP_LOCK = 7340001;

export async function createUser(db: DbOrTx, input: { email: string; name?: string; password: string; role: string }): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new IdentityError('EMAIL_INVALID', `"${input.email}" is not an e-mail address.`);
  if (!isRole(input.role)) throw new IdentityError('ROLE_INVALID', `Role must be one of ${ROLES.join(', ')}.`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw new IdentityError('PASSWORD_WEAK', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters.`);
  const password_hash = await hashPassword(input.password);
  const row = await db
    .insertInto('users')
    .values({ email, name: input.name?.trim() || email.split('@')[0]!, password_hash, role: input.role })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new IdentityError('USER_EXISTS', `A user with the e-mail ${email} exists already.`);
  return row;
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

/** Checks a password; returns the user only when it matches and the user is not disabled. */
export async function verifyLogin(db: DbOrTx, email: string, password: string): Promise<User | null> {
  const user = await findUserByEmail(db, email);
  // Hash even when the user is unknown so response time does not reveal which e-mails exist.
  const ok = await verifyPassword(password, user?.password_hash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  return user && ok && !user.disabled_at ? user : null;
}

/**
 * What the admin pages show of a token to tell it apart: `ordo_` and four of a generated token's 43
 * random characters. Nothing of a value someone chose: it may be short enough for nine characters to
 * be all of it.
 */
export function tokenPrefix(token: string, chosen: boolean): string {
  return chosen ? '' : token.slice(0, 9);
}

/**
 * Issue an API token for a user. The token text is returned once and never stored; `value` lets an
 * administrator or the bootstrap set a known token (tests, automation).
 */
export async function issueToken(db: DbOrTx, userId: string, name: string, value?: string): Promise<{ id: string; token: string }> {
  const token = value ?? generateToken();
  const row = await db
    .insertInto('api_tokens')
    .values({ user_id: userId, name, token_hash: hashToken(token), prefix: tokenPrefix(token, value !== undefined) })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new IdentityError('TOKEN_EXISTS', 'That token is already in use.');
  return { id: row.id, token };
}

export async function revokeToken(db: DbOrTx, tokenId: string): Promise<boolean> {
  const r = await db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst();
  accessChanged();
  return r.numUpdatedRows > 0n;
}

/**
 * How long an API token's principal is taken from memory after a lookup: a burst of requests with one
 * token asks the database a few times a second instead of once per request (one round trip, about a
 * sixth of the web process's work per order). A change made in this process that can take access away
 * (`accessChanged`: a token revoked, a user disabled or given another role) takes effect at once;
 * one made by another process (another web process, `npm run user`) within this time.
 */
export const TOKEN_CACHE_MS = 250;
const TOKEN_CACHE_MAX = 1_000;
const tokenCaches = new WeakMap<object, Map<string, { principal: Principal; until: number; generation: number }>>();
let accessGeneration = 0;

/**
 * Call after a change that can take access away has been committed: no principal remembered before it
 * is used again, nor one a lookup that started before it brings back.
 */
export function accessChanged(): void {
  accessGeneration++;
}

export async function authenticateToken(db: DbOrTx, token: string): Promise<Principal | null> {
  const hash = hashToken(token);
  let cache = tokenCaches.get(db);
  if (!cache) tokenCaches.set(db, (cache = new Map()));
  const now = Date.now();
  const hit = cache.get(hash);
  if (hit && hit.until > now && hit.generation === accessGeneration) return hit.principal;
  const generation = accessGeneration;
  // Prepared once per connection, not built and planned per lookup.
  const { rows } = await sql<{ token_id: string; last_used_at: Date | null; id: string; email: string; name: string; role: Role }>`/* prepare:ordo_api_token */
    select t.id as token_id, t.last_used_at, u.id, u.email, u.name, u.role
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${hash}::text and t.revoked_at is null and u.disabled_at is null`.execute(db);
  const row = rows[0];
  if (!row) {
    cache.delete(hash);
    return null;
  }
  // Touch last_used_at at most once a minute: a write per request would cost a commit per API call.
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', row.token_id).execute();
  }
  const principal: Principal = Object.freeze({ userId: row.id, email: row.email, name: row.name, role: row.role, via: 'token', tokenId: row.token_id });
  if (generation === accessGeneration) {
    if (cache.size >= TOKEN_CACHE_MAX) cache.clear();
    cache.set(hash, { principal, until: now + TOKEN_CACHE_MS, generation });
  }
  return principal;
}

export interface BootstrapResult {
  adminCreated: boolean;
  /** The generated admin password, present only when one was generated (to be printed once). */
  generatedPassword: string | null;
  bootstrapTokenCreated: boolean;
}

/**
 * First start: with no user yet, create admin@localhost; with ORDO_BOOTSTRAP_TOKEN set and no token yet,
 * create an admin token with exactly that value. Run under an advisory lock so two processes starting
 * at once (web and worker) do not both create an admin.
 */
export async function bootstrapIdentity(db: Db, options: { adminPassword: string | null; bootstrapToken: string | null }): Promise<BootstrapResult> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    const result: BootstrapResult = { adminCreated: false, generatedPassword: null, bootstrapTokenCreated: false };
    const anyUser = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (!anyUser) {
      const password = options.adminPassword ?? generatePassword();
      await createUser(trx, { email: 'admin@localhost', name: 'Administrator', password, role: 'admin' });
      result.adminCreated = true;
      result.generatedPassword = options.adminPassword ? null : password;
    }
    if (options.bootstrapToken) {
      const anyToken = await trx.selectFrom('api_tokens').select('id').limit(1).executeTakeFirst();
      if (!anyToken) {
        const admin = await trx.selectFrom('users').select('id').where('role', '=', 'admin').orderBy('created_at').limit(1).executeTakeFirstOrThrow();
        await issueToken(trx, admin.id, 'bootstrap', options.bootstrapToken);
        result.bootstrapTokenCreated = true;
      }
    }
    return result;
  });
}

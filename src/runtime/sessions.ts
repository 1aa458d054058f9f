import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, DbOrTx } from '../db/database.ts';
import type { User } from '../db/tables/users.table.ts';
import type { Principal } from './identity.ts';
import { verifyLogin } from './identity.ts';

/**
 * Console sessions. The cookie carries a random 32-byte token; the table keeps only its SHA-256, so a
 * copy of the table cannot be replayed. A login always creates a new session and deletes the one the
 * browser came with: an identifier planted before login (session fixation) is worth nothing after it.
 */

/** A session unused this long expires (one shift plus a lunch break). */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** However active, a session ends this long after login. */
export const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often: a write per page view would cost a commit per click. */
const SESSION_TOUCH_INTERVAL_MS = 60 * 1000;

/** Failed logins counted over this window... */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** ...at most this many per e-mail address from one client address (guessing one account's password)... */
export const LOGIN_MAX_FAILURES_PER_EMAIL = 10;
/** ...this many per client address (spraying many accounts; a shared office NAT needs some slack)... */
export const LOGIN_MAX_FAILURES_PER_IP = 20;
/**
 * ...and this many per e-mail address from all client addresses together (guessing from many). Far above
 * the per-address limit: a few failures typed anywhere must not lock the account's owner out, as one
 * limit per e-mail for every address would (anyone could keep an administrator out by guessing wrong).
 */
export const LOGIN_MAX_FAILURES_PER_EMAIL_ALL_ADDRESSES = 100;
/** Login attempts older than this are deleted; they only matter inside the window. */
const LOGIN_ATTEMPTS_KEEP_MS = 24 * 60 * 60 * 1000;
/** First key of the two-key advisory locks serialising login attempts per e-mail and per address. */
const LOGIN_LOCK_SPACE = 7340003;

export interface ConsoleSession {
  /** SHA-256 of the token: the row's key, safe to log. */
  id: string;
  csrfToken: string;
  expiresAt: Date;
  principal: Principal;
}

export interface NewSession {
  /** The cookie value; shown to no one but the browser. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Tokens are 43 base64url characters; anything else is not worth a query. */
function plausibleToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

function expiry(createdAt: Date, now: Date): Date {
  return new Date(Math.min(now.getTime() + SESSION_IDLE_MS, createdAt.getTime() + SESSION_MAX_AGE_MS));
}

/**
 * Start a session for a user, ending the one the browser presented (if any) in the same transaction.
 * Expired sessions are swept here: logins are rare enough that the delete costs nothing noticeable.
 */
export async function createSession(
  db: Db,
  userId: string,
  client: { ip?: string | null; userAgent?: string | null; replaces?: string | null },
  now = new Date(),
): Promise<NewSession> {
  const token = randomToken();
  const csrfToken = randomToken();
  const expiresAt = expiry(now, now);
  await db.transaction().execute(async (trx) => {
    if (client.replaces) await trx.deleteFrom('sessions').where('id', '=', sessionIdOf(client.replaces)).execute();
    await trx.deleteFrom('sessions').where('expires_at', '<', now).execute();
    await trx
      .insertInto('sessions')
      .values({
        id: sessionIdOf(token),
        user_id: userId,
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
        ip: client.ip?.slice(0, 100) ?? null,
        user_agent: client.userAgent?.slice(0, 500) ?? null,
      })
      .execute();
  });
  return { token, csrfToken, expiresAt };
}

/**
 * The live session for a cookie token, with its user, or null when the token is unknown, expired or its
 * user is disabled. Slides the idle expiry forward (at most once a minute).
 */
export async function lookupSession(db: DbOrTx, token: string, now = new Date()): Promise<ConsoleSession | null> {
  if (!plausibleToken(token)) return null;
  const id = sessionIdOf(token);
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.csrf_token', 's.created_at', 's.last_seen_at', 's.expires_at', 'u.id as user_id', 'u.email', 'u.name', 'u.role'])
    .where('s.id', '=', id)
    .where('s.expires_at', '>', now)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  let expiresAt = row.expires_at;
  if (now.getTime() - row.last_seen_at.getTime() > SESSION_TOUCH_INTERVAL_MS) {
    expiresAt = expiry(row.created_at, now);
    await db.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id', '=', id).execute();
  }
  return {
    id,
    csrfToken: row.csrf_token,
    expiresAt,
    principal: { userId: row.user_id, email: row.email, name: row.name, role: row.role, via: 'session' },
  };
}

export async function destroySession(db: DbOrTx, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionIdOf(token)).execute();
}

/** Ends every session of a user (disabled, password changed). */
export async function destroyUserSessions(db: DbOrTx, userId: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export type LoginResult =
  | { outcome: 'ok'; user: User; session: NewSession }
  | { outcome: 'wrong' }
  | { outcome: 'limited'; retryAfterMs: number };

/**
 * A login attempt: refused outright while the e-mail or the client address has too many recent
 * failures; otherwise the password is checked and, when right, a fresh session replaces `previousToken`.
 * The attempt is recorded as failed *before* the (slow) password check, so a burst of parallel guesses
 * is counted while it is still running; a right password then marks it as succeeded. Only the count and
 * the insert run under the lock; the password check does not hold it.
 */
export async function logIn(
  db: Db,
  input: { email: string; password: string; ip: string; userAgent?: string | null; previousToken?: string | null },
  now = new Date(),
): Promise<LoginResult> {
  const email = input.email.trim().toLowerCase().slice(0, 320);
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const gate = await db.transaction().execute(async (trx) => {
    // Count and record under a lock per e-mail and per address, so parallel guesses queue here and each
    // sees the ones before it. Locks are taken in a fixed order: two logins never wait on each other in a cycle.
    const keys = await sql<{ k: number }>`select hashtext(${'login:email:' + email}) as k union select hashtext(${'login:ip:' + input.ip}) order by k`.execute(trx);
    for (const { k } of keys.rows) await sql`select pg_advisory_xact_lock(${LOGIN_LOCK_SPACE}, ${k})`.execute(trx);
    const counts = await trx
      .selectFrom('login_attempts')
      .select([
        sql<number>`count(*) filter (where email = ${email} and ip = ${input.ip})::int`.as('by_email'),
        sql<number>`count(*) filter (where email = ${email})::int`.as('by_email_anywhere'),
        sql<number>`count(*) filter (where ip = ${input.ip})::int`.as('by_ip'),
        sql<Date | null>`min(at)`.as('oldest'),
      ])
      .where('at', '>', since)
      .where('succeeded', '=', false)
      .where((eb) => eb.or([eb('email', '=', email), eb('ip', '=', input.ip)]))
      .executeTakeFirstOrThrow();
    if (
      counts.by_email >= LOGIN_MAX_FAILURES_PER_EMAIL ||
      counts.by_ip >= LOGIN_MAX_FAILURES_PER_IP ||
      counts.by_email_anywhere >= LOGIN_MAX_FAILURES_PER_EMAIL_ALL_ADDRESSES
    ) {
      const oldest = counts.oldest ? new Date(counts.oldest).getTime() : now.getTime();
      return { limited: true as const, retryAfterMs: Math.max(1000, oldest + LOGIN_WINDOW_MS - now.getTime()) };
    }
    const row = await trx.insertInto('login_attempts').values({ email, ip: input.ip, at: now }).returning('id').executeTakeFirstOrThrow();
    return { limited: false as const, attemptId: row.id };
  });
  if (gate.limited) return { outcome: 'limited', retryAfterMs: gate.retryAfterMs };
  const attempt = { id: gate.attemptId };
  const user = await verifyLogin(db, email, input.password);
  if (!user) return { outcome: 'wrong' };
  await db.updateTable('login_attempts').set({ succeeded: true }).where('id', '=', attempt.id).execute();
  await db.deleteFrom('login_attempts').where('at', '<', new Date(now.getTime() - LOGIN_ATTEMPTS_KEEP_MS)).execute();
  const session = await createSession(db, user.id, { ip: input.ip, userAgent: input.userAgent, replaces: input.previousToken }, now);
  return { outcome: 'ok', user, session };
}

import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/database.ts';
import { lookupSession, SESSION_MAX_AGE_MS, type ConsoleSession, type NewSession } from '../../runtime/sessions.ts';

/**
 * The console's cookie session. On every console request the `ordo_session` cookie is looked up and,
 * when live, sets `request.session` and `request.principal` (the same principal API tokens produce, so
 * `can()` and `requirePermission()` work unchanged). Pages that need a login add `requireSession`.
 */
export const SESSION_COOKIE = 'ordo_session';

declare module 'fastify' {
  interface FastifyRequest {
    session: ConsoleSession | null;
  }
}

export interface SessionPluginOptions {
  db: Db;
  /** Secure flag on the cookie; off only for plain-HTTP local use (ORDO_INSECURE_COOKIES=1). */
  secureCookies: boolean;
}

export function cookieOptions(secure: boolean) {
  return { httpOnly: true, sameSite: 'lax' as const, secure, path: '/' };
}

export function setSessionCookie(reply: FastifyReply, session: NewSession, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, session.token, { ...cookieOptions(secure), maxAge: Math.floor(SESSION_MAX_AGE_MS / 1000) });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(secure));
}

export function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/** A same-site path to return to after login, or null for anything that could leave the site. */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2000 || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\\]/.test(value)) return null;
  try {
    const url = new URL(value, 'http://ordo.invalid');
    if (url.origin !== 'http://ordo.invalid' || url.pathname === '/login' || url.pathname === '/logout') return null;
    // Checked again once normalised: `/.//evil.example` and `/a/..//evil.example` become `//evil.example`,
    // which a browser reads as another site.
    const path = url.pathname + url.search;
    return path.startsWith('//') || path.startsWith('/\\') ? null : path;
  } catch {
    return null;
  }
}

export function loginUrl(next: string | null): string {
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

/** A script's fetch() asking for JSON (the modeler's Deploy), not a page: it must not be sent to the login form. */
function wantsJsonOnly(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/(problem\+)?json/.test(accept) && !/text\/html/.test(accept);
}

/**
 * onRequest hook for pages behind the login: plain requests are redirected to the login form (and come
 * back afterwards); htmx requests get 401 with HX-Redirect, which htmx follows with a full navigation;
 * scripts asking for JSON get 401 problem+json (a followed redirect would read as a 200 to them).
 */
export async function requireSession(request: FastifyRequest, reply: FastifyReply) {
  if (request.session) return;
  if (wantsJsonOnly(request)) {
    return reply
      .code(401)
      .type('application/problem+json')
      .header('cache-control', 'no-store')
      .send({ type: 'https://ordo.dev/problems/unauthenticated', title: 'Authentication required', status: 401, code: 'UNAUTHENTICATED', detail: 'Your session has expired; log in again.' });
  }
  let next: string | null = null;
  if (request.method === 'GET' || request.method === 'HEAD') next = safeNext(request.url);
  if (isHtmx(request)) {
    const current = request.headers['hx-current-url'];
    if (typeof current === 'string') {
      try {
        const url = new URL(current);
        next = safeNext(url.pathname + url.search);
      } catch {
        next = null;
      }
    }
    return reply.code(401).header('hx-redirect', loginUrl(next)).header('cache-control', 'no-store').send();
  }
  return reply.header('cache-control', 'no-store').redirect(loginUrl(next), 303);
}

export const sessionPlugin = fp(
  async (app: FastifyInstance, opts: SessionPluginOptions) => {
    if (!app.hasRequestDecorator('cookies')) await app.register(cookie);
    app.decorateRequest('session', null);
    app.addHook('onRequest', async (request) => {
      const token = request.cookies[SESSION_COOKIE];
      if (!token) return;
      const session = await lookupSession(opts.db, token);
      if (!session) return;
      request.session = session;
      request.principal = session.principal;
    });
  },
  { name: 'ordo-session' },
);

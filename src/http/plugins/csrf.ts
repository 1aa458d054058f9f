import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../problem.ts';
import { cookieOptions } from './session.ts';

/**
 * Anti-CSRF for the console (synchronizer token). Every session has its own random token; pages put it
 * in forms (`_csrf`) and in `<meta name="csrf-token">` / `hx-headers` for htmx (`x-csrf-token`). An unsafe
 * request whose token is missing or not the current session's is refused with 403 before its handler
 * runs. A login replaces the session, so tokens from before the login are stale.
 *
 * The login form has no session yet: it uses a double-submit cookie instead (route config
 * `{ csrf: 'login' }`), which stops another site from logging a browser into an account of its choosing.
 */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const LOGIN_CSRF_COOKIE = 'ordo_login_csrf';
/** The login form's token outlives a coffee break, not a day. */
const LOGIN_CSRF_MAX_AGE_S = 2 * 60 * 60;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * 'login': accept the pre-session double-submit token as well as a session's.
     * 'if-session': without a session there is nothing to forge (logout), so let it through.
     */
    csrf?: 'login' | 'if-session';
  }
}

function sameToken(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function sentToken(request: FastifyRequest): string | null {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const body = request.body as Record<string, unknown> | null | undefined;
  const field = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined;
  return typeof field === 'string' ? field : null;
}

export function csrfRefusal(): HttpProblem {
  return new HttpProblem('FORBIDDEN', 'This form has expired or did not come from Ordo. Reload the page and try again.', { reason: 'csrf' });
}

/** The token the login form must echo: the browser's pre-session cookie, set now if it has none. */
export function loginCsrfToken(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const existing = request.cookies[LOGIN_CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  reply.setCookie(LOGIN_CSRF_COOKIE, token, { ...cookieOptions(secure), maxAge: LOGIN_CSRF_MAX_AGE_S });
  return token;
}

export const csrfPlugin = fp(
  async (app: FastifyInstance) => {
    // preValidation: after the body is parsed (the token may be a form field), before it is validated
    // or any handler acts, so a forged request learns nothing about the form's shape either.
    app.addHook('preValidation', async (request) => {
      if (SAFE_METHODS.has(request.method)) return;
      // No route takes it: the answer is a 404/405 that changes nothing, whoever sent it.
      if (request.is404) return;
      // Browsers say where a request comes from; a cross-site one never carries a valid token anyway.
      if (request.headers['sec-fetch-site'] === 'cross-site') throw csrfRefusal();
      const mode = request.routeOptions.config.csrf;
      if (mode === 'if-session' && !request.session) return;
      const sent = sentToken(request);
      if (request.session && sameToken(sent, request.session.csrfToken)) return;
      if (mode === 'login' && sameToken(sent, request.cookies[LOGIN_CSRF_COOKIE])) return;
      throw csrfRefusal();
    });
  },
  { name: 'ordo-csrf', dependencies: ['ordo-session'] },
);

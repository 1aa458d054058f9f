import type { Response } from 'supertest';
import type supertest from 'supertest';
import { createUser } from '../../src/runtime/identity.ts';
import type { Role } from '../../src/db/tables/users.table.ts';
import type { TestApp } from './app.ts';

/**
 * Console test helpers: users with passwords, a logged-in browser (session cookie + CSRF token) driving
 * supertest requests, and readers for Set-Cookie headers and tokens in pages.
 */

export const CONSOLE_PASSWORD = 'correct horse battery staple';

export interface ConsoleUser {
  id: string;
  email: string;
  password: string;
  role: Role;
}

export interface ConsoleBrowser {
  user: ConsoleUser;
  /** The raw session token in the `ordo_session` cookie. */
  sessionToken: string;
  /** The session's CSRF token, read from the page's `<meta name="csrf-token">`. */
  csrf: string;
  /** `Cookie` header value carrying the session. */
  cookie: string;
  get(url: string): supertest.Test;
  /** A plain form post with the CSRF token added (unless `_csrf` is given, e.g. `null` to leave it out). */
  post(url: string, form?: Record<string, string | null>): supertest.Test;
  /** An htmx request (HX-Request: true, CSRF header). */
  htmx(method: 'get' | 'post', url: string, form?: Record<string, string>): supertest.Test;
}

let counter = 0;

export async function createConsoleUser(t: TestApp, role: Role, email?: string): Promise<ConsoleUser> {
  const address = email ?? `${role}-console-${++counter}-${Date.now()}@test.local`;
  const user = await createUser(t.database.db, { email: address, name: `${role} ${counter}`, password: CONSOLE_PASSWORD, role });
  return { id: user.id, email: user.email, password: CONSOLE_PASSWORD, role };
}

/** All `Set-Cookie` lines of a response. */
export function setCookies(res: Response): string[] {
  const raw = res.headers['set-cookie'] as unknown;
  if (!raw) return [];
  return Array.isArray(raw) ? (raw as string[]) : [String(raw)];
}

/** The Set-Cookie line for one cookie name. */
export function setCookieLine(res: Response, name: string): string | undefined {
  return setCookies(res).find((line) => line.startsWith(`${name}=`));
}

/** A cookie's value from a response's Set-Cookie (empty string when it is being cleared). */
export function cookieValue(res: Response, name: string): string | undefined {
  const line = setCookieLine(res, name);
  return line === undefined ? undefined : decodeURIComponent(line.slice(name.length + 1).split(';')[0]!);
}

export function metaCsrf(html: string): string | undefined {
  return /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
}

export function hiddenCsrf(html: string): string | undefined {
  return /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(html)?.[1];
}

/** The login form's double-submit pair: the cookie header to send back and the form token. */
export async function loginForm(t: TestApp): Promise<{ cookie: string; csrf: string }> {
  const res = await t.http.get('/login');
  const token = cookieValue(res, 'ordo_login_csrf');
  const csrf = hiddenCsrf(res.text);
  if (!token || !csrf) throw new Error(`GET /login did not hand out a CSRF token (status ${res.status})`);
  return { cookie: `ordo_login_csrf=${token}`, csrf };
}

/** Post the login form like a browser; `extraCookie` lets a test present a session cookie it already has. */
export async function submitLogin(t: TestApp, email: string, password: string, options: { extraCookie?: string; ip?: string; next?: string } = {}) {
  const form = await loginForm(t);
  let req = t.http
    .post('/login')
    .set('cookie', [form.cookie, options.extraCookie].filter(Boolean).join('; '))
    .type('form');
  if (options.ip) req = req.set('x-forwarded-for', options.ip);
  return req.send({ email, password, _csrf: form.csrf, ...(options.next ? { next: options.next } : {}) });
}

export function browserFor(t: TestApp, user: ConsoleUser, sessionToken: string, csrf: string): ConsoleBrowser {
  const cookie = `ordo_session=${sessionToken}`;
  return {
    user,
    sessionToken,
    csrf,
    cookie,
    get: (url) => t.http.get(url).set('cookie', cookie),
    post: (url, form = {}) => {
      const body: Record<string, string> = {};
      for (const [k, v] of Object.entries({ _csrf: csrf, ...form })) if (v !== null) body[k] = v;
      return t.http.post(url).set('cookie', cookie).type('form').send(body);
    },
    htmx: (method, url, form) => {
      const req = (method === 'get' ? t.http.get(url) : t.http.post(url).type('form').send(form ?? {}))
        .set('cookie', cookie)
        .set('hx-request', 'true')
        .set('x-csrf-token', csrf);
      return req;
    },
  };
}

/** Log in through the form as a (new) user of the role; returns a browser holding the session. */
export async function loginAs(t: TestApp, roleOrUser: Role | ConsoleUser): Promise<ConsoleBrowser> {
  const user = typeof roleOrUser === 'string' ? await createConsoleUser(t, roleOrUser) : roleOrUser;
  const res = await submitLogin(t, user.email, user.password);
  const token = cookieValue(res, 'ordo_session');
  if (res.status !== 303 || !token) throw new Error(`login as ${user.email} failed with ${res.status}: ${res.text.slice(0, 300)}`);
  const page = await t.http.get('/').set('cookie', `ordo_session=${token}`);
  const csrf = metaCsrf(page.text);
  if (!csrf) throw new Error(`the dashboard carried no CSRF token (status ${page.status})`);
  return browserFor(t, user, token, csrf);
}

import { readFile } from 'node:fs/promises';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/db/tables/users.table.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { loginAs, loginForm, type ConsoleBrowser } from '../support/console.ts';
import {
  buildWorld,
  expectNoLeak,
  fingerprint,
  isApi,
  routeKey,
  routeRequests,
  SAFE_METHODS,
  send,
  type Credentials,
  type RouteRequest,
} from '../support/routes.ts';

/**
 * Who may call what: every route the app registers, as anonymous, operator, analyst and admin, against
 * one explicit matrix. API routes are called with `Authorization: Bearer <token>` of a user of the role,
 * console routes with that role's logged-in session (and its CSRF token on unsafe methods), with real
 * ids and bodies so an allowed request reaches its handler.
 *
 * A route the app has and the matrix does not list fails the first test, so a new route cannot ship
 * without someone deciding who may call it. Refusals are checked twice, with the real body and with
 * none (a refusal must not depend on what was sent), and must leave every table as it was; an
 * administrator's session opens no API route and an administrator's API token no console page.
 */

/** Reaches the handler: never 401 or 403, never refused by the schema (400, 413, 415), never 5xx, never sent to the login form. */
const OK = 'ok';
/** 403: the role may not. */
const NO = '403';
/** Anonymous: 401 problem+json with `WWW-Authenticate: Bearer` (API); a redirect to the login form, or 401 with HX-Redirect for htmx (console). */
const LOGIN = 'login';
type Outcome = typeof OK | typeof NO | typeof LOGIN;
type Principal = 'anonymous' | Role;
const PRINCIPALS: readonly Principal[] = ['anonymous', 'operator', 'analyst', 'admin'];

// prettier-ignore
const MATRIX: ReadonlyArray<readonly [method: string, url: string, anonymous: Outcome, operator: Outcome, analyst: Outcome, admin: Outcome]> = [
  // Open to anyone: the login form, static files and the health checks; the metrics and the API's
  // description take an API token.
  ['GET',   '/assets/*',                                  OK,    OK, OK, OK],
  ['GET',   '/login',                                     OK,    OK, OK, OK],
  ['POST',  '/login',                                     OK,    OK, OK, OK],
  ['POST',  '/logout',                                    OK,    OK, OK, OK],
  ['GET',   '/healthz',                                   OK,    OK, OK, OK],
  ['GET',   '/readyz',                                    OK,    OK, OK, OK],
  ['GET',   '/metrics',                                   LOGIN, OK, OK, OK],
  ['GET',   '/api/v1/openapi.json',                       LOGIN, OK, OK, OK],

  // Console: dashboard and orders (everyone reads; everyone tags and annotates).
  ['GET',   '/',                                          LOGIN, OK, OK, OK],
  ['GET',   '/orders',                                    LOGIN, OK, OK, OK],
  ['GET',   '/orders/:id',                                LOGIN, OK, OK, OK],
  ['GET',   '/orders/:id/diagram.bpmn',                   LOGIN, OK, OK, OK],
  ['POST',  '/orders/:id/tags',                           LOGIN, OK, OK, OK],
  ['POST',  '/orders/:id/tags/remove',                    LOGIN, OK, OK, OK],
  ['POST',  '/orders/:id/notes',                          LOGIN, OK, OK, OK],

  // Console: tickets (everyone reads; operators and admins work them).
  ['GET',   '/tickets',                                   LOGIN, OK, OK, OK],
  ['GET',   '/tickets/groups',                            LOGIN, OK, OK, OK],
  ['GET',   '/tickets/groups/fix',                        LOGIN, OK, OK, OK],
  ['POST',  '/tickets/groups/apply',                      LOGIN, OK, NO, OK],
  ['POST',  '/tickets/bulk',                              LOGIN, OK, NO, OK],
  ['GET',   '/tickets/bulk/:id',                          LOGIN, OK, OK, OK],
  ['GET',   '/tickets/:id',                               LOGIN, OK, OK, OK],
  ['GET',   '/tickets/:id/outcome',                       LOGIN, OK, OK, OK],
  ['POST',  '/tickets/:id/retry',                         LOGIN, OK, NO, OK],
  ['POST',  '/tickets/:id/check',                         LOGIN, OK, NO, OK],
  ['POST',  '/tickets/:id/complete',                      LOGIN, OK, NO, OK],
  ['POST',  '/tickets/:id/assign',                        LOGIN, OK, NO, OK],
  ['POST',  '/tickets/:id/comment',                       LOGIN, OK, NO, OK],
  ['POST',  '/tickets/:id/cancel-order',                  LOGIN, OK, NO, OK],

  // Console: processes (everyone reads, docs/processes.md; analysts and admins model, deploy and migrate).
  ['GET',   '/processes',                                 LOGIN, OK, OK, OK],
  ['GET',   '/processes/-/feel-functions',                LOGIN, OK, OK, OK],
  ['GET',   '/processes/:key',                            LOGIN, OK, OK, OK],
  ['GET',   '/processes/:key/versions',                   LOGIN, OK, OK, OK],
  ['GET',   '/processes/:key/diagram.bpmn',               LOGIN, OK, OK, OK],
  ['GET',   '/processes/:key/heatmap.json',               LOGIN, OK, OK, OK],
  ['GET',   '/processes/:key/elements/:elementId',        LOGIN, OK, OK, OK],
  ['GET',   '/processes/new',                             LOGIN, NO, OK, OK],
  ['GET',   '/processes/new/starter.bpmn',                LOGIN, NO, OK, OK],
  ['GET',   '/processes/:key/edit',                       LOGIN, NO, OK, OK],
  ['POST',  '/processes/deploy',                          LOGIN, NO, OK, OK],
  ['POST',  '/processes/:key/what-if',                    LOGIN, NO, OK, OK],
  ['GET',   '/processes/:key/migrate',                    LOGIN, NO, OK, OK],
  ['POST',  '/processes/:key/migrate',                    LOGIN, NO, OK, OK],
  ['GET',   '/processes/:key/migrations/:id',             LOGIN, NO, OK, OK],

  // Console: users (administrators only).
  ['GET',   '/admin/users',                               LOGIN, NO, NO, OK],
  ['POST',  '/admin/users',                               LOGIN, NO, NO, OK],
  ['GET',   '/admin/users/:id',                           LOGIN, NO, NO, OK],
  ['POST',  '/admin/users/:id/role',                      LOGIN, NO, NO, OK],
  ['POST',  '/admin/users/:id/disable',                   LOGIN, NO, NO, OK],
  ['POST',  '/admin/users/:id/enable',                    LOGIN, NO, NO, OK],
  ['POST',  '/admin/users/:id/tokens',                    LOGIN, NO, NO, OK],
  ['POST',  '/admin/users/:id/tokens/:tokenId/revoke',    LOGIN, NO, NO, OK],

  // API: orders (every role sends and reads orders, as channels do; operators and admins fix and cancel them).
  ['POST',  '/api/v1/orders',                             LOGIN, OK, OK, OK],
  ['GET',   '/api/v1/orders',                             LOGIN, OK, OK, OK],
  ['GET',   '/api/v1/orders/:id',                         LOGIN, OK, OK, OK],
  ['PATCH', '/api/v1/orders/:id',                         LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/orders/:id/cancel',                  LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/orders/validate',                    LOGIN, OK, OK, OK],
  // Messages move orders (order-cancelled cancels one): operators and admins, as for cancel.
  ['POST',  '/api/v1/orders/:id/messages',                LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/messages',                           LOGIN, OK, NO, OK],

  // API: processes (everyone reads; analysts and admins deploy, simulate and start instances).
  ['GET',   '/api/v1/processes',                          LOGIN, OK, OK, OK],
  ['POST',  '/api/v1/processes',                          LOGIN, NO, OK, OK],
  ['POST',  '/api/v1/processes/:key/what-if',             LOGIN, NO, OK, OK],
  ['GET',   '/api/v1/processes/:key/versions/:version',   LOGIN, OK, OK, OK],
  ['POST',  '/api/v1/processes/:key/instances',           LOGIN, NO, OK, OK],
  ['GET',   '/api/v1/instances/:id',                      LOGIN, OK, OK, OK],
  ['GET',   '/api/v1/feel-functions',                     LOGIN, OK, OK, OK],

  // API: tickets (everyone reads and dry-runs a fix; operators and admins work them).
  ['GET',   '/api/v1/tickets',                            LOGIN, OK, OK, OK],
  ['GET',   '/api/v1/tickets/:id',                        LOGIN, OK, OK, OK],
  ['POST',  '/api/v1/tickets/:id/retry',                  LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/tickets/:id/dry-run',                LOGIN, OK, OK, OK],
  ['POST',  '/api/v1/tickets/:id/complete',               LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/tickets/:id/assign',                 LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/tickets/:id/comments',               LOGIN, OK, NO, OK],
  ['POST',  '/api/v1/tickets/bulk',                       LOGIN, OK, NO, OK],
  ['GET',   '/api/v1/tickets/bulk/:id',                   LOGIN, OK, OK, OK],
];

let t: TestApp;
let requests: Record<string, () => RouteRequest>;
const tokens = {} as Record<Role, string>;
const browsers = {} as Record<Role, ConsoleBrowser>;

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  const world = await buildWorld(t);
  requests = routeRequests(world, await readFile(new URL('../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8'));
  for (const role of ['operator', 'analyst', 'admin'] as const) {
    tokens[role] = await t.tokenFor(role);
    browsers[role] = await loginAs(t, role);
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** How the principal presents itself on this route; log-in and log-out get a session of their own. */
async function credentials(principal: Principal, method: string, url: string, req: RouteRequest): Promise<Credentials> {
  const unsafe = !SAFE_METHODS.has(method);
  if (isApi(url)) return principal === 'anonymous' ? {} : { bearer: tokens[principal] };
  if (principal === 'anonymous') {
    if (!req.fresh) return {};
    const form = await loginForm(t);
    return { cookie: form.cookie, csrf: form.csrf };
  }
  const browser = req.fresh ? await loginAs(t, principal) : browsers[principal];
  return { cookie: browser.cookie, ...(unsafe ? { csrf: browser.csrf } : {}) };
}

function describeAnswer(what: string, res: Response): string {
  return `${what} → ${res.status} ${res.headers.location ?? ''} ${(res.text ?? '').slice(0, 400)}`;
}

function expectOutcome(expected: Outcome, method: string, url: string, res: Response, what: string): void {
  const said = describeAnswer(what, res);
  expect(res.status, said).toBeLessThan(500);
  expectNoLeak(res, what);
  if (expected === OK) {
    expect([400, 401, 403, 413, 415], said).not.toContain(res.status);
    if (!['/login', '/logout'].includes(url)) expect(String(res.headers.location ?? ''), said).not.toMatch(/^\/login/);
  } else if (expected === NO) {
    expect(res.status, said).toBe(403);
    if (isApi(url) && method !== 'HEAD') expect(res.body.code, said).toBe('FORBIDDEN');
  } else if (isApi(url)) {
    expect(res.status, said).toBe(401);
    expect(res.headers['www-authenticate'], said).toContain('Bearer');
    if (method !== 'HEAD') expect(res.headers['content-type'], said).toMatch(/^application\/problem\+json/);
  } else {
    expect(res.status, said).toBe(303);
    expect(res.headers.location, said).toMatch(/^\/login(\?next=|$)/);
  }
}

describe('the route table', () => {
  it('is exactly the routes the matrix lists (HEAD answers like its GET)', () => {
    const registered = t.app.registeredRoutes;
    expect(registered.length).toBeGreaterThan(50);
    const gets = new Set(registered.filter((r) => r.method === 'GET').map((r) => r.url));
    const headsWithoutGet = registered.filter((r) => r.method === 'HEAD' && !gets.has(r.url));
    expect(headsWithoutGet, 'a HEAD route with no GET twin').toEqual([]);
    const routes = registered.filter((r) => r.method !== 'HEAD').map((r) => routeKey(r.method, r.url));
    const listed = MATRIX.map(([method, url]) => routeKey(method, url));
    expect(new Set(listed).size, 'a route listed twice').toBe(listed.length);
    expect(
      routes.filter((r) => !listed.includes(r)),
      'routes nobody decided access for: add them to MATRIX here and a request to test/support/routes.ts',
    ).toEqual([]);
    expect(
      listed.filter((r) => !routes.includes(r)),
      'routes in MATRIX that the app does not have',
    ).toEqual([]);
    expect(Object.keys(requests).sort()).toEqual([...listed].sort());
  });
});

describe.each(MATRIX.map((row) => ({ key: routeKey(row[0], row[1]), row })))('$key', ({ row }) => {
  const [method, url, ...outcomes] = row;
  const expected = Object.fromEntries(PRINCIPALS.map((p, i) => [p, outcomes[i]!])) as Record<Principal, Outcome>;
  const unsafe = !SAFE_METHODS.has(method);

  it(`answers anonymous ${expected.anonymous}, operator ${expected.operator}, analyst ${expected.analyst}, admin ${expected.admin}`, async () => {
    // Refusals first: they must change nothing, so the allowed calls after them find the world as built.
    const order = [...PRINCIPALS].sort((a, b) => Number(expected[a] === OK) - Number(expected[b] === OK));
    for (const principal of order) {
      const req = requests[routeKey(method, url)]!();
      const who = await credentials(principal, method, url, req);
      const what = `${principal} ${method} ${req.path}`;
      const refused = expected[principal] !== OK;
      const before = refused && unsafe ? await fingerprint(t) : null;

      expectOutcome(expected[principal], method, url, await send(t, method, req, who), what);
      if (refused) {
        // Refused before the body is looked at: the same answer without one.
        if (unsafe) expectOutcome(expected[principal], method, url, await send(t, method, req, who, { bare: true }), `${what} (no body)`);
        // The API knows no sessions and the console no bearer tokens: an administrator's are worth nothing on the other side.
        if (expected[principal] === LOGIN) {
          const other: Credentials = isApi(url) ? { cookie: browsers.admin.cookie, csrf: browsers.admin.csrf } : { bearer: tokens.admin };
          expectOutcome(LOGIN, method, url, await send(t, method, req, other), `${what} (with an administrator's ${isApi(url) ? 'session' : 'API token'})`);
        }
        // htmx has its own way to the login form.
        if (expected[principal] === LOGIN && !isApi(url)) {
          const res = await send(t, method, req, { ...who, htmx: true });
          expect(res.status, describeAnswer(`${what} (htmx)`, res)).toBe(401);
          expect(res.headers['hx-redirect'], describeAnswer(`${what} (htmx)`, res)).toMatch(/^\/login/);
        }
      }
      if (before) expect(await fingerprint(t), `${what} was refused but changed the database`).toEqual(before);
      if (method === 'GET') expectOutcome(expected[principal], 'HEAD', url, await send(t, 'HEAD', req, who), `${principal} HEAD ${req.path}`);
    }
  });
});

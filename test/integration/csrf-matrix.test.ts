import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createConsoleUser, loginAs, type ConsoleUser } from '../support/console.ts';
import { buildWorld, expectNoLeak, fingerprint, isApi, routeKey, routeRequests, SAFE_METHODS, send, type RouteRequest } from '../support/routes.ts';

/**
 * Every console form, forged: for each console route with an unsafe method, taken from the app's own
 * route table, a logged-in administrator (who may do everything) posts
 *   (a) without a CSRF token,
 *   (b) with a stale token: that of another session, since logged out,
 * and must be refused with 403 and leave every table as it was (test/support/routes.ts `fingerprint`:
 * users, tokens, sessions, orders, tickets, notes, deployments, bulk operations, migrations, pg-boss
 * jobs...). Then (c) the same request with the session's token goes through and does change the database,
 * so "nothing changed" in (a) and (b) means something.
 */

/** Unsafe routes that write nothing even when accepted: checks a fix would pass, simulates a draft. */
const WRITES_NOTHING = new Set(['POST /tickets/:id/check', 'POST /processes/:key/what-if']);

let t: TestApp;
let requests: Record<string, () => RouteRequest>;
let admin: ConsoleUser;
let staleToken: string;

beforeAll(async () => {
  t = await createTestApp({ workers: true, deployDefaults: true });
  const world = await buildWorld(t);
  requests = routeRequests(world, await readFile(new URL('../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8'));
  admin = await createConsoleUser(t, 'admin');
  // Another session of the same administrator, logged out: its token is stale.
  const other = await loginAs(t, admin);
  expect((await other.post('/logout')).status).toBe(303);
  staleToken = other.csrf;
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const unsafeConsoleRoutes = () => t.app.registeredRoutes.filter((r) => !SAFE_METHODS.has(r.method) && !isApi(r.url)).map((r) => routeKey(r.method, r.url));

describe('forged console posts', () => {
  it('finds the console forms in the route table, each with a request that reaches it', () => {
    const routes = unsafeConsoleRoutes();
    expect(routes.length).toBeGreaterThan(20);
    expect(routes).toEqual(expect.arrayContaining(['POST /login', 'POST /logout', 'POST /admin/users', 'POST /tickets/bulk', 'POST /processes/deploy']));
    expect(routes.filter((key) => !requests[key]), 'console routes without a request in test/support/routes.ts').toEqual([]);
  });

  it('refuses every one without a token and with a stale one (403, nothing changed), and accepts it with the current one', async () => {
    for (const key of unsafeConsoleRoutes()) {
      const [method] = key.split(' ') as [string];
      // A session of its own per form: one of them logs out.
      const browser = await loginAs(t, admin);
      const req = requests[key]!();
      const before = await fingerprint(t);

      for (const [how, csrf] of [
        ['without a token', undefined],
        ['with a stale token', staleToken],
      ] as const) {
        const res = await send(t, method, req, { cookie: browser.cookie, csrf, csrfIn: 'form' });
        const said = `${key} ${how} → ${res.status} ${res.text.slice(0, 300)}`;
        expect.soft(res.status, said).toBe(403);
        expect.soft(res.text, said).toContain('This form has expired');
        expectNoLeak(res, `${key} ${how}`);
        expect.soft(await fingerprint(t), `${key} ${how} was refused but changed the database`).toEqual(before);
      }

      const res = await send(t, method, req, { cookie: browser.cookie, csrf: browser.csrf, csrfIn: 'form' });
      const said = `${key} with the session's token → ${res.status} ${res.text.slice(0, 300)}`;
      expect.soft(res.status, said).toBeLessThan(500);
      expect.soft([400, 401, 403], said).not.toContain(res.status);
      expectNoLeak(res, `${key} with the session's token`);
      const after = await fingerprint(t);
      if (WRITES_NOTHING.has(key)) expect.soft(after, `${key} is listed as writing nothing`).toEqual(before);
      else expect.soft(after, `${key} went through with its token but changed nothing: the refusals above prove nothing`).not.toEqual(before);
    }
  });
});

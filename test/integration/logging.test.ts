import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createLogger } from '../../src/logger.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { CONSOLE_PASSWORD, loginAs, submitLogin, type ConsoleBrowser } from '../support/console.ts';
import { validOrder } from '../fixtures/orders.ts';

/**
 * Secrets never reach the log. Everything Ordo logs (at trace level, the most it ever says) is captured
 * through a pino destination stream while passwords, API tokens, session cookies and the database
 * password go through every path that handles them; then no line may contain any of them, raw or
 * URL-encoded.
 */

const lines: string[] = [];
const destination = { write: (line: string) => void lines.push(line) };
const logger = createLogger({ level: 'trace', destination });

let t: TestApp;
let admin: ConsoleBrowser;
/** Every secret the test lets loose, by what it is. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  t = await createTestApp({ logger, workers: true, deployDefaults: true });
  secrets.set('the test API token', t.token);
  secrets.set('the console password', CONSOLE_PASSWORD);
  const dbPassword = decodeURIComponent(new URL(t.database.url).password);
  expect(dbPassword.length).toBeGreaterThan(8);
  secrets.set('the database password', dbPassword);
});

afterAll(async () => {
  await t?.close();
});

function leaks(): string[] {
  const found: string[] = [];
  for (const [what, secret] of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])) {
      const line = lines.find((l) => l.includes(form));
      if (line) found.push(`${what} in: ${line.slice(0, 400)}`);
    }
  }
  return found;
}

describe('the log', () => {
  it('holds no password of a console login, right or wrong, nor the session it starts', async () => {
    admin = await loginAs(t, 'admin');
    secrets.set('the session cookie', admin.sessionToken);
    secrets.set('the CSRF token', admin.csrf);
    const wrong = 'Wrong-But-Secret-Password-77';
    secrets.set('a mistyped password', wrong);
    expect((await submitLogin(t, admin.user.email, wrong)).status).toBe(401);
    expect((await submitLogin(t, 'nobody@test.local', wrong)).status).toBe(401);
    // An over-long password is refused by the schema; its value must not ride along in the error either.
    const long = `Overlong-Secret-${'x'.repeat(1_000)}`;
    secrets.set('an over-long password', long);
    expect((await submitLogin(t, admin.user.email, long)).status).toBeGreaterThanOrEqual(400);
    expect(lines.some((l) => l.includes('logged in'))).toBe(true);
    expect(leaks()).toEqual([]);
  });

  it('holds no bearer token, known or unknown, of API calls', async () => {
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${t.token}`)).status).toBe(200);
    expect((await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(validOrder({ externalId: 'LOG-1' }))).status).toBe(201);
    const unknown = 'ordo_NotAToken_ButLooksSecret_123456';
    secrets.set('an unknown token', unknown);
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${unknown}`)).status).toBe(401);
    // A token in the wrong header or scheme is refused as well, and not logged on the way.
    expect((await t.http.get('/api/v1/orders').set('authorization', `Token ${unknown}`)).status).toBe(401);
    // One line per request, when it is answered: what was asked, the answer, how long it took.
    expect(lines.some((l) => l.includes('incoming request'))).toBe(false);
    const refused = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed' && l.res?.statusCode === 401 && l.req?.url === '/api/v1/orders');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]).toMatchObject({ level: 30, reqId: expect.any(String), req: { method: 'GET', url: '/api/v1/orders' }, res: { statusCode: 401 }, responseTime: expect.any(Number) });
    expect(leaks()).toEqual([]);
  });

  it('holds neither the password of a user created in the console nor the API token issued for them', async () => {
    const password = 'Brand-New-Secret-Password-99';
    secrets.set("a new user's password", password);
    const created = await admin.post('/admin/users', { email: 'logged@test.local', name: 'Logged', role: 'operator', password });
    expect(created.status).toBe(303);
    const userId = /\/admin\/users\/([0-9a-f-]{36})/.exec(created.headers.location!)![1]!;
    const issued = await admin.post(`/admin/users/${userId}/tokens`, { name: 'webshop' });
    const token = /id="new-token-value" class="token" value="(ordo_[A-Za-z0-9_-]+)"/.exec(issued.text)?.[1];
    expect(token, 'the page shows the new token once').toBeTruthy();
    secrets.set("the new user's API token", token!);
    expect((await t.http.get('/api/v1/tickets').set('authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await submitLogin(t, 'logged@test.local', password)).status).toBe(303);
    // Refused creations (too short, duplicate) log no password either.
    const short = 'Short-9';
    secrets.set('a refused password', short);
    expect((await admin.post('/admin/users', { email: 'short@test.local', role: 'operator', password: short })).status).toBe(422);
    expect(lines.some((l) => l.includes('user created')) && lines.some((l) => l.includes('API token issued'))).toBe(true);
    expect(leaks()).toEqual([]);
  });

  it('holds no database password: not from DATABASE_URL at start, not from a failed connection', async () => {
    const config = { ...loadConfig({}), databaseUrl: t.database.url };
    const opened = await openDatabase(config, logger, { poolSize: 1 });
    await sql`select 1`.execute(opened.db);
    await opened.shutdown();
    expect(lines.some((l) => l.includes('using the PostgreSQL server given by DATABASE_URL') && l.includes('***'))).toBe(true);

    // A wrong password: the errors are logged the way src/main.ts logs a failed start.
    const wrongUrl = new URL(t.database.url);
    wrongUrl.password = 'Not-The-Db-Password-55';
    secrets.set('a wrong database password', wrongUrl.password);
    const failing = await openDatabase({ ...config, databaseUrl: wrongUrl.toString() }, logger, { poolSize: 1 });
    const err = await sql`select 1`.execute(failing.db).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    logger.fatal({ err }, (err as Error).message);
    await failing.shutdown();
    const bossErr = await createBoss(wrongUrl.toString(), logger, { max: 1, supervise: false }).then(() => null, (e: unknown) => e);
    expect(bossErr).toBeInstanceOf(Error);
    logger.fatal({ err: bossErr }, (bossErr as Error).message);
    expect(lines.some((l) => l.includes('password authentication failed'))).toBe(true);
    expect(leaks()).toEqual([]);
  });

  it('redacts secrets a log call is handed by mistake', () => {
    const before = lines.length;
    logger.info({ password: CONSOLE_PASSWORD, token: t.token, databaseUrl: t.database.url, user: { password: CONSOLE_PASSWORD, token: t.token } }, 'careless call');
    logger.info({ req: { headers: { authorization: `Bearer ${t.token}`, cookie: `ordo_session=${admin.sessionToken}` } } }, 'careless request');
    logger.info({ config: { databaseUrl: t.database.url }, pool: { connectionString: t.database.url }, upstream: { headers: { authorization: `Bearer ${t.token}` } } }, 'careless settings');
    expect(lines.length).toBe(before + 3);
    expect(leaks()).toEqual([]);
  });
});

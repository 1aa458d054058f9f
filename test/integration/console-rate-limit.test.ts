import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_MAX_FAILURES_PER_EMAIL, LOGIN_MAX_FAILURES_PER_EMAIL_ALL_ADDRESSES, LOGIN_MAX_FAILURES_PER_IP } from '../../src/runtime/sessions.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { createConsoleUser, hiddenCsrf, setCookieLine, submitLogin } from '../support/console.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('login rate limit', () => {
  it('answers 429 once an e-mail has too many failures from one address, even with the right password', async () => {
    const user = await createConsoleUser(t, 'operator');
    const ip = '198.51.100.1';
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_EMAIL; i++) {
      const res = await submitLogin(t, user.email, `wrong password ${i}`, { ip });
      expect(res.status).toBe(401);
    }
    const blocked = await submitLogin(t, user.email, user.password, { ip });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.text).toContain('Too many failed attempts');
    expect(setCookieLine(blocked, 'ordo_session')).toBeUndefined();
    // The same e-mail typed differently is the same account.
    const shouting = await submitLogin(t, `  ${user.email.toUpperCase()} `, user.password, { ip });
    expect(shouting.status).toBe(429);
    // Somebody guessing elsewhere does not lock the owner out at their own desk.
    expect((await submitLogin(t, user.email, user.password, { ip: '198.51.100.2' })).status).toBe(303);

    // Once the window has passed, the right password works again.
    await t.database.db.deleteFrom('login_attempts').where('email', '=', user.email).execute();
    expect((await submitLogin(t, user.email, user.password, { ip })).status).toBe(303);
  });

  it('answers 429 for an e-mail guessed from many addresses at once', async () => {
    const user = await createConsoleUser(t, 'operator');
    // Failures as a guesser with many addresses leaves them (each below the per-address limits).
    const failures = Array.from({ length: LOGIN_MAX_FAILURES_PER_EMAIL_ALL_ADDRESSES - 1 }, (_, i) => ({
      email: user.email,
      ip: `198.18.${Math.floor(i / 5)}.${(i % 5) + 1}`,
      at: new Date(),
    }));
    await t.database.db.insertInto('login_attempts').values(failures).execute();
    expect((await submitLogin(t, user.email, 'one more guess', { ip: '198.18.200.1' })).status).toBe(401);
    const blocked = await submitLogin(t, user.email, user.password, { ip: '198.18.200.2' });
    expect(blocked.status).toBe(429);
    expect(setCookieLine(blocked, 'ordo_session')).toBeUndefined();
    await t.database.db.deleteFrom('login_attempts').where('email', '=', user.email).execute();
    expect((await submitLogin(t, user.email, user.password, { ip: '198.18.200.2' })).status).toBe(303);
  });

  it('answers 429 once one client address has too many failures across e-mails', async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_IP; i++) {
      const res = await submitLogin(t, `spray-${i}@test.local`, 'password guess', { ip });
      expect(res.status).toBe(401);
    }
    const user = await createConsoleUser(t, 'operator');
    expect((await submitLogin(t, user.email, user.password, { ip })).status).toBe(429);
    // Other addresses are not affected.
    expect((await submitLogin(t, user.email, user.password, { ip: '203.0.113.8' })).status).toBe(303);
  });

  it('counts a burst of parallel guesses before their password checks finish', async () => {
    const user = await createConsoleUser(t, 'operator');
    const burst = await Promise.all(Array.from({ length: 25 }, (_, i) => submitLogin(t, user.email, `guess ${i}`, { ip: '192.0.2.1' })));
    expect(burst.filter((r) => r.status === 401)).toHaveLength(LOGIN_MAX_FAILURES_PER_EMAIL);
    expect(burst.filter((r) => r.status === 429)).toHaveLength(25 - LOGIN_MAX_FAILURES_PER_EMAIL);
    const recorded = await t.database.db.selectFrom('login_attempts').select('id').where('email', '=', user.email).execute();
    expect(recorded).toHaveLength(LOGIN_MAX_FAILURES_PER_EMAIL);
  });

  it('does not let a client that is no proxy choose its address with X-Forwarded-For', async () => {
    // A client connecting straight from the internet, as to `npm start` on a public port.
    const remoteAddress = '198.51.100.77';
    const login = async (email: string, password: string, forged: string) => {
      const form = await t.app.inject({ method: 'GET', url: '/login', remoteAddress });
      const token = /ordo_login_csrf=([^;]+)/.exec(String(form.headers['set-cookie']))![1];
      return t.app.inject({
        method: 'POST',
        url: '/login',
        remoteAddress,
        headers: { cookie: `ordo_login_csrf=${token}`, 'x-forwarded-for': forged, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email, password, _csrf: hiddenCsrf(form.body)! }).toString(),
      });
    };
    for (let i = 0; i < LOGIN_MAX_FAILURES_PER_IP; i++) {
      expect((await login(`spoof-${i}@test.local`, 'password guess', `192.0.2.${i + 1}`)).statusCode).toBe(401);
    }
    const recorded = await t.database.db.selectFrom('login_attempts').select('ip').where('email', 'like', 'spoof-%').distinct().execute();
    expect(recorded).toEqual([{ ip: remoteAddress }]);
    const user = await createConsoleUser(t, 'operator');
    expect((await login(user.email, user.password, '192.0.2.250')).statusCode).toBe(429);
  });
});

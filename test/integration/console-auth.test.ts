import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdOf } from '../../src/runtime/sessions.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { cookieValue, createConsoleUser, loginAs, loginForm, metaCsrf, setCookieLine, submitLogin } from '../support/console.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const PAGES = ['/', '/orders', '/orders/00000000-0000-4000-8000-000000000000', '/admin/users', '/admin/users/00000000-0000-4000-8000-000000000000'];

describe('console pages without a session', () => {
  it('redirect every page to the login form, remembering where the operator wanted to go', async () => {
    for (const url of PAGES) {
      const res = await t.http.get(url);
      expect(res.status, url).toBe(303);
      expect(res.headers.location, url).toBe(url === '/' ? '/login' : `/login?next=${encodeURIComponent(url)}`);
    }
  });

  it('answer htmx requests with 401 and HX-Redirect to the login form', async () => {
    const res = await t.http.get('/orders?status=on_hold').set('hx-request', 'true').set('hx-current-url', 'http://ordo.test/orders?status=on_hold');
    expect(res.status).toBe(401);
    expect(res.headers['hx-redirect']).toBe(`/login?next=${encodeURIComponent('/orders?status=on_hold')}`);
    expect(res.text).toBe('');
  });

  it('refuse anonymous form posts without doing anything', async () => {
    const res = await t.http.post('/admin/users').type('form').send({ email: 'x@test.local', role: 'admin', password: 'long enough password' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(await t.database.db.selectFrom('users').select('id').where('email', '=', 'x@test.local').executeTakeFirst()).toBeUndefined();
  });
});

describe('login', () => {
  it('shows a form with labelled inputs and no session cookie', async () => {
    const res = await t.http.get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<label for="login-email">');
    expect(res.text).toContain('<label for="login-password">');
    expect(setCookieLine(res, 'ordo_session')).toBeUndefined();
  });

  it('answers a wrong password, an unknown e-mail and a disabled user with the same generic error', async () => {
    const user = await createConsoleUser(t, 'operator');
    const disabled = await createConsoleUser(t, 'operator');
    await t.database.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', disabled.id).execute();
    for (const [email, password] of [
      [user.email, 'not the password'],
      ['nobody@test.local', 'whatever password'],
      [disabled.email, disabled.password],
    ] as const) {
      const res = await submitLogin(t, email, password);
      expect(res.status).toBe(401);
      expect(res.text).toContain('E-mail or password is wrong.');
      expect(setCookieLine(res, 'ordo_session')).toBeUndefined();
      // The e-mail is kept in the form, escaped; the password never comes back.
      expect(res.text).not.toContain(password);
    }
  });

  it('sets an HttpOnly, SameSite=Lax, Secure session cookie and redirects to a same-site next', async () => {
    const user = await createConsoleUser(t, 'operator');
    const res = await submitLogin(t, user.email, user.password, { next: '/orders?status=on_hold' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/orders?status=on_hold');
    const line = setCookieLine(res, 'ordo_session')!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; SameSite=Lax/i);
    expect(line).toMatch(/; Secure/i);
    expect(line).toMatch(/; Path=\//);
    const token = cookieValue(res, 'ordo_session')!;
    // Only the hash is stored.
    const rows = await t.database.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(sessionIdOf(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    const page = await t.http.get('/orders').set('cookie', `ordo_session=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(user.email);
  });

  it('ignores a next that leaves the site', async () => {
    const user = await createConsoleUser(t, 'operator');
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/logout', '/.//evil.example/x', '/a/..//evil.example', '/%2e//evil.example']) {
      const res = await submitLogin(t, user.email, user.password, { next });
      expect(res.status, next).toBe(303);
      expect(res.headers.location, next).toBe('/');
    }
  });

  it('refuses a login post without the login form token (login CSRF)', async () => {
    const user = await createConsoleUser(t, 'operator');
    const res = await t.http.post('/login').type('form').send({ email: user.email, password: user.password });
    expect(res.status).toBe(403);
    expect(setCookieLine(res, 'ordo_session')).toBeUndefined();
    const form = await loginForm(t);
    const forged = await t.http.post('/login').set('cookie', form.cookie).type('form').send({ email: user.email, password: user.password, _csrf: 'x'.repeat(43) });
    expect(forged.status).toBe(403);
  });

  it('rotates the session on login: the cookie the browser came with is worthless afterwards (no fixation)', async () => {
    const user = await createConsoleUser(t, 'operator');
    const first = await loginAs(t, user);
    // An attacker-planted identifier is not adopted either.
    const planted = 'A'.repeat(43);
    const again = await submitLogin(t, user.email, user.password, { extraCookie: `ordo_session=${first.sessionToken}` });
    const second = cookieValue(again, 'ordo_session')!;
    expect(second).toBeTruthy();
    expect(second).not.toBe(first.sessionToken);
    expect(second).not.toBe(planted);
    expect((await first.get('/orders')).status).toBe(303);
    expect((await t.http.get('/orders').set('cookie', `ordo_session=${second}`)).status).toBe(200);
    const withPlanted = await submitLogin(t, user.email, user.password, { extraCookie: `ordo_session=${planted}` });
    expect(cookieValue(withPlanted, 'ordo_session')).not.toBe(planted);
  });

  it('redirects a logged-in user away from the login form', async () => {
    const browser = await loginAs(t, 'analyst');
    const res = await browser.get('/login?next=/orders');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/orders');
  });
});

describe('logout and expiry', () => {
  it('logout needs the CSRF token and ends the session on the server, not just in the browser', async () => {
    const browser = await loginAs(t, 'operator');
    const refused = await browser.post('/logout', { _csrf: null });
    expect(refused.status).toBe(403);
    expect((await browser.get('/orders')).status).toBe(200);

    const res = await browser.post('/logout');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(cookieValue(res, 'ordo_session')).toBe('');
    const row = await t.database.db.selectFrom('sessions').select('id').where('id', '=', sessionIdOf(browser.sessionToken)).executeTakeFirst();
    expect(row).toBeUndefined();
    // Replaying the old cookie does not work.
    expect((await browser.get('/orders')).status).toBe(303);
  });

  it('an expired session sends the operator back to the login form', async () => {
    const browser = await loginAs(t, 'operator');
    await t.database.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', sessionIdOf(browser.sessionToken)).execute();
    const res = await browser.get('/orders');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Forders');
  });

  it('disabling a user ends their session at once', async () => {
    const browser = await loginAs(t, 'operator');
    await t.database.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', browser.user.id).execute();
    expect((await browser.get('/')).status).toBe(303);
  });

  it('a role change applies to the next request of a live session', async () => {
    const browser = await loginAs(t, 'operator');
    expect((await browser.get('/admin/users')).status).toBe(403);
    await t.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', browser.user.id).execute();
    const res = await browser.get('/admin/users');
    expect(res.status).toBe(200);
    expect(metaCsrf(res.text)).toBe(browser.csrf);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/runtime/identity.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { CONSOLE_PASSWORD, loginAs, submitLogin, type ConsoleBrowser } from '../support/console.ts';

let t: TestApp;
let admin: ConsoleBrowser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await loginAs(t, 'admin');
});
afterAll(async () => {
  await t?.close();
});

function userIdFrom(location: string | undefined): string {
  const m = /^\/admin\/users\/([0-9a-f-]{36})\?done=created$/.exec(location ?? '');
  if (!m) throw new Error(`unexpected redirect ${location}`);
  return m[1]!;
}

describe('/admin/users', () => {
  it('adds a user who can then log in with the given role', async () => {
    const res = await admin.post('/admin/users', { email: 'New.Operator@Test.local', name: 'New Operator', role: 'operator', password: 'a long password' });
    expect(res.status).toBe(303);
    const id = userIdFrom(res.headers.location);
    const page = await admin.get(res.headers.location!);
    expect(page.text).toContain('User created.');
    expect(page.text).toContain('new.operator@test.local');
    const list = await admin.get('/admin/users');
    expect(list.text).toContain(`<a href="/admin/users/${id}" class="strong">new.operator@test.local</a>`);
    expect((await submitLogin(t, 'new.operator@test.local', 'a long password')).status).toBe(303);
  });

  it('shows what is wrong with a new user and keeps what was typed (never the password)', async () => {
    const weak = await admin.post('/admin/users', { email: 'weak@test.local', name: 'Weak', role: 'analyst', password: 'short' });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('Passwords need at least 10 characters.');
    expect(weak.text).toContain('value="weak@test.local"');
    expect(weak.text).toContain('<option value="analyst" selected>');
    const dup = await admin.post('/admin/users', { email: admin.user.email, role: 'operator', password: 'a long password' });
    expect(dup.status).toBe(409);
    expect(dup.text).toContain('exists already');
    const role = await admin.post('/admin/users', { email: 'role@test.local', role: 'root', password: 'a long password' });
    expect(role.status).toBe(422);
  });

  it('changes a role, which applies to the user at once', async () => {
    const user = await loginAs(t, 'operator');
    expect((await user.get('/admin/users')).status).toBe(403);
    const res = await admin.post(`/admin/users/${user.user.id}/role`, { role: 'admin' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/users/${user.user.id}?done=role`);
    expect((await user.get('/admin/users')).status).toBe(200);
    // An unknown role is refused on the user's page too, and changes nothing.
    const unknown = await admin.post(`/admin/users/${user.user.id}/role`, { role: 'root' });
    expect(unknown.status).toBe(303);
    expect((await admin.get(unknown.headers.location!)).text).toContain('Role must be operator, analyst or admin.');
    // Only the words Ordo knows reach the page; anything else in the URL shows nothing.
    expect((await admin.get(`/admin/users/${user.user.id}?refused=constructor`)).text).not.toContain('message-error');
    expect((await admin.get(`/admin/users/${user.user.id}?done=constructor`)).text).not.toContain('message-ok');
    expect((await admin.get('/admin/users?done=toString')).text).not.toContain('message-ok');
    expect((await t.database.db.selectFrom('users').select('role').where('id', '=', user.user.id).executeTakeFirstOrThrow()).role).toBe('admin');
  });

  it('disables a user: their session ends, their tokens stop working; enabling brings the tokens back', async () => {
    const user = await loginAs(t, 'operator');
    const issued = await admin.post(`/admin/users/${user.user.id}/tokens`, { name: 'integration' });
    const token = /id="new-token-value" class="token" value="(ordo_[A-Za-z0-9_-]+)"/.exec(issued.text)![1]!;
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(200);

    const res = await admin.post(`/admin/users/${user.user.id}/disable`);
    expect(res.status).toBe(303);
    expect((await user.get('/orders')).status).toBe(303);
    expect(await t.database.db.selectFrom('sessions').select('id').where('user_id', '=', user.user.id).execute()).toEqual([]);
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await submitLogin(t, user.user.email, CONSOLE_PASSWORD)).status).toBe(401);

    expect((await admin.post(`/admin/users/${user.user.id}/enable`)).status).toBe(303);
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it('asks an admin to confirm changing their own role, then lands them on the dashboard with a message', async () => {
    const self = await loginAs(t, 'admin');
    // Another active admin, so the demotion is allowed.
    await loginAs(t, 'admin');
    const ask = await self.post(`/admin/users/${self.user.id}/role`, { role: 'operator' });
    expect(ask.status).toBe(303);
    expect(ask.headers.location).toBe(`/admin/users/${self.user.id}?confirm=operator`);
    const row = () => t.database.db.selectFrom('users').select('role').where('id', '=', self.user.id).executeTakeFirstOrThrow();
    expect((await row()).role).toBe('admin');
    const page = await self.get(ask.headers.location!);
    expect(page.text).toContain('Change your own role to operator?');
    expect(page.text).toContain('<input type="hidden" name="confirm" value="self">');
    // Someone else's page never asks.
    expect((await self.get(`/admin/users/${admin.user.id}?confirm=operator`)).text).not.toContain('Change your own role');
    const done = await self.post(`/admin/users/${self.user.id}/role`, { role: 'operator', confirm: 'self' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/?done=own_role');
    expect((await row()).role).toBe('operator');
    const dashboard = await self.get(done.headers.location!);
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Your role is now operator. User administration is no longer open to you.');
  });

  it('never leaves Ordo without an active administrator, and an admin cannot disable themselves', async () => {
    const db = t.database.db;
    // Leave exactly one active admin: the one driving this test.
    await db.updateTable('users').set({ disabled_at: new Date() }).where('role', '=', 'admin').where('id', '<>', admin.user.id).execute();
    // A refusal redirects to the user's page (post/redirect/get): the address bar never keeps a POST-only URL.
    const demote = await admin.post(`/admin/users/${admin.user.id}/role`, { role: 'operator', confirm: 'self' });
    expect(demote.status).toBe(303);
    expect(demote.headers.location).toBe(`/admin/users/${admin.user.id}?refused=last_admin`);
    const demoted = await admin.get(demote.headers.location!);
    expect(demoted.status).toBe(200);
    expect(demoted.text).toContain(`<p class="message message-error" role="alert">${admin.user.email} is the only active administrator; make someone else an administrator first.</p>`);
    expect(demoted.text).toContain('<option value="admin" selected>');
    expect(demoted.text).not.toContain('Role changed.');
    const self = await admin.post(`/admin/users/${admin.user.id}/disable`);
    expect(self.status).toBe(303);
    expect(self.headers.location).toBe(`/admin/users/${admin.user.id}?refused=self`);
    expect((await admin.get(self.headers.location!)).text).toContain('You cannot disable your own account.');
    const row = await db.selectFrom('users').select(['role', 'disabled_at']).where('id', '=', admin.user.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ role: 'admin', disabled_at: null });
    await db.updateTable('users').set({ disabled_at: null }).execute();
  });

  it('shows nothing of a token whose value was chosen (a bootstrap token), not even its start', async () => {
    const user = await loginAs(t, 'operator');
    await issueToken(t.database.db, user.user.id, 'automation', 'dev-token');
    const row = await t.database.db.selectFrom('api_tokens').select('prefix').where('user_id', '=', user.user.id).executeTakeFirstOrThrow();
    expect(row.prefix).toBe('');
    const page = await admin.get(`/admin/users/${user.user.id}`);
    expect(page.text).toContain('chosen value');
    expect(page.text).not.toContain('dev-token');
    expect((await t.http.get('/api/v1/orders').set('authorization', 'Bearer dev-token')).status).toBe(200);
  });

  it('issues an API token shown once, lists it by prefix afterwards, and revokes it', async () => {
    const user = await loginAs(t, 'analyst');
    const issued = await admin.post(`/admin/users/${user.user.id}/tokens`, { name: 'webshop' });
    expect(issued.status).toBe(200);
    expect(issued.text).toContain('Copy it now');
    const token = /id="new-token-value" class="token" value="(ordo_[A-Za-z0-9_-]+)"/.exec(issued.text)![1]!;
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(200);

    const later = await admin.get(`/admin/users/${user.user.id}`);
    expect(later.text).not.toContain(token);
    expect(later.text).toContain(`<code>${token.slice(0, 9)}…</code>`);
    const tokenId = new RegExp(`/admin/users/${user.user.id}/tokens/([0-9a-f-]{36})/revoke`).exec(later.text)![1]!;

    // Another user's id in the URL does not reach this token.
    expect((await admin.post(`/admin/users/${admin.user.id}/tokens/${tokenId}/revoke`)).status).toBe(404);
    const revoked = await admin.post(`/admin/users/${user.user.id}/tokens/${tokenId}/revoke`);
    expect(revoked.status).toBe(303);
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(401);
    const after = await admin.get(revoked.headers.location!);
    expect(after.text).toContain('Token revoked.');
    expect(after.text).toContain('<td>revoked</td>');
  });
});

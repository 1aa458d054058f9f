import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapIdentity, revokeToken, TOKEN_CACHE_MS, verifyLogin } from '../../src/runtime/identity.ts';
import { revokeUserToken, setUserDisabled, setUserRole } from '../../src/runtime/users.ts';
import { hashToken } from '../../src/runtime/passwords.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { recordStatements } from '../support/statements.ts';
import { validOrder } from '../fixtures/orders.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('API authentication', () => {
  it('answers 401 problem+json without a token or with an unknown one', async () => {
    const none = await t.http.get('/api/v1/orders');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.body.code).toBe('UNAUTHENTICATED');
    const wrong = await t.http.get('/api/v1/orders').set('authorization', 'Bearer ordo_nope');
    expect(wrong.status).toBe(401);
    const malformed = await t.http.get('/api/v1/orders').set('authorization', 'Basic YWRtaW46YWRtaW4=');
    expect(malformed.status).toBe(401);
  });

  it('stores tokens hashed only, and a revoked token stops working', async () => {
    const user = await t.database.db.selectFrom('users').select('id').where('role', '=', 'admin').executeTakeFirstOrThrow();
    const rows = await t.database.db.selectFrom('api_tokens').selectAll().where('user_id', '=', user.id).execute();
    expect(rows[0]!.token_hash).toBe(hashToken(t.token));
    expect(JSON.stringify(rows)).not.toContain(t.token);

    const token = await t.tokenFor('operator');
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(200);
    const row = await t.database.db.selectFrom('api_tokens').select('id').where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
    expect(await revokeToken(t.database.db, row.id)).toBe(true);
    expect((await t.http.get('/api/v1/orders').set('authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('lets every role post and read orders', async () => {
    for (const role of ['operator', 'analyst', 'admin'] as const) {
      const token = await t.tokenFor(role);
      const res = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${token}`).send(validOrder({ externalId: `ROLE-${role}` }));
      expect(res.status).toBe(201);
    }
  });
});

describe('API token lookups remembered for a moment', () => {
  const get = (token: string) => t.http.get('/api/v1/orders?limit=1').set('authorization', `Bearer ${token}`);
  const tokenId = async (token: string) => (await t.database.db.selectFrom('api_tokens').select(['id', 'user_id']).where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow());

  it('asks the database once for a burst of requests with one token', async () => {
    const token = await t.tokenFor('operator');
    const { sent, stop } = recordStatements();
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, () => get(token)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      for (let i = 0; i < 10; i++) expect((await get(token)).status).toBe(200);
    } finally {
      stop();
    }
    // The ten at once may each miss before the first answer; the ten after them all hit.
    expect(sent.filter((text) => text.includes('prepare:ordo_api_token')).length).toBeLessThanOrEqual(10);
    expect(sent.filter((text) => text.includes('prepare:ordo_api_token')).length).toBeGreaterThan(0);
  });

  it('forgets at once a token revoked, a user disabled or given another role in this process', async () => {
    const revoked = await t.tokenFor('operator');
    expect((await get(revoked)).status).toBe(200);
    const r = await tokenId(revoked);
    expect(await revokeUserToken(t.database.db, r.user_id, r.id)).toBe(true);
    expect((await get(revoked)).status).toBe(401);

    const admin = await t.database.db.selectFrom('users').select('id').where('role', '=', 'admin').executeTakeFirstOrThrow();
    const disabled = await t.tokenFor('operator');
    expect((await get(disabled)).status).toBe(200);
    await setUserDisabled(t.database.db, (await tokenId(disabled)).user_id, true, admin.id);
    expect((await get(disabled)).status).toBe(401);

    const demoted = await t.tokenFor('analyst');
    const start = () => t.http.post('/api/v1/processes/nope/instances').set('authorization', `Bearer ${demoted}`).send({});
    expect((await start()).status).toBe(404);
    await setUserRole(t.database.db, (await tokenId(demoted)).user_id, 'operator');
    expect((await start()).status).toBe(403);
  });

  it('forgets a token revoked by another process within TOKEN_CACHE_MS', async () => {
    const token = await t.tokenFor('operator');
    expect((await get(token)).status).toBe(200);
    // What `npm run user` or another web process does: the row changed, nothing said to this process.
    await t.database.db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('token_hash', '=', hashToken(token)).execute();
    await new Promise((resolve) => setTimeout(resolve, TOKEN_CACHE_MS + 50));
    expect((await get(token)).status).toBe(401);
  });
});

describe('first start', () => {
  it('creates admin@localhost once, with the given password, and the bootstrap token with exactly its value', async () => {
    const db = t.database.db;
    await db.deleteFrom('users').execute();
    const first = await bootstrapIdentity(db, { adminPassword: 'a-long-admin-password', bootstrapToken: 'ordo_bootstrap_test_value' });
    expect(first).toEqual({ adminCreated: true, generatedPassword: null, bootstrapTokenCreated: true });
    expect(await verifyLogin(db, 'admin@localhost', 'a-long-admin-password')).not.toBeNull();
    expect(await verifyLogin(db, 'admin@localhost', 'wrong-password!')).toBeNull();
    const res = await t.http.get('/api/v1/orders').set('authorization', 'Bearer ordo_bootstrap_test_value');
    expect(res.status).toBe(200);

    const second = await bootstrapIdentity(db, { adminPassword: null, bootstrapToken: 'another-value' });
    expect(second).toEqual({ adminCreated: false, generatedPassword: null, bootstrapTokenCreated: false });
    const admins = await db.selectFrom('users').select('email').execute();
    expect(admins).toEqual([{ email: 'admin@localhost' }]);
  });

  it('generates a password when none is given', async () => {
    const db = t.database.db;
    await db.deleteFrom('users').execute();
    const result = await bootstrapIdentity(db, { adminPassword: null, bootstrapToken: null });
    expect(result.generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await verifyLogin(db, 'admin@localhost', result.generatedPassword!)).not.toBeNull();
  });
});

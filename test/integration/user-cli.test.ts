import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLogin } from '../../src/runtime/identity.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function user(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/user.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run user', () => {
  it('creates a user with a generated password and issues a working API token, printed once', { timeout: 60_000 }, async () => {
    const created = await user('create', 'Ola@Shop.example', '--role', 'operator', '--name', 'Ola Wiśniewska');
    expect(created.code).toBe(0);
    const password = /Password: (\S+)/.exec(created.stdout)?.[1];
    expect(password).toBeTruthy();
    expect(await verifyLogin(database.db, 'ola@shop.example', password!)).toMatchObject({ role: 'operator', name: 'Ola Wiśniewska' });

    const token = await user('token', 'ola@shop.example', '--name', 'webshop');
    expect(token.code).toBe(0);
    const value = token.stdout.trim().split('\n').pop()!;
    expect(value).toMatch(/^ordo_[A-Za-z0-9_-]{40,}$/);
    const stored = await database.db.selectFrom('api_tokens').select(['name', 'token_hash']).execute();
    expect(stored.map((s) => s.name)).toEqual(['webshop']);
    expect(JSON.stringify(stored)).not.toContain(value);
  });

  it('refuses a bad role, a duplicate e-mail and an unknown user with a message and a non-zero exit', { timeout: 60_000 }, async () => {
    const badRole = await user('create', 'x@shop.example', '--role', 'boss');
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/Role must be one of operator, analyst, admin/);
    const dup = await user('create', 'ola@shop.example', '--role', 'admin', '--password', 'a-long-password');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/exists already/);
    const unknown = await user('token', 'nobody@shop.example');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No user/);
    const usage = await user('frobnicate');
    expect(usage.code).toBe(2);
  });
});

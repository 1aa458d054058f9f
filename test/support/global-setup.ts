import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../../src/db/connection.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { buildAssets } from '../../src/http/assets.ts';
import { createBoss } from '../../src/runtime/boss.ts';

/**
 * One PostgreSQL for the whole run: Ordo's embedded server in a temporary folder, or the server in
 * TEST_DATABASE_URL. A template database is migrated once; every test file clones it (test/support/db.ts),
 * so files are isolated and start in milliseconds.
 */
export const TEMPLATE_DB = 'ordo_test_template';

declare module 'vitest' {
  interface ProvidedContext {
    pgAdminUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const quiet = { info() {}, warn() {}, debug() {}, error: console.error } as never;

export default async function setup(project: TestProject) {
  // Pages and browser tests load the bundles from public/build; built once, skipped when up to date.
  await buildAssets();
  let embedded: EmbeddedPostgres | null = null;
  let dir: string | null = null;
  let adminUrl = process.env.TEST_DATABASE_URL ?? null;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(tmpdir(), 'ordo-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir: dir,
      port: await freePort(),
      database: 'postgres',
      log: quiet,
      // Test data is thrown away: skip the flushes that only protect it against power loss.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
    adminUrl = embedded.urlFor('postgres');
  }
  try {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${TEMPLATE_DB}`);
    await admin.query(`create database ${TEMPLATE_DB}`);
    await admin.end();

    const template = connect(withDatabase(adminUrl, TEMPLATE_DB), { max: 2 });
    try {
      await migrateToLatest(template.db);
      // pg-boss installs its schema and Ordo's queues once, in the template; every clone has them.
      const boss = await createBoss(withDatabase(adminUrl, TEMPLATE_DB), quiet, { max: 2, supervise: false });
      await boss.stop({ graceful: false, wait: true });
    } finally {
      await template.close();
    }
  } catch (err) {
    await embedded?.stop();
    throw err;
  }

  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createUser, issueToken } from '../../src/runtime/identity.ts';
import type { Role } from '../../src/db/tables/users.table.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  deps: AppDeps;
  http: ReturnType<typeof supertest>;
  /** An admin API token. */
  token: string;
  /** Create a user with a role and return a token for it. */
  tokenFor(role: Role): Promise<string>;
  close(): Promise<void>;
}

let userCounter = 0;

export async function createTestApp(overrides: Partial<AppDeps> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config: Config = { ...loadConfig({}), databaseUrl: database.url };
  const logger = pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
  const deps: AppDeps = { db: database.db, config, logger, metrics: createMetrics(), ...overrides };
  const app = await buildApp(deps);
  await app.ready();
  const tokenFor = async (role: Role) => {
    const user = await createUser(database.db, { email: `${role}${++userCounter}@test.local`, password: 'correct horse battery', role });
    return (await issueToken(database.db, user.id, 'test')).token;
  };
  const token = await tokenFor('admin');
  return {
    app,
    database,
    config,
    deps,
    http: supertest(app.server),
    token,
    tokenFor,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

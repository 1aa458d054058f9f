import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type PgBoss from 'pg-boss';
import supertest from 'supertest';
import { loadConfig, type Config } from '../../src/config.ts';
import { buildApp, type AppDeps } from '../../src/http/app.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createBoss } from '../../src/runtime/boss.ts';
import { createUser, issueToken } from '../../src/runtime/identity.ts';
import { createRuntime, type Runtime, type RuntimeDeps } from '../../src/runtime/index.ts';
import type { Workers } from '../../src/runtime/worker.ts';
import type { Role } from '../../src/db/tables/users.table.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  deps: AppDeps;
  boss: PgBoss;
  runtime: Runtime;
  logger: Logger;
  workers: Workers | null;
  http: ReturnType<typeof supertest>;
  /** An admin API token. */
  token: string;
  /** Create a user with a role and return a token for it. */
  tokenFor(role: Role): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Run the job loops (lifecycle starts, timers, service tasks) in this process. */
  workers?: boolean;
  /** Deploy processes/*.bpmn like a start does. */
  deployDefaults?: boolean;
  runtime?: Partial<Omit<RuntimeDeps, 'db' | 'boss' | 'logger' | 'config'>>;
  config?: Partial<Config>;
  /** Log through this logger instead of a silent one (tests that read the log). */
  logger?: Logger;
}

let userCounter = 0;

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config: Config = { ...loadConfig({}), databaseUrl: database.url, ...options.config };
  const logger = options.logger ?? pino({ level: process.env.ORDO_TEST_LOG ?? 'silent' });
  const boss = await createBoss(database.url, logger, { max: 3, supervise: false });
  const runtime = createRuntime({ db: database.db, boss, logger, config, ...options.runtime });
  if (options.deployDefaults) await runtime.deployDefaults(new URL('../../processes/', import.meta.url).pathname);
  const workers = options.workers ? runtime.startWorkers({ idleMs: 50 }) : null;
  const deps: AppDeps = { db: database.db, config, logger, metrics: createMetrics(), runtime };
  const app = await buildApp(deps);
  await app.ready();
  const tokenFor = async (role: Role) => {
    const user = await createUser(database.db, { email: `${role}${++userCounter}@test.local`, password: 'correct horse battery', role });
    return (await issueToken(database.db, user.id, 'test')).token;
  };
  const token = await tokenFor('admin');
  const testApp: TestApp = {
    app,
    database,
    config,
    deps,
    boss,
    runtime,
    logger,
    workers,
    http: supertest(app.server),
    token,
    tokenFor,
    async close() {
      await app.close();
      // A test may start the workers later (testApp.workers = runtime.startWorkers(...)).
      await testApp.workers?.stop();
      await boss.stop({ graceful: false, wait: true, timeout: 5_000 });
      await database.drop();
    },
  };
  return testApp;
}

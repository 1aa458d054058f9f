import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { loadConfig } from './config.ts';
import { migrateToLatest } from './db/migrate.ts';
import { openDatabase, type OpenDatabase } from './db/open.ts';
import { buildApp } from './http/app.ts';
import { buildAssets } from './http/assets.ts';
import { createMetrics } from './http/metrics.ts';
import { createLogger } from './logger.ts';
import { bossSettings, createBoss, stopBoss } from './runtime/boss.ts';
import { bootstrapIdentity } from './runtime/identity.ts';
import { createRuntime } from './runtime/index.ts';

const PROCESSES_DIR = fileURLToPath(new URL('../processes/', import.meta.url));

/**
 * `npm start` (all), `npm run web`, `npm run worker`: one entry, three roles. This file wires and
 * listens; everything it starts is built elsewhere and closed here, in reverse order, on SIGINT/SIGTERM.
 */
type Role = 'all' | 'web' | 'worker';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['all', 'web', 'worker'].includes(role)) {
    console.error(`Unknown role "${role}": use all, web or worker.`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  // The V8 heap limit (package.json's scripts cap the old space: ORDO_MAX_OLD_SPACE_MB, 256 by default).
  logger.info({ role, heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, 'Ordo starting');

  let database: OpenDatabase | null = null;
  const closers: Array<() => Promise<unknown>> = [];
  const shutdown = async () => {
    for (const close of closers.reverse()) await close().catch((err) => logger.error({ err }, 'error while closing'));
    await database?.shutdown();
  };

  closeWithGrace({ delay: 15_000, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    await shutdown();
    logger.info('Ordo stopped');
  });

  try {
    database = await openDatabase(config, logger);
    const applied = await migrateToLatest(database.db);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    const boot = await bootstrapIdentity(database.db, { adminPassword: config.adminPassword, bootstrapToken: config.bootstrapToken });
    if (boot.adminCreated) {
      if (boot.generatedPassword) {
        // Printed once, on the very first start, so the person starting Ordo can log in.
        logger.warn({ email: 'admin@localhost' }, 'created the first administrator; its generated password follows on stdout (shown only once)');
        process.stdout.write(`\n  Ordo administrator: admin@localhost\n  Password:           ${boot.generatedPassword}\n\n`);
      } else logger.info({ email: 'admin@localhost' }, 'created the first administrator with ORDO_ADMIN_PASSWORD');
    }
    if (boot.bootstrapTokenCreated) logger.info('created the admin API token given by ORDO_BOOTSTRAP_TOKEN');

    const boss = await createBoss(database.url, logger, { supervise: role !== 'web', settings: bossSettings(config) });
    closers.push(() => stopBoss(boss, { graceful: true, wait: true, timeout: 10_000 }));
    const runtime = createRuntime({ db: database.db, boss, logger, config });
    for (const { file, result } of await runtime.deployDefaults(PROCESSES_DIR)) {
      for (const p of result.processes) logger.info({ file, key: p.key, version: p.version }, p.created ? 'deployed a new version of a default process' : 'default process unchanged');
    }

    if (role === 'all' || role === 'worker') {
      const workers = runtime.startWorkers({ concurrency: config.workerConcurrency, handlerTimeoutMs: config.serviceTimeoutSeconds * 1000 });
      closers.push(() => workers.stop());
      logger.info({ concurrency: config.workerConcurrency }, 'workers started');
    }

    if (role === 'all' || role === 'web') {
      // The console's browser bundles (htmx, the bpmn-js viewer and modeler): built on first start, then
      // only when their sources change.
      const assets = await buildAssets();
      if (!assets.skipped) logger.info({ files: assets.files.length }, 'built the console assets');
      const app = await buildApp({ db: database.db, config, logger, metrics: createMetrics({ defaults: true }), runtime });
      await app.listen({ port: config.port, host: config.host });
      closers.push(() => app.close());
      logger.info({ url: `http://localhost:${config.port}` }, 'Ordo is listening');
    }
  } catch (err) {
    logger.fatal({ err }, (err as Error).message);
    await shutdown();
    process.exit(1);
  }
}

await main();

import { loadConfig } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';
import { commandLine } from './cli.ts';

/** `npm run migrate`: apply pending migrations to DATABASE_URL (or the embedded server) and exit. */
commandLine({
  name: 'migrate',
  usage: 'npm run migrate',
  about: 'Applies the pending migrations to DATABASE_URL (else the embedded PostgreSQL in ORDO_DATA_DIR) and exits.',
  options: {},
});
const config = loadConfig();
const logger = createLogger({ level: config.logLevel, name: 'ordo-migrate' });
const database = await openDatabase(config, logger, { poolSize: 2 });
let code = 0;
try {
  const applied = await migrateToLatest(database.db);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'the database is up to date');
} catch (err) {
  logger.fatal({ err }, (err as Error).message);
  code = 1;
} finally {
  await database.shutdown();
}
process.exit(code);

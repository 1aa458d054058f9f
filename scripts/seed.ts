/**
 * `npm run seed -- [--orders 10000] [--defect-rate 0.1] [--seed 1] [--days 56] [--batch 2000] [--no-vacuum]`
 *
 * Fills Ordo's database with realistic orders as the running engine would have left them: orders from
 * 22 countries and four channels, every delivery and payment method, arriving evenly over the past
 * `--days`; the share `--defect-rate` with a defect of some kind, each on hold with its open ticket (its
 * codes and instructions what the checks and the diagram say for that order); a few large business
 * orders waiting for approval; the rest released to fulfilment, or completed when their delivery is in
 * the past. With 1,000,000 orders and the default defect rate that is about 100,000 open tickets.
 *
 * The database is DATABASE_URL's, else the embedded PostgreSQL `npm start` uses (ORDO_DATA_DIR, default
 * ./.data), opened and migrated the same way, with the default processes deployed. Ordo itself may run
 * at the same time. The same --seed makes the same orders; loading a seed twice is refused (order
 * numbers are per seed). See scripts/seed/ for how the rows are made, and docs/PERFORMANCE.md for the
 * time 1,000,000 orders take.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { openDatabase, type OpenDatabase } from '../src/db/open.ts';
import { createBoss } from '../src/runtime/boss.ts';
import { createRuntime } from '../src/runtime/index.ts';
import { DEFAULT_SEED_OPTIONS, seedOrders, vacuumSeededTables } from './seed/load.ts';
import { SeedError } from './seed/shapes.ts';
import { commandLine } from './cli.ts';

const PROCESSES_DIR = fileURLToPath(new URL('../processes/', import.meta.url));

const cli = commandLine({
  name: 'seed',
  usage: 'npm run seed -- [options]',
  about: 'Fills the database (DATABASE_URL, else the embedded PostgreSQL in ORDO_DATA_DIR) with realistic orders and their open tickets.',
  options: {
    orders: { type: 'string', default: String(DEFAULT_SEED_OPTIONS.orders), value: 'n', description: 'orders to make' },
    'defect-rate': { type: 'string', default: String(DEFAULT_SEED_OPTIONS.defectRate), value: '0..1', description: 'share of the orders with a defect, each on hold with its ticket' },
    seed: { type: 'string', default: String(DEFAULT_SEED_OPTIONS.seed), value: 'n', description: 'the same seed makes the same orders; a seed loads only once' },
    days: { type: 'string', default: String(DEFAULT_SEED_OPTIONS.days), value: 'n', description: 'the orders arrive evenly over this many days up to now' },
    batch: { type: 'string', default: String(DEFAULT_SEED_OPTIONS.batchSize), value: 'n', description: 'orders per batch written' },
    'no-vacuum': { type: 'boolean', description: 'skip the VACUUM (ANALYZE) of the seeded tables at the end' },
  },
});
// Read before the database is opened: a mistyped number is refused in a moment, not after start-up.
const options = {
  orders: cli.int('orders', { min: 1 }),
  defectRate: cli.num('defect-rate', { min: 0, max: 1 }),
  seed: cli.int('seed', { min: 0 }),
  days: cli.num('days', { above: 0 }),
  batchSize: cli.int('batch', { min: 1 }),
};
const args = cli.values;

const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  let database: OpenDatabase | null = null;
  try {
    database = await openDatabase(config, logger, { poolSize: 6 });
    await migrateToLatest(database.db);
    const boss = await createBoss(database.url, logger, { supervise: false });
    try {
      const runtime = createRuntime({ db: database.db, boss, logger, config });
      await runtime.deployDefaults(PROCESSES_DIR);
      console.log(`seeding ${fmt(options.orders)} orders (defect rate ${args['defect-rate']}, seed ${args.seed}, over ${args.days} days) into ${config.databaseUrl ? 'DATABASE_URL' : `the embedded PostgreSQL in ${config.dataDir}`}`);
      const t0 = performance.now();
      const result = await seedOrders(runtime, database.db, {
        ...options,
        log: (line) => console.log(line),
      });
      const rowCount = Object.values(result.rows).reduce((a, b) => a + b, 0);
      console.log(
        `loaded ${fmt(result.orders)} orders and ${fmt(rowCount)} rows in ${result.loadSeconds.toFixed(1)} s: ${fmt(result.orders / result.loadSeconds)} orders/s, ${fmt(rowCount / result.loadSeconds)} rows/s ` +
          `(templates ${result.templateSeconds.toFixed(1)} s; ${fmt(result.verifiedWithEngine)} orders checked against the engine's start step)`,
      );
      console.log(`  where the orders stand: ${Object.entries(result.shapes).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}; open tickets ${fmt(result.openTickets)}`);
      console.log(`  time (ms, batches overlap): ${Object.entries(result.timings).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
      console.log(`  rows: ${Object.entries(result.rows).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
      if (!args['no-vacuum']) {
        const t = performance.now();
        await vacuumSeededTables(database.db);
        console.log(`vacuum (analyze) of the seeded tables: ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      await boss.stop({ graceful: false, wait: true, timeout: 10_000 });
    }
  } catch (err) {
    if (err instanceof SeedError) console.error(`seed refused: ${err.message}`);
    else console.error(err);
    process.exitCode = 1;
  } finally {
    await database?.shutdown();
  }
}

await main();

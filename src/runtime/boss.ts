import { createHash } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DbOrTx } from '../db/database.ts';

/**
 * pg-boss is Ordo's job queue: lifecycle starts, BPMN timers, service-task jobs and bulk actions. Jobs
 * are inserted through the caller's transaction (`db` option), so an instance's new state and the jobs
 * its step scheduled commit together or not at all.
 */
export const QUEUES = Object.freeze({
  /** Start the lifecycle of a received order. */
  start: 'ordo-start',
  /** A BPMN timer came due. */
  timer: 'ordo-timer',
  /** Run a service task's job handler. */
  service: 'ordo-service',
  /** Operators' bulk actions over many tickets. */
  bulk: 'ordo-bulk',
  /** Analysts' migrations of waiting instances to a newer process version. */
  migrate: 'ordo-migrate',
});
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const BOSS_SCHEMA = 'pgboss';

export interface StartJobData {
  orderId: string;
}
export interface TimerJobData {
  instanceId: string;
  timerId: string;
}
export interface ServiceJobData {
  instanceId: string;
  jobId: string;
  job: string;
  elementId: string;
}

/** pg-boss's Db port, running its SQL on a Kysely connection or transaction. */
export function bossDb(db: DbOrTx): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      const result = await db.executeQuery(CompiledQuery.raw(text, values));
      return { rows: result.rows as unknown[] };
    },
  };
}

/**
 * A job id derived from what the job is for (instance + timer id, instance + job id): inserting the same
 * job twice (a step replayed after a crash) hits pg-boss's ON CONFLICT DO NOTHING, and cancelling needs
 * no lookup.
 */
export function deterministicJobId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Shaped as a version-4-like UUID so PostgreSQL's uuid type accepts it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * How long a job may stay active before pg-boss takes it back (the worker that fetched it died or hangs),
 * and how often pg-boss's maintenance looks. A job held by a dead worker runs again after its expiry
 * plus at most one maintenance interval; on its last attempt it goes to its queue's dead-letter queue
 * (runtime/dead-letters.ts). Jobs copy their queue's expiry when inserted.
 */
export interface BossSettings {
  /** Lifecycle starts and timers: a batch of steps, seconds at most. */
  stepExpireSeconds: number;
  /** Service-task handlers: calls to warehouses, carriers, payment providers. */
  serviceExpireSeconds: number;
  /** pg-boss maintenance (expiry sweep, archiving) in processes that supervise. */
  maintenanceSeconds: number;
}

export const DEFAULT_BOSS_SETTINGS: BossSettings = Object.freeze({ stepExpireSeconds: 120, serviceExpireSeconds: 600, maintenanceSeconds: 30 });

/**
 * The settings from the configuration. Every process applies them to the queues when it starts, so all
 * processes on one database should share them (the last one started wins).
 */
export function bossSettings(config: Pick<Config, 'jobExpireSeconds' | 'serviceJobExpireSeconds' | 'bossMaintenanceSeconds'>): BossSettings {
  return { stepExpireSeconds: config.jobExpireSeconds, serviceExpireSeconds: config.serviceJobExpireSeconds, maintenanceSeconds: config.bossMaintenanceSeconds };
}

/** Bulk actions and migrations walk many instances in one job. */
const LONG_JOB_EXPIRE_SECONDS = 3600;

/** The queue a queue's finally failed jobs are copied to (pg-boss `deadLetter`). */
export function deadLetterQueue(queue: QueueName): string {
  return `${queue}-dead`;
}

const stopping = new WeakSet<PgBoss>();

/** Stop pg-boss as part of Ordo's shutdown: its background errors from then on are expected and logged at debug. */
export async function stopBoss(boss: PgBoss, options: PgBoss.StopOptions): Promise<void> {
  stopping.add(boss);
  await boss.stop(options);
}

export async function createBoss(url: string, logger: Logger, options: { max?: number; supervise?: boolean; settings?: Partial<BossSettings> } = {}): Promise<PgBoss> {
  const settings = { ...DEFAULT_BOSS_SETTINGS, ...options.settings };
  const boss = new PgBoss({
    connectionString: url,
    schema: BOSS_SCHEMA,
    max: options.max ?? 4,
    application_name: 'ordo-boss',
    supervise: options.supervise ?? true,
    schedule: false,
    migrate: true,
    // Lifecycle and job workers fetch in their own loops (runtime/worker.ts); pg-boss keeps the queue.
    monitorStateIntervalSeconds: 60,
    maintenanceIntervalSeconds: settings.maintenanceSeconds,
  });
  boss.on('error', (err) => {
    // While Ordo stops, pg-boss's last connections end with PostgreSQL: expected, not an error.
    if (stopping.has(boss)) logger.debug({ err: (err as Error).message }, 'pg-boss connection ended while stopping');
    else logger.error({ err }, 'pg-boss background error');
  });
  await boss.start();
  await ensureQueues(boss, settings);
  return boss;
}

type QueueOptions = Omit<PgBoss.Queue, 'name'>;

/** Every queue's settings, dead-letter queue included. */
export function queueSettings(settings: BossSettings = DEFAULT_BOSS_SETTINGS): Record<QueueName, QueueOptions> {
  const step = settings.stepExpireSeconds;
  return {
    [QUEUES.start]: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: step, deadLetter: deadLetterQueue(QUEUES.start) },
    [QUEUES.timer]: { retryLimit: 10, retryDelay: 5, retryBackoff: true, expireInSeconds: step, deadLetter: deadLetterQueue(QUEUES.timer) },
    [QUEUES.service]: { retryLimit: 3, retryDelay: 10, retryBackoff: true, expireInSeconds: settings.serviceExpireSeconds, deadLetter: deadLetterQueue(QUEUES.service) },
    [QUEUES.bulk]: { retryLimit: 2, retryDelay: 5, expireInSeconds: LONG_JOB_EXPIRE_SECONDS, deadLetter: deadLetterQueue(QUEUES.bulk) },
    [QUEUES.migrate]: { retryLimit: 2, retryDelay: 5, expireInSeconds: LONG_JOB_EXPIRE_SECONDS, deadLetter: deadLetterQueue(QUEUES.migrate) },
  };
}

/**
 * Create the queues, or bring existing ones to these settings: pg-boss's createQueue leaves an existing
 * queue as it was, so a queue created by an older Ordo would keep its old expiry and no dead letters.
 * Jobs still waiting in a queue get its dead-letter queue too (a job copies it when inserted).
 */
export async function ensureQueues(boss: PgBoss, settings: BossSettings = DEFAULT_BOSS_SETTINGS): Promise<void> {
  const upsert = async (name: string, options: QueueOptions) => {
    if (await boss.getQueue(name)) await boss.updateQueue(name, { name, ...options });
    else await boss.createQueue(name, { name, ...options });
  };
  for (const [name, options] of Object.entries(queueSettings(settings)) as Array<[QueueName, QueueOptions]>) {
    // A dead-letter queue keeps its jobs as long as pg-boss keeps any (they are handled within seconds).
    await upsert(options.deadLetter!, { retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: settings.stepExpireSeconds });
    await upsert(name, options);
    await boss.getDb().executeSql(`UPDATE ${BOSS_SCHEMA}.job SET dead_letter = $2 WHERE name = $1 AND state < 'completed' AND dead_letter IS NULL`, [name, options.deadLetter]);
  }
}

import { createHash } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
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

export async function createBoss(url: string, logger: Logger, options: { max?: number; supervise?: boolean } = {}): Promise<PgBoss> {
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
  });
  boss.on('error', (err) => logger.error({ err }, 'pg-boss background error'));
  await boss.start();
  await ensureQueues(boss);
  return boss;
}

export async function ensureQueues(boss: PgBoss): Promise<void> {
  await boss.createQueue(QUEUES.start, { name: QUEUES.start, retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 300 });
  await boss.createQueue(QUEUES.timer, { name: QUEUES.timer, retryLimit: 10, retryDelay: 5, retryBackoff: true, expireInSeconds: 300 });
  await boss.createQueue(QUEUES.service, { name: QUEUES.service, retryLimit: 3, retryDelay: 10, retryBackoff: true, expireInSeconds: 900 });
  await boss.createQueue(QUEUES.bulk, { name: QUEUES.bulk, retryLimit: 2, retryDelay: 5, expireInSeconds: 3600 });
  await boss.createQueue(QUEUES.migrate, { name: QUEUES.migrate, retryLimit: 2, retryDelay: 5, expireInSeconds: 3600 });
}

import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { deadLetterQueue, QUEUES, type QueueName, type ServiceJobData, type StartJobData, type TimerJobData } from './boss.ts';
import { runBulk, type BulkJobData } from './bulk.ts';
import { applyEvent, StepSession, type RuntimeContext } from './instances.ts';
import { startOrderLifecycles, type LifecycleSettings } from './lifecycle.ts';
import { runMigration, type MigrationJobData } from './migration.ts';
import { JobLoop } from './worker.ts';

/**
 * Jobs that pg-boss gave up on, turned into what the engine does with a job that finally failed.
 *
 * pg-boss fails a job for good in two ways a worker never sees: the job expires on its last attempt
 * (the worker holding it died or hangs), or a worker fails it one last time and dies before telling the
 * engine. Either way the instance would wait forever, or an order stay `received`. Every Ordo queue
 * therefore has a dead-letter queue (runtime/boss.ts) that gets a copy of each such job, and these loops
 * work them off:
 *
 * - a service job: `jobFailed`, the same as a worker that sees its last failure: a technical ticket at
 *   the service task (a no-op when the worker did see it, or the job completed after all);
 * - a lifecycle start: start the lifecycle once more; if that fails, or a previous try of this dead letter
 *   never finished (it may crash the worker again), create the lifecycle stopped at its start event with
 *   a technical ticket saying why; retrying the ticket runs it;
 * - a timer: fire it (late rather than never: an intermediate timer moves on, a boundary timer fires);
 * - a bulk action or migration: run it again (both resume where they stopped).
 *
 * Each dead letter is handled in a transaction of its own; what fails is failed in pg-boss, which tries
 * again (the copy keeps the original's retry limit) and logs an error.
 */

/** How long a dead-letter loop waits between looks at an empty queue: dead letters are rare. */
export const DEAD_LETTER_IDLE_MS = 5_000;

type Job<T> = PgBoss.JobWithMetadata<T>;

const TIMEOUT_OUTPUT = 'job failed by timeout in active state';

/** What pg-boss recorded about the last attempt, in words for a ticket. */
export function deadLetterReason(job: Pick<Job<unknown>, 'output'>): string {
  const out = (job.output ?? null) as { error?: unknown; message?: unknown; value?: { message?: unknown } } | null;
  const message = out?.error ?? out?.value?.message ?? out?.message;
  if (message === TIMEOUT_OUTPUT) return 'expired on its last attempt (the worker running it stopped or hung)';
  return typeof message === 'string' && message ? `failed on its last attempt: ${message}` : 'failed on its last attempt';
}

async function startLifecycle(ctx: RuntimeContext, orderId: string, settings: LifecycleSettings, incident?: string): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const session = new StepSession(ctx, trx);
    const outcomes = await startOrderLifecycles(session, [orderId], settings, incident === undefined ? {} : { incident });
    await session.flush();
    return outcomes.length > 0;
  });
}

type Settle<T> = (job: Job<T>, log: Logger) => Promise<void>;

function handlers(ctx: RuntimeContext, settings: LifecycleSettings): { [Q in QueueName]: Settle<never> } {
  const start: Settle<StartJobData> = async (job, log) => {
    const { orderId } = job.data;
    const reason = deadLetterReason(job);
    let again: string | null = null;
    // A retry of this dead letter means the last try never settled: perhaps it crashed the worker.
    if (job.retryCount === 0) {
      try {
        const started = await startLifecycle(ctx, orderId, settings);
        log.warn({ orderId, reason, started }, 'a lifecycle start was dead-lettered; started it once more');
        return;
      } catch (err) {
        again = (err as Error).message || String(err);
      }
    }
    const incident = `The order's lifecycle did not start: its start job ${reason}${again ? `, and starting it once more failed: ${again}` : ''}. Retry this ticket to start it.`;
    const created = await startLifecycle(ctx, orderId, settings, incident);
    log.error({ orderId, reason, again, created }, 'a lifecycle start was dead-lettered; the lifecycle waits at its start with a technical ticket');
  };

  const timer: Settle<TimerJobData> = async (job, log) => {
    const { instanceId, timerId } = job.data;
    const outcome = await ctx.db.transaction().execute(async (trx) => {
      const session = new StepSession(ctx, trx);
      await session.lock([instanceId]);
      const o = await session.apply(instanceId, { type: 'timer', timerId }, 'timer');
      await session.flush();
      return o;
    });
    log.warn({ instanceId, timerId, reason: deadLetterReason(job), fired: outcome.applied }, 'a timer was dead-lettered; fired it');
  };

  const service: Settle<ServiceJobData> = async (job, log) => {
    const { instanceId, jobId, job: name } = job.data;
    const error = `The job "${name}" ${deadLetterReason(job)}.`;
    const outcome = await ctx.db.transaction().execute((trx) => applyEvent(ctx, trx, instanceId, { type: 'jobFailed', jobId, error }, `job:${name}`));
    if (outcome.applied) log.error({ instanceId, job: name, error }, 'a service job was dead-lettered; raised a technical ticket');
  };

  const bulk: Settle<BulkJobData> = async (job, log) => {
    await runBulk(ctx, job.data.operationId);
    log.warn({ operationId: job.data.operationId, reason: deadLetterReason(job) }, 'a bulk operation was dead-lettered; ran it again');
  };

  const migrate: Settle<MigrationJobData> = async (job, log) => {
    await runMigration(ctx, job.data.migrationId);
    log.warn({ migrationId: job.data.migrationId, reason: deadLetterReason(job) }, 'a process migration was dead-lettered; ran it again');
  };

  return {
    [QUEUES.start]: start,
    [QUEUES.timer]: timer,
    [QUEUES.service]: service,
    [QUEUES.bulk]: bulk,
    [QUEUES.migrate]: migrate,
  } as { [Q in QueueName]: Settle<never> };
}

/** One loop per dead-letter queue, started; stop them with the workers. */
export function startDeadLetterLoops(ctx: RuntimeContext, input: { settings: LifecycleSettings; idleMs?: number }): JobLoop<unknown>[] {
  const log = ctx.logger.child({ component: 'dead-letters' });
  const settle = handlers(ctx, input.settings);
  const loops = (Object.values(QUEUES) as QueueName[]).map((queue) => {
    const dead = deadLetterQueue(queue);
    const handle = settle[queue] as Settle<unknown>;
    return new JobLoop<unknown>(
      ctx.boss,
      dead,
      { batchSize: 10, idleMs: input.idleMs ?? DEAD_LETTER_IDLE_MS },
      async (jobs) => {
        for (const job of jobs) {
          try {
            await handle(job, log);
            await ctx.boss.complete(dead, job.id);
          } catch (err) {
            log.error({ err, queue: dead, jobId: job.id, data: job.data }, 'handling a dead-lettered job failed; pg-boss will retry it');
            await ctx.boss.fail(dead, job.id, { error: (err as Error).message });
          }
        }
      },
      log,
    );
  });
  for (const l of loops) l.start();
  return loops;
}

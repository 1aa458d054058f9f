import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { QUEUES, type ServiceJobData, type StartJobData, type TimerJobData } from './boss.ts';
import { applyEvent, StepSession, type RuntimeContext } from './instances.ts';
import { jobKey, jobLogger, type JobHandler } from './jobs/index.ts';
import { startOrderLifecycles, type LifecycleSettings } from './lifecycle.ts';
import { runBulk, type BulkJobData } from './bulk.ts';
import { runMigration, type MigrationJobData } from './migration.ts';

type BossJob<T> = PgBoss.JobWithMetadata<T>;

export interface WorkerOptions {
  /** Jobs fetched per round trip; several instances are stepped per transaction. */
  batchSize: number;
  /** Service-task handlers running at once. */
  concurrency: number;
  /** How long an idle loop waits before fetching again. */
  idleMs: number;
  /**
   * How long a service handler may take before the worker stops waiting for it: the attempt fails (and is
   * retried as the diagram says), its signal is aborted, and the service loop goes on with other jobs.
   */
  handlerTimeoutMs: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = { batchSize: 50, concurrency: 4, idleMs: 200, handlerTimeoutMs: 60_000 };

/**
 * A fetch loop over one queue: fetch a batch, handle it, fetch again at once while there is work, and
 * sleep only when the queue is empty (pg-boss's own worker sleeps after every fetch, which caps
 * throughput at batchSize per polling interval).
 */
export class JobLoop<T> {
  private stopping = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Jobs of a batch whose handling or settling failed with the database: handed back once it answers again. */
  private unsettled: string[] = [];

  constructor(
    private readonly boss: PgBoss,
    private readonly queue: string,
    private readonly options: { batchSize: number; idleMs: number },
    private readonly handle: (jobs: BossJob<T>[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Fetch now instead of waiting out the idle pause (called after this process enqueued work). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.unsettled.length > 0 && !(await this.handBack())) continue;
      let jobs: BossJob<T>[];
      try {
        jobs = await this.boss.fetch<T>(this.queue, { batchSize: this.options.batchSize, includeMetadata: true });
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn({ err: (err as Error).message, queue: this.queue }, 'fetching jobs failed; retrying');
        await this.sleep(1_000);
        continue;
      }
      if (jobs.length === 0) {
        await this.sleep(this.options.idleMs);
        continue;
      }
      try {
        await this.handle(jobs);
      } catch (err) {
        // The handler settles each job itself; reaching here means even that failed (database gone).
        // The jobs are still active in pg-boss; rather than wait out their expiry, they are failed (run
        // again, with their retry delay) as soon as the database answers. Jobs settled meanwhile are left
        // alone (pg-boss fails only jobs not yet completed), and running one again is a no-op where its
        // work was done.
        this.unsettled.push(...jobs.map((j) => j.id));
        this.logger.error({ err, queue: this.queue, jobs: jobs.length }, 'handling a batch failed; its jobs run again once the database answers');
        await this.sleep(1_000);
      }
    }
  }

  /** Fail the unsettled jobs so pg-boss runs them again; false (after a pause) while the database is away. */
  private async handBack(): Promise<boolean> {
    try {
      await this.boss.fail(this.queue, this.unsettled);
      this.logger.warn({ queue: this.queue, jobs: this.unsettled.length }, 'jobs that could not be settled were handed back to run again');
      this.unsettled = [];
      return true;
    } catch {
      if (!this.stopping) await this.sleep(1_000);
      return false;
    }
  }
}

export interface Workers {
  loops: JobLoop<unknown>[];
  stop(): Promise<void>;
  nudge(queue?: string): void;
}

/**
 * Handle a batch in one transaction and one step session (its history, events and jobs are written
 * together at the end); when that fails, handle each job alone so one bad job cannot hold back the
 * others. Completes what succeeded, fails what did not (pg-boss retries those).
 */
async function inBatch<T>(ctx: RuntimeContext, boss: PgBoss, queue: string, jobs: BossJob<T>[], handle: (session: StepSession, jobs: BossJob<T>[]) => Promise<void>): Promise<void> {
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const session = new StepSession(ctx, trx);
      await handle(session, jobs);
      await session.flush();
    });
    await boss.complete(queue, jobs.map((j) => j.id));
    return;
  } catch (err) {
    if (jobs.length === 1) {
      ctx.logger.warn({ err, queue, jobId: jobs[0]!.id }, 'job failed; pg-boss will retry it');
      await boss.fail(queue, jobs[0]!.id, { error: (err as Error).message });
      return;
    }
    ctx.logger.warn({ err: (err as Error).message, queue, jobs: jobs.length }, 'batch failed; handling its jobs one by one');
  }
  for (const job of jobs) await inBatch(ctx, boss, queue, [job], handle);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export function startWorkers(
  ctx: RuntimeContext,
  input: { handlers: Readonly<Record<string, JobHandler>>; settings: LifecycleSettings; options?: Partial<WorkerOptions> },
): Workers {
  const { boss, logger } = ctx;
  const options = { ...DEFAULT_WORKER_OPTIONS, ...input.options };
  const log = logger.child({ component: 'worker' });

  const start = new JobLoop<StartJobData>(boss, QUEUES.start, options, (jobs) =>
    inBatch(ctx, boss, QUEUES.start, jobs, async (session, batch) => {
      await startOrderLifecycles(session, batch.map((j) => j.data.orderId), input.settings);
    }),
  log);

  const timers = new JobLoop<TimerJobData>(boss, QUEUES.timer, options, (jobs) =>
    inBatch(ctx, boss, QUEUES.timer, jobs, async (session, batch) => {
      await session.lock(batch.map((j) => j.data.instanceId));
      for (const job of batch) await session.apply(job.data.instanceId, { type: 'timer', timerId: job.data.timerId }, 'timer');
    }),
  log);

  const service = new JobLoop<ServiceJobData>(
    boss,
    QUEUES.service,
    options,
    async (jobs) => {
      // The instances the handlers read, in one round trip for the batch.
      const instances = await ctx.db
        .selectFrom('process_instances')
        .select(['id', 'state', 'order_id', 'status'])
        .where('id', 'in', [...new Set(jobs.map((j) => j.data.instanceId))])
        .execute();
      const byId = new Map(instances.map((i) => [i.id, i]));
      const results = await mapLimit(jobs, options.concurrency, async (job) => runServiceJob(ctx, job, input.handlers, byId.get(job.data.instanceId), options.handlerTimeoutMs));
      const outputs = new Map(results.map((r) => [r.job, r.output]));
      const succeeded = results.filter((r) => r.ok);
      if (succeeded.length > 0) {
        await inBatch(ctx, boss, QUEUES.service, succeeded.map((r) => r.job), async (session, batch) => {
          await session.lock(batch.map((j) => j.data.instanceId));
          for (const job of batch) {
            const output = outputs.get(job);
            await session.apply(job.data.instanceId, { type: 'jobCompleted', jobId: job.data.jobId, output: output ?? undefined }, `job:${job.data.job}`);
          }
        });
      }
      for (const r of results.filter((x) => !x.ok)) {
        const { job } = r;
        if (job.retryCount < job.retryLimit) {
          log.warn({ job: job.data.job, instanceId: job.data.instanceId, attempt: job.retryCount + 1, error: r.error }, 'service task failed; it will be retried');
          await boss.fail(QUEUES.service, job.id, { error: r.error });
          continue;
        }
        log.error({ job: job.data.job, instanceId: job.data.instanceId, error: r.error }, 'service task failed and has no retries left; raising a technical ticket');
        await ctx.db.transaction().execute((trx) => applyEvent(ctx, trx, job.data.instanceId, { type: 'jobFailed', jobId: job.data.jobId, error: r.error! }, `job:${job.data.job}`));
        await boss.fail(QUEUES.service, job.id, { error: r.error, final: true });
      }
    },
    log,
  );

  // Bulk actions run one at a time per worker: each already steps many instances, one transaction per ticket.
  const bulk = new JobLoop<BulkJobData>(boss, QUEUES.bulk, { batchSize: 1, idleMs: options.idleMs }, async (jobs) => {
    for (const job of jobs) {
      try {
        await runBulk(ctx, job.data.operationId);
        await boss.complete(QUEUES.bulk, job.id);
      } catch (err) {
        log.error({ err, operationId: job.data.operationId }, 'bulk operation failed; pg-boss will retry it');
        await boss.fail(QUEUES.bulk, job.id, { error: (err as Error).message });
      }
    }
  }, log);

  // Migrations, like bulk actions, run one at a time per worker, one transaction per instance.
  const migrate = new JobLoop<MigrationJobData>(boss, QUEUES.migrate, { batchSize: 1, idleMs: options.idleMs }, async (jobs) => {
    for (const job of jobs) {
      try {
        await runMigration(ctx, job.data.migrationId);
        await boss.complete(QUEUES.migrate, job.id);
      } catch (err) {
        log.error({ err, migrationId: job.data.migrationId }, 'process migration failed; pg-boss will retry it');
        await boss.fail(QUEUES.migrate, job.id, { error: (err as Error).message });
      }
    }
  }, log);

  const loops = [start, timers, service, bulk, migrate] as JobLoop<unknown>[];
  for (const l of loops) l.start();
  return {
    loops,
    nudge(queue?: string) {
      if (!queue || queue === QUEUES.start) start.nudge();
      if (!queue || queue === QUEUES.timer) timers.nudge();
      if (!queue || queue === QUEUES.service) service.nudge();
      if (!queue || queue === QUEUES.bulk) bulk.nudge();
      if (!queue || queue === QUEUES.migrate) migrate.nudge();
    },
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}

async function runServiceJob(
  ctx: RuntimeContext,
  job: BossJob<ServiceJobData>,
  handlers: Readonly<Record<string, JobHandler>>,
  instance: { state: unknown; order_id: string | null; status: string } | undefined,
  timeoutMs: number,
): Promise<{ job: BossJob<ServiceJobData>; ok: boolean; output?: Record<string, unknown> | void; error?: string }> {
  const handler = handlers[job.data.job];
  if (!handler) return { job, ok: false, error: `No handler for the job "${job.data.job}" in this worker.` };
  if (!instance || instance.status !== 'active') return { job, ok: true, output: undefined };
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const seconds = timeoutMs / 1000;
      const error = new Error(`The handler for "${job.data.job}" did not finish within ${seconds} s; this attempt was abandoned.`);
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const logger = jobLogger(ctx.logger, job.data.job);
  try {
    const running = Promise.resolve(handler({
      key: jobKey(job.data.instanceId, job.data.elementId),
      instanceId: job.data.instanceId,
      orderId: instance.order_id,
      elementId: job.data.elementId,
      variables: (instance.state as { variables: Record<string, unknown> }).variables,
      db: ctx.db,
      logger,
      signal: abort.signal,
    }));
    // An abandoned handler may still settle later: its result is dropped, its failure only logged.
    running.catch((err: unknown) => {
      if (abort.signal.aborted) logger.warn({ instanceId: job.data.instanceId, err: (err as Error)?.message }, 'an abandoned service handler failed after its timeout');
    });
    const output = await Promise.race([running, timedOut]);
    return { job, ok: true, output };
  } catch (err) {
    return { job, ok: false, error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { ValidateOptions } from '../engine/model/validate.ts';
import { createFeelLibrary, FEEL_FUNCTIONS } from '../orders/feel-library.ts';
import { templateError } from '../tickets/instructions.ts';
import { QUEUES } from './boss.ts';
import { startDeadLetterLoops } from './dead-letters.ts';
import { deployDiagram, ModelCache, type DeployResult } from './definitions.ts';
import { type RuntimeContext } from './instances.ts';
import { DEFAULT_JOB_HANDLERS, type JobHandler } from './jobs/index.ts';
import { enqueueLifecycleStart, type LifecycleSettings } from './lifecycle.ts';
import type { IntakeHooks } from './orders.ts';
import { startWorkers, type WorkerOptions, type Workers } from './worker.ts';

/**
 * The runtime as the HTTP side and the worker see it: one context (database, pg-boss, compiled models,
 * FEEL library, clock) and the use cases built on it.
 */
export interface Runtime {
  ctx: RuntimeContext;
  settings: LifecycleSettings;
  validateOptions: ValidateOptions;
  jobHandlers: Readonly<Record<string, JobHandler>>;
  intakeHooks: IntakeHooks;
  deploy(xml: string | Uint8Array, actor: string, fileName?: string | null): Promise<DeployResult>;
  /** Deploy every processes/*.bpmn whose content changed since its last version. */
  deployDefaults(dir: string): Promise<Array<{ file: string; result: DeployResult }>>;
  /** The queue workers, and the loops that turn dead-lettered jobs into tickets (runtime/dead-letters.ts). */
  startWorkers(options?: Partial<WorkerOptions> & { deadLetterIdleMs?: number }): Workers;
  /** After this process enqueued work, have its own workers fetch now instead of at their next poll. */
  nudge(queue?: string): void;
}

export interface RuntimeDeps {
  db: Db;
  boss: PgBoss;
  logger: Logger;
  config: Pick<Config, 'codLimit' | 'paymentTimeout' | 'approvalThreshold'>;
  jobHandlers?: Readonly<Record<string, JobHandler>>;
  clock?: () => Date;
  stepLimit?: number;
}

export function createRuntime(deps: RuntimeDeps): Runtime {
  const jobHandlers = deps.jobHandlers ?? DEFAULT_JOB_HANDLERS;
  const ctx: RuntimeContext = {
    db: deps.db,
    boss: deps.boss,
    models: new ModelCache(),
    feelFunctions: createFeelLibrary({ codLimit: deps.config.codLimit }) as unknown as RuntimeContext['feelFunctions'],
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    stepLimit: deps.stepLimit,
  };
  const settings: LifecycleSettings = {
    paymentTimeout: deps.config.paymentTimeout,
    approvalThreshold: deps.config.approvalThreshold,
    codLimit: deps.config.codLimit,
  };
  const validateOptions: ValidateOptions = {
    knownJobs: Object.keys(jobHandlers),
    feelFunctions: FEEL_FUNCTIONS.map((f) => ({ name: f.name, raises: f.raises })),
    validateTemplate: templateError,
  };
  let workers: Workers | null = null;

  const runtime: Runtime = {
    ctx,
    settings,
    validateOptions,
    jobHandlers,
    intakeHooks: {
      afterCreate: async (trx, order) => {
        await enqueueLifecycleStart(ctx, trx, order.id);
      },
    },
    deploy: (xml, actor, fileName) => deployDiagram(deps.db, xml, { ...validateOptions, actor, fileName }),
    async deployDefaults(dir) {
      const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.bpmn')).sort();
      const out: Array<{ file: string; result: DeployResult }> = [];
      for (const file of files) {
        const result = await runtime.deploy(await readFile(path.join(dir, file)), 'system', file);
        out.push({ file, result });
      }
      return out;
    },
    startWorkers(options) {
      const { deadLetterIdleMs, ...workerOptions } = options ?? {};
      const queues = startWorkers(ctx, { handlers: jobHandlers, settings, options: workerOptions });
      const deadLetters = startDeadLetterLoops(ctx, { settings, ...(deadLetterIdleMs === undefined ? {} : { idleMs: deadLetterIdleMs }) });
      workers = {
        loops: [...queues.loops, ...deadLetters],
        nudge: (queue) => queues.nudge(queue),
        stop: async () => {
          await Promise.all([queues.stop(), ...deadLetters.map((l) => l.stop())]);
        },
      };
      return workers;
    },
    nudge(queue) {
      workers?.nudge(queue ?? QUEUES.start);
    },
  };
  return runtime;
}

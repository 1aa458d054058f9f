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
import { DEFAULT_JOB_HANDLERS, runsInStepTransaction, type JobHandler } from './jobs/index.ts';
import { enqueueLifecycleStart, ORDER_LIFECYCLE_KEY, startLifecyclesAtIntake, startLifecyclesWithNewOrders, type LifecycleSettings } from './lifecycle.ts';
import { IntakeBatcher } from './intake.ts';
import type { IntakeHooks, IntakeResult } from './orders.ts';
import type { Order } from '../orders/schema.ts';
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
  /**
   * Receive an order (idempotent on channel + externalId) and start its lifecycle: concurrent calls share
   * intake transactions (group commit, see intake.ts).
   */
  receive(order: Order, actor: string): Promise<IntakeResult>;
  /** How intake has batched so far. */
  intakeStats(): { batches: number; largest: number; failed: number };
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
  config: Pick<Config, 'codLimit' | 'paymentTimeout' | 'approvalThreshold'> & Partial<Pick<Config, 'lifecycleStart'>>;
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
    inlineJobs: Object.fromEntries(Object.entries(jobHandlers).filter(([, h]) => runsInStepTransaction(h))),
  };
  const startAtIntake = (deps.config.lifecycleStart ?? 'intake') === 'intake';
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

  let batcher: IntakeBatcher | null = null;
  const runtime: Runtime = {
    ctx,
    settings,
    validateOptions,
    jobHandlers,
    intakeHooks: {
      ...(startAtIntake
        ? {
            definitionKey: ORDER_LIFECYCLE_KEY,
            receiveNew: (trx, orders, definition) => startLifecyclesWithNewOrders(ctx, trx, orders, settings, definition),
            knownDefinition: { current: null },
          }
        : {}),
      afterCreate: async (trx, orders, { retriedAlone, definition }) => {
        if (!startAtIntake) {
          await enqueueLifecycleStart(ctx, trx, ...orders.map((o) => o.id));
          return;
        }
        const after = await startLifecyclesAtIntake(ctx, trx, orders, settings, { retriedAlone, definition });
        return orders.map((order, i) => {
          const now = after[i];
          if (!now) return order;
          return { ...order, status: now.status, data: (now.data ?? order.data) as typeof order.data };
        });
      },
    },
    receive(order, actor) {
      batcher ??= new IntakeBatcher(deps.db, runtime.intakeHooks, deps.logger);
      return batcher.receive(order, actor);
    },
    intakeStats: () => ({ ...(batcher?.stats ?? { batches: 0, largest: 0, failed: 0 }) }),
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

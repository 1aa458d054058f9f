import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { Order } from '../orders/schema.ts';
import { receiveOrder, receiveOrders, type IntakeHooks, type IntakeItem, type IntakeResult } from './orders.ts';

export interface IntakeBatcherOptions {
  /** Orders per transaction at most. */
  maxBatch: number;
  /** Intake transactions in flight at once (each holds a pooled connection). */
  maxInFlight: number;
}

export const DEFAULT_INTAKE_OPTIONS: IntakeBatcherOptions = { maxBatch: 64, maxInFlight: 2 };

interface Waiting extends IntakeItem {
  resolve(result: IntakeResult): void;
  reject(err: unknown): void;
}

/**
 * Group commit for intake. An order that arrives while no intake transaction is free waits for one, and
 * every order that waited goes into the next transaction together: one commit, one statement per table
 * for all of them. An order that finds a transaction free starts one at once, so a quiet shop sees no
 * added latency and a busy one gets bigger batches. Each caller gets the answer `receiveOrder` would
 * have given; when a batch fails, its orders are received one by one so one bad order fails alone.
 */
export class IntakeBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  /** Intake transactions run so far and the most orders one carried (metrics, tests). */
  readonly stats = { batches: 0, largest: 0 };
  private readonly options: IntakeBatcherOptions;

  constructor(
    private readonly db: Db,
    private readonly hooks: IntakeHooks,
    private readonly logger: Logger,
    options: Partial<IntakeBatcherOptions> = {},
  ) {
    this.options = { ...DEFAULT_INTAKE_OPTIONS, ...options };
  }

  receive(order: Order, actor: string): Promise<IntakeResult> {
    return new Promise<IntakeResult>((resolve, reject) => {
      this.waiting.push({ order, actor, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.stats.batches++;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const results = await receiveOrders(this.db, batch, this.hooks, { retriedAlone: true });
        batch.forEach((w, i) => w.resolve(results[i]!));
        return;
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, orders: batch.length }, 'intake batch failed; receiving its orders one by one');
      }
    }
    for (const w of batch) {
      try {
        w.resolve(await receiveOrder(this.db, w.order, w.actor, this.hooks));
      } catch (err) {
        w.reject(err);
      }
    }
  }
}

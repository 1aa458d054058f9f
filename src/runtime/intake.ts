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
 * the orders that waited go into the next transactions together, shared out over the free ones: one
 * commit, one statement per table for each share. An order that finds a transaction free starts one at
 * the end of the event-loop turn (with whatever else arrived in it), so a quiet shop sees no added
 * latency and a busy one gets bigger batches. Each caller gets the answer `receiveOrder` would have
 * given; when a batch fails, its orders are received one by one so one bad order fails alone.
 */
export class IntakeBatcher {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  /** Intake transactions run so far, the most orders one carried, and batches received again one by one (metrics, tests). */
  readonly stats = { batches: 0, largest: 0, failed: 0 };
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
      this.schedule();
    });
  }

  /**
   * Batches start at the end of the event-loop turn, not at the first order: the answers of a finished
   * batch release their callers together, and what those callers send next (the requests one socket read
   * delivered, too) goes into one transaction instead of the first order taking a free one alone.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private scheduled = false;

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      // Shared out over the free transactions: while one batch is in PostgreSQL the next one's lifecycles
      // run here, instead of one batch carrying everything and the other transaction idle.
      const free = this.options.maxInFlight - this.inFlight;
      const batch = this.waiting.splice(0, Math.min(this.options.maxBatch, Math.ceil(this.waiting.length / free)));
      this.inFlight++;
      this.stats.batches++;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    // A lone order too, when intake can write new orders once (`receiveNew`): the one-by-one way writes
    // each order and then its status.
    if (batch.length > 1 || this.hooks.receiveNew) {
      try {
        const results = await receiveOrders(this.db, batch, this.hooks, { retriedAlone: true });
        batch.forEach((w, i) => w.resolve(results[i]!));
        return;
      } catch (err) {
        this.stats.failed++;
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

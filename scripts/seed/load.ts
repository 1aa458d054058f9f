/**
 * `seedOrders`: N realistic orders (scripts/bench/orders.ts, SEED_MIX) arriving over the past weeks,
 * each written as the running engine would have left it (scripts/seed/shapes.ts): the order, its
 * events, its lifecycle instance with state and history, its ticket and the ticket's events, the job
 * effects. Rows go in batches of a few thousand orders, one transaction per batch and one multi-row
 * INSERT … SELECT FROM json_to_recordset per table, two batches in flight while the next is built.
 * Indexes, constraints and triggers stay as the app has them.
 */
import { sql } from 'kysely';
import type { Db, Tx } from '../../src/db/database.ts';
import { newId } from '../../src/db/ids.ts';
import type { Order } from '../../src/orders/schema.ts';
import type { Runtime } from '../../src/runtime/index.ts';
import { orderStream, prng, SEED_MIX } from '../bench/orders.ts';
import { captureShapes, classify, contextFor, orderRowJson, renderHistory, renderRows, SEED_TABLES, SeedError, verifyAgainstEngine, type SeedTable, type ShapeKey } from './shapes.ts';

export interface SeedOptions {
  orders: number;
  /** Share of orders that arrive with a defect (each becomes an open ticket). */
  defectRate: number;
  /** PRNG seed: the same seed makes the same orders (and order numbers, so a seed loads once per database). */
  seed: number;
  /** Orders arrive evenly over this many days up to `now`. */
  days: number;
  batchSize: number;
  /** Batches being inserted at once while the next is built. */
  inFlight: number;
  now?: Date;
  log?: (line: string) => void;
  progressEveryMs?: number;
}

export const DEFAULT_SEED_OPTIONS = { orders: 10_000, defectRate: 0.1, seed: 1, days: 56, batchSize: 2_000, inFlight: 2 } as const;

export interface SeedResult {
  orders: number;
  /** Orders per shape (where the lifecycle left them). */
  shapes: Record<ShapeKey, number>;
  openTickets: number;
  rows: Record<SeedTable | 'orders', number>;
  /** Orders whose shape was checked against the engine's own start step. */
  verifiedWithEngine: number;
  templateSeconds: number;
  loadSeconds: number;
  timings: SeedTimings;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Delivery comes 1.5 to 6 days after the order arrived; older released orders are completed. */
const DELIVERY_MIN_MS = 1.5 * DAY_MS;
const DELIVERY_SPREAD_MS = 4.5 * DAY_MS;
/** Orders checked against the engine's start step: all of the first ones, then one in this many. */
const ENGINE_CHECK_FIRST = 500;
const ENGINE_CHECK_EVERY = 250;
/** Orders built between two turns of the event loop. */
const YIELD_EVERY = 25;

type Batch = Record<SeedTable | 'orders', string[]>;
/** Tables whose rows are rendered whole per order; the history goes compact (see insertBatch). */
const ROW_TABLES = SEED_TABLES.filter((t) => t !== 'instance_history');

const emptyBatch = (): Batch => ({ orders: [], order_events: [], process_instances: [], instance_history: [], tickets: [], ticket_events: [], job_effects: [] });

/** Milliseconds spent per statement (summed over batches, which overlap) and building rows in Node. */
export type SeedTimings = Record<SeedTable | 'orders' | 'build', number>;

async function timed(timings: SeedTimings, key: keyof SeedTimings, work: Promise<unknown>): Promise<void> {
  const t = performance.now();
  await work;
  timings[key] += performance.now() - t;
}

async function insertBatch(trx: Tx, b: Batch, historyTemplate: string, timings: SeedTimings): Promise<void> {
  const json = (rows: string[]) => '[' + rows.join(',') + ']';
  // A crash mid-seed loses whole batches only; nothing else waits on these commits.
  await sql`set local synchronous_commit = off`.execute(trx);
  // The ordered inserts sort a batch's rows: in memory, not in temporary files.
  await sql`set local work_mem = '256MB'`.execute(trx);
  await timed(timings, 'orders', sql`
    insert into orders (id, channel, external_id, status, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at, revision, created_at, updated_at)
    select id, channel, external_id, status, data, body_hash, customer_name, customer_email, country, currency, grand_total_minor, placed_at, revision, created_at, updated_at
    from json_to_recordset(${json(b.orders)}::json) as r(id uuid, channel text, external_id text, status text, data jsonb, body_hash text, customer_name text,
      customer_email text, country text, currency text, grand_total_minor bigint, placed_at timestamptz, revision int, created_at timestamptz, updated_at timestamptz)`.execute(trx));
  await timed(timings, 'order_events', sql`
    insert into order_events (order_id, at, actor, kind, data)
    select order_id, at, actor, kind, data
    from rows from (json_to_recordset(${json(b.order_events)}::json) as (order_id uuid, at timestamptz, actor text, kind text, data jsonb)) with ordinality as r(order_id, at, actor, kind, data, n)
    order by n`.execute(trx));
  await timed(timings, 'process_instances', sql`
    insert into process_instances (id, definition_id, process_key, version, business_key, order_id, parent_id, parent_wait_id, status, state, waiting_at, waiting_messages, revision, created_at, updated_at, ended_at)
    select id, definition_id, process_key, version, business_key, order_id, parent_id, parent_wait_id, status, state, waiting_at, waiting_messages, revision, created_at, updated_at, ended_at
    from json_to_recordset(${json(b.process_instances)}::json) as r(id uuid, definition_id uuid, process_key text, version int, business_key text, order_id uuid, parent_id uuid,
      parent_wait_id text, status text, state jsonb, waiting_at text[], waiting_messages text[], revision int, created_at timestamptz, updated_at timestamptz, ended_at timestamptz)`.execute(trx));
  // Per order only its instance, times and the data that differs; the shape's template rows are joined in here.
  // One instance_history_steps row per instance (migration 0010), its entries in the template's order,
  // each [element_id, element_type, event, at, actor, data] with data left out when there is none.
  await timed(timings, 'instance_history', sql`
    with t as materialized (
      select * from json_to_recordset(${historyTemplate}::json) as t(s int, seq int, element_id text, element_type text, event text, actor text, phase int, ms bigint, data jsonb, v int)
    )
    insert into instance_history_steps (instance_id, entries)
    select o.i, json_agg(json_build_array(t.element_id, t.element_type, t.event, (case t.phase when 0 then o.b0 else o.b1 end) + t.ms * interval '1 millisecond', t.actor)::jsonb
             || case when x.d is null then '[]'::jsonb else jsonb_build_array(x.d) end order by t.seq)
    from rows from (json_to_recordset(${json(b.instance_history)}::json) as (i uuid, s int, b0 timestamptz, b1 timestamptz, v jsonb)) with ordinality as o(i, s, b0, b1, v, n)
    join t on t.s = o.s
    cross join lateral (select case when t.v is null then t.data else o.v -> t.v end as d) x
    group by o.n, o.i
    order by o.n`.execute(trx));
  if (b.tickets.length > 0) {
    await timed(timings, 'tickets', sql`
      with t as (
        insert into tickets (order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title, issues, codes, instructions, fields, error, assignee_id, revision, created_at, updated_at, closed_at)
        select order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title, issues, codes, instructions, fields, error, assignee_id, revision, created_at, updated_at, closed_at
        from rows from (json_to_recordset(${json(b.tickets)}::json) as (order_id uuid, instance_id uuid, wait_id text, element_id text, element_name text, kind text, status text, queue text,
          priority text, priority_rank smallint, due_at timestamptz, title text, issues jsonb, codes text[], instructions jsonb, fields jsonb, error text, assignee_id uuid, revision int,
          created_at timestamptz, updated_at timestamptz, closed_at timestamptz))
          with ordinality as r(order_id, instance_id, wait_id, element_id, element_name, kind, status, queue, priority, priority_rank, due_at, title, issues, codes, instructions, fields, error,
            assignee_id, revision, created_at, updated_at, closed_at, n)
        order by n
        returning id, instance_id, wait_id
      )
      insert into ticket_events (ticket_id, at, actor, kind, data)
      select t.id, e.at, e.actor, e.kind, e.data
      from rows from (json_to_recordset(${json(b.ticket_events)}::json) as (instance_id uuid, wait_id text, at timestamptz, actor text, kind text, data jsonb))
        with ordinality as e(instance_id, wait_id, at, actor, kind, data, n)
      join t on t.instance_id = e.instance_id and t.wait_id = e.wait_id
      order by e.n`.execute(trx));
  }
  if (b.job_effects.length > 0) {
    await timed(timings, 'job_effects', sql`
      insert into job_effects (key, job, order_id, instance_id, data, at)
      select key, job, order_id, instance_id, data, at
      from json_to_recordset(${json(b.job_effects)}::json) as r(key text, job text, order_id uuid, instance_id uuid, data jsonb, at timestamptz)`.execute(trx));
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
}

/** Seed `options.orders` orders into the database the runtime works on. */
export async function seedOrders(runtime: Runtime, db: Db, input: Partial<SeedOptions> = {}): Promise<SeedResult> {
  const options: SeedOptions = { ...DEFAULT_SEED_OPTIONS, ...input };
  const log = options.log ?? (() => undefined);
  if (!Number.isInteger(options.orders) || options.orders < 1) throw new SeedError('--orders must be a whole number of at least 1.');
  if (!(options.defectRate >= 0 && options.defectRate <= 1)) throw new SeedError('--defect-rate must be between 0 and 1.');
  const N = options.orders;
  const prefix = `S${options.seed}`;
  const first = orderStream(1, { defectRate: options.defectRate, seed: options.seed, prefix, mix: SEED_MIX }).next().value as Order;
  const existing = await db.selectFrom('orders').select('id').where('channel', '=', first.channel).where('external_id', '=', first.externalId).executeTakeFirst();
  if (existing) throw new SeedError(`Orders of seed ${options.seed} are in this database already (${first.externalId}); seed again with another --seed.`);

  const t0 = performance.now();
  const { shapes, model } = await captureShapes(runtime, db, { seed: options.seed, log });
  const templateSeconds = (performance.now() - t0) / 1000;

  // Arrival times: evenly over the period, a little jitter, oldest first; delivery some days later.
  const now = (options.now ?? new Date()).getTime();
  const start = now - options.days * DAY_MS;
  const span = now - 60_000 - start;
  const timeRandom = prng(options.seed ^ 0x7173);
  const arrival = (n: number) => Math.floor(start + ((n + timeRandom()) * span) / N);
  const arrivals = new Float64Array(N);
  const lib = runtime.ctx.feelFunctions as Record<string, (...args: unknown[]) => unknown>;
  const settings = runtime.settings;
  const orders = orderStream(N, {
    defectRate: options.defectRate,
    seed: options.seed,
    prefix,
    mix: SEED_MIX,
    // Placed in the shop a few seconds to two minutes before the channel sent it.
    placedAt: (n) => {
      arrivals[n] = arrival(n);
      return new Date(arrivals[n]! - 2_000 - Math.floor(timeRandom() * 118_000)).toISOString();
    },
  });

  const shapeCounts = Object.fromEntries([...shapes.keys()].map((k) => [k, 0])) as Record<ShapeKey, number>;
  const rows = Object.fromEntries(['orders', ...SEED_TABLES].map((t) => [t, 0])) as Record<SeedTable | 'orders', number>;
  const timings = Object.fromEntries(['build', 'orders', ...SEED_TABLES].map((t) => [t, 0])) as SeedTimings;
  let openTickets = 0;
  let verified = 0;
  let done = 0;
  let batch = emptyBatch();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const t1 = performance.now();
  let lastReport = t1;

  const flush = async (b: Batch, count: number, historyRows: number) => {
    while (inFlight.size >= options.inFlight) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = db
      .transaction()
      .execute((trx) => insertBatch(trx, b, historyTemplate, timings))
      .then(() => {
        done += count;
        for (const t of Object.keys(b) as Array<keyof Batch>) rows[t] += t === 'instance_history' ? historyRows : b[t].length;
        const at = performance.now();
        if (at - lastReport >= (options.progressEveryMs ?? 5_000) || done === N) {
          lastReport = at;
          const s = (at - t1) / 1000;
          const total = Object.values(rows).reduce((x, y) => x + y, 0);
          const eta = done < N ? `, about ${formatDuration(((N - done) * s) / done)} to go` : '';
          log(`  ${done.toLocaleString('en')} / ${N.toLocaleString('en')} orders (${((done / N) * 100).toFixed(0)} %) · ${Math.round(done / s).toLocaleString('en')} orders/s · ${Math.round(total / s).toLocaleString('en')} rows/s${eta}`);
        }
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const shapeIndex = new Map([...shapes.keys()].map((k, i) => [k, i]));
  const historyTemplate = JSON.stringify([...shapes.values()].flatMap((shape, s) => shape.history.template.map((row) => ({ s, ...row }))));
  let batchHistoryRows = 0;
  const deliveryRandom = prng(options.seed ^ 0xde11);
  let n = 0;
  let inBatch = 0;
  let buildStart = performance.now();
  for (const order of orders) {
    const deliveredAt = Math.floor(arrivals[n]! + DELIVERY_MIN_MS + deliveryRandom() * DELIVERY_SPREAD_MS);
    const verdict = classify(order, lib, settings, deliveredAt < now - 60_000);
    const shape = shapes.get(verdict.shape)!;
    // Ids as intake and the engine make them (src/db/ids.ts), dated when the order arrived.
    const ids = { orderId: newId(arrivals[n]!), instanceId: newId(arrivals[n]!) };
    if (n < ENGINE_CHECK_FIRST || n % ENGINE_CHECK_EVERY === 0) {
      verifyAgainstEngine(shape, model, lib, settings, order, ids.orderId, verdict);
      verified++;
    }
    const orderJson = JSON.stringify(order);
    const context = contextFor(shape, model, order, orderJson, verdict, ids, [arrivals[n]!, deliveredAt]);
    batch.orders.push(orderRowJson(order, orderJson, shape, context));
    const r = renderRows(shape, context, ROW_TABLES);
    for (const t of ROW_TABLES) for (const row of r[t]) batch[t].push(row);
    batch.instance_history.push(renderHistory(shape, shapeIndex.get(verdict.shape)!, context));
    batchHistoryRows += shape.history.template.length;
    shapeCounts[verdict.shape]++;
    if (shape.ticket) openTickets++;
    n++;
    // Building is synchronous: yield now and then so the batches in flight get their next statement sent.
    if (n % YIELD_EVERY === 0) {
      timings.build += performance.now() - buildStart;
      await new Promise((r) => setImmediate(r));
      buildStart = performance.now();
    }
    if (++inBatch >= options.batchSize) {
      timings.build += performance.now() - buildStart;
      await flush(batch, inBatch, batchHistoryRows);
      buildStart = performance.now();
      batch = emptyBatch();
      inBatch = 0;
      batchHistoryRows = 0;
    }
  }
  timings.build += performance.now() - buildStart;
  if (inBatch > 0) await flush(batch, inBatch, batchHistoryRows);
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { orders: N, shapes: shapeCounts, openTickets, rows, verifiedWithEngine: verified, templateSeconds, loadSeconds: (performance.now() - t1) / 1000, timings };
}

/** What autovacuum would get to eventually, now: fresh statistics and visibility maps for the console's queries. */
export async function vacuumSeededTables(db: Db): Promise<void> {
  for (const table of ['orders', ...SEED_TABLES]) await sql`vacuum (analyze) ${sql.table(table)}`.execute(db);
}

import { sql } from 'kysely';
import type { CompiledElement, CompiledProcess, InstanceState } from '../engine/index.ts';
import type { DbOrTx, Tx } from '../db/database.ts';
import type { ProcessDefinitionRow } from '../db/tables/processes.table.ts';
import { OPEN_TICKET_STATUSES } from '../db/tables/tickets.table.ts';
import { bossDb, QUEUES } from './boss.ts';
import { latestDefinition } from './definitions.ts';
import { appendHistory } from './history.ts';
import { deriveOrderStatus, lockInstance, type RuntimeContext } from './instances.ts';
import { isUuid } from './orders.ts';

/**
 * Moving running instances from version k of a process to its latest version, where the element ids map.
 *
 * An instance maps when everything its state points at exists in the target with the same meaning:
 * every element a token is at (same kind, same sub-process, multi-instance or not alike), every
 * sub-process it runs inside, every event it listens for (same message name; the event-gateway branch
 * leading to it), every boundary event armed for it (on the same activity), and the flows its joining
 * tokens arrived by. Then its state stays valid as it is and only `definition_id`/`version` change: the
 * next event is stepped with the target's model. What is already scheduled stays as it was: timers keep
 * their due time, running jobs finish, open tickets keep their texts (new tickets use the new texts).
 *
 * The move runs as a background job (queue `ordo-migrate`), one transaction per instance: lock it,
 * judge it again on its current state, re-point it, write a `migrated` history row. Instances that do not
 * map are left alone and listed with the reason.
 */

export const MIGRATION_LIST_LIMIT = 100;
const BATCH_SIZE = 100;
const PROGRESS_EVERY = 10;
const SKIPPED_KEPT = 200;

export type MigrationErrorCode = 'NOT_FOUND' | 'NOTHING_TO_MIGRATE';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface MigrationJobData {
  migrationId: string;
}

const KIND_LABELS: Record<CompiledElement['kind'], string> = {
  startEvent: 'start event',
  endEvent: 'end event',
  intermediateCatchEvent: 'catch event',
  boundaryEvent: 'boundary event',
  passThrough: 'task',
  scriptTask: 'script task',
  serviceTask: 'service task',
  userTask: 'user task',
  receiveTask: 'receive task',
  exclusiveGateway: 'exclusive gateway',
  parallelGateway: 'parallel gateway',
  inclusiveGateway: 'inclusive gateway',
  eventBasedGateway: 'event-based gateway',
  subProcess: 'sub-process',
  callActivity: 'call activity',
};

function messageOf(el: CompiledElement | undefined): string | null {
  if (!el) return null;
  if (el.kind === 'intermediateCatchEvent' || el.kind === 'startEvent' || el.kind === 'receiveTask') return el.messageName;
  return null;
}

/**
 * Why an instance in this state cannot move from `from` to `to` (empty: it maps). Pure.
 */
export function unmappableReasons(state: InstanceState, from: CompiledProcess, to: CompiledProcess, toVersion: number): string[] {
  const reasons = new Set<string>();
  const target = `version ${toVersion}`;
  const label = (id: string) => {
    const name = from.elements[id]?.name ?? to.elements[id]?.name;
    return name ? `“${name}” (${id})` : id;
  };
  const sameElement = (id: string, what: string): boolean => {
    const a = from.elements[id];
    const b = to.elements[id];
    if (!b) {
      reasons.add(`${what} ${label(id)}, which ${target} does not have.`);
      return false;
    }
    if (a && a.kind !== b.kind) {
      reasons.add(`${label(id)} is a ${KIND_LABELS[a.kind]} here but a ${KIND_LABELS[b.kind]} in ${target}.`);
      return false;
    }
    if (a && a.scopeId !== b.scopeId) reasons.add(`${label(id)} sits in another sub-process in ${target}.`);
    if (a && !!a.multiInstance !== !!b.multiInstance) reasons.add(`${label(id)} is ${a.multiInstance ? '' : 'not '}multi-instance here but ${b.multiInstance ? '' : 'not '}in ${target}.`);
    return true;
  };

  for (const token of state.tokens) {
    if (!sameElement(token.elementId, 'It waits at')) continue;
    if (token.status === 'joining' && token.viaFlow) {
      const f = to.flows[token.viaFlow];
      if (!f || f.targetId !== token.elementId) reasons.add(`It waits at the join ${label(token.elementId)} by the flow ${token.viaFlow}, which ${target} does not have.`);
    }
  }
  for (const scope of state.scopes) {
    if (scope.kind === 'process') continue;
    sameElement(scope.elementId, 'It runs inside');
  }
  for (const wait of state.waits) {
    if (wait.role === 'option') {
      if (!sameElement(wait.elementId, 'It listens for the event of')) continue;
      const f = wait.flowId ? to.flows[wait.flowId] : undefined;
      if (wait.flowId && (!f || f.targetId !== wait.elementId)) reasons.add(`The branch to ${label(wait.elementId)} (${wait.flowId}) is gone or leads elsewhere in ${target}.`);
    } else if (wait.role === 'boundary') {
      if (!sameElement(wait.elementId, 'It has the boundary event')) continue;
      const a = from.elements[wait.elementId];
      const b = to.elements[wait.elementId];
      if (a?.kind === 'boundaryEvent' && b?.kind === 'boundaryEvent' && a.attachedTo !== b.attachedTo) reasons.add(`The boundary event ${label(wait.elementId)} sits on another activity in ${target}.`);
    }
    if (wait.kind === 'message' && wait.messageName) {
      const now = messageOf(to.elements[wait.elementId]);
      if (to.elements[wait.elementId] && now !== wait.messageName) {
        reasons.add(`It waits for the message “${wait.messageName}” at ${label(wait.elementId)}, which in ${target} waits for ${now ? `“${now}”` : 'no message'}.`);
      }
    }
  }
  return [...reasons];
}

export interface MigrationCandidate {
  instanceId: string;
  orderId: string | null;
  externalId: string | null;
  waitingAt: Array<{ id: string; name: string | null }>;
  reasons: string[];
}

export interface MigrationPreview {
  key: string;
  fromVersion: number;
  toVersion: number;
  /** Active instances of the source version. */
  total: number;
  mappable: number;
  unmappable: number;
  /** The first MIGRATION_LIST_LIMIT of each, in instance id order. */
  mappableList: MigrationCandidate[];
  unmappableList: MigrationCandidate[];
  /** Unmappable instances per reason, most frequent first. */
  reasons: Array<{ reason: string; count: number }>;
}

async function versions(db: DbOrTx, key: string, fromVersion: number): Promise<{ from: ProcessDefinitionRow; to: ProcessDefinitionRow }> {
  const to = await latestDefinition(db, key, { executableOnly: true });
  if (!to) throw new MigrationError('NOT_FOUND', `No executable process "${key}" is deployed.`);
  const from = await db.selectFrom('process_definitions').selectAll().where('key', '=', key).where('version', '=', fromVersion).executeTakeFirst();
  if (!from) throw new MigrationError('NOT_FOUND', `Process "${key}" has no version ${fromVersion}.`);
  if (!from.executable) throw new MigrationError('NOTHING_TO_MIGRATE', `Version ${fromVersion} of "${key}" is documentation only: no instances run on it.`);
  if (from.version >= to.version) throw new MigrationError('NOTHING_TO_MIGRATE', `Version ${fromVersion} is the latest version of "${key}": there is nothing newer to move its instances to.`);
  return { from, to };
}

/** Which active instances of version `fromVersion` would move to the latest version, and why the others would not. */
export async function previewMigration(ctx: Pick<RuntimeContext, 'db' | 'models'>, key: string, fromVersion: number): Promise<MigrationPreview> {
  const { db } = ctx;
  const { from, to } = await versions(db, key, fromVersion);
  const [fromModel, toModel] = await Promise.all([ctx.models.get(db, from.id), ctx.models.get(db, to.id)]);
  const preview: MigrationPreview = { key, fromVersion: from.version, toVersion: to.version, total: 0, mappable: 0, unmappable: 0, mappableList: [], unmappableList: [], reasons: [] };
  const reasonCounts = new Map<string, number>();
  let cursor: string | null = null;
  for (;;) {
    let q = db
      .selectFrom('process_instances as i')
      .leftJoin('orders as o', 'o.id', 'i.order_id')
      .select(['i.id', 'i.order_id', 'i.state', 'i.waiting_at', 'o.external_id'])
      .where('i.definition_id', '=', from.id)
      .where('i.status', '=', 'active');
    if (cursor) q = q.where('i.id', '>', cursor);
    const rows = await q.orderBy('i.id').limit(500).execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const reasons = unmappableReasons(r.state as InstanceState, fromModel, toModel, to.version);
      const candidate: MigrationCandidate = {
        instanceId: r.id,
        orderId: r.order_id,
        externalId: r.external_id,
        waitingAt: r.waiting_at.map((id) => ({ id, name: fromModel.elements[id]?.name ?? null })),
        reasons,
      };
      preview.total++;
      if (reasons.length === 0) {
        preview.mappable++;
        if (preview.mappableList.length < MIGRATION_LIST_LIMIT) preview.mappableList.push(candidate);
      } else {
        preview.unmappable++;
        if (preview.unmappableList.length < MIGRATION_LIST_LIMIT) preview.unmappableList.push(candidate);
        for (const reason of reasons) reasonCounts.set(reason, (reasonCounts.get(reason) ?? 0) + 1);
      }
    }
    cursor = rows[rows.length - 1]!.id;
  }
  preview.reasons = [...reasonCounts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return preview;
}

/** Queue the move of version `fromVersion`'s instances to the latest version; returns the migration id. */
export async function startMigration(ctx: Pick<RuntimeContext, 'db' | 'boss'>, key: string, fromVersion: number, actor: string): Promise<string> {
  return ctx.db.transaction().execute(async (trx) => {
    const { from, to } = await versions(trx, key, fromVersion);
    const count = await trx
      .selectFrom('process_instances')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('definition_id', '=', from.id)
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    const total = Number(count.n);
    if (total === 0) throw new MigrationError('NOTHING_TO_MIGRATE', `No instances run on version ${fromVersion} of "${key}" any more.`);
    const row = await trx
      .insertInto('process_migrations')
      .values({ process_key: key, from_definition_id: from.id, to_definition_id: to.id, from_version: from.version, to_version: to.version, actor, total })
      .returning('id')
      .executeTakeFirstOrThrow();
    await ctx.boss.insert([{ name: QUEUES.migrate, data: { migrationId: row.id } satisfies MigrationJobData }], { db: bossDb(trx) });
    return row.id;
  });
}

export interface MigrationView {
  id: string;
  key: string;
  fromVersion: number;
  toVersion: number;
  actor: string;
  status: 'queued' | 'running' | 'done';
  total: number;
  done: number;
  migrated: number;
  skipped: number;
  percent: number;
  skippedInstances: Array<{ instanceId: string; reasons: string[] }>;
  createdAt: string;
  finishedAt: string | null;
}

function toView(row: Awaited<ReturnType<typeof migrationRow>>): MigrationView | null {
  if (!row) return null;
  return {
    id: row.id,
    key: row.process_key,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    actor: row.actor,
    status: row.status,
    total: row.total,
    done: row.done,
    migrated: row.migrated,
    skipped: row.skipped,
    percent: row.status === 'done' || row.total === 0 ? 100 : Math.min(99, Math.floor((row.done / row.total) * 100)),
    skippedInstances: row.skipped_instances as MigrationView['skippedInstances'],
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

function migrationRow(db: DbOrTx, id: string) {
  return db.selectFrom('process_migrations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getMigration(db: DbOrTx, id: string): Promise<MigrationView | null> {
  if (!isUuid(id)) return null;
  return toView(await migrationRow(db, id));
}

/** The latest migrations of a process, newest first. */
export async function recentMigrations(db: DbOrTx, key: string, limit = 5): Promise<MigrationView[]> {
  const rows = await db.selectFrom('process_migrations').selectAll().where('process_key', '=', key).orderBy('created_at', 'desc').limit(limit).execute();
  return rows.map((r) => toView(r)!);
}

type MoveOutcome = { moved: true } | { moved: false; reasons: string[] };

/** One instance, one transaction: lock, judge on its current state, re-point, record. */
async function moveInstance(ctx: RuntimeContext, trx: Tx, instanceId: string, m: { id: string; from_definition_id: string; to_definition_id: string; from_version: number; to_version: number; process_key: string; actor: string }, from: CompiledProcess, to: CompiledProcess): Promise<MoveOutcome> {
  const row = await lockInstance(trx, instanceId);
  if (!row || row.status !== 'active' || row.definition_id !== m.from_definition_id) {
    return { moved: false, reasons: [`It no longer runs on version ${m.from_version} (it ended or moved meanwhile).`] };
  }
  const state = row.state as InstanceState;
  const reasons = unmappableReasons(state, from, to, m.to_version);
  if (reasons.length > 0) return { moved: false, reasons };
  const now = ctx.clock();
  await trx
    .updateTable('process_instances')
    .set({ definition_id: m.to_definition_id, version: m.to_version, revision: row.revision + 1, updated_at: now })
    .where('id', '=', row.id)
    .execute();
  await appendHistory(trx, row.id, [
    {
      element_id: m.process_key,
      element_type: 'bpmn:Process',
      event: 'migrated',
      at: now.toISOString(),
      actor: m.actor,
      data: { fromVersion: m.from_version, toVersion: m.to_version, migrationId: m.id },
    },
  ]);
  // The target may declare another ordo:status where the order waits: keep the order's status honest.
  if (row.order_id && !row.parent_id) {
    const order = await trx.selectFrom('orders').select(['id', 'status']).where('id', '=', row.order_id).forUpdate().executeTakeFirst();
    if (order) {
      const open = await trx
        .selectFrom('tickets')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('order_id', '=', order.id)
        .where('status', 'in', OPEN_TICKET_STATUSES)
        .executeTakeFirstOrThrow();
      const status = deriveOrderStatus(to, state, Number(open.n));
      if (status !== order.status) {
        await trx.updateTable('orders').set({ status, updated_at: now, revision: sql<number>`revision + 1` }).where('id', '=', order.id).execute();
        await trx.insertInto('order_events').values({ order_id: order.id, actor: m.actor, kind: 'status', data: JSON.stringify({ from: order.status, to: status }) }).execute();
      }
    }
  }
  return { moved: true };
}

/**
 * Carry out a migration (the `ordo-migrate` job). Safe to run twice: moved instances no longer match the
 * source version, and a redelivered job resumes after `last_instance_id`.
 */
export async function runMigration(ctx: RuntimeContext, migrationId: string): Promise<void> {
  const m = await migrationRow(ctx.db, migrationId);
  if (!m || m.status === 'done') return;
  await ctx.db.updateTable('process_migrations').set({ status: 'running' }).where('id', '=', m.id).execute();
  const [from, to] = await Promise.all([ctx.models.get(ctx.db, m.from_definition_id), ctx.models.get(ctx.db, m.to_definition_id)]);

  let cursor = m.last_instance_id;
  let keptSkipped = m.skipped;
  let pending = { done: 0, migrated: 0, skipped: 0, skippedInstances: [] as Array<{ instanceId: string; reasons: string[] }> };
  const flush = async (final: boolean) => {
    await ctx.db
      .updateTable('process_migrations')
      .set({
        done: sql<number>`done + ${pending.done}`,
        migrated: sql<number>`migrated + ${pending.migrated}`,
        skipped: sql<number>`skipped + ${pending.skipped}`,
        skipped_instances: sql<string>`skipped_instances || ${JSON.stringify(pending.skippedInstances)}::jsonb`,
        last_instance_id: cursor,
        ...(final ? { status: 'done' as const, finished_at: ctx.clock() } : {}),
      })
      .where('id', '=', m.id)
      .execute();
    pending = { done: 0, migrated: 0, skipped: 0, skippedInstances: [] };
  };

  for (;;) {
    let q = ctx.db.selectFrom('process_instances').select('id').where('definition_id', '=', m.from_definition_id).where('status', '=', 'active');
    if (cursor) q = q.where('id', '>', cursor);
    const batch = await q.orderBy('id').limit(BATCH_SIZE).execute();
    if (batch.length === 0) break;
    for (const { id } of batch) {
      const outcome = await ctx.db.transaction().execute((trx) => moveInstance(ctx, trx, id, m, from, to));
      cursor = id;
      pending.done++;
      if (outcome.moved) pending.migrated++;
      else {
        pending.skipped++;
        if (keptSkipped++ < SKIPPED_KEPT) pending.skippedInstances.push({ instanceId: id, reasons: outcome.reasons });
      }
      if (pending.done >= PROGRESS_EVERY) await flush(false);
    }
  }
  await flush(true);
  ctx.logger.info({ migrationId: m.id, key: m.process_key, from: m.from_version, to: m.to_version }, 'process migration finished');
}

import { sql } from 'kysely';
import { transaction } from '../db/transaction.ts';
import { applyEvent, startInstance, type RuntimeContext, type StepOutcome } from './instances.ts';
import { ORDER_LIFECYCLE_KEY } from './lifecycle.ts';

export interface MessageInput {
  name: string;
  businessKey: string | null;
  variables?: Record<string, unknown>;
  /** Makes a redelivery a no-op: the first delivery of an id is recorded with the instance it reached. */
  messageId?: string | null;
  actor: string;
  /**
   * Whether this sender may start a process through its message start event (false: the message may only
   * reach an instance that waits for it; a message that would start one is refused with MessageStartForbidden).
   */
  mayStart?: boolean;
}

/** A message that only a process start could take, from a sender who may not start processes. */
export class MessageStartForbidden extends Error {
  readonly code = 'FORBIDDEN' as const;
  constructor(readonly messageName: string, readonly processKey: string) {
    super(`Nothing waits for the message "${messageName}", and starting process "${processKey}" with it needs a role that may start processes.`);
  }
}

export type MessageResult =
  | { outcome: 'delivered'; instanceId: string; step: StepOutcome }
  | { outcome: 'started'; instanceId: string; step: StepOutcome }
  | { outcome: 'cancelled'; instanceId: string; step: StepOutcome }
  | { outcome: 'duplicate'; instanceId: string | null }
  | { outcome: 'no_match' };

/** The message that ends an order's lifecycle from any wait (SPEC §6), whatever the diagram waits for. */
export const ORDER_CANCELLED = 'order-cancelled';

/**
 * Variables an order's lifecycle is started with and relies on: the order itself (kept equal to the stored
 * order), its id and the settings. A message may add to what the diagram knows, not replace these: a
 * channel changes an order with PATCH /orders/:id, which is shape-checked and audited.
 */
export const LIFECYCLE_VARIABLES = Object.freeze(['order', 'orderId', 'settings'] as const);

/** A messageId already taken by a message of another name or for another business key. */
export class MessageIdConflict extends Error {
  readonly code = 'MESSAGE_ID_TAKEN' as const;
  constructor(readonly messageId: string, readonly takenByName: string, readonly takenByBusinessKey: string | null) {
    super(`messageId "${messageId}" was used already for the message "${takenByName}"${takenByBusinessKey === null ? ' without a business key' : ` to ${takenByBusinessKey}`}; a messageId names one delivery, so send this message under an id of its own.`);
  }
}

export class MessageError extends Error {
  readonly code = 'RESERVED_VARIABLES' as const;
  constructor(readonly fields: string[]) {
    super(`A message cannot set ${fields.join(', ')}: ${fields.length === 1 ? 'it belongs' : 'they belong'} to the order's lifecycle. Change the order with PATCH /api/v1/orders/:id.`);
  }
}

/**
 * Correlate a message by name and business key: to the instance waiting for it (the oldest, when
 * several do), else to a process that a message of that name starts. Nothing matches → no_match, and
 * nothing is recorded (so the sender may try again later).
 */
export async function correlateMessage(ctx: RuntimeContext, input: MessageInput): Promise<MessageResult> {
  return transaction(ctx.db, async (trx) => {
    if (input.messageId) {
      const first = await trx
        .insertInto('received_messages')
        .values({ message_id: input.messageId, name: input.name, business_key: input.businessKey })
        .onConflict((oc) => oc.column('message_id').doNothing())
        .returning('message_id')
        .executeTakeFirst();
      if (!first) {
        const seen = await trx.selectFrom('received_messages').select(['instance_id', 'name', 'business_key']).where('message_id', '=', input.messageId).executeTakeFirst();
        // An id names one delivery: the same id on another message is the sender's mistake, not a redelivery
        // to drop (a cancellation sent under a payment's id would never cancel anything).
        if (seen && (seen.name !== input.name || seen.business_key !== input.businessKey)) throw new MessageIdConflict(input.messageId, seen.name, seen.business_key);
        return { outcome: 'duplicate', instanceId: seen?.instance_id ?? null } as const;
      }
    }
    const record = async (instanceId: string) => {
      if (input.messageId) await trx.updateTable('received_messages').set({ instance_id: instanceId }).where('message_id', '=', input.messageId).execute();
    };

    let q = trx
      .selectFrom('process_instances')
      .select(['id', 'order_id'])
      .where('status', '=', 'active')
      .where(sql<boolean>`waiting_messages @> array[${input.name}]::text[]`);
    q = input.businessKey === null ? q.where('business_key', 'is', null) : q.where('business_key', '=', input.businessKey);
    const waiting = await q.orderBy('created_at').limit(1).executeTakeFirst();
    if (waiting) {
      const reserved = waiting.order_id ? LIFECYCLE_VARIABLES.filter((name) => Object.hasOwn(input.variables ?? {}, name)) : [];
      if (reserved.length > 0) throw new MessageError(reserved);
      const step = await applyEvent(ctx, trx, waiting.id, { type: 'message', name: input.name, variables: input.variables ?? {} }, input.actor);
      if (step.applied) {
        await record(waiting.id);
        return { outcome: 'delivered', instanceId: waiting.id, step } as const;
      }
    }

    if (input.name === ORDER_CANCELLED && input.businessKey) {
      const lifecycle = await trx
        .selectFrom('process_instances')
        .select('id')
        .where('business_key', '=', input.businessKey)
        .where('process_key', '=', ORDER_LIFECYCLE_KEY)
        .where('parent_id', 'is', null)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (lifecycle) {
        const reason = typeof input.variables?.reason === 'string' ? input.variables.reason : 'order-cancelled message';
        const step = await applyEvent(ctx, trx, lifecycle.id, { type: 'cancel', reason }, input.actor);
        await record(lifecycle.id);
        return { outcome: 'cancelled', instanceId: lifecycle.id, step } as const;
      }
    }

    // Message start events: the latest executable version of each process a message of this name starts.
    const starters = await trx
      .selectFrom('process_definitions as d')
      .selectAll('d')
      .where('d.executable', '=', true)
      .where(sql<boolean>`d.message_starts @> array[${input.name}]::text[]`)
      .where((eb) => eb('d.version', '=', eb.selectFrom('process_definitions as l').select((e) => e.fn.max('l.version').as('v')).whereRef('l.key', '=', 'd.key')))
      .orderBy('d.key')
      .limit(1)
      .executeTakeFirst();
    if (starters) {
      if (input.mayStart === false) throw new MessageStartForbidden(input.name, starters.key);
      const model = await ctx.models.get(trx, starters.id);
      const startEventId = model.startEvents.message.find((m) => m.messageName === input.name)?.elementId;
      const step = await startInstance(ctx, trx, {
        definition: starters,
        variables: input.variables ?? {},
        businessKey: input.businessKey,
        startEventId,
        actor: input.actor,
      });
      await record(step.instanceId);
      return { outcome: 'started', instanceId: step.instanceId, step } as const;
    }

    // Nothing waits: roll back the messageId record so a later delivery can still match.
    if (input.messageId) await trx.deleteFrom('received_messages').where('message_id', '=', input.messageId).execute();
    return { outcome: 'no_match' } as const;
  });
}

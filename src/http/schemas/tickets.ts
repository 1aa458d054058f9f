import { Type } from '@sinclair/typebox';
import { TICKET_KINDS, TICKET_STATUSES } from '../../db/tables/tickets.table.ts';
import { ref } from './common.ts';

export const IssueSchema = Type.Object({ code: Type.String(), field: Type.Optional(Type.String()), message: Type.Optional(Type.String()) });

/** A field of a manual task's form, as the diagram declares it (`ordo:field`). */
const TicketFieldSchema = Type.Object(
  {
    name: Type.String(),
    label: Type.Union([Type.String(), Type.Null()]),
    type: Type.Union([Type.String(), Type.Null()]),
    required: Type.Boolean(),
    options: Type.Union([Type.String(), Type.Null()], { description: 'as written in the diagram' }),
  },
  { additionalProperties: true },
);

export const TicketViewSchema = Type.Object(
  {
    id: Type.String(),
    orderId: Type.Union([Type.String(), Type.Null()]),
    instanceId: Type.String(),
    elementId: Type.String(),
    elementName: Type.Union([Type.String(), Type.Null()]),
    waitId: Type.String(),
    kind: Type.Union(TICKET_KINDS.map((k) => Type.Literal(k))),
    status: Type.Union(TICKET_STATUSES.map((s) => Type.Literal(s))),
    queue: Type.String(),
    priority: Type.String(),
    dueAt: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    issues: Type.Array(IssueSchema),
    instructions: Type.Array(Type.String()),
    fields: Type.Array(TicketFieldSchema, { description: "a manual task's form (empty for other tickets)" }),
    error: Type.Union([Type.String(), Type.Null()]),
    assignee: Type.Union([Type.String(), Type.Null()]),
    assigneeId: Type.Union([Type.String(), Type.Null()]),
    revision: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    closedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Ticket', description: 'A ticket: a broken order or a manual task waiting for a person (SPEC §7)' },
);

/** One event of a ticket's life (opened, assigned, comment, retried, resolved, ...), oldest first. */
export const TicketEventSchema = Type.Object({ at: Type.String({ format: 'date-time' }), actor: Type.String(), kind: Type.String(), data: Type.Unknown() });

/** Open tickets counted over the whole queue (not only this page): per queue, per issue code, per both. */
const TicketCountsSchema = Type.Object({
  total: Type.Integer(),
  queues: Type.Array(Type.Object({ queue: Type.String(), count: Type.Integer() })),
  codes: Type.Array(Type.Object({ code: Type.String(), count: Type.Integer() })),
  pairs: Type.Array(Type.Object({ queue: Type.String(), code: Type.String(), count: Type.Integer() }), { description: 'Open tickets per queue and issue code (pairs with tickets only).' }),
});

export const TicketPageSchema = Type.Object({ items: Type.Array(ref(TicketViewSchema)), nextCursor: Type.Union([Type.String(), Type.Null()]), counts: TicketCountsSchema });

/** A bulk action and its progress, as POST /tickets/bulk and GET /tickets/bulk/:id answer. */
export const BulkViewSchema = Type.Object(
  {
    id: Type.String(),
    action: Type.Union(['retry', 'assign', 'cancel', 'patch'].map((a) => Type.Literal(a)), { description: "'patch' is the console's fix of a group of tickets" }),
    status: Type.Union(['queued', 'running', 'done'].map((s) => Type.Literal(s))),
    total: Type.Integer(),
    done: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    percent: Type.Integer(),
    results: Type.Array(Type.Object({ ticketId: Type.String(), ok: Type.Boolean(), result: Type.Optional(Type.String()), error: Type.Optional(Type.String()) })),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'BulkAction', description: 'A bulk action on tickets and its progress' },
);

export const TicketListQuery = Type.Object({
  status: Type.Optional(Type.Union(['active', 'open', 'in_progress', 'resolved', 'cancelled'].map((s) => Type.Literal(s)))),
  queue: Type.Optional(Type.String({ maxLength: 100 })),
  code: Type.Optional(Type.String({ maxLength: 100 })),
  kind: Type.Optional(Type.Union(['validation', 'manual', 'technical'].map((s) => Type.Literal(s)))),
  assignee: Type.Optional(Type.String({ maxLength: 320, description: 'a user id, a user\'s e-mail, "me" or "none"' })),
  orderId: Type.Optional(Type.String({ format: 'uuid' })),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  // Ten years; further back than the epoch the cutoff is no date at all.
  olderThanMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 5_256_000 })),
  sort: Type.Optional(Type.Union([Type.Literal('due'), Type.Literal('priority'), Type.Literal('newest')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

/** A JSON merge patch of the order (RFC 7396). */
export const MergePatchSchema = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), { description: 'JSON merge patch (RFC 7396) of the order JSON' });

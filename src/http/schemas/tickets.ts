import { Type } from '@sinclair/typebox';

export const IssueSchema = Type.Object({ code: Type.String(), field: Type.Optional(Type.String()), message: Type.Optional(Type.String()) });

export const TicketViewSchema = Type.Object(
  {
    id: Type.String(),
    orderId: Type.Union([Type.String(), Type.Null()]),
    instanceId: Type.String(),
    elementId: Type.String(),
    elementName: Type.Union([Type.String(), Type.Null()]),
    waitId: Type.String(),
    kind: Type.Union([Type.Literal('validation'), Type.Literal('manual'), Type.Literal('technical')]),
    status: Type.Union([Type.Literal('open'), Type.Literal('in_progress'), Type.Literal('resolved'), Type.Literal('cancelled')]),
    queue: Type.String(),
    priority: Type.String(),
    dueAt: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    issues: Type.Array(IssueSchema),
    instructions: Type.Array(Type.String()),
    fields: Type.Array(Type.Unknown()),
    error: Type.Union([Type.String(), Type.Null()]),
    assignee: Type.Union([Type.String(), Type.Null()]),
    assigneeId: Type.Union([Type.String(), Type.Null()]),
    revision: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    closedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Ticket' },
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

import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getBulk, startBulk } from '../../../runtime/bulk.ts';
import { assignTicket, commentOnTicket, completeTicket, dryRunTicket, getTicket, listTickets, retryTicket, ticketCounts, ticketHistory, type Actor } from '../../../runtime/tickets.ts';
import { findUserByEmail } from '../../../runtime/identity.ts';
import { isUuid } from '../../../runtime/orders.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';
import { HttpProblem } from '../../problem.ts';
import { bodyProblems, IdParams, LOCATION_HEADER, Problem, problemResponses, ref } from '../../schemas/common.ts';
import { BulkViewSchema, MergePatchSchema, TicketEventSchema, TicketListQuery, TicketPageSchema, TicketViewSchema } from '../../schemas/tickets.ts';
import { OrderStatusSchema, OrderSummarySchema, orderSummary } from '../../schemas/orders.ts';
import type { FastifyRequest } from 'fastify';

export function actorOf(request: FastifyRequest): Actor {
  return { name: `user:${request.principal!.email}`, userId: request.principal!.userId };
}

const Ticket = ref(TicketViewSchema);
const BulkAction = ref(BulkViewSchema);

/** GET /tickets/:id: the ticket, its history, and its order with the order JSON (null for a ticket of a process without an order). */
const TicketDetailSchema = Type.Intersect([
  Ticket,
  Type.Object({
    history: Type.Array(TicketEventSchema, { description: "the ticket's events, oldest first: opened, assigned, comment, retried, still_failing, resolved, ..." }),
    order: Type.Union([Type.Intersect([ref(OrderSummarySchema), Type.Object({ data: Type.Unknown({ description: 'the order JSON' }) })]), Type.Null()]),
  }),
]);

export const ticketRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, runtime } = deps;
  const ctx = runtime.ctx;
  const conflict = { 409: Problem, 422: Problem };

  /**
   * An assignee as a client names one: "me", a user id, or the e-mail tickets show as `assignee`. Null
   * for `null` (nobody); a 400 naming `field` for anything else.
   */
  const assigneeIdOf = async (request: FastifyRequest, value: string | null, field: string): Promise<string | null> => {
    if (value === null) return null;
    if (value === 'me') return request.principal!.userId;
    if (isUuid(value)) return value;
    if (value.includes('@')) {
      const user = await findUserByEmail(db, value);
      if (user) return user.id;
      throw new HttpProblem('VALIDATION_FAILED', '1 field(s) are not as expected.', { errors: [{ field, message: `no user has the e-mail ${value}` }] });
    }
    throw new HttpProblem('VALIDATION_FAILED', '1 field(s) are not as expected.', { errors: [{ field, message: 'must be "me", a user id or a user\'s e-mail' }] });
  };

  app.get('/tickets', { onRequest: requirePermission('tickets:read'), schema: { tags: ['tickets'], summary: 'Tickets (open by default), with filters and keyset pagination', querystring: TicketListQuery, response: { 200: TicketPageSchema, ...problemResponses } } }, async (request) => {
    const q = request.query;
    const assigneeId = q.assignee && q.assignee !== 'none' ? ((await assigneeIdOf(request, q.assignee, 'querystring.assignee')) ?? undefined) : undefined;
    const page = await listTickets(
      db,
      { status: q.status as never, queue: q.queue, code: q.code, kind: q.kind, assigneeId, unassigned: q.assignee === 'none', orderId: q.orderId, q: q.q, olderThanMinutes: q.olderThanMinutes },
      q.sort ?? 'due',
      q.limit ?? 50,
      q.cursor,
    );
    return { ...page, counts: await ticketCounts(db) };
  });

  app.get('/tickets/:id', { onRequest: requirePermission('tickets:read'), schema: { tags: ['tickets'], summary: 'One ticket with its history and order', params: IdParams, response: { 200: TicketDetailSchema, ...problemResponses } } }, async (request) => {
    const ticket = await getTicket(db, request.params.id);
    if (!ticket) throw new HttpProblem('NOT_FOUND', `No ticket #${request.params.id}.`);
    const order = ticket.orderId ? await (await import('../../../runtime/orders.ts')).getOrder(db, ticket.orderId) : null;
    return { ...ticket, history: await ticketHistory(db, ticket.id), order: order ? { ...orderSummary(order), data: order.data } : null };
  });

  app.post(
    '/tickets/:id/retry',
    {
      onRequest: requirePermission('tickets:work'),
      schema: {
        tags: ['tickets'],
        summary: "Re-run the ticket's failed step, optionally after a merge patch of the order",
        params: IdParams,
        body: Type.Optional(Type.Object({ patch: Type.Optional(MergePatchSchema), reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false })),
        response: { 200: Type.Object({ result: Type.Union([Type.Literal('resolved'), Type.Literal('still_failing')]), message: Type.String(), ticket: Ticket, orderStatus: Type.Union([OrderStatusSchema, Type.Null()]) }), ...conflict, ...problemResponses, ...bodyProblems },
      },
    },
    async (request) => {
      const out = await retryTicket(ctx, request.params.id, { patch: request.body?.patch, reason: request.body?.reason ?? null }, actorOf(request));
      runtime.nudge();
      const message =
        out.result === 'resolved'
          ? `The step passed; the order moved on${out.order ? ` (now ${out.order.status.replace('_', ' ')})` : ''}.`
          : `The step still fails: ${out.ticket.issues.map((i) => i.message ?? i.code).join(' ')}`;
      return { result: out.result, message, ticket: out.ticket, orderStatus: out.order?.status ?? null };
    },
  );

  app.post(
    '/tickets/:id/dry-run',
    {
      onRequest: requirePermission('tickets:read'),
      schema: {
        tags: ['tickets'],
        summary: 'Would the failed step pass with this patch? Nothing is changed.',
        params: IdParams,
        body: Type.Object({ patch: Type.Optional(MergePatchSchema) }, { additionalProperties: false }),
        response: { 200: Type.Object({ passes: Type.Boolean(), issues: Type.Array(Type.Unknown()), shapeErrors: Type.Array(Type.Unknown()) }), ...conflict, ...problemResponses, ...bodyProblems },
      },
    },
    async (request) => dryRunTicket(ctx, request.params.id, request.body.patch),
  );

  app.post(
    '/tickets/:id/complete',
    {
      onRequest: requirePermission('tickets:work'),
      schema: {
        tags: ['tickets'],
        summary: 'Complete a manual task with its form values',
        params: IdParams,
        body: Type.Optional(Type.Object({ variables: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Unknown())) }, { additionalProperties: false })),
        response: { 200: Ticket, ...conflict, ...problemResponses, ...bodyProblems },
      },
    },
    async (request) => {
      const ticket = await completeTicket(ctx, request.params.id, request.body?.variables ?? {}, actorOf(request));
      runtime.nudge();
      return ticket;
    },
  );

  app.post(
    '/tickets/:id/assign',
    {
      onRequest: requirePermission('tickets:work'),
      schema: {
        tags: ['tickets'],
        summary: 'Assign a ticket (to me, to a user id) or unassign it (null)',
        params: IdParams,
        body: Type.Object({ assignee: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]) }, { additionalProperties: false }),
        response: { 200: Ticket, ...conflict, ...problemResponses, ...bodyProblems },
      },
    },
    async (request) => {
      const assignee = await assigneeIdOf(request, request.body.assignee, 'assignee');
      return assignTicket(ctx, request.params.id, assignee, actorOf(request));
    },
  );

  app.post(
    '/tickets/:id/comments',
    {
      onRequest: requirePermission('tickets:work'),
      schema: {
        tags: ['tickets'],
        summary: 'Comment on a ticket',
        params: IdParams,
        body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 5000 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ ok: Type.Boolean() }), ...conflict, ...problemResponses, ...bodyProblems },
      },
    },
    async (request, reply) => {
      await commentOnTicket(ctx, request.params.id, request.body.text, actorOf(request));
      reply.status(201);
      return { ok: true };
    },
  );

  app.post(
    '/tickets/bulk',
    {
      onRequest: requirePermission('tickets:work'),
      schema: {
        tags: ['tickets'],
        summary: 'Retry, assign or cancel many tickets as a background job; answers 202 with its progress (Location: its URL)',
        body: Type.Object(
          {
            action: Type.Union([Type.Literal('retry'), Type.Literal('assign'), Type.Literal('cancel')]),
            ticketIds: Type.Array(Type.Union([Type.String({ pattern: '^[0-9]{1,18}$' }), Type.Integer({ minimum: 1 })]), { minItems: 1, maxItems: 10_000 }),
            assignee: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
            reason: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 202: BulkAction, ...problemResponses, ...bodyProblems },
        [LOCATION_HEADER]: { 202: "The bulk action's progress: /api/v1/tickets/bulk/{id}" },
      },
    },
    async (request, reply) => {
      const b = request.body;
      // Assigning to nobody is said with `"assignee": null`, never by leaving it out.
      if (b.action === 'assign' && b.assignee === undefined) {
        throw new HttpProblem('VALIDATION_FAILED', '1 field(s) are not as expected.', { errors: [{ field: 'assignee', message: 'is required to assign: "me", a user id, a user\'s e-mail, or null to unassign' }] });
      }
      const assigneeId = await assigneeIdOf(request, b.assignee ?? null, 'assignee');
      const id = await startBulk(ctx, b.action, b.ticketIds.map(String), { assigneeId, reason: b.reason }, actorOf(request));
      runtime.nudge('ordo-bulk');
      reply.status(202).header('location', `/api/v1/tickets/bulk/${id}`);
      return (await getBulk(db, id))!;
    },
  );

  app.get('/tickets/bulk/:id', { onRequest: requirePermission('tickets:read'), schema: { tags: ['tickets'], summary: 'Progress of a bulk action', params: IdParams, response: { 200: BulkAction, ...problemResponses } } }, async (request) => {
    const op = await getBulk(db, request.params.id);
    if (!op) throw new HttpProblem('NOT_FOUND', `No bulk operation ${request.params.id}.`);
    return op;
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OrderSchema } from '../../../orders/schema.ts';
import { Type } from '@sinclair/typebox';
import { runAllChecks } from '../../../orders/checks/index.ts';
import { getOrder, listOrders, InvalidCursorError, orderHistory } from '../../../runtime/orders.ts';
import { cancelOrder, patchOrder } from '../../../runtime/tickets.ts';
import { lifecycleOf, ticketsForOrder } from '../../../runtime/views.ts';
import { MergePatchSchema, TicketViewSchema } from '../../schemas/tickets.ts';
import { actorOf } from './tickets.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';
import { HttpProblem } from '../../problem.ts';
import { bodyProblems, IdParams, LOCATION_HEADER, paged, Problem, problemResponses, ref } from '../../schemas/common.ts';
import { OrderListQuery, OrderSummarySchema, OrderViewSchema, orderSummary, orderView } from '../../schemas/orders.ts';

const Order = ref(OrderViewSchema);

export const orderRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, metrics } = deps;

  app.post(
    '/orders',
    {
      onRequest: requirePermission('orders:write'),
      schema: {
        tags: ['orders'],
        summary: 'Receive an order from a sales channel (idempotent on channel + externalId)',
        body: OrderSchema,
        response: { 200: Order, 201: Order, ...problemResponses, 409: Problem, ...bodyProblems },
        [LOCATION_HEADER]: { 201: 'The new order: /api/v1/orders/{id}', 200: 'The order as it was received before: /api/v1/orders/{id}' },
      },
    },
    async (request, reply) => {
      const order = request.body;
      const result = await deps.runtime.receive(order, `user:${request.principal!.email}`);
      // Only an order still `received` waits for a start job (lifecycles started at the worker, or an
      // intake start that failed); one started at intake queued nothing, and a fetch would find nothing.
      if (result.outcome === 'created' && result.order.status === 'received') deps.runtime.nudge();
      metrics.ordersReceived.inc({ channel: order.channel, outcome: result.outcome });
      if (result.outcome === 'conflict') {
        throw new HttpProblem('CONFLICT', `Order ${order.externalId} from channel ${order.channel} exists already with different content; send a PATCH to change it.`, {
          orderId: result.order.id,
        });
      }
      reply.header('location', `/api/v1/orders/${result.order.id}`);
      reply.status(result.outcome === 'created' ? 201 : 200);
      // Its tickets and active steps as its first step left them (the batcher's path knows them without a
      // query); an order sent again, or received another way, is looked up. A `received` order has none yet.
      if (result.outcome === 'created' && result.view) return orderView(result.order, result.view);
      return orderView(result.order, result.order.status === 'received' && result.outcome === 'created' ? {} : await orderExtras(result.order.id));
    },
  );

  app.get(
    '/orders',
    {
      onRequest: requirePermission('orders:read'),
      schema: { tags: ['orders'], summary: 'List orders, newest first (keyset pagination)', querystring: OrderListQuery, response: { 200: paged(ref(OrderSummarySchema)), ...problemResponses } },
    },
    async (request) => {
      const q = request.query;
      try {
        const page = await listOrders(
          db,
          { status: q.status, channel: q.channel, q: q.q, tag: q.tag, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined },
          q.limit ?? 50,
          q.cursor,
        );
        return { items: page.items.map(orderSummary), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HttpProblem('INVALID_CURSOR', err.message);
        throw err;
      }
    },
  );

  app.get(
    '/orders/:id',
    {
      onRequest: requirePermission('orders:read'),
      schema: { tags: ['orders'], summary: 'One order with its status, open tickets and active steps', params: IdParams, response: { 200: Order, ...problemResponses } },
    },
    async (request) => {
      const order = await getOrder(db, request.params.id);
      if (!order) throw new HttpProblem('NOT_FOUND', `No order with id ${request.params.id}.`);
      const [extras, history] = await Promise.all([orderExtras(order.id), orderHistory(db, order.id)]);
      return orderView(order, { ...extras, history });
    },
  );

  const orderExtras = async (orderId: string) => {
    const [tickets, lifecycle] = await Promise.all([ticketsForOrder(db, orderId), lifecycleOf(db, orderId)]);
    return { tickets, activeSteps: lifecycle?.status === 'active' ? lifecycle.waiting_at : [] };
  };

  app.patch(
    '/orders/:id',
    {
      onRequest: requirePermission('orders:fix'),
      schema: {
        tags: ['orders'],
        summary: 'Fix an order with a JSON merge patch (RFC 7396); open validation tickets re-run at once',
        params: IdParams,
        headers: Type.Object({ 'x-reason': Type.Optional(Type.String({ maxLength: 1000 })) }),
        body: MergePatchSchema,
        response: { 200: Type.Intersect([Order, Type.Object({ retried: Type.Array(ref(TicketViewSchema), { description: 'the validation tickets whose step re-ran' }) })]), ...problemResponses, 409: Problem, ...bodyProblems },
      },
    },
    async (request) => {
      const reason = typeof request.headers['x-reason'] === 'string' ? request.headers['x-reason'] : null;
      const { order, retried } = await patchOrder(deps.runtime.ctx, request.params.id, request.body, actorOf(request), reason);
      deps.runtime.nudge();
      return { ...orderView(order, await orderExtras(order.id)), retried };
    },
  );

  app.post(
    '/orders/:id/cancel',
    {
      onRequest: requirePermission('orders:fix'),
      schema: {
        tags: ['orders'],
        summary: 'Cancel an order: its lifecycle ends and its open tickets are cancelled',
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }),
        response: { 200: Order, ...problemResponses, 409: Problem, ...bodyProblems },
      },
    },
    async (request) => {
      const order = await cancelOrder(deps.runtime.ctx, request.params.id, request.body.reason, actorOf(request));
      return orderView(order, await orderExtras(order.id));
    },
  );

  app.post(
    '/orders/validate',
    {
      onRequest: requirePermission('orders:read'),
      schema: {
        tags: ['orders'],
        summary: 'Run every built-in check on an order body; nothing is stored (for checkout pages)',
        body: OrderSchema,
        response: {
          200: Type.Object({ valid: Type.Boolean(), issues: Type.Array(Type.Object({ check: Type.String(), code: Type.String(), field: Type.String(), message: Type.String() })) }),
          ...problemResponses,
          ...bodyProblems,
        },
      },
    },
    async (request) => {
      const issues = runAllChecks(request.body, { codLimit: deps.config.codLimit });
      return { valid: issues.length === 0, issues };
    },
  );
};

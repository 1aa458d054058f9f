import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { correlateMessage, type MessageResult } from '../../../runtime/messages.ts';
import { getOrder } from '../../../runtime/orders.ts';
import type { AppDeps } from '../../app.ts';
import { can, requirePermission } from '../../plugins/auth.ts';
import { HttpProblem } from '../../problem.ts';
import { bodyProblems, IdParams, Problem, problemResponses } from '../../schemas/common.ts';

const MessageBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    businessKey: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    variables: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())),
    messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const OrderMessageBody = Type.Omit(MessageBody, ['businessKey']);

const MessageAnswer = Type.Object({
  outcome: Type.Union(['delivered', 'started', 'cancelled', 'duplicate'].map((o) => Type.Literal(o)), {
    description: "delivered to a waiting instance, started a process, cancelled the order's lifecycle (order-cancelled), or a duplicate of a messageId already delivered",
  }),
  instanceId: Type.Union([Type.String(), Type.Null()]),
});

function answer(result: MessageResult, name: string, key: string | null) {
  if (result.outcome === 'no_match') {
    throw new HttpProblem('NOT_FOUND', `No instance waits for the message "${name}"${key ? ` with business key ${key}` : ''}, and no process starts with it.`);
  }
  return { outcome: result.outcome, instanceId: result.instanceId };
}

export const messageRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { runtime } = deps;

  app.post(
    '/messages',
    {
      onRequest: requirePermission('messages:send'),
      schema: { tags: ['messages'], summary: 'Correlate a message by name and business key', body: MessageBody, response: { 200: MessageAnswer, ...problemResponses, 409: Problem, ...bodyProblems } },
    },
    async (request) => {
      const b = request.body;
      // Operators deliver messages to what waits for them; starting a process with one is the starters' right.
      const mayStart = can(request.principal!, 'instances:start');
      const result = await correlateMessage(runtime.ctx, { name: b.name, businessKey: b.businessKey ?? null, variables: b.variables, messageId: b.messageId, actor: `user:${request.principal!.email}`, mayStart });
      runtime.nudge();
      return answer(result, b.name, b.businessKey ?? null);
    },
  );

  app.post(
    '/orders/:id/messages',
    {
      onRequest: requirePermission('messages:send'),
      schema: { tags: ['orders'], summary: "Send a message to an order's lifecycle (payment-confirmed, order-cancelled, ...)", params: IdParams, body: OrderMessageBody, response: { 200: MessageAnswer, ...problemResponses, 409: Problem, ...bodyProblems } },
    },
    async (request) => {
      const order = await getOrder(deps.db, request.params.id);
      if (!order) throw new HttpProblem('NOT_FOUND', `No order with id ${request.params.id}.`);
      const b = request.body;
      const mayStart = can(request.principal!, 'instances:start');
      const result = await correlateMessage(runtime.ctx, { name: b.name, businessKey: order.id, variables: b.variables, messageId: b.messageId, actor: `user:${request.principal!.email}`, mayStart });
      runtime.nudge();
      return answer(result, b.name, order.id);
    },
  );
};

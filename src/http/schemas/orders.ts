import { Type } from '@sinclair/typebox';
import { ORDER_STATUSES } from '../../db/tables/orders.table.ts';
import type { OrderRecord } from '../../runtime/orders.ts';

export const OrderStatusSchema = Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)));

export const OrderViewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    channel: Type.String(),
    externalId: Type.String(),
    status: OrderStatusSchema,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    tags: Type.Array(Type.String()),
    data: Type.Unknown({ description: 'the order JSON as received, with any fixes applied' }),
    tickets: Type.Array(Type.Unknown()),
    activeSteps: Type.Array(Type.String()),
    history: Type.Optional(
      Type.Array(
        Type.Object({ at: Type.String({ format: 'date-time' }), actor: Type.String(), kind: Type.String(), data: Type.Unknown() }),
        { description: "the order's own events, oldest first (received, status changes, patches with old and new values, cancellation, tags, notes): at most the first 1,000" },
      ),
    ),
  },
  { $id: 'OrderView' },
);

export const OrderSummarySchema = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  externalId: Type.String(),
  status: OrderStatusSchema,
  customerName: Type.Union([Type.String(), Type.Null()]),
  country: Type.Union([Type.String(), Type.Null()]),
  grandTotal: Type.String(),
  currency: Type.String(),
  tags: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const OrderListQuery = Type.Object({
  status: Type.Optional(OrderStatusSchema),
  channel: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  tag: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
});

export function orderView(order: OrderRecord, extra: { tickets?: unknown[]; activeSteps?: string[]; history?: Array<{ at: string; actor: string; kind: string; data: unknown }> } = {}) {
  return {
    id: order.id,
    channel: order.channel,
    externalId: order.externalId,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    tags: order.tags,
    data: order.data,
    tickets: extra.tickets ?? [],
    activeSteps: extra.activeSteps ?? [],
    ...(extra.history ? { history: extra.history } : {}),
  };
}

export function orderSummary(order: OrderRecord) {
  return {
    id: order.id,
    channel: order.channel,
    externalId: order.externalId,
    status: order.status,
    customerName: order.customerName,
    country: order.country,
    grandTotal: order.grandTotal,
    currency: order.currency,
    tags: order.tags,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

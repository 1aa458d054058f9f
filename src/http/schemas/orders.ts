import { Type } from '@sinclair/typebox';
import { ORDER_STATUSES } from '../../db/tables/orders.table.ts';
import type { OrderRecord } from '../../runtime/orders.ts';
import type { TicketView } from '../../runtime/views.ts';
import { ref } from './common.ts';
import { TicketViewSchema } from './tickets.ts';

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
    tickets: Type.Array(ref(TicketViewSchema), { description: "the order's tickets, oldest first" }),
    activeSteps: Type.Array(Type.String(), { description: 'the element ids where its lifecycle waits' }),
    history: Type.Optional(
      Type.Array(
        Type.Object({ at: Type.String({ format: 'date-time' }), actor: Type.String(), kind: Type.String(), data: Type.Unknown() }),
        { description: "the order's own events, oldest first (received, status changes, patches with old and new values, cancellation, tags, notes): at most the first 1,000" },
      ),
    ),
  },
  { $id: 'Order', description: 'An order with its status, tickets and active steps (SPEC §7)' },
);

export const OrderSummarySchema = Type.Object(
  {
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
  },
  { $id: 'OrderSummary', description: 'An order as lists show it: without its data, tickets and history' },
);

export const OrderListQuery = Type.Object({
  status: Type.Optional(OrderStatusSchema),
  channel: Type.Optional(Type.String({ maxLength: 64 })),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  tag: Type.Optional(Type.String({ maxLength: 64 })),
  // A half-open range [from, to), so consecutive ranges (a day, the next day) never count an order twice.
  from: Type.Optional(Type.String({ format: 'date-time', description: 'orders received at or after this time (inclusive)' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'orders received before this time (exclusive: `from` = `to` selects nothing)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
});

export function orderView(order: OrderRecord, extra: { tickets?: TicketView[]; activeSteps?: string[]; history?: Array<{ at: string; actor: string; kind: string; data: unknown }> } = {}) {
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

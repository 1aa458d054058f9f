import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { orderStatusCounts } from '../../../runtime/dashboard.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';

/**
 * `/`: the numbers an operator checks first. Orders per status now; the ticket cards
 * (views/partials/dashboard/tickets.hbs, fed by `tickets` below) show a placeholder until the ticket
 * runtime provides open tickets per queue, the oldest age and the 24 h throughput.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/', { onRequest: requirePermission('orders:read'), schema: {} }, async (_request, reply) => {
    const now = new Date();
    const startOfDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const orders = await orderStatusCounts(deps.db, startOfDay);
    return reply.page('dashboard/index', {
      title: 'Dashboard',
      section: 'dashboard',
      orders,
      ordersTotal: orders.reduce((n, s) => n + s.total, 0),
      ordersToday: orders.reduce((n, s) => n + s.today, 0),
      tickets: null,
    });
  });
};

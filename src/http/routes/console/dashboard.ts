import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { openTicketsByQueue, orderStatusCounts, ticketThroughput, type HourBucket } from '../../../runtime/dashboard.ts';
import { ticketGroups } from '../../../runtime/group-fix.ts';
import type { AppDeps } from '../../app.ts';
import { can, requirePermission } from '../../plugins/auth.ts';
import { presentGroup } from './ticket-groups.ts';
import { span } from './ticket-format.ts';

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
/** The throughput chart's drawing area (SVG user units; the CSS scales it to the card). */
const CHART = { width: 480, height: 140, top: 8, bottom: 22 } as const;

/** Opened vs resolved per hour as SVG bars: two thin bars per hour, an hour label every six. */
export function throughputChart(buckets: HourBucket[]) {
  const max = Math.max(1, ...buckets.flatMap((b) => [b.opened, b.resolved]));
  const slot = CHART.width / Math.max(1, buckets.length);
  const bar = Math.max(1, Math.floor((slot - 2) / 2));
  const plot = CHART.height - CHART.top - CHART.bottom;
  const h = (n: number) => (n === 0 ? 0 : Math.max(1, Math.round((n / max) * plot)));
  const base = CHART.height - CHART.bottom;
  return {
    ...CHART,
    max,
    base,
    opened: buckets.reduce((n, b) => n + b.opened, 0),
    resolved: buckets.reduce((n, b) => n + b.resolved, 0),
    bars: buckets.map((b, i) => {
      const x = Math.round(i * slot + 1);
      const hour = `${String(b.at.getUTCHours()).padStart(2, '0')}:00`;
      return {
        hour,
        opened: b.opened,
        resolved: b.resolved,
        openedBar: { x, y: base - h(b.opened), height: h(b.opened), width: bar },
        resolvedBar: { x: x + bar, y: base - h(b.resolved), height: h(b.resolved), width: bar },
        label: i % 6 === 0 ? { x, y: CHART.height - 4, text: hour } : null,
      };
    }),
  };
}

/**
 * `/`: the numbers an operator checks first: orders per status, open tickets per queue with the oldest
 * age, the most frequent problems this week (each linking to its group fix), and tickets opened vs
 * resolved per hour over the last 24 hours.
 */
export const dashboardRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/', { onRequest: requirePermission('orders:read'), schema: { querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 40 })) }) } }, async (request, reply) => {
    const now = new Date();
    const startOfDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const orders = await orderStatusCounts(deps.db, startOfDay);
    let tickets = null;
    if (can(request.principal, 'tickets:read')) {
      const [queues, problems, throughput] = await Promise.all([
        openTicketsByQueue(deps.db),
        ticketGroups(deps.db, { since: new Date(now.getTime() - WEEK_MS), open: false, limit: 5 }),
        ticketThroughput(deps.db, now),
      ]);
      tickets = {
        queues: queues.map((q) => ({ ...q, age: span(now.getTime() - q.oldestAt.getTime()), url: `/tickets?queue=${encodeURIComponent(q.queue)}` })),
        open: queues.reduce((n, q) => n + q.open, 0),
        problems: problems.map(presentGroup),
        chart: throughputChart(throughput),
      };
    }
    return reply.page('dashboard/index', {
      title: 'Dashboard',
      section: 'dashboard',
      done: request.query.done === 'own_role' ? `Your role is now ${request.principal!.role}. User administration is no longer open to you.` : null,
      orders,
      ordersTotal: orders.reduce((n, s) => n + s.total, 0),
      ordersToday: orders.reduce((n, s) => n + s.today, 0),
      tickets,
      assets: { styles: ['/assets/tickets.css'], scripts: [] },
    });
  });
};

import type { FastifyRequest } from 'fastify';
import { openTicketCount } from '../../../runtime/dashboard.ts';
import type { AppDeps } from '../../app.ts';
import { can } from '../../plugins/auth.ts';

/**
 * What the layout shows on every full page besides the user: the navigation's counters.
 *
 * The ticket count ("Tickets (128)"): one count over the open-ticket index, only for users who may see
 * tickets (the login page and roles without `tickets:read` skip the query).
 */
export interface LayoutData {
  openTickets: number | null;
}

export function consoleLayoutData(deps: AppDeps) {
  return async (request: FastifyRequest): Promise<LayoutData> => ({
    openTickets: can(request.principal, 'tickets:read') ? await openTicketCount(deps.db) : null,
  });
}

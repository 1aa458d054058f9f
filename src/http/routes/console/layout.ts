import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app.ts';

/**
 * What the layout shows on every full page besides the user: the navigation's counters.
 *
 * The ticket count ("Tickets (128)") is null until the ticket pages land; that engineer fills it here
 * (one cheap count over the open-ticket index) and the layout shows it next to the link.
 */
export interface LayoutData {
  openTickets: number | null;
}

export function consoleLayoutData(_deps: AppDeps) {
  return async (_request: FastifyRequest): Promise<LayoutData> => ({ openTickets: null });
}

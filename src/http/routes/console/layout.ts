import type { FastifyRequest } from 'fastify';
import type { Db } from '../../../db/database.ts';
import { openTicketTally, type OpenTicketTally } from '../../../runtime/tallies.ts';
import type { AppDeps } from '../../app.ts';
import { can } from '../../plugins/auth.ts';

const tallies = new WeakMap<FastifyRequest, Promise<OpenTicketTally>>();

/** The open-ticket tally, read once per request however many parts of the page show it (the queue's tabs, the navigation). */
export function openTicketsFor(db: Db, request: FastifyRequest): Promise<OpenTicketTally> {
  let tally = tallies.get(request);
  if (!tally) {
    tally = openTicketTally(db);
    tallies.set(request, tally);
  }
  return tally;
}

/** Hand the layout a tally the page already reads with its own statement, so it is not read twice. */
export function rememberOpenTickets(request: FastifyRequest, tally: Promise<OpenTicketTally>): void {
  tallies.set(request, tally);
}

/**
 * What the layout shows on every full page besides the user: the navigation's counters.
 *
 * The ticket count ("Tickets (128)"): the running tally of open tickets, only for users who may see
 * tickets (the login page and roles without `tickets:read` skip the query).
 */
export interface LayoutData {
  openTickets: number | null;
}

export function consoleLayoutData(deps: AppDeps) {
  return async (request: FastifyRequest): Promise<LayoutData> => ({
    openTickets: can(request.principal, 'tickets:read') ? (await openTicketsFor(deps.db, request)).total : null,
  });
}

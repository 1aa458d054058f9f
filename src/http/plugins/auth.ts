import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/database.ts';
import type { Role } from '../../db/tables/users.table.ts';
import { authenticateToken, type Principal } from '../../runtime/identity.ts';
import { HttpProblem } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * Who may do what. Admins may do everything; the rest is listed per action so a route states the
 * permission it needs, not a list of roles.
 */
export const PERMISSIONS = {
  'orders:read': ['operator', 'analyst', 'admin'],
  'orders:write': ['operator', 'analyst', 'admin'],
  'orders:fix': ['operator', 'admin'],
  /** Tags and notes on an order (console). */
  'orders:annotate': ['operator', 'analyst', 'admin'],
  'tickets:read': ['operator', 'analyst', 'admin'],
  'tickets:work': ['operator', 'admin'],
  'processes:read': ['operator', 'analyst', 'admin'],
  'processes:deploy': ['analyst', 'admin'],
  'instances:start': ['analyst', 'admin'],
  /**
   * Messages move orders (`order-cancelled` cancels one), so they need the same hands as the routes they
   * stand for: not analysts, whose tokens start process instances through their own route.
   */
  'messages:send': ['operator', 'admin'],
  'users:admin': ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(principal: Principal | null, permission: Permission): boolean {
  return !!principal && (PERMISSIONS[permission] as readonly Role[]).includes(principal.role);
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : '';
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { db: Db }) => {
  app.decorateRequest('principal', null);

  /** Authenticate an API request by its bearer token; used as a hook on the /api/v1 subtree. */
  app.decorate('authenticateApi', async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = bearer(request);
    if (token === null) throw new HttpProblem('UNAUTHENTICATED', 'Send an API token as "Authorization: Bearer <token>".');
    const principal = token === '' ? null : await authenticateToken(opts.db, token);
    if (!principal) throw new HttpProblem('UNAUTHENTICATED', 'The API token is unknown or revoked.');
    request.principal = principal;
  });
});

declare module 'fastify' {
  interface FastifyInstance {
    authenticateApi: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/**
 * An onRequest hook refusing callers whose role lacks the permission. It runs after authentication
 * (the API's bearer token, the console's session) and before the body is read: a role that may not gets
 * 403 whatever it sent, never a 400 describing the shape the route expects.
 */
export function requirePermission(permission: Permission): onRequestHookHandler {
  return async (request) => {
    if (!request.principal) throw new HttpProblem('UNAUTHENTICATED');
    if (!can(request.principal, permission)) {
      throw new HttpProblem('FORBIDDEN', `Your role (${request.principal.role}) may not do this; it needs one of: ${PERMISSIONS[permission].join(', ')}.`);
    }
  };
}

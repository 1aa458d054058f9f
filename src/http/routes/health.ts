import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';
import { RETRY_AFTER_SECONDS } from '../plugins/errors.ts';
import { problem } from '../problem.ts';

export const healthRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      return { status: 'ready', database: 'reachable' };
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'database unreachable');
      return reply
        .status(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .type('application/problem+json')
        .send(problem('SERVICE_UNAVAILABLE', 'The database cannot be reached.', { database: 'unreachable' }));
    }
  });

  // Route latencies, orders per channel, where processes wait: business figures, so an API token (any
  // role) is needed, as for the API. Prometheus sends it with `authorization: { credentials: <token> }`.
  app.get('/metrics', { schema: { hide: true }, onRequest: app.authenticateApi }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
};

import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { csrfPlugin } from '../../plugins/csrf.ts';
import { allowedMethods, notFoundProblem, sendNotFoundProblem, toProblem } from '../../plugins/errors.ts';
import { requireSession, sessionPlugin } from '../../plugins/session.ts';
import { viewsPlugin, wantsFragment } from '../../plugins/views.ts';
import { authRoutes } from './auth.ts';
import { dashboardRoutes } from './dashboard.ts';
import { consoleHelpers } from './format.ts';
import { consoleLayoutData } from './layout.ts';
import { orderConsoleRoutes } from './orders.ts';
import { processConsoleRoutes } from './processes.ts';
import { ticketConsoleRoutes } from './tickets.ts';
import { userAdminRoutes } from './users.ts';

/** The page a form's action belongs to: its path without the last segment (/tickets/1/cancel-order → /tickets/1), when that is a page. */
function pageOfAction(app: FastifyInstance, path: string): string | null {
  const parent = path.replace(/\/+$/, '').replace(/\/[^/]*$/, '');
  if (!parent.startsWith('/') || parent.startsWith('//')) return null;
  return allowedMethods(app, parent).includes('GET') ? parent : null;
}

/** A browser asking for a page (or htmx for a fragment), not an API client or a probe. */
function wantsPage(request: FastifyRequest): boolean {
  if (request.headers['hx-request'] === 'true') return true;
  const accept = request.headers.accept ?? '';
  return /\btext\/html\b/.test(accept);
}

export const VIEWS_DIR = fileURLToPath(new URL('../../../../views', import.meta.url));
export const PUBLIC_DIR = fileURLToPath(new URL('../../../../public', import.meta.url));

/**
 * The operator console: server-rendered pages at the root (outside /api/v1), authenticated by a session
 * cookie and protected by CSRF tokens, not bearer tokens.
 *
 *   /assets/*          public/ (console.css, console.js, build/ with htmx and the bpmn-js bundles)
 *   /login, /logout    open
 *   everything else    needs a session (requireSession), then a permission per route
 *
 * A new console area registers its routes in the `pages` block below, so it inherits the session, the
 * CSRF check, `reply.page()` and the HTML error pages.
 */
export async function consolePlugin(app: FastifyInstance, { deps }: { deps: AppDeps }) {
  // Console routes are pages, not API: keep them out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });

  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/assets/', decorateReply: false, index: false });

  await app.register(async (console) => {
    await console.register(formbody);
    await console.register(sessionPlugin, { db: deps.db, secureCookies: deps.config.secureCookies });
    await console.register(csrfPlugin);
    await console.register(viewsPlugin, { root: VIEWS_DIR, helpers: consoleHelpers, layoutData: consoleLayoutData(deps) });

    // Errors become pages (or, for htmx, a message in the page's alert area), never problem+json here.
    console.setErrorHandler(async (err: FastifyError, request, reply) => {
      const problem = toProblem(err, request.id);
      if (problem.status >= 500) request.log.error({ err }, 'console request failed');
      else request.log.info({ code: problem.code, status: problem.status }, 'console request refused');
      if (wantsFragment(request)) reply.header('hx-retarget', '#console-alert').header('hx-reswap', 'innerHTML');
      // A form refused for its CSRF token has expired (a stale tab, a logout elsewhere): not a question of role.
      const shown = problem.reason === 'csrf' ? { ...problem, title: 'This form has expired', expired: true } : problem;
      return reply.page('errors/error', { error: shown, title: shown.title }, { status: problem.status, fragment: 'errors/error' });
    });

    // A path no route takes (outside /api/v1, which answers its own): a page for a browser, with the
    // methods the path does take on a 405; problem+json for anything else (curl, a monitoring probe).
    console.setNotFoundHandler(async (request, reply) => {
      if (!wantsPage(request)) return sendNotFoundProblem(app, request, reply);
      const problem = notFoundProblem(app, request);
      if (problem.allow) reply.header('allow', problem.allow.join(', '));
      if (wantsFragment(request)) reply.header('hx-retarget', '#console-alert').header('hx-reswap', 'innerHTML');
      const path = request.url.split('?')[0]!;
      const shown =
        problem.status === 404
          ? { ...problem, title: 'Page not found', detail: `There is no page at ${path}.` }
          : problem.status === 405 && request.method === 'GET'
            ? { ...problem, title: "This address is a form's action, not a page", detail: 'A form sends what you entered here; opening it (a reload after sending, a copied link) shows nothing and changes nothing.', back: pageOfAction(app, path) }
            : problem;
      return reply.page('errors/error', { error: shown, title: shown.title }, { status: problem.status, fragment: 'errors/error' });
    });

    await console.register(authRoutes, { deps });

    await console.register(async (pages) => {
      pages.addHook('onRequest', requireSession);
      await pages.register(dashboardRoutes, { deps });
      await pages.register(orderConsoleRoutes, { deps });
      await pages.register(userAdminRoutes, { deps });
      await pages.register(ticketConsoleRoutes, { deps });
      await pages.register(processConsoleRoutes, { deps });
      // Tickets (/tickets, /tickets/:id) and processes (/processes...) register here.
    });
  });
}

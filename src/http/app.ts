import swagger from '@fastify/swagger';
import { OptionalKind } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Runtime } from '../runtime/index.ts';
import { AccessLogController } from './access-log.ts';
import type { Metrics } from './metrics.ts';
import { authPlugin } from './plugins/auth.ts';
import { errorsPlugin, sendNotFoundProblem, toProblem } from './plugins/errors.ts';
import { securityPlugin } from './plugins/security.ts';
import { consolePlugin } from './routes/console/index.ts';
import { messageRoutes } from './routes/api/messages.ts';
import { orderRoutes } from './routes/api/orders.ts';
import { processRoutes } from './routes/api/processes.ts';
import { ticketRoutes } from './routes/api/tickets.ts';
import { healthRoutes } from './routes/health.ts';
import { registerJsonBodyParser } from './json-body.ts';
import { HttpProblem } from './problem.ts';
import { LOCATION_HEADER, ProblemSchema } from './schemas/common.ts';
import { OrderSummarySchema, OrderViewSchema } from './schemas/orders.ts';
import { InstanceViewSchema } from './schemas/processes.ts';
import { BulkViewSchema, TicketViewSchema } from './schemas/tickets.ts';
import { unstorableInput, validatorCompiler } from './validation.ts';

export interface AppDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  runtime: Runtime;
}

/** Bodies larger than this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The schemas routes name by reference (`ref()` in schemas/common.ts): registered once, they are the
 * OpenAPI document's components under their `$id`, and the serializer of every route resolves them.
 */
export const API_SCHEMAS = [ProblemSchema, TicketViewSchema, OrderViewSchema, OrderSummarySchema, InstanceViewSchema, BulkViewSchema];

/** One route as fastify registered it (HEAD twins of GET routes included). */
export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app, in the order it was added: the access tests hold each one against their matrix. */
    readonly registeredRoutes: readonly RegisteredRoute[];
  }
}

/** The whole HTTP side as one fastify instance; server.ts only listens, tests inject. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new AccessLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    // Only a proxy may say who the client is (the login limit per address, the logs): see ORDO_TRUST_PROXY.
    trustProxy: deps.config.trustProxy,
    requestIdHeader: 'x-request-id',
    routerOptions: { ignoreTrailingSlash: true },
    // A URL the router cannot even decode (%ED%A0%80, an over-long segment) is answered like every other refusal.
    frameworkErrors: (err, request, reply) => {
      const body = toProblem(err, request.id);
      (reply as FastifyReply).status(body.status).type('application/problem+json').send(body);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The first hook of all, so no route of any plugin escapes it: a route nobody listed cannot ship unchecked.
  const registeredRoutes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });
  app.decorate('registeredRoutes', { getter: () => registeredRoutes });

  app.setValidatorCompiler(validatorCompiler);
  // Ordo's JSON parser (json-body.ts: a reason for every refusal, prototype-pollution keys refused by path);
  // no text/plain parser (a JSON document sent as text/plain is a client's mistake, answered 415).
  registerJsonBodyParser(app);
  app.removeContentTypeParser('text/plain');

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  for (const schema of API_SCHEMAS) app.addSchema(schema);
  await app.register(errorsPlugin);
  // Before any schema runs, on every route: text PostgreSQL cannot store and documents nested too deep.
  app.addHook('preValidation', async (request) => {
    // A route whose body is optional (Type.Optional) takes a request with none as an empty object:
    // `POST /tickets/:id/retry` with nothing to patch needs no `{}`.
    if (request.body === undefined && (request.routeOptions.schema?.body as { [OptionalKind]?: string } | undefined)?.[OptionalKind] === 'Optional') request.body = {};
    const errors = [
      ...unstorableInput(request.params, 'params'),
      ...unstorableInput(request.query, 'querystring'),
      ...unstorableInput(request.body),
    ];
    if (errors.length > 0) throw new HttpProblem('VALIDATION_FAILED', `${errors.length} field(s) are not as expected.`, { errors });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Ordo API', version: '1', description: 'Orders in, tickets out: the HTTP API of the Ordo order-management workflow engine.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Components are named by their `$id` (Order, Ticket, Problem, ...), not numbered def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // A body the route takes as optional (retry, complete: Type.Optional) is marked so on its operation,
    // and the document says `required: false` for it (the generator marks every body required).
    transform: ({ schema, url }) => {
      const optional = (schema?.body as { [OptionalKind]?: string } | undefined)?.[OptionalKind] === 'Optional';
      return { schema: optional ? { ...schema, [OPTIONAL_BODY]: true } : schema, url };
    },
    // Refusals are sent as application/problem+json (RFC 9457): the document says so, not application/json.
    transformObject: (document) => problemJsonResponses((document as { openapiObject: OpenApiDocument }).openapiObject) as never,
  });
  await app.register(authPlugin, { db: deps.db });

  // Security headers (CSP) on every answer, and the operator console at the root, outside /api/v1.
  await app.register(securityPlugin, { secureCookies: deps.config.secureCookies });
  await app.register(consolePlugin, { deps });

  await app.register(healthRoutes, { deps });

  await app.register(
    async (api) => {
      api.setNotFoundHandler((request, reply) => sendNotFoundProblem(app, request, reply));
      await api.register(async (secured) => {
        secured.addHook('onRequest', secured.authenticateApi);
        // Behind the token like every other API route.
        secured.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
        await secured.register(orderRoutes, { deps });
        await secured.register(processRoutes, { deps });
        await secured.register(messageRoutes, { deps });
        await secured.register(ticketRoutes, { deps });
      });
    },
    { prefix: '/api/v1' },
  );

  return app as unknown as FastifyInstance;
}

/** The operation key the `transform` above sets on a route whose body is optional; never left in the document. */
const OPTIONAL_BODY = 'x-ordo-optional-body';

type OpenApiOperation = {
  responses?: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
  requestBody?: { required?: boolean };
  [OPTIONAL_BODY]?: boolean;
  [LOCATION_HEADER]?: Record<string, string>;
};
type OpenApiDocument = { paths?: Record<string, Record<string, OpenApiOperation>> };

/**
 * Every 4xx/5xx response of the document with its content under application/problem+json; optional
 * request bodies not required; the Location header on the answers a route says carry one.
 */
export function problemJsonResponses(document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (operation[OPTIONAL_BODY]) {
        if (operation.requestBody) operation.requestBody.required = false;
        delete operation[OPTIONAL_BODY];
      }
      for (const [status, target] of Object.entries(operation[LOCATION_HEADER] ?? {})) {
        const response = operation.responses?.[status];
        if (response) response.headers = { ...response.headers, Location: { description: target, required: true, schema: { type: 'string', format: 'uri-reference' } } };
      }
      delete operation[LOCATION_HEADER];
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!/^[45]\d\d$/.test(status) || !response.content?.['application/json']) continue;
        response.content = { 'application/problem+json': response.content['application/json'] };
      }
    }
  }
  return document;
}

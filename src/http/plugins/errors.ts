import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isRetryableConflict } from '../../db/transaction.ts';
import { BulkError } from '../../runtime/bulk.ts';
import { MessageError, MessageIdConflict, MessageStartForbidden } from '../../runtime/messages.ts';
import { TicketError } from '../../runtime/tickets.ts';
import { formatAjvErrors } from '../validation.ts';
import { HttpProblem, problem, type Problem } from '../problem.ts';

/**
 * The one place errors become HTTP answers: problem+json, the field list for shape errors, and never a
 * stack trace or SQL text for a 5xx (those go to the log with the request id, which the answer quotes).
 */
export function toProblem(err: FastifyError | HttpProblem | Error, requestId: string, route: { bodyLimitBytes?: number } = {}): Problem {
  if (err instanceof HttpProblem) return problem(err.code, err.message, err.extra);
  if (isDatabaseUnavailable(err)) {
    return problem('SERVICE_UNAVAILABLE', 'The database cannot be reached right now. Send the request again in a few seconds: an order sent again (same channel and externalId) or a message with the same messageId is recognised, not stored twice.', { retryAfterSeconds: RETRY_AFTER_SECONDS });
  }
  // A deadlock or serialization conflict that outlasted the use case's own attempts: nothing was committed.
  if (isRetryableConflict(err)) {
    return problem('SERVICE_UNAVAILABLE', 'The request met another change to the same records at the same moment and was not carried out; nothing was changed. Send it again.', { retryAfterSeconds: RETRY_AFTER_SECONDS });
  }
  if (err instanceof TicketError) {
    const code = ({ NOT_FOUND: 'NOT_FOUND', NOT_OPEN: 'CONFLICT', ORDER_CLOSED: 'CONFLICT', NO_LIFECYCLE: 'CONFLICT', WRONG_KIND: 'UNPROCESSABLE', FIELDS_INVALID: 'UNPROCESSABLE', INVALID_PATCH: 'VALIDATION_FAILED', INVALID_CURSOR: 'INVALID_CURSOR' } as const)[err.code];
    return problem(code, err.message, { reason: err.code, ...err.details });
  }
  if (err instanceof BulkError) return problem('VALIDATION_FAILED', err.message, err.field ? { errors: [{ field: err.field, message: err.message }] } : {});
  if (err instanceof MessageStartForbidden) return problem('FORBIDDEN', err.message);
  if (err instanceof MessageIdConflict) return problem('CONFLICT', err.message, { reason: err.code, field: 'messageId' });
  if (err instanceof MessageError) return problem('VALIDATION_FAILED', err.message, { errors: err.fields.map((f) => ({ field: `variables.${f}`, message: 'is set by the lifecycle, not by messages' })) });
  const e = err as FastifyError & { validationContext?: string };
  if (e.validation) {
    const errors = formatAjvErrors(e.validation as never, e.validationContext === 'body' ? '' : (e.validationContext ?? ''));
    return problem('VALIDATION_FAILED', `${errors.length} field(s) are not as expected.`, { errors });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('BODY_TOO_LARGE', `Bodies are limited to ${formatBytes(route.bodyLimitBytes ?? 1024 * 1024)} here.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('UNSUPPORTED_MEDIA_TYPE', `${e.message}. Send application/json (a BPMN diagram to deploy: application/xml).`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('MALFORMED_JSON', 'The Content-Length header does not match the body.');
    case 'FST_ERR_RATE_LIMIT_EXCEEDED':
      return problem('RATE_LIMITED', e.message);
    case 'FST_ERR_BAD_URL':
      return problem('MALFORMED_URL', 'The URL contains a percent-encoding that is not UTF-8 text.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { ...problem('MALFORMED_URL', 'A part of the URL path is longer than 100 characters.'), status: 414 };
  }
  const status = e.statusCode ?? 500;
  if (status === 404) return problem('NOT_FOUND', e.message);
  // @fastify/static refusing a path that climbs out of its folder (/assets/../package.json), a folder or a
  // dotfile: there is no such asset. Not FORBIDDEN, whose title speaks of roles, and no hint that the path got out.
  if (status === 403) return problem('NOT_FOUND', 'No such file.');
  if (status === 429) return problem('RATE_LIMITED', e.message);
  if (status >= 400 && status < 500) return { ...problem('UNPROCESSABLE', e.message), status };
  return problem('INTERNAL', `Something went wrong on our side. Quote request id ${requestId} when reporting it.`, { requestId });
}

/** What a client is told to wait before sending again while the database is away (a restart takes seconds). */
export const RETRY_AFTER_SECONDS = 5;

/** SQLSTATEs of a server that is going away or not there yet: admin/crash shutdown, cannot connect now, connection failures. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** node-postgres reports a lost or unobtainable connection with plain Errors; these are their messages. */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Connection ended unexpectedly|the database system is (?:starting up|shutting down|in recovery mode)/i;

/**
 * The database is down or restarting (not: the request was wrong). Such a request changed nothing (its
 * transaction never committed), so the client may send it again: 503 with Retry-After, not a 500.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) return true;
  // A server reached by its Unix socket (the embedded one) that is stopped has no socket file to connect to.
  if (e.code === 'ENOENT' && e.syscall === 'connect') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/** The methods fastify routes, in the order an `Allow` header lists them. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The methods the router has a route for at this URL (its own matching: parameters, wildcards, trailing slash). */
export function allowedMethods(app: Pick<FastifyInstance, 'findRoute'>, url: string): string[] {
  return METHODS.filter((method) => {
    try {
      return app.findRoute({ method, url }) !== null;
    } catch {
      return false;
    }
  });
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${Math.round(bytes / 1024)} kB`;
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err, request, reply) => {
    const body = toProblem(err as FastifyError, request.id, { bodyLimitBytes: request.routeOptions.bodyLimit });
    if (body.status === 503) request.log.warn({ err: (err as Error).message }, 'request refused: database unavailable');
    else if (body.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, 'request refused');
    if (body.status === 401) reply.header('www-authenticate', 'Bearer realm="ordo"');
    if (body.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    reply.status(body.status).type('application/problem+json').send(body);
  });
});

/**
 * What a request no route takes gets: 405 naming the methods when the app knows the path under another
 * method (POST /healthz, RFC 9110 §15.5.6), else 404. The API's and the console's not-found handlers
 * both start here; the console shows it as a page to a browser.
 */
export function notFoundProblem(app: Pick<FastifyInstance, 'findRoute'>, request: FastifyRequest): Problem & { allow?: string[] } {
  const path = request.url.split('?')[0];
  const allowed = allowedMethods(app, request.url);
  if (allowed.length > 0 && !allowed.includes(request.method)) {
    return problem('METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}, not ${request.method}.`, { allow: allowed });
  }
  return problem('NOT_FOUND', `No route ${request.method} ${path}.`);
}

/** The not-found handler as problem+json, with `Allow` on a 405. */
export function sendNotFoundProblem(app: Pick<FastifyInstance, 'findRoute'>, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = notFoundProblem(app, request);
  if (body.allow) reply.header('allow', body.allow.join(', '));
  return reply.status(body.status).type('application/problem+json').send(body);
}

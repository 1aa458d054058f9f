import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { BulkError } from '../../runtime/bulk.ts';
import { TicketError } from '../../runtime/tickets.ts';
import { formatAjvErrors } from '../validation.ts';
import { HttpProblem, problem, type Problem } from '../problem.ts';

/**
 * The one place errors become HTTP answers: problem+json, the field list for shape errors, and never a
 * stack trace or SQL text for a 5xx (those go to the log with the request id, which the answer quotes).
 */
export function toProblem(err: FastifyError | HttpProblem | Error, requestId: string): Problem {
  if (err instanceof HttpProblem) return problem(err.code, err.message, err.extra);
  if (err instanceof TicketError) {
    const code = ({ NOT_FOUND: 'NOT_FOUND', NOT_OPEN: 'CONFLICT', ORDER_CLOSED: 'CONFLICT', NO_LIFECYCLE: 'CONFLICT', WRONG_KIND: 'UNPROCESSABLE', FIELDS_INVALID: 'UNPROCESSABLE', INVALID_PATCH: 'VALIDATION_FAILED' } as const)[err.code];
    return problem(code, err.message, { reason: err.code, ...err.details });
  }
  if (err instanceof BulkError) return problem('VALIDATION_FAILED', err.message);
  const e = err as FastifyError & { validationContext?: string };
  if (e.validation) {
    const errors = formatAjvErrors(e.validation as never, e.validationContext === 'body' ? '' : (e.validationContext ?? ''));
    return problem('VALIDATION_FAILED', `${errors.length} field(s) are not as expected.`, { errors });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('MALFORMED_JSON', e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The body is empty; send the JSON document.' : `The body could not be parsed as JSON: ${cleanJsonMessage(e.message)}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('BODY_TOO_LARGE', 'Bodies are limited to 1 MiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('UNSUPPORTED_MEDIA_TYPE', e.message);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('MALFORMED_JSON', 'The Content-Length header does not match the body.');
    case 'FST_ERR_RATE_LIMIT_EXCEEDED':
      return problem('RATE_LIMITED', e.message);
  }
  // secure-json-parse refuses __proto__ / constructor.prototype keys with a SyntaxError.
  if (e instanceof SyntaxError || /prototype|__proto__/.test(e.message ?? '')) {
    if ((e.statusCode ?? 400) < 500) return problem('MALFORMED_JSON', 'The body contains a forbidden key (__proto__ or constructor.prototype).');
  }
  const status = e.statusCode ?? 500;
  if (status === 404) return problem('NOT_FOUND', e.message);
  if (status === 429) return problem('RATE_LIMITED', e.message);
  if (status >= 400 && status < 500) return { ...problem('UNPROCESSABLE', e.message), status };
  return problem('INTERNAL', `Something went wrong on our side. Quote request id ${requestId} when reporting it.`, { requestId });
}

function cleanJsonMessage(message: string): string {
  return message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'\s*/i, '').slice(0, 200) || 'unexpected token';
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err, request, reply) => {
    const body = toProblem(err as FastifyError, request.id);
    if (body.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, 'request refused');
    if (body.status === 401) reply.header('www-authenticate', 'Bearer realm="ordo"');
    reply.status(body.status).type('application/problem+json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).type('application/problem+json').send(problem('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });
});

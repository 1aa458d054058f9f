import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.ts';

/**
 * Ordo's own JSON body parser, in place of fastify's: fastify answers every JSON syntax error with the
 * same "Body is not valid JSON" and drops the parser's reason, so a client could not tell a missing
 * brace from a forbidden key. This one says what is wrong and where: the parser's own message (with its
 * position), or the path of a `__proto__` / `constructor.prototype` key, which are refused outright
 * (they could pollute prototypes wherever the body is merged), never silently stripped.
 *
 * `application/merge-patch+json` (RFC 7396) is read the same way, for PATCH requests only.
 */
export function registerJsonBodyParser(app: Pick<FastifyInstance, 'addContentTypeParser' | 'removeContentTypeParser'>): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => parseBody(body as string, done));
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (request: FastifyRequest, body, done) => {
    if (request.method !== 'PATCH') return done(new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'application/merge-patch+json is taken by PATCH requests only; send application/json.'), undefined);
    parseBody(body as string, done);
  });
}

function parseBody(text: string, done: (err: Error | null, body?: unknown) => void): void {
  if (text.trim() === '') return done(new HttpProblem('MALFORMED_JSON', 'The body is empty; send the JSON document.'), undefined);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return done(new HttpProblem('MALFORMED_JSON', `The body could not be parsed as JSON: ${syntaxReason(err as Error)}`), undefined);
  }
  // The walk only when the text could hold such a key at all (a key may spell it with escapes).
  if (/__proto__|constructor|\\u/.test(text)) {
    const at = forbiddenKeyPath(value);
    if (at) return done(new HttpProblem('MALFORMED_JSON', `The body contains a forbidden key at ${at}: __proto__ and constructor.prototype are refused.`, { field: at }), undefined);
  }
  done(null, value);
}

/** V8's message, which quotes the start of the text; the quote is cut so a huge body is not echoed back. */
function syntaxReason(err: Error): string {
  const message = err.message.replace(/^JSON\.parse: /, '');
  return message.length > 200 ? `${message.slice(0, 199)}…` : message;
}

/**
 * The path of the first `__proto__` key, or of a `constructor` object with a `prototype` key; null when
 * none. Iterative, with each node's parent kept instead of its path: a body nested a hundred thousand
 * levels deep is walked without a deep stack and without building a path per node.
 */
export function forbiddenKeyPath(value: unknown): string | null {
  const nodes: Array<{ value: unknown; parent: number; key: string | number | null }> = [{ value, parent: -1, key: null }];
  const pathOf = (index: number, last: string): string => {
    const keys: Array<string | number> = [last];
    for (let i = index; i > 0; i = nodes[i]!.parent) keys.push(nodes[i]!.key!);
    return keys.reverse().reduce<string>((path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key), '');
  };
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!.value;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (let k = 0; k < node.length; k++) if (node[k] !== null && typeof node[k] === 'object') nodes.push({ value: node[k], parent: i, key: k });
      continue;
    }
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key];
      if (key === '__proto__') return pathOf(i, key);
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return pathOf(i, `${key}.prototype`);
      if (child !== null && typeof child === 'object') nodes.push({ value: child, parent: i, key });
    }
  }
  return null;
}

import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { addOrderFormats } from '../orders/shape.ts';
export { formatAjvErrors, pointerToPath } from '../orders/shape.ts';

/**
 * Two validators: bodies are checked exactly as sent (no type coercion, every error reported, nothing
 * removed), while query strings and path parameters are text by nature and get coerced to the declared
 * types ("limit=10" → 10).
 */
export function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    coerceTypes: coerce,
    useDefaults: coerce,
    removeAdditional: false,
    strict: false,
  });
  addOrderFormats(ajv);
  return ajv;
}

export const bodyAjv = makeAjv(false);
const paramAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : paramAjv;
  return ajv.compile(schema as object) as ValidateFunction;
};

/** Orders are four levels deep; free-form metadata and variables get room, but not 10,000 levels. */
export const MAX_JSON_DEPTH = 32;
/** A hostile document may be wrong everywhere; a few findings say enough. */
const MAX_TEXT_ERRORS = 20;

const NUL = /\u0000/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(text: string): string | null {
  if (NUL.test(text)) return 'must not contain NUL characters (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be Unicode text (it holds half of a surrogate pair)';
  return null;
}

/**
 * What no JSON schema catches and PostgreSQL refuses or the code after it cannot bear: NUL characters
 * (not storable in text or jsonb), lone surrogates (not Unicode, refused by jsonb), and nesting deeper
 * than MAX_JSON_DEPTH (recursive code further on would run out of stack). Walked without recursion,
 * since the document to walk may be 100,000 levels deep. `prefix` names the part: "querystring",
 * "params", or nothing for the body.
 */
export function unstorableInput(value: unknown, prefix = ''): Array<{ field: string; message: string }> {
  const errors: Array<{ field: string; message: string }> = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: prefix, depth: 0 }];
  const at = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
  while (stack.length > 0 && errors.length < MAX_TEXT_ERRORS) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const message = textProblem(v);
      if (message) errors.push({ field: path || '(body)', message });
      continue;
    }
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) continue;
    if (depth >= MAX_JSON_DEPTH) {
      errors.push({ field: path || '(body)', message: `is nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: at(path, i), depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const message = textProblem(key);
      if (message) errors.push({ field: at(path, key.replace(/[\u0000\ud800-\udfff]/g, '\ufffd')), message: `has a field name that ${message}` });
      else stack.push({ value: child, path: at(path, key), depth: depth + 1 });
    }
  }
  return errors;
}

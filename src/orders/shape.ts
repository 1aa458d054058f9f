import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { OrderSchema, type Order } from './schema.ts';

/**
 * The order's shape check outside HTTP (a merge patch applied by an operator must leave a well-formed
 * order), with the same error wording the API gives for a posted order.
 */
export interface FieldError {
  field: string;
  message: string;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * ajv-formats plus one narrowing: a `date-time` must also be one JavaScript can read. RFC 3339 allows a
 * leap second (`23:59:60`) that `new Date()` turns into an Invalid Date, which PostgreSQL then refuses.
 */
export function addOrderFormats(ajv: Ajv): Ajv {
  addFormats(ajv);
  const rfc3339 = ajv.formats['date-time'] as { validate?: unknown } | ((s: string) => boolean) | RegExp | undefined;
  const check = typeof rfc3339 === 'function' ? rfc3339 : rfc3339 instanceof RegExp ? (s: string) => rfc3339.test(s) : (rfc3339?.validate as (s: string) => boolean);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => check(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

let validateOrder: ValidateFunction | null = null;

export function checkOrderShape(value: unknown): FieldError[] {
  if (!validateOrder) {
    const ajv = new Ajv({ allErrors: true, verbose: true, coerceTypes: false, removeAdditional: false, strict: false });
    addOrderFormats(ajv);
    validateOrder = ajv.compile(OrderSchema);
  }
  return validateOrder(value) ? [] : formatAjvErrors(validateOrder.errors ?? []);
}

export function isOrder(value: unknown): value is Order {
  return checkOrderShape(value).length === 0;
}

/** JSON pointer "/lines/0/unitPrice" → "lines[0].unitPrice". */
export function pointerToPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describeAnyOf(schemas: unknown[]): string {
  const consts = schemas.map((s) => (s as { const?: unknown }).const);
  if (consts.every((c) => typeof c === 'string')) return `must be one of: ${consts.join(', ')}`;
  const types = schemas.map((s) => {
    const sc = s as { type?: string; const?: unknown };
    return sc.type ?? (sc.const !== undefined ? JSON.stringify(sc.const) : 'another shape');
  });
  return `must be ${[...new Set(types)].join(' or ')}`;
}

/** What a value in each string format looks like, for a client reading the error. */
const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'a date-time with a time zone (e.g. 2026-11-21T10:00:00Z)',
  date: 'a date (e.g. 2026-11-21)',
  uuid: 'a UUID (e.g. 0192f1c2-7d3e-7a10-9b2c-3d4e5f607182)',
  email: 'an e-mail address (e.g. anna@example.com)',
  uri: 'a URI (e.g. https://shop.example/orders/1)',
};

/**
 * ajv errors → one message per field, in words a channel developer can act on. Union branches produce an
 * error per branch; they are folded into the union's own message.
 */
export function formatAjvErrors(errors: ErrorObject[], prefix = ''): FieldError[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const add = (field: string, message: string) => {
    const key = `${field}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ field: prefix && field ? `${prefix}.${field}` : prefix || field || '(body)', message });
    }
  };
  for (const e of errors) {
    const path = pointerToPath(e.instancePath);
    if (e.keyword === 'anyOf') {
      add(path, describeAnyOf((e.schema as unknown[]) ?? []));
      continue;
    }
    // Errors inside a union's branches are explained by the union's own message.
    if (unionPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
    switch (e.keyword) {
      case 'required':
        add(join(path, (e.params as { missingProperty: string }).missingProperty), 'is required');
        break;
      case 'additionalProperties':
        add(join(path, (e.params as { additionalProperty: string }).additionalProperty), 'is not a known field');
        break;
      case 'type':
        add(path, `must be ${(e.params as { type: string }).type}`);
        break;
      case 'pattern':
        add(path, patternMessage(path, e.params as { pattern: string }));
        break;
      case 'format': {
        const format = (e.params as { format: string }).format;
        add(path, `must be ${FORMAT_WORDS[format] ?? `a ${format}`}`);
        break;
      }
      case 'minItems':
        add(path, `must have at least ${(e.params as { limit: number }).limit} item(s)`);
        break;
      case 'maxItems':
        add(path, `must have at most ${(e.params as { limit: number }).limit} items`);
        break;
      case 'maxLength':
        add(path, `must be at most ${(e.params as { limit: number }).limit} characters long`);
        break;
      case 'minLength':
        add(path, (e.params as { limit: number }).limit === 1 ? 'must not be empty' : `must be at least ${(e.params as { limit: number }).limit} characters long`);
        break;
      case 'minimum':
      case 'maximum':
        add(path, `must be ${e.keyword === 'minimum' ? '≥' : '≤'} ${(e.params as { limit: number }).limit}`);
        break;
      default:
        add(path, e.message ?? 'is invalid');
    }
  }
  return out;
}

function patternMessage(path: string, params: { pattern: string }): string {
  if (params.pattern.includes('[0-9]{1,2}')) return 'must be a decimal amount as a string with at most two decimals, e.g. "129.90"';
  if (params.pattern === '^[A-Z]{3}$') return 'must be an ISO 4217 currency code, e.g. "PLN"';
  if (/taxRate$/.test(path)) return 'must be a decimal rate as a string, e.g. "0.23"';
  return `must match the pattern ${params.pattern}`;
}

/**
 * RFC 9457 problem details: the one shape every error takes on the way out. Codes are a closed union
 * so that clients can switch on them; the HTTP status follows from the code.
 */
export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  errors?: unknown[];
  [extra: string]: unknown;
}

const TYPE_BASE = 'https://ordo.dev/problems/';

export type ProblemCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'MALFORMED_URL'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'INVALID_CURSOR'
  | 'RATE_LIMITED'
  | 'DEPLOY_REFUSED'
  | 'UNPROCESSABLE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ProblemCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  MALFORMED_URL: 400,
  INVALID_CURSOR: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  UNPROCESSABLE: 422,
  DEPLOY_REFUSED: 422,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const TITLE: Record<ProblemCode, string> = {
  VALIDATION_FAILED: 'The request does not have the expected shape',
  MALFORMED_JSON: 'The body is not valid JSON',
  MALFORMED_URL: 'The URL is not valid',
  INVALID_CURSOR: 'Invalid pagination cursor',
  BODY_TOO_LARGE: 'The body is too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported content type',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Not allowed for your role',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  CONFLICT: 'Conflict',
  UNPROCESSABLE: 'The request cannot be carried out',
  DEPLOY_REFUSED: 'The diagram cannot be deployed',
  RATE_LIMITED: 'Too many requests',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal error',
};

/** An error that knows its problem code; thrown anywhere under http/ and mapped in one place. */
export class HttpProblem extends Error {
  constructor(
    readonly code: ProblemCode,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? TITLE[code]);
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function problem(code: ProblemCode, detail?: string, extra: Record<string, unknown> = {}): Problem {
  // Extra members never override the standard ones: a client must be able to trust status and code.
  return {
    ...extra,
    type: TYPE_BASE + code.toLowerCase().replace(/_/g, '-'),
    title: TITLE[code],
    status: STATUS[code],
    code,
    ...(detail ? { detail } : {}),
  };
}

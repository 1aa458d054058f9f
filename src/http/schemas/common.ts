import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Unknown())),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
};

export function paged<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * A reference to a schema the app registers once (app.ts, `API_SCHEMAS`): the OpenAPI document lists it
 * under its `$id` in components.schemas, and the serializer resolves it like the schema itself.
 */
export function ref<T extends TSchema>(schema: T) {
  if (!schema.$id) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** A refusal (problem+json: app.ts documents every 4xx/5xx under that media type). */
export const Problem = ref(ProblemSchema);

/** The refusals a route without input can give: no token (401), a role that may not (403). */
export const authProblems = { 401: Problem, 403: Problem };

/** Standard error answers every authenticated route with parameters can give, for the OpenAPI document. */
export const problemResponses = { 400: Problem, ...authProblems, 404: Problem };

/** What a route with a body adds: a body over the limit (413), a body that is not JSON (415). */
export const bodyProblems = { 413: Problem, 415: Problem };

/**
 * Route schema key: the answers (by status) that carry a Location header, with what it points at. The
 * OpenAPI document lists the header on those responses (app.ts); the key itself is left out of it.
 */
export const LOCATION_HEADER = 'x-ordo-location';

/** A process version as a path or query parameter: PostgreSQL's integer, so a larger number is a 400, not a failed query. */
export const ProcessVersion = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

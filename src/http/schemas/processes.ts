import { Type } from '@sinclair/typebox';
import { INSTANCE_STATUSES } from '../../db/tables/processes.table.ts';

/** The media types a BPMN diagram is sent with (POST /processes, POST /processes/:key/what-if). */
export const BPMN_MEDIA_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml'];

/**
 * A BPMN 2.0 diagram as the body: XML text to the client. It reaches the handler as bytes (the parser
 * honours the encoding its XML declaration names, ISO-8859-1 files included), so the routes taking it
 * leave the body to their handler (`bytesBodyValidator`), which refuses anything but bytes with 415.
 */
export const BpmnXmlBody = Type.Unsafe<Buffer>({
  type: 'string',
  contentMediaType: 'application/xml',
  description: 'BPMN 2.0 XML (a <bpmn:definitions> document); its XML declaration may name another encoding than UTF-8',
});

export const InstanceViewSchema = Type.Object(
  {
    id: Type.String(),
    processKey: Type.String(),
    version: Type.Integer(),
    businessKey: Type.Union([Type.String(), Type.Null()]),
    orderId: Type.Union([Type.String(), Type.Null()]),
    parentId: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union(INSTANCE_STATUSES.map((s) => Type.Literal(s))),
    waitingAt: Type.Array(Type.String()),
    waitingFor: Type.Array(Type.String()),
    variables: Type.Record(Type.String(), Type.Unknown()),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    endedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    history: Type.Array(
      Type.Object({ elementId: Type.String(), elementType: Type.String(), event: Type.String(), at: Type.String({ format: 'date-time' }), actor: Type.Union([Type.String(), Type.Null()]), data: Type.Optional(Type.Unknown()) }),
      { description: 'oldest first, at most the first 1,000 events' },
    ),
  },
  { $id: 'Instance', description: 'A process instance: its state, where it waits, its variables and history (SPEC §7)' },
);

export const DeployResponse = Type.Object({
  key: Type.String(),
  version: Type.Integer(),
  created: Type.Boolean(),
  processes: Type.Array(Type.Object({ key: Type.String(), version: Type.Integer(), name: Type.Union([Type.String(), Type.Null()]), executable: Type.Boolean(), created: Type.Boolean() })),
});

/** GET /processes: every key, its latest version and all its versions, newest first. */
export const ProcessListSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      key: Type.String(),
      name: Type.Union([Type.String(), Type.Null()]),
      latestVersion: Type.Integer(),
      executable: Type.Boolean(),
      versions: Type.Array(
        Type.Object({
          version: Type.Integer(),
          name: Type.Union([Type.String(), Type.Null()]),
          executable: Type.Boolean(),
          deployedBy: Type.String(),
          deployedAt: Type.String({ format: 'date-time' }),
          runningInstances: Type.Integer(),
          openTickets: Type.Integer(),
        }),
      ),
    }),
  ),
});

/** GET /processes/:key/versions/:version: the diagram and, per element id, what stands there now. */
export const ProcessVersionSchema = Type.Object({
  key: Type.String(),
  version: Type.Integer(),
  name: Type.Union([Type.String(), Type.Null()]),
  executable: Type.Boolean(),
  deployedBy: Type.String(),
  deployedAt: Type.String({ format: 'date-time' }),
  xml: Type.String({ description: 'the BPMN XML as deployed' }),
  stats: Type.Object({
    elements: Type.Record(Type.String(), Type.Object({ waiting: Type.Integer(), openTickets: Type.Integer(), failures24h: Type.Integer() }), {
      description: 'by element id, only elements with something to count: instances waiting there, open tickets, tickets opened in the last 24 hours',
    }),
  }),
});

/** GET /feel-functions: the function library diagrams call in their FEEL expressions. */
export const FeelFunctionListSchema = Type.Array(
  Type.Object({
    name: Type.String({ description: 'the FEEL name, spaces included' }),
    params: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), optional: Type.Optional(Type.Boolean()), description: Type.String() })),
    returns: Type.String(),
    description: Type.String(),
    raises: Type.Array(Type.String(), { description: 'the issue codes it can return' }),
    example: Type.String(),
  }),
);

/** The what-if report (src/runtime/what-if.ts); nested parts are documented there and passed through whole. */
export const WhatIfResponse = Type.Object(
  {
    key: Type.String(),
    currentVersion: Type.Union([Type.Integer(), Type.Null()]),
    limit: Type.Integer(),
    orders: Type.Integer(),
    ordersChanged: Type.Integer(),
    totals: Type.Record(Type.String(), Type.Integer()),
    elements: Type.Array(Type.Unknown()),
    stops: Type.Unknown(),
    diff: Type.Unknown(),
    elapsedMs: Type.Integer(),
  },
  { additionalProperties: true },
);

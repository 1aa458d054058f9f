import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { FEEL_FUNCTIONS } from '../../../orders/feel-library.ts';
import { definitionByVersion, DeployRefusedError, latestDefinition } from '../../../runtime/definitions.ts';
import { startInstance } from '../../../runtime/instances.ts';
import { elementStats, getInstanceView, listProcesses } from '../../../runtime/views.ts';
import { whatIf, WHAT_IF_MAX_ORDERS } from '../../../runtime/what-if.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';
import { validatorCompiler } from '../../validation.ts';
import { HttpProblem } from '../../problem.ts';
import { authProblems, bodyProblems, IdParams, LOCATION_HEADER, Problem, ProcessVersion, problemResponses, ref } from '../../schemas/common.ts';
import { BPMN_MEDIA_TYPES, BpmnXmlBody, DeployResponse, FeelFunctionListSchema, InstanceViewSchema, ProcessListSchema, ProcessVersionSchema, WhatIfResponse } from '../../schemas/processes.ts';

/** Diagrams are a few hundred kB; the MIWG files are under 200 kB. */
export const BPMN_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

/** Validation for a route whose body is kept as bytes (BPMN XML): its parameters as everywhere, its body by the handler. */
const bytesBodyValidator: FastifySchemaCompiler<unknown> = (route) => (route.httpPart === 'body' ? () => true : validatorCompiler(route));

export const processRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, runtime } = deps;

  // BPMN arrives as XML; kept as bytes so the parser can honour the declared encoding (ISO-8859-1 files).
  for (const type of BPMN_MEDIA_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: BPMN_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));
  }

  app.get('/processes', { onRequest: requirePermission('processes:read'), schema: { tags: ['processes'], summary: 'Every process key with its versions', response: { 200: ProcessListSchema, ...authProblems } } }, async () => ({
    items: await listProcesses(db),
  }));

  app.post(
    '/processes',
    {
      onRequest: requirePermission('processes:deploy'),
      bodyLimit: BPMN_BODY_LIMIT_BYTES,
      validatorCompiler: bytesBodyValidator,
      schema: {
        tags: ['processes'],
        summary: 'Deploy a BPMN diagram: a new version of each process in it whose content changed',
        description: 'Body: BPMN 2.0 XML (application/xml, text/xml or application/bpmn+xml); an `X-File-Name` header names the file in the deployment record. 201 with the new versions; 200 when nothing changed; 422 with one error per element.',
        consumes: BPMN_MEDIA_TYPES,
        body: BpmnXmlBody,
        response: { 200: DeployResponse, 201: DeployResponse, ...problemResponses, ...bodyProblems, 422: Problem },
        [LOCATION_HEADER]: { 201: 'The new version of the executable process (else the first) in the file: /api/v1/processes/{key}/versions/{version}' },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'Send the BPMN XML with Content-Type application/xml or text/xml.');
      const fileName = typeof request.headers['x-file-name'] === 'string' ? request.headers['x-file-name'].slice(0, 200) : null;
      try {
        const result = await runtime.deploy(request.body, `user:${request.principal!.email}`, fileName);
        const main = result.processes.find((p) => p.executable) ?? result.processes[0]!;
        reply.status(result.changed ? 201 : 200);
        if (result.changed) reply.header('location', `/api/v1/processes/${encodeURIComponent(main.key)}/versions/${main.version}`);
        return {
          key: main.key,
          version: main.version,
          created: main.created,
          processes: result.processes.map((p) => ({ key: p.key, version: p.version, name: p.name, executable: p.executable, created: p.created })),
        };
      } catch (err) {
        if (err instanceof DeployRefusedError) throw new HttpProblem('DEPLOY_REFUSED', err.message, { errors: err.errors });
        throw err;
      }
    },
  );

  app.post(
    '/processes/:key/what-if',
    {
      onRequest: requirePermission('processes:deploy'),
      bodyLimit: BPMN_BODY_LIMIT_BYTES,
      validatorCompiler: bytesBodyValidator,
      schema: {
        tags: ['processes'],
        summary: 'What-if: run a draft diagram over the latest orders, without side effects, and compare it with the deployed version',
        description:
          'Body: the draft BPMN XML. Simulates the last `limit` orders (default 1000) under the draft and under the latest version of `key`: per element, how many orders would pass, fail or take another branch. 422 with the element errors when the draft cannot be deployed.',
        params: Type.Object({ key: Type.String({ maxLength: 200 }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WHAT_IF_MAX_ORDERS })) }),
        consumes: BPMN_MEDIA_TYPES,
        body: BpmnXmlBody,
        response: { 200: WhatIfResponse, ...problemResponses, ...bodyProblems, 422: Problem },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body)) throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'Send the BPMN XML with Content-Type application/xml or text/xml.');
      try {
        const run = await whatIf({ ctx: runtime.ctx, settings: runtime.settings, validateOptions: runtime.validateOptions }, { key: request.params.key, xml: request.body, limit: request.query.limit });
        return run.report;
      } catch (err) {
        if (err instanceof DeployRefusedError) throw new HttpProblem('DEPLOY_REFUSED', err.message, { errors: err.errors });
        throw err;
      }
    },
  );

  app.get(
    '/processes/:key/versions/:version',
    {
      onRequest: requirePermission('processes:read'),
      schema: {
        tags: ['processes'],
        summary: 'One version: its XML and per-element statistics',
        params: Type.Object({ key: Type.String({ maxLength: 200 }), version: ProcessVersion }),
        response: { 200: ProcessVersionSchema, ...problemResponses },
      },
    },
    async (request) => {
      const def = await definitionByVersion(db, request.params.key, request.params.version);
      if (!def) throw new HttpProblem('NOT_FOUND', `Process ${request.params.key} has no version ${request.params.version}.`);
      return {
        key: def.key,
        version: def.version,
        name: def.name,
        executable: def.executable,
        deployedBy: def.deployed_by,
        deployedAt: def.deployed_at.toISOString(),
        xml: def.xml,
        stats: { elements: await elementStats(db, def.id) },
      };
    },
  );

  app.post(
    '/processes/:key/instances',
    {
      onRequest: requirePermission('instances:start'),
      schema: {
        tags: ['processes'],
        summary: 'Start an instance of the latest version with variables',
        params: Type.Object({ key: Type.String({ maxLength: 200 }) }),
        body: Type.Object({ variables: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.Unknown())), businessKey: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
        response: { 201: ref(InstanceViewSchema), ...problemResponses, ...bodyProblems, 422: Problem },
        [LOCATION_HEADER]: { 201: 'The new instance: /api/v1/instances/{id}' },
      },
    },
    async (request, reply) => {
      const definition = await latestDefinition(db, request.params.key, { executableOnly: true });
      if (!definition) throw new HttpProblem('NOT_FOUND', `No executable process "${request.params.key}" is deployed.`);
      if (definition.message_starts.length > 0 && !(await runtime.ctx.models.get(db, definition.id)).startEvents.none.length) {
        throw new HttpProblem('UNPROCESSABLE', `Process "${request.params.key}" starts only by a message (${definition.message_starts.join(', ')}); send it to /api/v1/messages.`);
      }
      const outcome = await db.transaction().execute((trx) =>
        startInstance(runtime.ctx, trx, { definition, variables: request.body.variables ?? {}, businessKey: request.body.businessKey ?? null, actor: `user:${request.principal!.email}` }),
      );
      runtime.nudge();
      reply.status(201).header('location', `/api/v1/instances/${outcome.instanceId}`);
      return (await getInstanceView(db, outcome.instanceId))!;
    },
  );

  app.get('/instances/:id', { onRequest: requirePermission('processes:read'), schema: { tags: ['processes'], summary: 'An instance: state, where it waits, variables, history', params: IdParams, response: { 200: ref(InstanceViewSchema), ...problemResponses } } }, async (request) => {
    const view = await getInstanceView(db, request.params.id);
    if (!view) throw new HttpProblem('NOT_FOUND', `No instance with id ${request.params.id}.`);
    return view;
  });

  app.get(
    '/feel-functions',
    { onRequest: requirePermission('processes:read'), schema: { tags: ['processes'], summary: 'The FEEL functions diagrams can call, with the issue codes each can raise', response: { 200: FeelFunctionListSchema, ...authProblems } } },
    async () =>
      FEEL_FUNCTIONS.map((f) => ({ name: f.name, params: [...f.params], returns: f.returns, description: f.description, raises: [...f.raises], example: f.example })),
  );
};

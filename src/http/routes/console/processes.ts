import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CompiledProcess } from '../../../engine/index.ts';
import { diffProcesses, type ProcessDiff } from '../../../engine/model/diff.ts';
import { MAX_BPMN_BYTES } from '../../../engine/model/parse.ts';
import { FEEL_FUNCTIONS } from '../../../orders/feel-library.ts';
import { definitionByVersion, DeployRefusedError } from '../../../runtime/definitions.ts';
import { getMigration, MigrationError, previewMigration, recentMigrations, startMigration } from '../../../runtime/migration.ts';
import { InvalidCursorError } from '../../../runtime/orders.ts';
import { heatmap, waitingAtElement } from '../../../runtime/process-stats.ts';
import { listProcesses } from '../../../runtime/views.ts';
import { CHANGE_LABELS, CHANGES, whatIf, type ElementTrace, type WhatIfReport, type WhatIfRun } from '../../../runtime/what-if.ts';
import type { AppDeps } from '../../app.ts';
import { can, requirePermission } from '../../plugins/auth.ts';
import { problem, HttpProblem } from '../../problem.ts';
import { ProcessVersion } from '../../schemas/common.ts';
import { actorName } from './ticket-format.ts';

/**
 * The analysts' pages: every process with its versions, a version's diagram with the heatmap and what
 * changed since another version, the modeler (edit, lint, what-if, deploy), and the migration of waiting
 * instances to the latest version.
 *
 *   GET  /processes                                processes:read    list of keys and versions
 *   GET  /processes/:key?version=n&compare=m       processes:read    diagram + heatmap + diff
 *   GET  /processes/:key/versions                  processes:read    the versions table (htmx refresh after a deploy)
 *   GET  /processes/:key/diagram.bpmn?version=n    processes:read    the XML (latest by default)
 *   GET  /processes/:key/heatmap.json?version=n    processes:read    { elements: { id: { waiting, openTickets, failures24h, retrying } } }
 *   GET  /processes/:key/elements/:elementId       processes:read    instances waiting at an element
 *   GET  /processes/:key/edit, /processes/new      processes:deploy  the modeler
 *   GET  /processes/new/starter.bpmn               processes:deploy  a minimal executable diagram
 *   GET  /processes/-/feel-functions               processes:read    FEEL_FUNCTIONS for the modeler's panel and lint
 *   POST /processes/deploy                         processes:deploy  XML body; 201 { key, version } | 422 { errors }
 *   POST /processes/:key/what-if?limit=n           processes:deploy  XML body; the what-if report (HTML fragment or JSON)
 *   GET  /processes/:key/migrate?from=k            processes:deploy  preview
 *   POST /processes/:key/migrate                   processes:deploy  start (background job) → progress page
 *   GET  /processes/:key/migrations/:id            processes:deploy  progress (htmx polls it)
 */

const XML_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml'];
const WAITING_PAGE_SIZE = 50;

const Key = Type.String({ minLength: 1, maxLength: 200 });
const KeyParams = Type.Object({ key: Key });
const VersionQuery = Type.Object({ version: Type.Optional(ProcessVersion) });
const ShowQuery = Type.Object({ version: Type.Optional(ProcessVersion), compare: Type.Optional(ProcessVersion) });
const ElementParams = Type.Object({ key: Key, elementId: Type.String({ minLength: 1, maxLength: 200 }) });
const ElementQuery = Type.Object({ version: Type.Optional(ProcessVersion), cursor: Type.Optional(Type.String({ maxLength: 300 })) });
const NewQuery = Type.Object({ key: Type.Optional(Type.String({ maxLength: 200 })) });
const WhatIfQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })) });
const MigrateQuery = Type.Object({ from: ProcessVersion });
// A form field is text: the version arrives as digits.
const MigrateBody = Type.Object({ from: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }), _csrf: Type.Optional(Type.String({ maxLength: 200 })) });
const MigrationParams = Type.Object({ key: Key, id: Type.String({ maxLength: 64 }) });

/** listProcesses' answer, typed for the pages. */
interface VersionSummary {
  version: number;
  name: string | null;
  executable: boolean;
  deployedBy: string;
  deployedAt: string;
  runningInstances: number;
  openTickets: number;
}
interface ProcessSummary {
  key: string;
  name: string | null;
  latestVersion: number;
  executable: boolean;
  versions: VersionSummary[];
}

/** A BPMN process id (an XML NCName, simplified): what the starter diagram and the modeler accept as a key. */
const PROCESS_ID = /^[A-Za-z_][\w.-]*$/;

/** "bpmn:ScriptTask" → "Script task". */
export function typeLabel(type: string): string {
  const bare = type.replace(/^bpmn:/, '');
  const words = bare.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function elementName(model: CompiledProcess | null, id: string): string {
  const el = model?.elements[id];
  return el?.name ?? id;
}

/** A run's trace at an element, in words: "failed: PHONE_MISSING", "passed → Approve large order". */
function traceText(model: CompiledProcess | null, trace: ElementTrace | null): string {
  if (!trace) return 'not reached';
  const outcome = { passed: 'passed', failed: 'failed', error: 'technical error', waits: 'waits' }[trace.outcome];
  const codes = trace.codes.length > 0 ? `: ${trace.codes.join(', ')}` : '';
  const flows = trace.flows.length > 0 ? ` → ${trace.flows.map((f) => elementName(model, model?.flows[f]?.targetId ?? f)).join(', ')}` : '';
  return `${outcome}${codes}${flows}`;
}

function presentDiff(diff: ProcessDiff | null) {
  if (!diff) return null;
  const entry = (e: ProcessDiff['added'][number]) => ({ ...e, typeLabel: e.kind === 'flow' ? 'Sequence flow' : typeLabel(e.type), label: e.name ?? e.id });
  return {
    added: diff.added.map(entry),
    removed: diff.removed.map(entry),
    changed: diff.changed.map(entry),
    unchanged: diff.unchanged,
    empty: diff.added.length + diff.removed.length + diff.changed.length === 0,
  };
}

/** Changes that follow from a change upstream: every step after a check that now passes "gets here". */
const REACH_CHANGES = new Set<string>(['newlyReached', 'noLongerReached']);

function presentWhatIf(report: WhatIfReport, draft: CompiledProcess, current: CompiledProcess | null) {
  // The headline counts what the analyst changed; reach changes add up over every step downstream.
  const totals = CHANGES.filter((c) => report.totals[c] > 0 && !REACH_CHANGES.has(c)).map((c) => ({ key: c, label: CHANGE_LABELS[c], count: report.totals[c] }));
  const elements = report.elements.map((e) => {
    const changes = CHANGES.filter((c) => e.changes[c] > 0).map((c) => ({ key: c, label: CHANGE_LABELS[c], count: e.changes[c] }));
    const primary = changes.some((c) => !REACH_CHANGES.has(c.key));
    return {
      ...e,
      typeLabel: typeLabel(e.type),
      label: e.name ?? e.elementId,
      changes,
      changed: changes.length > 0,
      primary,
      // Examples where the difference starts; further down they would repeat the same orders.
      examples: (primary ? e.examples : []).map((x) => ({
        ...x,
        changeLabel: CHANGE_LABELS[x.change],
        currentText: traceText(current, x.current),
        draftText: traceText(draft, x.draft),
      })),
    };
  });
  return {
    ...report,
    totals,
    elements,
    changedElements: elements.filter((e) => e.primary).length,
    diff: presentDiff(report.diff),
  };
}

function xmlBody(request: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(request.body)) throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'Send the BPMN XML with Content-Type application/xml.');
  return request.body;
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /application\/(problem\+)?json/.test(accept) && !/text\/html/.test(accept);
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function starterXml(key: string): string {
  const id = PROCESS_ID.test(key) ? key : 'new-process';
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:ordo="urn:ordo:bpmn:1" id="Definitions_${id.replace(/[^\w]/g, '_')}" targetNamespace="urn:ordo:processes">
  <bpmn:process id="${id}" name="${id}" isExecutable="true">
    <bpmn:startEvent id="Start" name="Started">
      <bpmn:outgoing>Flow_StartToEnd</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_StartToEnd" sourceRef="Start" targetRef="End" />
    <bpmn:endEvent id="End" name="Done">
      <bpmn:incoming>Flow_StartToEnd</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_1">
    <bpmndi:BPMNPlane id="Plane_1" bpmnElement="${id}">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start">
        <dc:Bounds x="152" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_di" bpmnElement="End">
        <dc:Bounds x="352" y="102" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_StartToEnd_di" bpmnElement="Flow_StartToEnd">
        <di:waypoint x="188" y="120" />
        <di:waypoint x="352" y="120" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}

export const processConsoleRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, runtime } = deps;
  const read = { onRequest: requirePermission('processes:read') };
  const deploy = { onRequest: requirePermission('processes:deploy') };

  // Diagrams arrive as XML (the modeler's Deploy and What-if); kept as bytes so the parser honours the encoding.
  for (const type of XML_TYPES) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_BPMN_BYTES }, (_req, body, done) => done(null, body));
  }

  async function loadVersion(key: string, version?: number) {
    const v =
      version ??
      (await db.selectFrom('process_definitions').select('version').where('key', '=', key).orderBy('version', 'desc').limit(1).executeTakeFirst())?.version;
    const def = v === undefined ? undefined : await definitionByVersion(db, key, v);
    if (!def) throw new HttpProblem('NOT_FOUND', version ? `Process “${key}” has no version ${version}.` : `No process “${key}” is deployed.`);
    return def;
  }

  async function modelOf(def: { id: string; executable: boolean }): Promise<CompiledProcess | null> {
    return def.executable ? runtime.ctx.models.get(db, def.id) : null;
  }

  async function allProcesses(): Promise<ProcessSummary[]> {
    return (await listProcesses(db)) as ProcessSummary[];
  }

  async function versionsOf(key: string): Promise<ProcessSummary> {
    const p = (await allProcesses()).find((x) => x.key === key);
    if (!p) throw new HttpProblem('NOT_FOUND', `No process “${key}” is deployed.`);
    return p;
  }

  function versionRows(p: ProcessSummary, request: FastifyRequest, current?: number) {
    const deployer = can(request.principal, 'processes:deploy');
    return p.versions.map((v) => ({
      ...v,
      deployedBy: actorName(v.deployedBy),
      key: p.key,
      latest: v.version === p.latestVersion,
      latestVersion: p.latestVersion,
      current: v.version === current,
      previous: v.version > 1 ? v.version - 1 : null,
      canMigrate: deployer && v.executable && v.version < p.latestVersion && v.runningInstances > 0,
    }));
  }

  // ------------------------------------------------------------------ reading

  app.get('/processes', { ...read }, async (request, reply) => {
    const processes = (await allProcesses()).map((p) => ({
      ...p,
      versions: versionRows(p, request),
      running: p.versions.reduce((n, v) => n + v.runningInstances, 0),
      openTickets: p.versions.reduce((n, v) => n + v.openTickets, 0),
    }));
    return reply.page('processes/list', { title: 'Processes', section: 'processes', processes, canDeploy: can(request.principal, 'processes:deploy') }, { fragment: 'processes/list' });
  });

  app.get('/processes/-/feel-functions', { ...read }, async (_request, reply) => {
    return reply
      .header('cache-control', 'private, max-age=300')
      .send(FEEL_FUNCTIONS.map((f) => ({ name: f.name, params: f.params, returns: f.returns, description: f.description, raises: f.raises, example: f.example })));
  });

  app.get('/processes/:key', { ...read, schema: { params: KeyParams, querystring: ShowQuery } }, async (request, reply) => {
    const { key } = request.params;
    const def = await loadVersion(key, request.query.version);
    const p = await versionsOf(key);
    const model = await modelOf(def);
    const compareTo = request.query.compare ?? (def.version > 1 ? def.version - 1 : undefined);
    let diff = null;
    let compareError: string | null = null;
    if (compareTo !== undefined && compareTo !== def.version) {
      const other = await definitionByVersion(db, key, compareTo);
      if (!other) compareError = `Process “${key}” has no version ${compareTo} to compare with.`;
      else if (!other.executable || !model) compareError = 'Only executable versions can be compared.';
      else {
        const otherModel = (await modelOf(other))!;
        // Always read as "from the older to the newer".
        diff = other.version < def.version ? diffProcesses(otherModel, model) : diffProcesses(model, otherModel);
      }
    }
    const heat = model ? await heatmap(db, def.id) : {};
    const heatRows = Object.entries(heat)
      .map(([id, h]) => ({ id, name: elementName(model, id), ...h }))
      .sort((a, b) => b.waiting - a.waiting || b.openTickets - a.openTickets || a.name.localeCompare(b.name));
    const query = `version=${def.version}`;
    return reply.page(
      'processes/show',
      {
        title: `${def.name ?? key} · version ${def.version}`,
        section: 'processes',
        key,
        def: { version: def.version, name: def.name, executable: def.executable, file_name: def.file_name, deployedAt: def.deployed_at, deployedBy: actorName(def.deployed_by) },
        latest: def.version === p.latestVersion,
        latestVersion: p.latestVersion,
        versions: versionRows(p, request, def.version),
        diagramUrl: `/processes/${encodeURIComponent(key)}/diagram.bpmn?${query}`,
        overlaysUrl: model ? `/processes/${encodeURIComponent(key)}/heatmap.json?${query}` : null,
        elementLink: `/processes/${encodeURIComponent(key)}/elements/{id}?${query}`,
        heatRows,
        diff: presentDiff(diff),
        compare: diff ? { from: Math.min(compareTo!, def.version), to: Math.max(compareTo!, def.version) } : null,
        compareError,
        compareOptions: p.versions.filter((v) => v.version !== def.version).map((v) => ({ version: v.version, selected: v.version === compareTo })),
        migrations: can(request.principal, 'processes:deploy') ? await recentMigrations(db, key) : [],
        canDeploy: can(request.principal, 'processes:deploy'),
        assets: { styles: ['/assets/build/viewer.css', '/assets/processes.css'], scripts: ['/assets/build/viewer.js'] },
      },
      { fragment: 'processes/show' },
    );
  });

  app.get('/processes/:key/versions', { ...read, schema: { params: KeyParams } }, async (request, reply) => {
    const p = await versionsOf(request.params.key);
    return reply.page(
      'processes/versions',
      { title: `${p.name ?? p.key} · versions`, section: 'processes', key: p.key, versions: versionRows(p, request), latestVersion: p.latestVersion },
      { fragment: 'processes/versions' },
    );
  });

  app.get('/processes/:key/diagram.bpmn', { ...read, schema: { params: KeyParams, querystring: VersionQuery } }, async (request, reply) => {
    const def = await loadVersion(request.params.key, request.query.version);
    // Served as a download, never rendered: an XML document with an XHTML <script> must not run here.
    return reply
      .header('content-type', 'application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="${safeFileName(def.key)}-v${def.version}.bpmn"`)
      .header('cache-control', 'private, no-cache')
      .send(def.xml);
  });

  app.get('/processes/:key/heatmap.json', { ...read, schema: { params: KeyParams, querystring: VersionQuery } }, async (request, reply) => {
    const def = await loadVersion(request.params.key, request.query.version);
    return reply.header('cache-control', 'no-store').send({ key: def.key, version: def.version, elements: await heatmap(db, def.id) });
  });

  app.get('/processes/:key/elements/:elementId', { ...read, schema: { params: ElementParams, querystring: ElementQuery } }, async (request, reply) => {
    const { key, elementId } = request.params;
    const def = await loadVersion(key, request.query.version);
    const model = await modelOf(def);
    if (!model?.elements[elementId]) throw new HttpProblem('NOT_FOUND', `Version ${def.version} of “${key}” has no element ${elementId}.`);
    let page;
    try {
      page = await waitingAtElement(db, def.id, elementId, WAITING_PAGE_SIZE, request.query.cursor || undefined);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new HttpProblem('INVALID_CURSOR', 'That page link is not valid any more; start again from the first page.');
      throw err;
    }
    const el = model.elements[elementId]!;
    const base = `/processes/${encodeURIComponent(key)}/elements/${encodeURIComponent(elementId)}?version=${def.version}`;
    return reply.page(
      'processes/element',
      {
        title: `Waiting at ${el.name ?? elementId}`,
        section: 'processes',
        key,
        version: def.version,
        element: { id: elementId, name: el.name ?? elementId, typeLabel: typeLabel(el.type) },
        items: page.items,
        firstUrl: base,
        paged: !!request.query.cursor,
        nextUrl: page.nextCursor ? `${base}&cursor=${encodeURIComponent(page.nextCursor)}` : null,
      },
      { fragment: 'processes/element' },
    );
  });

  // ------------------------------------------------------------------ modelling

  function modelerPage(reply: FastifyReply, data: { key: string; title: string; bpmnUrl: string; isNew: boolean; baseVersion: number | null; versions: unknown[]; latestVersion: number | null }) {
    return reply.page('processes/edit', {
      ...data,
      section: 'processes',
      deployUrl: '/processes/deploy',
      feelFunctionsUrl: '/processes/-/feel-functions',
      whatIfUrl: `/processes/${encodeURIComponent(data.key)}/what-if`,
      assets: { styles: ['/assets/build/modeler.css', '/assets/processes.css'], scripts: ['/assets/build/modeler.js', '/assets/processes.js'] },
    });
  }

  app.get('/processes/new', { ...deploy, schema: { querystring: NewQuery } }, async (request, reply) => {
    const key = request.query.key?.trim() || 'new-process';
    if (!PROCESS_ID.test(key)) throw new HttpProblem('VALIDATION_FAILED', 'A process id starts with a letter or "_" and has only letters, digits, "_", "-" and ".".');
    return modelerPage(reply, {
      key,
      title: 'New process',
      bpmnUrl: `/processes/new/starter.bpmn?key=${encodeURIComponent(key)}`,
      isNew: true,
      baseVersion: null,
      versions: [],
      latestVersion: null,
    });
  });

  app.get('/processes/new/starter.bpmn', { ...deploy, schema: { querystring: NewQuery } }, async (request, reply) => {
    return reply.header('content-type', 'application/xml; charset=utf-8').header('cache-control', 'no-store').send(starterXml(request.query.key?.trim() || 'new-process'));
  });

  app.get('/processes/:key/edit', { ...deploy, schema: { params: KeyParams } }, async (request, reply) => {
    const { key } = request.params;
    const def = await loadVersion(key);
    const p = await versionsOf(key);
    return modelerPage(reply, {
      key,
      title: `Edit ${def.name ?? key}`,
      bpmnUrl: `/processes/${encodeURIComponent(key)}/diagram.bpmn`,
      isNew: false,
      baseVersion: def.version,
      versions: versionRows(p, request),
      latestVersion: p.latestVersion,
    });
  });

  app.post('/processes/deploy', { ...deploy, bodyLimit: MAX_BPMN_BYTES }, async (request, reply) => {
    const fileName = typeof request.headers['x-file-name'] === 'string' ? request.headers['x-file-name'].slice(0, 200) : null;
    try {
      const result = await runtime.deploy(xmlBody(request), `user:${request.principal!.email}`, fileName);
      const main = result.processes.find((p) => p.executable) ?? result.processes[0]!;
      return reply
        .code(result.changed ? 201 : 200)
        .header('cache-control', 'no-store')
        .send({
          key: main.key,
          version: main.version,
          created: main.created,
          processes: result.processes.map((p) => ({ key: p.key, version: p.version, name: p.name, executable: p.executable, created: p.created })),
        });
    } catch (err) {
      if (!(err instanceof DeployRefusedError)) throw err;
      // Answered like the API (SPEC §7), not as an HTML page: the modeler puts the errors on the elements.
      return reply.code(422).type('application/problem+json').send(problem('DEPLOY_REFUSED', err.message, { errors: err.errors }));
    }
  });

  app.post('/processes/:key/what-if', { ...deploy, bodyLimit: MAX_BPMN_BYTES, schema: { params: KeyParams, querystring: WhatIfQuery } }, async (request, reply) => {
    const { key } = request.params;
    let run: WhatIfRun;
    try {
      run = await whatIf({ ctx: runtime.ctx, settings: runtime.settings, validateOptions: runtime.validateOptions }, { key, xml: xmlBody(request), limit: request.query.limit });
    } catch (err) {
      if (!(err instanceof DeployRefusedError)) throw err;
      if (wantsJson(request)) return reply.code(422).type('application/problem+json').send(problem('DEPLOY_REFUSED', err.message, { errors: err.errors }));
      return reply.fragment('processes/what-if', { key, refused: { message: err.message, errors: err.errors } }, { status: 422 });
    }
    if (wantsJson(request)) return reply.header('cache-control', 'no-store').send(run.report);
    return reply.fragment('processes/what-if', { key, report: presentWhatIf(run.report, run.draft, run.current) });
  });

  // ------------------------------------------------------------------ migration

  function migrationProblem(err: unknown): never {
    if (err instanceof MigrationError) throw new HttpProblem(err.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'UNPROCESSABLE', err.message);
    throw err;
  }

  app.get('/processes/:key/migrate', { ...deploy, schema: { params: KeyParams, querystring: MigrateQuery } }, async (request, reply) => {
    const { key } = request.params;
    const preview = await previewMigration(runtime.ctx, key, request.query.from).catch(migrationProblem);
    return reply.page('processes/migrate', { title: `Migrate ${key} version ${preview.fromVersion}`, section: 'processes', key, preview }, { fragment: 'processes/migrate' });
  });

  app.post('/processes/:key/migrate', { ...deploy, schema: { params: KeyParams, body: MigrateBody } }, async (request, reply) => {
    const { key } = request.params;
    const id = await startMigration(runtime.ctx, key, Number(request.body.from), `user:${request.principal!.email}`).catch(migrationProblem);
    runtime.nudge('ordo-migrate');
    const url = `/processes/${encodeURIComponent(key)}/migrations/${id}`;
    if (request.headers['hx-request'] === 'true') return reply.header('hx-location', url).code(204).send();
    return reply.redirect(url, 303);
  });

  app.get('/processes/:key/migrations/:id', { ...deploy, schema: { params: MigrationParams } }, async (request, reply) => {
    const { key, id } = request.params;
    const migration = await getMigration(db, id);
    if (!migration || migration.key !== key) throw new HttpProblem('NOT_FOUND', 'There is no such migration.');
    return reply.page(
      'processes/migration',
      { title: `Migration of ${key} version ${migration.fromVersion} → ${migration.toVersion}`, section: 'processes', key, migration, running: migration.status !== 'done' },
      { fragment: 'processes/migration' },
    );
  });
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { QUEUES } from '../../../runtime/boss.ts';
import { BulkError, getBulk, startBulk } from '../../../runtime/bulk.ts';
import { groupSize, groupTicketIds, previewGroupFix, ticketGroups, type TicketGroup, type TicketGroupKey } from '../../../runtime/group-fix.ts';
import { describeTransform, parseTransform, transformsFor, type TransformKind } from '../../../tickets/fields.ts';
import type { AppDeps } from '../../app.ts';
import { can, requirePermission } from '../../plugins/auth.ts';
import { wantsFragment } from '../../plugins/views.ts';
import { HttpProblem } from '../../problem.ts';
import { editableLeaf, fieldInWords } from './fix-form.ts';
import { actorOf, codeInWords } from './ticket-format.ts';

/**
 * Group fix (`/tickets/groups`): open validation tickets grouped by step + code + field, and one change
 * for a whole group: choose the transformation, preview every order before → after with whether its
 * step would pass (dry runs, nothing written), then apply it as a background bulk operation.
 */

/** Orders previewed on the page; the change itself applies to the whole group. */
const PREVIEW_ROWS = 100;
/** At most this many tickets per group fix (one bulk operation). */
const MAX_APPLY = 10_000;

const TRANSFORM_LABELS: Record<TransformKind, string> = {
  'postal-separator': "Write it the country's way (insert the separator, e.g. 00838 → 00-838)",
  set: 'Set one value for all',
  trim: 'Trim spaces',
  uppercase: 'Upper-case',
};

const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const GroupQuery = Type.Object({
  element: Type.String({ maxLength: 200 }),
  code: Type.String({ maxLength: 100 }),
  field: Type.Optional(Type.String({ maxLength: 300 })),
  kind: Type.Optional(Type.String({ maxLength: 40 })),
  value: Type.Optional(Type.String({ maxLength: 500 })),
});
const ApplyBody = Type.Object({ ...GroupQuery.properties, reason: Type.Optional(Type.String({ maxLength: 1000 })), ...Csrf });

function groupUrl(key: TicketGroupKey, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ element: key.elementId, code: key.code, ...(key.field ? { field: key.field } : {}), ...extra });
  return `/tickets/groups/fix?${params.toString()}`;
}

/** "Postal code invalid — Validate address — 41 tickets", and whether one change can fix it. */
export function presentGroup(g: TicketGroup) {
  const fixable = !!g.field && !!editableLeaf(g.field) && transformsFor(g.field).length > 0;
  return {
    ...g,
    problem: codeInWords(g.code),
    step: g.elementName ?? g.elementId,
    fieldWords: g.field ? fieldInWords(g.field) : null,
    url: groupUrl(g),
    queueUrl: `/tickets?code=${encodeURIComponent(g.code)}`,
    fixable,
  };
}

export const ticketGroupRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, runtime } = deps;
  const ctx = runtime.ctx;
  const assets = { styles: ['/assets/tickets.css'], scripts: ['/assets/tickets.js'] };

  app.get('/tickets/groups', { onRequest: requirePermission('tickets:read'), schema: {} }, async (_request, reply) => {
    const groups = (await ticketGroups(db)).map(presentGroup);
    return reply.page('tickets/groups', { title: 'Ticket groups', section: 'tickets', groups, assets });
  });

  async function groupPage(key: TicketGroupKey, query: { kind?: string; value?: string }) {
    const size = await groupSize(db, key);
    const [sample] = await ticketGroups(db, { key });
    const kinds = key.field && editableLeaf(key.field) ? transformsFor(key.field) : [];
    const chosen = query.kind && (kinds as string[]).includes(query.kind) ? query.kind : null;
    let preview = null;
    let transformError: string | null = null;
    let transform = null;
    if (query.kind) {
      const parsed = chosen ? parseTransform(chosen, query.value) : { error: 'That change does not fit this field.' };
      if ('error' in parsed) transformError = parsed.error;
      else {
        transform = parsed.transform;
        const p = await previewGroupFix(ctx, key, parsed.transform, PREVIEW_ROWS);
        preview = {
          ...p,
          description: describeTransform(parsed.transform),
          more: Math.max(0, p.total - p.rows.length),
          rows: p.rows.map((r) => ({ ...r, before: show(r.before), after: show(r.after), url: `/tickets/${r.ticketId}` })),
        };
      }
    }
    return {
      key,
      group: presentGroup(sample ?? { ...key, elementName: null, queue: '', count: size, sample: null }),
      size,
      kinds: kinds.map((k, i) => ({ value: k, label: TRANSFORM_LABELS[k], checked: chosen ? k === chosen : i === 0, isSet: k === 'set' })),
      value: query.value ?? '',
      fixable: kinds.length > 0,
      preview,
      transform,
      transformError,
    };
  }

  app.get('/tickets/groups/fix', { onRequest: requirePermission('tickets:read'), schema: { querystring: GroupQuery } }, async (request, reply) => {
    const key: TicketGroupKey = { elementId: request.query.element, code: request.query.code, field: request.query.field ?? '' };
    const data = await groupPage(key, request.query);
    return reply.page(
      'tickets/group-fix',
      { title: `Fix all: ${codeInWords(key.code)}`, section: 'tickets', ...data, canWork: can(request.principal, 'tickets:work'), assets },
      { fragment: 'tickets/group-preview', status: data.transformError ? 422 : 200 },
    );
  });

  app.post('/tickets/groups/apply', { onRequest: requirePermission('tickets:work'), schema: { body: ApplyBody } }, async (request, reply) => {
    const b = request.body;
    const key: TicketGroupKey = { elementId: b.element, code: b.code, field: b.field ?? '' };
    const refuse = async (message: string) => {
      if (wantsFragment(request)) return reply.fragment('tickets/bulk-progress', { bulkError: message }, { status: 422 });
      const data = await groupPage(key, b);
      return reply.page('tickets/group-fix', { title: 'Fix all', section: 'tickets', ...data, canWork: true, applyError: message, assets }, { status: 422, fragment: 'tickets/group-preview' });
    };
    if (!key.field || !editableLeaf(key.field) || !(transformsFor(key.field) as string[]).includes(b.kind ?? '')) return refuse('This change does not fit the field.');
    const parsed = parseTransform(b.kind, b.value);
    if ('error' in parsed) return refuse(parsed.error);
    const ids = await groupTicketIds(db, key, MAX_APPLY);
    if (ids.length === 0) return refuse('No open tickets are left in this group.');
    let id: string;
    try {
      id = await startBulk(ctx, 'patch', ids, { field: key.field, transform: parsed.transform, reason: b.reason?.trim() || `Group fix: ${describeTransform(parsed.transform)}` }, actorOf(request));
    } catch (err) {
      if (err instanceof BulkError) return refuse(err.message);
      throw err;
    }
    runtime.nudge(QUEUES.bulk);
    request.log.info({ operationId: id, field: key.field, code: key.code, tickets: ids.length }, 'group fix started');
    if (!wantsFragment(request)) return reply.redirect(`/tickets/bulk/${id}`, 303);
    const op = await getBulk(db, id);
    if (!op) throw new HttpProblem('NOT_FOUND', 'The group fix vanished.');
    return reply.fragment('tickets/bulk-progress', { op: { ...op, running: true, label: 'Group fix', results: [], hiddenResults: 0 } });
  });
};

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

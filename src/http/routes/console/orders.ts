import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql, type SqlBool } from 'kysely';
import { ORDER_STATUSES, type OrderStatus } from '../../../db/tables/orders.table.ts';
import { formatMinorUnits, parseMoney } from '../../../orders/money.ts';
import { addNote, addTag, AnnotationError, listNotes, MAX_NOTE_LENGTH, normaliseTag, removeTag } from '../../../runtime/order-annotations.ts';
import { orderDiagram, orderProcess, orderTickets, orderTimeline, type TimelineEntry } from '../../../runtime/order-overview.ts';
import { getOrder, InvalidCursorError, listOrders, type OrderFilters, type OrderRecord } from '../../../runtime/orders.ts';
import type { AppDeps } from '../../app.ts';
import { requirePermission } from '../../plugins/auth.ts';
import { wantsFragment } from '../../plugins/views.ts';
import { HttpProblem } from '../../problem.ts';
import { changesInWords, fieldInWords } from './fix-form.ts';
import { STATUS_LABELS } from './format.ts';

/** Rows per page of the order list. */
const ORDERS_PAGE_SIZE = 50;

const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 40 })),
  channel: Type.Optional(Type.String({ maxLength: 64 })),
  tag: Type.Optional(Type.String({ maxLength: 100 })),
  q: Type.Optional(Type.String({ maxLength: 200 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  cursor: Type.Optional(Type.String({ maxLength: 300 })),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const TagBody = Type.Object({ tag: Type.String({ maxLength: 200 }), ...Csrf });
const NoteBody = Type.Object({ text: Type.String({ maxLength: MAX_NOTE_LENGTH * 2 }), ...Csrf });

/** "2026-11-21" → that day's start in UTC; anything else → null. */
function parseDay(value: string | undefined): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

const DAY_MS = 24 * 60 * 60 * 1000;

interface ListForm {
  status: string;
  channel: string;
  tag: string;
  q: string;
  from: string;
  to: string;
}

function parseListQuery(query: typeof ListQuery.static): { form: ListForm; filters: OrderFilters; problems: string[] } {
  const problems: string[] = [];
  const form: ListForm = { status: '', channel: '', tag: '', q: '', from: '', to: '' };
  const filters: OrderFilters = {};
  if (query.status) {
    if ((ORDER_STATUSES as readonly string[]).includes(query.status)) form.status = filters.status = query.status as OrderStatus;
    else problems.push(`Unknown status "${query.status}" ignored.`);
  }
  if (query.channel?.trim()) form.channel = filters.channel = query.channel.trim();
  if (query.tag?.trim()) {
    const tag = normaliseTag(query.tag);
    if (tag) form.tag = filters.tag = tag;
    else problems.push(`"${query.tag}" is not a tag; tag filter ignored.`);
  }
  if (query.q?.trim()) form.q = filters.q = query.q.trim();
  if (query.from) {
    const d = parseDay(query.from);
    if (d) [form.from, filters.from] = [query.from, d];
    else problems.push('"From" must be a date (YYYY-MM-DD); ignored.');
  }
  if (query.to) {
    const d = parseDay(query.to);
    // "To" is inclusive: orders of that whole day.
    if (d) [form.to, filters.to] = [query.to, new Date(d.getTime() + DAY_MS)];
    else problems.push('"To" must be a date (YYYY-MM-DD); ignored.');
  }
  return { form, filters, problems };
}

function listUrl(form: ListForm, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  const qs = params.toString();
  return qs ? `/orders?${qs}` : '/orders';
}

function lineTotal(unitPrice: string, quantity: number): string {
  const unit = parseMoney(unitPrice);
  return unit === null ? '' : formatMinorUnits(unit * BigInt(quantity));
}

function describeData(data: unknown): string {
  if (!data || typeof data !== 'object') return '';
  const text = Object.entries(data as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function statusLabel(value: unknown): string {
  return STATUS_LABELS[value as OrderStatus] ?? String(value ?? '');
}

/** An element type as words: bpmn:ScriptTask → "script task". */
function typeInWords(type: string | null): string {
  return (type ?? '').replace(/^bpmn:/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

const PROCESS_EVENT_WORDS: Record<string, string> = { entered: 'Reached', failed: 'Failed at', ticket: 'Ticket opened at', incident: 'Stopped at', error: 'Error at', withdrawn: 'Withdrawn from' };

/** One timeline line in the operator's words; `names`: the lifecycle's element names by id. */
function describe(entry: TimelineEntry, names: ReadonlyMap<string, string> = new Map()): { text: string; detail: string; href: string | null } {
  const data = (entry.data ?? {}) as Record<string, unknown>;
  if (entry.source === 'order') {
    switch (entry.kind) {
      case 'received':
        return { text: `Received from ${String(data.channel ?? 'a channel')}`, detail: '', href: null };
      case 'status':
        return { text: `Status ${statusLabel(data.from)} → ${statusLabel(data.to)}`, detail: '', href: null };
      case 'tag_added':
        return { text: `Tag “${String(data.tag)}” added`, detail: '', href: null };
      case 'tag_removed':
        return { text: `Tag “${String(data.tag)}” removed`, detail: '', href: null };
      case 'note_added':
        return { text: 'Note added', detail: '', href: '#notes' };
      case 'changed_by_process':
        return { text: 'Order data changed by the lifecycle', detail: '', href: null };
      case 'patched': {
        const reason = typeof data.reason === 'string' && data.reason.trim() ? ` (why: ${data.reason.trim()})` : '';
        return { text: 'Order data corrected', detail: changesInWords(data.changes) + reason, href: null };
      }
      case 'cancelled':
        return { text: 'Order cancelled', detail: typeof data.reason === 'string' ? `why: ${data.reason}` : '', href: null };
      default:
        return { text: entry.kind.replace(/_/g, ' '), detail: describeData(data), href: null };
    }
  }
  if (entry.source === 'process') {
    const element = entry.subject ? (names.get(entry.subject) ?? entry.subject) : '';
    const event = PROCESS_EVENT_WORDS[entry.kind] ?? entry.kind.replace(/_/g, ' ');
    return { text: `${event} “${element}”`, detail: typeInWords(entry.subjectType), href: null };
  }
  return { text: `Ticket #${entry.subject}: ${entry.kind.replace(/_/g, ' ')}`, detail: entry.subjectType ?? '', href: `/tickets/${entry.subject}` };
}

function actorLabel(actor: string | null): string {
  if (!actor) return 'Ordo';
  return actor.startsWith('user:') ? actor.slice(5) : actor;
}

function presentEntry(entry: TimelineEntry, names?: ReadonlyMap<string, string>) {
  return { ...entry, actor: actorLabel(entry.actor), ...describe(entry, names) };
}

export const orderConsoleRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db } = deps;

  app.get('/orders', { onRequest: requirePermission('orders:read'), schema: { querystring: ListQuery } }, async (request, reply) => {
    const { form, filters, problems } = parseListQuery(request.query);
    let page;
    try {
      page = await listOrders(db, filters, ORDERS_PAGE_SIZE, request.query.cursor || undefined);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new HttpProblem('INVALID_CURSOR', 'That page link is not valid any more; start again from the first page.');
      throw err;
    }
    // An order number typed whole is what the operator is after: named above the list, which is newest first.
    const exact = form.q && !request.query.cursor ? await ordersNumbered(form.q) : [];
    return reply.page(
      'orders/list',
      {
        title: 'Orders',
        section: 'orders',
        form,
        problems,
        exact,
        statuses: ORDER_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value], selected: value === form.status })),
        orders: page.items,
        paged: !!request.query.cursor,
        firstUrl: listUrl(form),
        nextUrl: page.nextCursor ? listUrl(form, page.nextCursor) : null,
        filtered: Object.values(form).some(Boolean),
      },
      { fragment: 'orders/list' },
    );
  });

  /**
   * Orders whose number is exactly `q` (any case, any channel): found through the search index, like the
   * search itself, and at most a handful (one per channel).
   */
  async function ordersNumbered(q: string): Promise<Array<{ id: string; externalId: string; channel: string; status: string }>> {
    const text = q.trim();
    // Order numbers have digits; a name or an e-mail is left to the search (a common surname would cost a scan of its matches).
    if (!/^\S{3,100}$/.test(text) || !/\d/.test(text)) return [];
    const pattern = `%${text.replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;
    const rows = await db
      .selectFrom('orders')
      .select(['id', 'external_id', 'channel', 'status'])
      .where(sql<SqlBool>`(external_id || ' ' || coalesce(customer_name, '') || ' ' || coalesce(customer_email, '')) ilike ${pattern}`)
      .where(sql<SqlBool>`lower(external_id) = lower(${text})`)
      .limit(5)
      .execute();
    return rows.map((r) => ({ id: r.id, externalId: r.external_id, channel: r.channel, status: r.status }));
  }

  /** The lifecycle's element names by id (its compiled model is cached), for the timeline. */
  async function elementNames(definitionId: string): Promise<Map<string, string>> {
    try {
      const model = await deps.runtime.ctx.models.get(db, definitionId);
      return new Map(Object.entries(model.elements).flatMap(([id, el]) => ((el as { name?: string | null }).name ? [[id, (el as { name: string }).name]] : [])));
    } catch (err) {
      // The names are a nicety: a version that no longer compiles shows its element ids, not an error page.
      deps.logger.warn({ err: (err as Error).message, definitionId }, 'element names of a process version unavailable');
      return new Map();
    }
  }

  async function renderOrder(request: FastifyRequest, reply: FastifyReply, order: OrderRecord, extra: Record<string, unknown> = {}, status = 200) {
    const [notes, timeline, process, tickets] = await Promise.all([
      listNotes(db, order.id),
      orderTimeline(db, order.id),
      orderProcess(db, order.id),
      orderTickets(db, order.id),
    ]);
    const d = order.data;
    const open = tickets.filter((t) => t.status === 'open' || t.status === 'in_progress');
    const names = process ? await elementNames(process.definitionId) : undefined;
    return reply.page(
      'orders/show',
      {
        title: `Order ${order.externalId}`,
        section: 'orders',
        order,
        data: d,
        lines: d.lines.map((l) => ({ ...l, total: lineTotal(l.unitPrice, l.quantity) })),
        notes,
        timeline: timeline.map((e) => presentEntry(e, names)),
        process,
        tickets,
        openTickets: open.length,
        failedElements: [...new Set(open.map((t) => t.elementId))],
        // The fields open tickets find wrong, not only the empty ones: listed above the data, marked in it.
        faults: open.flatMap((t) => t.issues.filter((i) => i.field).map((i) => ({ field: fieldInWords(i.field!), message: i.message ?? i.code, ticketId: t.id }))),
        faultPaths: Object.fromEntries(open.flatMap((t) => t.issues.filter((i) => i.field).map((i) => [i.field!, true]))),
        diagramUrl: `/orders/${order.id}/diagram.bpmn`,
        // The bpmn-js viewer (public/build, scripts/build-assets.ts) only where there is a diagram to show.
        assets: process ? { styles: ['/assets/build/viewer.css'], scripts: ['/assets/build/viewer.js'] } : null,
        ...extra,
      },
      { status, fragment: 'orders/show' },
    );
  }

  async function loadOrder(id: string): Promise<OrderRecord> {
    const order = await getOrder(db, id);
    if (!order) throw new HttpProblem('NOT_FOUND', 'There is no order with this id. It may have been mistyped.');
    return order;
  }

  app.get('/orders/:id', { onRequest: requirePermission('orders:read'), schema: { params: IdParams } }, async (request, reply) => {
    return renderOrder(request, reply, await loadOrder(request.params.id));
  });

  /** The BPMN XML of the order's lifecycle, for the diagram viewer (public/build/viewer.js). */
  app.get('/orders/:id/diagram.bpmn', { onRequest: requirePermission('orders:read'), schema: { params: IdParams } }, async (request, reply) => {
    const diagram = await orderDiagram(db, request.params.id);
    if (!diagram) throw new HttpProblem('NOT_FOUND', 'This order has no lifecycle diagram yet.');
    // Served as a download, never rendered: an XML document with an XHTML <script> must not run here.
    return reply
      .header('content-type', 'application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="${diagram.processKey.replace(/[^A-Za-z0-9._-]/g, '_')}-v${diagram.version}.bpmn"`)
      .header('cache-control', 'private, no-cache')
      .send(diagram.xml);
  });

  /**
   * After a tag or note change: for htmx the changed block plus the timeline (swapped out of band, it
   * records the change); for a plain form a redirect back, or the page with the error next to the field.
   */
  async function answerChange(request: FastifyRequest, reply: FastifyReply, id: string, block: 'tags' | 'notes', error?: string) {
    const order = await loadOrder(id);
    const status = error ? 422 : 200;
    const extra = block === 'tags' ? { tagError: error } : { noteError: error };
    if (wantsFragment(request)) {
      if (error) return reply.fragment(`orders/${block}`, { order, notes: await listNotes(db, id), ...extra }, { status });
      const [notes, timeline, process] = await Promise.all([listNotes(db, id), orderTimeline(db, id), orderProcess(db, id)]);
      const names = process ? await elementNames(process.definitionId) : undefined;
      return reply.fragment(`orders/${block}-changed`, { order, notes, timeline: timeline.map((e) => presentEntry(e, names)) });
    }
    if (error) return renderOrder(request, reply, order, extra, status);
    return reply.redirect(`/orders/${id}#${block}`, 303);
  }

  const annotate = { onRequest: requirePermission('orders:annotate') };

  app.post('/orders/:id/tags', { ...annotate, schema: { params: IdParams, body: TagBody } }, async (request, reply) => {
    const { id } = request.params;
    try {
      await addTag(db, id, request.body.tag, `user:${request.principal!.email}`);
    } catch (err) {
      if (err instanceof AnnotationError && err.code !== 'ORDER_NOT_FOUND') return answerChange(request, reply, id, 'tags', err.message);
      if (err instanceof AnnotationError) throw new HttpProblem('NOT_FOUND', err.message);
      throw err;
    }
    return answerChange(request, reply, id, 'tags');
  });

  app.post('/orders/:id/tags/remove', { ...annotate, schema: { params: IdParams, body: TagBody } }, async (request, reply) => {
    const { id } = request.params;
    try {
      await removeTag(db, id, request.body.tag, `user:${request.principal!.email}`);
    } catch (err) {
      if (err instanceof AnnotationError) throw new HttpProblem('NOT_FOUND', err.message);
      throw err;
    }
    return answerChange(request, reply, id, 'tags');
  });

  app.post('/orders/:id/notes', { ...annotate, schema: { params: IdParams, body: NoteBody } }, async (request, reply) => {
    const { id } = request.params;
    const principal = request.principal!;
    try {
      await addNote(db, id, { text: request.body.text, author: principal.email, authorId: principal.userId });
    } catch (err) {
      if (err instanceof AnnotationError && err.code !== 'ORDER_NOT_FOUND') return answerChange(request, reply, id, 'notes', err.message);
      if (err instanceof AnnotationError) throw new HttpProblem('NOT_FOUND', err.message);
      throw err;
    }
    return answerChange(request, reply, id, 'notes');
  });
};

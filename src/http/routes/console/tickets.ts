import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TICKET_STATUSES } from '../../../db/tables/tickets.table.ts';
import { formatMinorUnits, parseMoney } from '../../../orders/money.ts';
import { QUEUES } from '../../../runtime/boss.ts';
import { BulkError, getBulk, startBulk } from '../../../runtime/bulk.ts';
import { orderProcess } from '../../../runtime/order-overview.ts';
import { getOrder, isUuid, type OrderRecord } from '../../../runtime/orders.ts';
import { MATCH_COUNT_CAP, narrowsQueue, ordersForTickets, otherOpenTickets, queuePage, queueSurroundings, ticketProblems, type QueueMatches } from '../../../runtime/ticket-queue.ts';
import { openWithCode, type OpenTicketTally } from '../../../runtime/tallies.ts';
import {
  assignTicket,
  cancelOrder,
  commentOnTicket,
  completeTicket,
  dryRunTicket,
  getTicket,
  retryTicket,
  ticketHistory,
  TicketError,
  type TicketFilters,
  type TicketSort,
} from '../../../runtime/tickets.ts';
import type { TicketView } from '../../../runtime/views.ts';
import { buildMergePatch } from '../../../tickets/fields.ts';
import { groupInstructions } from '../../../tickets/instructions.ts';
import type { TicketDefinition } from '../../../engine/index.ts';
import type { AppDeps } from '../../app.ts';
import { can, requirePermission } from '../../plugins/auth.ts';
import { wantsFragment } from '../../plugins/views.ts';
import { HttpProblem } from '../../problem.ts';
import { changesInWords, fieldInWords, fixGroups, fixPaths, openedIssues, postedValues, readFixForm, type FieldMessage, type FixGroup } from './fix-form.ts';
import { messageFor, STATUS_LABELS } from './format.ts';
import { openTicketsFor, rememberOpenTickets } from './layout.ts';
import { ticketGroupRoutes } from './ticket-groups.ts';
import { actorName, actorOf, codeInWords, dueIn, historyLine, problemOf, queueRow, TICKET_STATUS_WORDS } from './ticket-format.ts';

/**
 * The operator's ticket pages: the queue (`/tickets`), one ticket (`/tickets/:id`) with its Fix form,
 * and bulk actions with their progress (`/tickets/bulk/:id`). Reading needs `tickets:read`; every
 * action `tickets:work` (operators and admins), refused on the server whatever the page showed.
 */

const TICKETS_PAGE_SIZE = 50;
/** How often the queue's rows refresh themselves (htmx polling). */
export const QUEUE_REFRESH_S = 5;
/** Results of a bulk operation listed on its progress fragment. */
const BULK_RESULTS_SHOWN = 200;
const QUEUE_ASSETS = { styles: ['/assets/tickets.css'], scripts: ['/assets/tickets.js'] };

const AGES = [
  { value: '15m', minutes: 15, label: 'older than 15 min' },
  { value: '1h', minutes: 60, label: 'older than 1 h' },
  { value: '4h', minutes: 240, label: 'older than 4 h' },
  { value: '1d', minutes: 1440, label: 'older than 1 day' },
  { value: '3d', minutes: 4320, label: 'older than 3 days' },
] as const;
const SORTS: ReadonlyArray<{ value: TicketSort; label: string }> = [
  { value: 'due', label: 'due time' },
  { value: 'priority', label: 'priority' },
  { value: 'newest', label: 'newest' },
];
const STATUS_CHOICES = [{ value: 'active', label: 'open or in progress' }, ...TICKET_STATUSES.map((s) => ({ value: s, label: TICKET_STATUS_WORDS[s]! }))];

const Csrf = { _csrf: Type.Optional(Type.String({ maxLength: 200 })) };
const Text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const ListQuery = Type.Object({
  queue: Text(100),
  code: Text(100),
  status: Text(40),
  assignee: Text(64),
  age: Text(10),
  q: Text(200),
  sort: Text(20),
  cursor: Text(500),
  /** Position of a later page's first row (1-based), for "Showing 51–100"; the cursor alone does not know it. */
  from: Text(10),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** Form fields `v.<path>` (the Fix form, the completion form) come on top of the named ones. */
const FormValue = Type.Union([Type.String({ maxLength: 2000 }), Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 10 })]);
const FixBody = Type.Object({ reason: Text(1000), ...Csrf }, { additionalProperties: FormValue, maxProperties: 200 });
const Ids = Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Array(Type.String({ maxLength: 20 }), { maxItems: 1000 })]));
/** A row's "Assign to me" without JavaScript posts the whole queue form (its selection too). */
const AssignBody = Type.Object({ assignee: Type.String({ maxLength: 64 }), ids: Ids, ...Csrf }, { additionalProperties: FormValue, maxProperties: 50 });
const CommentBody = Type.Object({ text: Type.String({ maxLength: 5000 }), ...Csrf });
const CancelBody = Type.Object({ reason: Type.String({ maxLength: 1000 }), ...Csrf });
const BulkBody = Type.Object(
  {
    ids: Ids,
    action: Text(20),
    /** "me", "none" (unassign) or a user id. */
    assignTo: Text(64),
    reason: Text(1000),
    ...Csrf,
  },
  { additionalProperties: FormValue, maxProperties: 50 },
);

/** Confirmations after a redirect, by key: the URL never carries text that ends up on the page. */
const DONE: Record<string, string> = {
  completed: 'Task completed; the order moves on.',
  cancelled: 'Order cancelled; its open tickets are closed.',
  assigned: 'Assigned.',
  unassigned: 'Unassigned.',
  commented: 'Comment added.',
};

/**
 * Refusals after a redirect, by key: a form posted from a page gone stale (the order cancelled or completed
 * meanwhile) lands on the ticket page, which shows what happened, rather than on the POST's address.
 */
const REFUSED: Record<string, (order: OrderRecord | null) => string> = {
  order_closed: (order) => (order ? `Order ${order.externalId} was not cancelled: it is ${STATUS_LABELS[order.status] ?? order.status} already.` : 'The order was not cancelled: it is closed already.'),
};

interface QueueForm {
  queue: string;
  code: string;
  status: string;
  assignee: string;
  age: string;
  q: string;
  sort: string;
}

function parseQueue(query: typeof ListQuery.static, me: string): { form: QueueForm; filters: TicketFilters; sort: TicketSort; problems: string[] } {
  const problems: string[] = [];
  const form: QueueForm = { queue: '', code: '', status: '', assignee: '', age: '', q: '', sort: '' };
  const filters: TicketFilters = {};
  if (query.queue?.trim()) form.queue = filters.queue = query.queue.trim();
  if (query.code?.trim()) form.code = filters.code = query.code.trim().toUpperCase();
  if (query.status) {
    if (STATUS_CHOICES.some((s) => s.value === query.status)) {
      form.status = query.status;
      filters.status = query.status as TicketFilters['status'];
    } else problems.push(`Unknown status "${query.status}" ignored.`);
  }
  if (query.assignee === 'me') [form.assignee, filters.assigneeId] = ['me', me];
  else if (query.assignee === 'none') [form.assignee, filters.unassigned] = ['none', true];
  else if (query.assignee) {
    if (isUuid(query.assignee)) [form.assignee, filters.assigneeId] = [query.assignee, query.assignee];
    else problems.push('Unknown assignee ignored.');
  }
  if (query.age) {
    const age = AGES.find((a) => a.value === query.age);
    if (age) [form.age, filters.olderThanMinutes] = [age.value, age.minutes];
    else problems.push(`Unknown age "${query.age}" ignored.`);
  }
  if (query.q?.trim()) form.q = filters.q = query.q.trim();
  let sort: TicketSort = 'due';
  if (query.sort) {
    const s = SORTS.find((x) => x.value === query.sort);
    if (s) [form.sort, sort] = [s.value === 'due' ? '' : s.value, s.value];
    else problems.push(`Unknown sort "${query.sort}" ignored.`);
  }
  return { form, filters, sort, problems };
}

function queueUrl(form: QueueForm, overrides: Partial<QueueForm> = {}, cursor?: string, from?: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...form, ...overrides })) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  if (cursor && from) params.set('from', String(from));
  const qs = params.toString();
  return qs ? `/tickets?${qs}` : '/tickets';
}

/** A count as the queue shows it: digits grouped, and "200+" past what a filtered (capped) count reads. */
function countText(n: number, capped: boolean): string {
  capped &&= n > MATCH_COUNT_CAP;
  return (capped ? MATCH_COUNT_CAP : n).toLocaleString('en-US') + (capped ? '+' : '');
}

/**
 * The queue tabs' counts and the number of tickets the current selection holds. Without filters, or with a
 * problem code as the only one, from the open-ticket tally (exact: it counts per queue, per code and per
 * both). With other filters, from the capped matches: within the cap every tab is exact; past it, All
 * reads "200+", the chosen queue has its own capped count and the other tabs show none (only a lower
 * bound is known for them).
 */
function queueCounts(tally: OpenTicketTally, matches: QueueMatches | null, queue: string, filters: TicketFilters) {
  if (!matches) {
    const code = filters.code;
    const count = (q: string): number => (code ? openWithCode(tally, code, q) : q ? (tally.queues.find((x) => x.queue === q)?.count ?? 0) : tally.total);
    return { capped: false, allExact: true, all: count(''), of: (q: string): number | null => count(q), selected: count(queue) };
  }
  const over = matches.total > MATCH_COUNT_CAP;
  const of = (q: string): number | null => (q === queue && matches.inQueue !== null ? matches.inQueue : over ? null : (matches.perQueue.get(q) ?? 0));
  return { capped: true, allExact: false, all: matches.total, of, selected: queue ? (matches.inQueue ?? 0) : matches.total };
}

/**
 * The Problem menu: each code with its open tickets in the chosen queue tab (every queue on All), whatever
 * the other filters, and it says so ("216 open", "12 open in payment"). On a queue tab only the codes that
 * queue holds are offered, and the chosen code even when it holds none ("0 open in address").
 */
function codeChoices(tally: OpenTicketTally, chosen: string, queue: string): Array<{ value: string; label: string; selected: boolean }> {
  return tally.codes.flatMap((c) => {
    const n = openWithCode(tally, c.code, queue || undefined);
    const selected = c.code === chosen;
    if (n === 0 && !selected) return [];
    return [{ value: c.code, label: `${codeInWords(c.code)} (${n.toLocaleString('en-US')} open${queue ? ` in ${queue}` : ''})`, selected }];
  });
}

function lineTotal(unitPrice: string, quantity: number): string {
  const unit = parseMoney(unitPrice);
  return unit === null ? '' : formatMinorUnits(unit * BigInt(quantity));
}

/** Who closed a ticket and when, from its history (newest closing event). */
function closedBy(history: Array<{ at: string; actor: string; kind: string }>): { kind: string; who: string; at: string } | null {
  const e = [...history].reverse().find((h) => ['resolved', 'cancelled', 'completed'].includes(h.kind));
  return e ? { kind: e.kind, who: actorName(e.actor), at: e.at } : null;
}

export const ticketConsoleRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> = async (app, { deps }) => {
  const { db, runtime } = deps;
  const ctx = runtime.ctx;
  const read = { onRequest: requirePermission('tickets:read') };
  const work = { onRequest: requirePermission('tickets:work') };

  // Group fix: /tickets/groups, /tickets/groups/fix, /tickets/groups/apply.
  await app.register(ticketGroupRoutes, { deps });

  // ── the queue ──────────────────────────────────────────────────────────────

  async function queueData(request: FastifyRequest, query: typeof ListQuery.static) {
    const me = request.principal!.userId;
    const { form, filters, sort, problems } = parseQueue(query, me);
    const pageRead = queuePage(db, filters, sort, TICKETS_PAGE_SIZE, query.cursor || undefined).catch((err: unknown) => {
      if (err instanceof TicketError) throw new HttpProblem('INVALID_CURSOR', 'That page link is not valid any more; start again from the first page.');
      throw err;
    });
    // The rows in one statement; the counts and the assignees together in another, concurrent with it.
    const surroundings = queueSurroundings(db, filters);
    rememberOpenTickets(request, surroundings.then((s) => s.tally));
    const [page, { tally: counts, users, matches }] = await Promise.all([pageRead, surroundings]);
    const orders = page.orders;
    const tabs = queueCounts(counts, matches, form.queue, filters);
    const from = query.cursor && /^\d{1,7}$/.test(query.from ?? '') && Number(query.from) > 1 ? Number(query.from) : query.cursor ? null : 1;
    const shown = page.items.length;
    // Rows and counts are read side by side: a ticket closed in between must not make "51–100 of 99".
    const selected = from !== null ? Math.max(tabs.selected, from + shown - 1) : tabs.selected;
    const now = new Date();
    const canWork = can(request.principal, 'tickets:work');
    return {
      form,
      problems,
      counts,
      queues: [
        { label: 'All', count: countText(tabs.all, tabs.capped && !tabs.allExact), url: queueUrl(form, { queue: '' }), current: !form.queue },
        ...counts.queues.map((q) => {
          const n = tabs.of(q.queue);
          return { label: q.queue, count: n === null ? null : countText(n, tabs.capped), url: queueUrl(form, { queue: q.queue }), current: q.queue === form.queue };
        }),
      ],
      // With filters the tabs count what they match, which the tabs say (a screen reader hears it too).
      countsFiltered: narrowsQueue(filters),
      codes: codeChoices(counts, form.code, form.queue),
      uncountedTitle: `Not counted: these filters match more than ${MATCH_COUNT_CAP} tickets`,
      codeUnknown: form.code && !counts.codes.some((c) => c.code === form.code) ? form.code : null,
      statuses: STATUS_CHOICES.map((s) => ({ ...s, selected: s.value === (form.status || 'active') })),
      ages: AGES.map((a) => ({ value: a.value, label: a.label, selected: a.value === form.age })),
      sorts: SORTS.map((s) => ({ ...s, selected: s.value === (form.sort || 'due') })),
      assignees: [
        { value: 'me', label: 'me', selected: form.assignee === 'me' },
        { value: 'none', label: 'nobody', selected: form.assignee === 'none' },
        ...users.filter((u) => u.id !== me).map((u) => ({ value: u.id, label: u.email, selected: form.assignee === u.id })),
      ],
      assignTo: [...users.filter((u) => u.id === me), ...users.filter((u) => u.id !== me)].map((u) => ({ value: u.id === me ? 'me' : u.id, label: u.id === me ? `me (${u.email})` : u.email })),
      rows: page.items.map((t) => queueRow(t, orders, now, me)),
      canWork,
      paged: !!query.cursor,
      firstUrl: queueUrl(form),
      nextUrl: page.nextCursor ? queueUrl(form, {}, page.nextCursor, from !== null ? from + shown : undefined) : null,
      // The rows refresh from the URL they were rendered for: filters, sort and page stay as they are.
      refreshUrl: queueUrl(form, {}, query.cursor || undefined, from ?? undefined),
      refreshSeconds: QUEUE_REFRESH_S,
      filtered: Object.values(form).some(Boolean),
      shown,
      range: from !== null && shown > 0 ? `${from.toLocaleString('en-US')}–${(from + shown - 1).toLocaleString('en-US')}` : null,
      total: countText(selected, tabs.capped && !(tabs.allExact && !form.queue)),
    };
  }

  app.get('/tickets', { ...read, schema: { querystring: ListQuery } }, async (request, reply) => {
    const data = await queueData(request, request.query);
    // The rows' own refresh asks for the rows (and the counts, out of band); a filter change for the list.
    const fragment = request.headers['hx-target'] === 'ticket-rows' ? 'tickets/rows-refresh' : 'tickets/list-swap';
    return reply.page('tickets/list', { title: 'Tickets', section: 'tickets', ...data, assets: QUEUE_ASSETS }, { fragment });
  });

  // ── bulk actions ───────────────────────────────────────────────────────────

  async function bulkView(id: string) {
    const op = await getBulk(db, id);
    if (!op) throw new HttpProblem('NOT_FOUND', 'There is no such bulk action.');
    const results = op.results.slice(-BULK_RESULTS_SHOWN);
    // A retry that ran but did not fix the step is no success to report in green.
    const stillFailing = op.action === 'retry' ? op.results.filter((r) => r.ok && r.result === 'still_failing').length : 0;
    // Why each shown one still fails, in words (as it stands now: a colleague may have fixed it since).
    const problems = stillFailing > 0 ? await ticketProblems(db, results.filter((r) => r.ok && r.result === 'still_failing').map((r) => r.ticketId)) : new Map();
    const whyFailing = (ticketId: string) => {
      const t = problems.get(ticketId);
      if (!t) return 'still failing';
      const more = t.issues.length > 1 ? ` (and ${t.issues.length - 1} more)` : '';
      return `still failing: ${problemOf(t)}${more}`;
    };
    return {
      op: {
        ...op,
        retry: op.action === 'retry',
        resolved: op.succeeded - stillFailing,
        stillFailing,
        running: op.status !== 'done',
        label: { retry: 'Retry', assign: 'Assign', cancel: 'Cancel orders', patch: 'Group fix' }[op.action] ?? op.action,
        results: results.map((r) => ({
          ...r,
          stillFailing: r.ok && r.result === 'still_failing',
          url: `/tickets/${r.ticketId}`,
          text: r.ok && r.result === 'still_failing' ? whyFailing(r.ticketId) : r.ok ? (r.result ?? 'done').replace(/_/g, ' ') : (r.error ?? 'failed'),
        })),
        hiddenResults: op.results.length - results.length,
      },
    };
  }

  app.post('/tickets/bulk', { ...work, schema: { body: BulkBody } }, async (request, reply) => {
    const b = request.body;
    const ids = b.ids === undefined ? [] : Array.isArray(b.ids) ? b.ids : [b.ids];
    const action = b.action;
    try {
      if (action !== 'retry' && action !== 'assign' && action !== 'cancel') throw new BulkError('Choose Retry, Assign or Cancel orders.');
      const assigneeId = b.assignTo === 'me' ? request.principal!.userId : !b.assignTo || b.assignTo === 'none' ? null : b.assignTo;
      const id = await startBulk(ctx, action, ids, { assigneeId, reason: b.reason?.trim() || undefined }, actorOf(request));
      runtime.nudge(QUEUES.bulk);
      request.log.info({ operationId: id, action, tickets: ids.length }, 'bulk action started');
      if (!wantsFragment(request)) return reply.redirect(`/tickets/bulk/${id}`, 303);
      return reply.fragment('tickets/bulk-progress', await bulkView(id));
    } catch (err) {
      if (!(err instanceof BulkError)) throw err;
      if (wantsFragment(request)) return reply.fragment('tickets/bulk-progress', { bulkError: err.message }, { status: 422 });
      return reply.page('tickets/bulk', { title: 'Bulk action', section: 'tickets', bulkError: err.message, assets: QUEUE_ASSETS }, { status: 422, fragment: 'tickets/bulk-progress' });
    }
  });

  app.get('/tickets/bulk/:id', { ...read, schema: { params: IdParams } }, async (request, reply) => {
    const view = await bulkView(request.params.id);
    // Finished: the queue refreshes its rows now rather than at its next tick.
    if (!view.op.running) reply.header('hx-trigger', 'tickets-changed');
    return reply.page('tickets/bulk', { title: 'Bulk action', section: 'tickets', ...view, assets: QUEUE_ASSETS }, { fragment: 'tickets/bulk-progress' });
  });

  // ── one ticket ─────────────────────────────────────────────────────────────

  async function loadTicket(id: string): Promise<TicketView> {
    const ticket = await getTicket(db, id);
    if (!ticket) throw new HttpProblem('NOT_FOUND', `There is no ticket #${id}. It may have been mistyped.`);
    return ticket;
  }

  const isOpen = (t: TicketView) => t.status === 'open' || t.status === 'in_progress';

  /** Where the order went after a fix, in words; `poll` while it is still on its way. */
  async function outcomeOf(ticket: TicketView, order: OrderRecord | null) {
    if (isOpen(ticket) && ticket.kind === 'technical') return { kind: 'failing', text: `It failed again: ${ticket.error ?? ticket.title}`, poll: false, next: [] };
    if (isOpen(ticket)) {
      return { kind: 'failing', text: `The step still fails: ${ticket.issues.length} problem${ticket.issues.length === 1 ? '' : 's'} left. See the fields below.`, poll: false, next: [] };
    }
    if (!order) return { kind: 'ok', text: 'Done.', poll: false, next: [] };
    const next = await otherOpenTickets(db, order.id, ticket.id);
    if (next.length > 0) return { kind: 'next', text: `Fixed. The order stopped at the next check: ${next[0]!.step}.`, poll: false, next };
    switch (order.status) {
      case 'released':
        return { kind: 'ok', text: 'Released to fulfilment.', poll: false, next };
      case 'awaiting_payment':
        return { kind: 'ok', text: 'Fixed. The order now waits for its payment.', poll: false, next };
      case 'received':
      case 'in_progress':
        return { kind: 'ok', text: `Fixed. The order moves on (${STATUS_LABELS[order.status]})…`, poll: true, next };
      default:
        return { kind: 'ok', text: `Fixed. The order is ${STATUS_LABELS[order.status] ?? order.status}.`, poll: false, next };
    }
  }

  interface TicketExtra {
    values?: Record<string, string>;
    fieldMessages?: FieldMessage[];
    fixError?: string | null;
    outcome?: Awaited<ReturnType<typeof outcomeOf>> | null;
    handled?: { kind: string; who: string; at: string } | null;
    completeErrors?: Array<{ field: string; message: string }>;
    cancelError?: string | null;
    cancelReason?: string;
    done?: string | null;
    refused?: string | null;
    reason?: string;
  }

  /**
   * The ticket's steps in one list per issue, each headed by the issue in words; one list without a heading
   * when the ticket has one issue, or when its steps cannot be told apart (see groupInstructions).
   */
  async function instructionGroups(ticket: TicketView): Promise<Array<{ heading: string | null; steps: string[] }>> {
    const whole = ticket.instructions.length > 0 ? [{ heading: null, steps: ticket.instructions }] : [];
    if (new Set(ticket.issues.map((i) => i.code)).size < 2) return whole;
    try {
      const instance = await db.selectFrom('process_instances').select('definition_id').where('id', '=', ticket.instanceId).executeTakeFirst();
      if (!instance) return whole;
      const model = await ctx.models.get(db, instance.definition_id);
      const def = (model.elements[ticket.elementId] as { ticket?: TicketDefinition | null } | undefined)?.ticket;
      const groups = groupInstructions(def?.instructions ?? [], ticket.issues, ticket.instructions);
      if (groups.length < 2) return whole;
      return groups.map((g) => {
        const words = [...new Set(ticket.issues.filter((i) => i.code === g.code).map((i) => i.message ?? codeInWords(i.code)))];
        return { heading: words.length > 0 ? words.join(' · ') : null, steps: g.steps };
      });
    } catch (err) {
      // The headings are a nicety: a version that no longer compiles shows the steps as one list.
      deps.logger.warn({ err: (err as Error).message, ticketId: ticket.id }, 'instructions of a ticket not grouped by issue');
      return whole;
    }
  }

  /**
   * Where a closed ticket's order is now, for the diagram: the steps it waits at, or the end it reached;
   * the ticket's own step when neither is known.
   */
  async function whereOrderIs(ticket: TicketView, process: Awaited<ReturnType<typeof orderProcess>>): Promise<string[]> {
    if (!process) return [ticket.elementId];
    if (process.waitingAt.length > 0) return process.waitingAt;
    try {
      const model = await ctx.models.get(db, process.definitionId);
      const ends = process.done.filter((id) => model.elements[id]?.type === 'bpmn:EndEvent');
      return ends.length > 0 ? ends : [ticket.elementId];
    } catch {
      return [ticket.elementId];
    }
  }

  async function ticketData(request: FastifyRequest, ticket: TicketView, extra: TicketExtra = {}) {
    const [order, rawHistory, process, instructions] = await Promise.all([
      ticket.orderId ? getOrder(db, ticket.orderId) : Promise.resolve(null),
      ticketHistory(db, ticket.id),
      ticket.orderId ? orderProcess(db, ticket.orderId) : Promise.resolve(null),
      instructionGroups(ticket),
    ]);
    const step = ticket.elementName ?? ticket.elementId;
    const open = isOpen(ticket);
    const canWork = can(request.principal, 'tickets:work');
    const values = extra.values ?? {};
    const messages: FieldMessage[] = extra.fieldMessages ?? ticket.issues;
    // Only the fields at fault (since the ticket opened, in that order), plus any the operator just typed
    // into (their value and verdict stay). Messages from a retry's run judged the typed values.
    const paths = fixPaths(openedIssues(rawHistory), ticket.issues, values);
    const judged = !extra.fieldMessages && !extra.fixError;
    const groups: FixGroup[] = ticket.kind === 'validation' && order ? fixGroups(paths, order.data, values, messages, { judged }) : [];
    const shown = new Set(groups.flatMap((g) => [g.path, ...g.inputs.map((i) => i.path)]));
    const completeErrors = extra.completeErrors ?? [];
    const fields = (ticket.fields as Array<{ name: string; label: string | null; type: string | null; required: boolean; options?: string | null }>).map((f) => {
      const value = values[f.name] ?? '';
      const type = f.type === 'boolean' ? 'boolean' : f.type === 'number' ? 'number' : f.type === 'select' ? 'select' : 'text';
      return {
        name: `v.${f.name}`,
        id: `complete-${f.name.replace(/[^A-Za-z0-9]+/g, '-')}`,
        label: f.label ?? f.name,
        type,
        isBoolean: type === 'boolean',
        isSelect: type === 'select',
        isNumber: type === 'number',
        required: f.required,
        value,
        yes: value === 'yes',
        no: value === 'no',
        options: (f.options ?? '').split(',').map((o) => o.trim()).filter(Boolean).map((o) => ({ value: o, selected: o === value })),
        error: completeErrors.find((e) => e.field === f.name)?.message ?? null,
      };
    });
    const d = order?.data;
    return {
      title: `Ticket #${ticket.id}`,
      section: 'tickets',
      ticket: {
        ...ticket,
        step,
        statusLabel: TICKET_STATUS_WORDS[ticket.status] ?? ticket.status,
        open,
        due: dueIn(ticket.dueAt, new Date()),
        problem: problemOf(ticket),
        mine: ticket.assigneeId === request.principal!.userId,
        isValidation: ticket.kind === 'validation',
        isManual: ticket.kind === 'manual',
        isTechnical: ticket.kind === 'technical',
        issues: ticket.issues.map((i) => ({ ...i, words: i.message ?? codeInWords(i.code), fieldWords: i.field ? fieldInWords(i.field) : null })),
        instructionGroups: instructions,
      },
      order,
      data: d ?? null,
      lines: d ? d.lines.map((l) => ({ ...l, total: lineTotal(l.unitPrice, l.quantity) })) : [],
      canWork,
      groups,
      // Messages about fields the form does not show (a field the order schema has no input for).
      otherMessages: messages.filter((m) => !m.field || !shown.has(m.field)).map((m) => (m.field ? `${fieldInWords(m.field)}: ${m.message ?? m.code}` : (m.message ?? m.code ?? ''))),
      fields,
      reason: extra.reason ?? '',
      fixError: extra.fixError ?? null,
      outcome: extra.outcome ?? null,
      handled: extra.handled ?? (open || extra.outcome ? null : closedBy(rawHistory)),
      history: rawHistory.map((h) => historyLine(h, step)),
      cancelError: extra.cancelError ?? null,
      cancelReason: extra.cancelReason ?? '',
      done: extra.done ?? null,
      refused: extra.refused ?? null,
      process,
      diagramUrl: order ? `/orders/${order.id}/diagram.bpmn` : null,
      failedElements: open ? ticket.elementId : '',
      diagramFocus: open ? [ticket.elementId] : await whereOrderIs(ticket, process),
      opened: open ? [] : openedIssues(rawHistory).map((i) => ({ words: i.message ?? (i.code ? codeInWords(i.code) : ''), fieldWords: i.field ? fieldInWords(i.field) : null, field: i.field ?? null, code: i.code ?? '' })),
      changed: open ? [] : rawHistory.filter((h) => h.kind === 'retried').map((h) => changesInWords((h.data as { changes?: unknown } | null)?.changes)).filter(Boolean),
      assets: { styles: ['/assets/build/viewer.css', '/assets/tickets.css'], scripts: ['/assets/build/viewer.js', '/assets/tickets.js'] },
    };
  }

  async function renderTicket(request: FastifyRequest, reply: FastifyReply, ticket: TicketView, extra: TicketExtra = {}, status = 200) {
    return reply.page('tickets/show', await ticketData(request, ticket, extra), { status, fragment: 'tickets/show' });
  }

  app.get('/tickets/:id', { ...read, schema: { params: IdParams, querystring: Type.Object({ done: Text(40), refused: Text(40) }) } }, async (request, reply) => {
    const ticket = await loadTicket(request.params.id);
    const { done, refused: refusedKey } = request.query;
    let outcome = null;
    if (done === 'retried' && ticket.orderId) outcome = await outcomeOf(ticket, await getOrder(db, ticket.orderId));
    const refuse = messageFor(REFUSED, refusedKey);
    const refused = refuse ? refuse(ticket.orderId ? await getOrder(db, ticket.orderId) : null) : null;
    return renderTicket(request, reply, ticket, { done: messageFor(DONE, done), outcome, refused });
  });

  /** The success line after a fix, polled while the order is still on its way to its next wait. */
  app.get('/tickets/:id/outcome', { ...read, schema: { params: IdParams } }, async (request, reply) => {
    const ticket = await loadTicket(request.params.id);
    const data = await ticketData(request, ticket);
    return reply.fragment('tickets/outcome-answer', { ...data, outcome: await outcomeOf(ticket, data.order) });
  });

  function handledFrom(err: TicketError) {
    const by = err.details.closedBy as { actor: string; at: string; kind: string } | null | undefined;
    return by ? { kind: by.kind, who: actorName(by.actor), at: by.at } : { kind: String(err.details.ticketStatus ?? 'closed'), who: 'someone', at: '' };
  }

  /**
   * Answer a Fix, retry, completion or other ticket action: for htmx the ticket card swapped in place
   * (with the header, what failed and the history out of band); for a plain form the whole page.
   */
  async function answerTicket(request: FastifyRequest, reply: FastifyReply, id: string, extra: TicketExtra, status = 200) {
    const ticket = await loadTicket(id);
    const data = await ticketData(request, ticket, extra);
    if (wantsFragment(request)) {
      // A ticket closed in place: the navigation's count of open tickets goes down with it (out of band).
      const navOpenTickets = isOpen(ticket) ? null : (await openTicketsFor(db, request)).total;
      return reply.fragment('tickets/fix-answer', { ...data, navOpenTickets }, { status });
    }
    return reply.page('tickets/show', data, { status, fragment: 'tickets/show' });
  }

  app.post('/tickets/:id/retry', { ...work, schema: { params: IdParams, body: FixBody } }, async (request, reply) => {
    const { id } = request.params;
    const values = postedValues(request.body as Record<string, unknown>);
    const reason = request.body.reason?.trim() || null;
    const { changes, errors } = readFixForm(values);
    if (errors.length > 0) return answerTicket(request, reply, id, { values, reason: reason ?? '', fieldMessages: errors, fixError: 'Some values cannot be used; see the fields.' }, 422);
    const before = await loadTicket(id);
    const order = before.orderId ? await getOrder(db, before.orderId) : null;
    const patch = order && changes.length > 0 ? buildMergePatch(order.data, changes) : {};
    try {
      const out = await retryTicket(ctx, id, { patch: Object.keys(patch).length > 0 ? patch : undefined, reason }, actorOf(request));
      runtime.nudge(QUEUES.service);
      request.log.info({ ticketId: id, result: out.result, fields: changes.map((c) => c.path) }, 'ticket retried from the console');
      if (out.result === 'resolved' && !wantsFragment(request)) return reply.redirect(`/tickets/${id}?done=retried`, 303);
      const outcome = await outcomeOf(out.ticket, out.order);
      // Still failing: the remaining issues appear by their fields, and what was typed stays typed.
      return answerTicket(request, reply, id, { values: out.result === 'resolved' ? {} : values, reason: out.result === 'resolved' ? '' : (reason ?? ''), outcome });
    } catch (err) {
      if (!(err instanceof TicketError)) throw err;
      if (err.code === 'NOT_OPEN') return answerTicket(request, reply, id, { handled: handledFrom(err) }, 409);
      if (err.code === 'INVALID_PATCH') {
        const fieldErrors = (err.details.errors as Array<{ field: string; message: string }> | undefined) ?? [];
        return answerTicket(request, reply, id, { values, reason: reason ?? '', fieldMessages: fieldErrors, fixError: fieldErrors.length ? 'The order would not be well-formed; see the fields.' : err.message }, 422);
      }
      if (err.code === 'NOT_FOUND') throw new HttpProblem('NOT_FOUND', err.message);
      return answerTicket(request, reply, id, { values, reason: reason ?? '', fixError: err.message }, err.code === 'ORDER_CLOSED' ? 409 : 422);
    }
  });

  /** Live validation: the failed step evaluated on the typed values (nothing written); one verdict per field. */
  app.post('/tickets/:id/check', { ...work, schema: { params: IdParams, body: FixBody } }, async (request, reply) => {
    const ticket = await loadTicket(request.params.id);
    const values = postedValues(request.body as Record<string, unknown>);
    const order = ticket.orderId ? await getOrder(db, ticket.orderId) : null;
    if (!order || ticket.kind !== 'validation') return reply.code(204).send();
    const { changes, errors } = readFixForm(values);
    let messages: FieldMessage[] = errors;
    let passes = false;
    if (errors.length === 0) {
      try {
        const run = await dryRunTicket(ctx, ticket.id, buildMergePatch(order.data, changes));
        messages = [...run.shapeErrors, ...run.issues];
        passes = run.passes;
      } catch (err) {
        if (!(err instanceof TicketError)) throw err;
        messages = [{ message: err.message }];
      }
    }
    const history = await ticketHistory(db, ticket.id);
    const groups = fixGroups(fixPaths(openedIssues(history), ticket.issues, values), order.data, values, messages);
    const shown = new Set(groups.flatMap((g) => [g.path, ...g.inputs.map((i) => i.path)]));
    const elsewhere = messages.filter((m) => !m.field || !shown.has(m.field)).map((m) => (m.field ? `${fieldInWords(m.field)}: ${m.message ?? m.code}` : (m.message ?? m.code ?? '')));
    // A page left open while a colleague handled the ticket: say so now, not only when Save is pressed.
    const stale = isOpen(ticket) ? null : (closedBy(history) ?? { kind: ticket.status, who: 'someone', at: '' });
    return reply.fragment('tickets/fix-checks', { groups, passes, elsewhere, open: isOpen(ticket), stale });
  });

  app.post('/tickets/:id/complete', { ...work, schema: { params: IdParams, body: FixBody } }, async (request, reply) => {
    const { id } = request.params;
    const values = postedValues(request.body as Record<string, unknown>);
    try {
      await completeTicket(ctx, id, values, actorOf(request));
      runtime.nudge(QUEUES.service);
      return reply.redirect(`/tickets/${id}?done=completed`, 303);
    } catch (err) {
      if (!(err instanceof TicketError)) throw err;
      if (err.code === 'NOT_OPEN') return answerTicket(request, reply, id, { handled: handledFrom(err) }, 409);
      if (err.code === 'NOT_FOUND') throw new HttpProblem('NOT_FOUND', err.message);
      const completeErrors = (err.details.errors as Array<{ field: string; message: string }> | undefined) ?? [];
      return renderTicket(request, reply, await loadTicket(id), { values, completeErrors, fixError: err.message }, 422);
    }
  });

  app.post('/tickets/:id/assign', { ...work, schema: { params: IdParams, body: AssignBody } }, async (request, reply) => {
    const { id } = request.params;
    const raw = request.body.assignee;
    const assigneeId = raw === 'me' ? request.principal!.userId : raw === 'none' || raw === '' ? null : raw;
    let error: TicketError | null = null;
    try {
      await assignTicket(ctx, id, assigneeId, actorOf(request));
    } catch (err) {
      if (!(err instanceof TicketError)) throw err;
      if (err.code === 'NOT_FOUND') throw new HttpProblem('NOT_FOUND', err.message);
      error = err;
    }
    // From the queue: the row, as it is now (someone else's resolution shows there too).
    if (wantsFragment(request) && request.headers['hx-target'] === `ticket-row-${id}`) {
      const ticket = await loadTicket(id);
      const orders = await ordersForTickets(db, [ticket.orderId]);
      const row = queueRow(ticket, orders, new Date(), request.principal!.userId);
      return reply.fragment('tickets/row', { ...row, canWork: true, rowError: error?.message ?? null }, { status: error ? 409 : 200 });
    }
    if (error?.code === 'NOT_OPEN') return answerTicket(request, reply, id, { handled: handledFrom(error) }, 409);
    if (error) return answerTicket(request, reply, id, { fixError: error.message }, 422);
    return reply.redirect(`/tickets/${id}?done=${assigneeId ? 'assigned' : 'unassigned'}`, 303);
  });

  app.post('/tickets/:id/comment', { ...work, schema: { params: IdParams, body: CommentBody } }, async (request, reply) => {
    const { id } = request.params;
    const text = request.body.text.trim();
    if (text === '') {
      const ticket = await loadTicket(id);
      const data = await ticketData(request, ticket);
      if (wantsFragment(request)) return reply.fragment('tickets/history', { ...data, commentError: 'Write a comment first.' }, { status: 422 });
      return reply.page('tickets/show', { ...data, commentError: 'Write a comment first.' }, { status: 422, fragment: 'tickets/show' });
    }
    try {
      await commentOnTicket(ctx, id, text, actorOf(request));
    } catch (err) {
      if (err instanceof TicketError) throw new HttpProblem('NOT_FOUND', err.message);
      throw err;
    }
    if (!wantsFragment(request)) return reply.redirect(`/tickets/${id}?done=commented#history`, 303);
    const ticket = await loadTicket(id);
    return reply.fragment('tickets/history', await ticketData(request, ticket));
  });

  app.post('/tickets/:id/cancel-order', { ...work, schema: { params: IdParams, body: CancelBody } }, async (request, reply) => {
    const { id } = request.params;
    const ticket = await loadTicket(id);
    const reason = request.body.reason.trim();
    if (!ticket.orderId) return renderTicket(request, reply, ticket, { cancelError: 'This ticket belongs to no order.' }, 422);
    if (reason === '') return renderTicket(request, reply, ticket, { cancelError: 'Say why the order is cancelled; the customer and colleagues will read it.' }, 422);
    try {
      await cancelOrder(ctx, ticket.orderId, reason, actorOf(request));
    } catch (err) {
      if (!(err instanceof TicketError)) throw err;
      // Already cancelled or completed (a stale page): the ticket page says what happened, at an address that reloads.
      if (err.code === 'ORDER_CLOSED' && !wantsFragment(request)) return reply.redirect(`/tickets/${id}?refused=order_closed`, 303);
      return renderTicket(request, reply, ticket, { cancelError: err.message, cancelReason: reason }, err.code === 'ORDER_CLOSED' ? 409 : 422);
    }
    request.log.info({ ticketId: id, orderId: ticket.orderId }, 'order cancelled from a ticket');
    return reply.redirect(`/tickets/${id}?done=cancelled`, 303);
  });
};

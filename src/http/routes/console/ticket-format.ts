import type { FastifyRequest } from 'fastify';
import { changesInWords } from './fix-form.ts';
import type { QueueOrder, QueueTicket } from '../../../runtime/ticket-queue.ts';
import type { Actor } from '../../../runtime/tickets.ts';
import type { TicketView } from '../../../runtime/views.ts';

/** How the ticket pages say things: relative times, problems in words, history lines. Plain text out. */

const MINUTE_MS = 60_000;

/** The signed-in user as the runtime records actors ("user:anna@shop.example"). */
export function actorOf(request: FastifyRequest): Actor {
  return { name: `user:${request.principal!.email}`, userId: request.principal!.userId };
}

/** "12 min", "3 h", "2 d": a span as an operator glances at it. */
export function span(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / MINUTE_MS);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export interface Due {
  text: string;
  overdue: boolean;
  iso: string;
}

export function dueIn(dueAt: string | null, now: Date): Due {
  if (!dueAt) return { text: 'no due time', overdue: false, iso: '' };
  const ms = new Date(dueAt).getTime() - now.getTime();
  return ms >= 0 ? { text: `in ${span(ms)}`, overdue: false, iso: dueAt } : { text: `${span(ms)} overdue`, overdue: true, iso: dueAt };
}

/** "POSTAL_CODE_INVALID" → "Postal code invalid". */
/** Abbreviations and names inside issue codes, as an operator writes them (COD is cash on delivery). */
const CODE_WORDS: Record<string, string> = { cod: 'cash on delivery', feel: 'FEEL', id: 'ID', vat: 'VAT', nip: 'NIP', sku: 'SKU', iban: 'IBAN', blik: 'BLIK' };

export function codeInWords(code: string): string {
  const words = code.toLowerCase().split('_').filter(Boolean).map((w) => CODE_WORDS[w] ?? w).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The problem as the operator reads it: the first issue's message, the worker's error, or the title. */
export function problemOf(ticket: Pick<TicketView, 'issues' | 'error' | 'title'>): string {
  const first = ticket.issues.find((i) => i.message)?.message;
  return first ?? ticket.error ?? ticket.title;
}

export const TICKET_STATUS_WORDS: Record<string, string> = { open: 'open', in_progress: 'in progress', resolved: 'resolved', cancelled: 'cancelled' };

export function actorName(actor: string | null | undefined): string {
  if (!actor) return 'Ordo';
  if (actor === 'system') return 'Ordo';
  return actor.startsWith('user:') ? actor.slice(5) : actor;
}

export interface QueueRow {
  id: string;
  url: string;
  status: string;
  statusLabel: string;
  open: boolean;
  kind: string;
  priority: string;
  due: Due;
  order: { id: string; externalId: string; url: string; channel: string } | null;
  customer: string | null;
  email: string | null;
  problem: string;
  codes: string;
  step: string;
  assignee: string | null;
  mine: boolean;
}

export function queueRow(ticket: QueueTicket, orders: Map<string, QueueOrder>, now: Date, me: string | null): QueueRow {
  const order = ticket.orderId ? orders.get(ticket.orderId) : undefined;
  return {
    id: ticket.id,
    url: `/tickets/${ticket.id}`,
    status: ticket.status,
    statusLabel: TICKET_STATUS_WORDS[ticket.status] ?? ticket.status,
    open: ticket.status === 'open' || ticket.status === 'in_progress',
    kind: ticket.kind,
    priority: ticket.priority,
    due: dueIn(ticket.dueAt, now),
    order: order ? { id: order.id, externalId: order.externalId, url: `/orders/${order.id}`, channel: order.channel } : null,
    customer: order?.customerName ?? null,
    email: order?.customerEmail ?? null,
    problem: problemOf(ticket),
    codes: [...new Set(ticket.issues.map((i) => i.code))].join(', '),
    step: ticket.elementName ?? ticket.elementId,
    assignee: ticket.assignee,
    mine: !!me && ticket.assigneeId === me,
  };
}

export interface HistoryLine {
  at: string;
  who: string;
  text: string;
  detail: string;
  kind: string;
}

function issueWords(data: unknown): string {
  const issues = (data as { issues?: Array<{ message?: string; code?: string }> } | null)?.issues;
  return Array.isArray(issues) ? issues.map((i) => i.message ?? i.code ?? '').filter(Boolean).join(' ') : '';
}

/** One history line in words: who did what, newest last (the order things happened). */
export function historyLine(e: { at: string; actor: string; kind: string; data: unknown }, step: string): HistoryLine {
  const data = (e.data ?? {}) as Record<string, unknown>;
  const who = actorName(e.actor);
  const base = { at: e.at, who, kind: e.kind, detail: '' };
  switch (e.kind) {
    case 'opened':
      return { ...base, who: e.actor.startsWith('user:') ? who : step, text: `Ticket opened by ${step}`, detail: issueWords(data) || String(data.error ?? '') };
    case 'retried': {
      // Since retries record them: the fields changed (before → after) and the reason typed.
      const changes = changesInWords(data.changes);
      const why = typeof data.reason === 'string' && data.reason.trim() ? `why: ${data.reason.trim()}` : '';
      return { ...base, text: changes ? 'Corrected and retried' : 'Retried', detail: [changes, why].filter(Boolean).join(' · ') };
    }
    case 'still_failing':
      return { ...base, who: e.actor.startsWith('user:') ? who : step, text: 'Still failing', detail: issueWords(data) };
    case 'assigned':
      return { ...base, text: `Assigned to ${String(data.assignee ?? 'someone')}` };
    case 'unassigned':
      return { ...base, text: 'Unassigned' };
    case 'comment':
      return { ...base, text: 'Comment', detail: String(data.text ?? '') };
    case 'completed':
      return { ...base, text: 'Completed' };
    case 'resolved':
      return { ...base, text: 'Resolved' };
    case 'cancelled':
      return { ...base, text: 'Cancelled', detail: data.reason ? String(data.reason) : '' };
    default:
      return { ...base, text: e.kind.replace(/_/g, ' ') };
  }
}

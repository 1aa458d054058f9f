import Handlebars from 'handlebars';
import { TEMPLATE_OPTIONS } from './template-check.ts';

export { templateError, templateErrorInWords } from './template-check.ts';

/**
 * Ticket instructions: the analyst's text from `<ordo:instructions>`, filled from the order with
 * Handlebars and split into numbered steps. The result is plain text; every page that shows it escapes
 * it (so an order field holding markup is shown as text, never run), and the JSON API returns it as is.
 */

export interface InstructionSource {
  code: string | null;
  text: string;
}

export interface TicketIssue {
  code: string;
  field?: string;
  message?: string;
}

// Handlebars ≥ 4.6 denies prototype access by default; the options are the ones the deploy checks with.
const hbs = Handlebars.create();

const compiled = new Map<string, HandlebarsTemplateDelegate>();
const MAX_CACHED_TEMPLATES = 2_000;

function template(text: string): HandlebarsTemplateDelegate {
  let t = compiled.get(text);
  if (!t) {
    t = hbs.compile(text, { ...TEMPLATE_OPTIONS, knownHelpers: { ...TEMPLATE_OPTIONS.knownHelpers } });
    if (compiled.size >= MAX_CACHED_TEMPLATES) compiled.clear();
    compiled.set(text, t);
  }
  return t;
}

/** Render one template; a template that fails at render time yields its raw text rather than nothing. */
export function renderTemplate(text: string, context: Record<string, unknown>): string {
  try {
    return template(text)(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch {
    return text;
  }
}

/** "1. Call the customer" / "- Check" / "* Note" → the step's text. */
function stripMarker(line: string): string {
  return line.replace(/^\s*(?:\d+[.)]|[-*•])\s+/, '').trim();
}

/**
 * The steps for a ticket: the instructions written for each issue code present (in the order the issues
 * came), then the fallback (the instructions without a code) when no code had its own, each line a step.
 */
export function selectInstructions(sources: readonly InstructionSource[], issues: readonly TicketIssue[]): InstructionSource[] {
  const chosen: InstructionSource[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    if (seen.has(issue.code)) continue;
    seen.add(issue.code);
    const specific = sources.filter((s) => s.code === issue.code);
    chosen.push(...specific);
  }
  if (chosen.length === 0) chosen.push(...sources.filter((s) => s.code === null || s.code === ''));
  return chosen;
}

export function renderInstructions(sources: readonly InstructionSource[], issues: readonly TicketIssue[], context: Record<string, unknown>): string[] {
  const steps: string[] = [];
  for (const source of selectInstructions(sources, issues)) {
    const text = renderTemplate(source.text, { ...context, issues });
    for (const line of text.split(/\r?\n/)) {
      const step = stripMarker(line);
      if (step !== '') steps.push(step);
    }
  }
  return steps;
}

export const PRIORITIES = Object.freeze(['low', 'normal', 'high', 'urgent'] as const);
export type Priority = (typeof PRIORITIES)[number];

/** Sort rank stored with the ticket so "most urgent first" is an index scan. */
export function priorityRank(priority: string | null | undefined): number {
  const i = PRIORITIES.indexOf((priority ?? 'normal') as Priority);
  return i < 0 ? 1 : i;
}

export function normalPriority(priority: string | null | undefined): Priority {
  return PRIORITIES[priorityRank(priority)]!;
}

export interface InstructionGroup {
  /** The issue code the steps were written for; null for the fallback (or steps that could not be split). */
  code: string | null;
  steps: string[];
}

/**
 * A ticket's stored steps split by the issue they answer, for the ticket page: the steps are stored as one
 * list (the API's `instructions`), rendered from the order as it was. Each chosen source is rendered again
 * without the order to count its lines (placeholders sit inside lines, so the count is the template's);
 * when the counts do not add up to the stored steps (a line that is only a placeholder, a ticket from
 * another version), the steps stay one list rather than being split wrong.
 */
export function groupInstructions(sources: readonly InstructionSource[], issues: readonly TicketIssue[], steps: readonly string[]): InstructionGroup[] {
  const whole = [{ code: null, steps: [...steps] }];
  const chosen = selectInstructions(sources, issues);
  if (chosen.length === 0 || chosen.every((s) => s.code === null || s.code === '')) return whole;
  const groups: InstructionGroup[] = [];
  let at = 0;
  for (const source of chosen) {
    const count = renderTemplate(source.text, { issues })
      .split(/\r?\n/)
      .filter((line) => stripMarker(line) !== '').length;
    const part = steps.slice(at, at + count);
    at += count;
    const last = groups.at(-1);
    if (last && last.code === source.code) last.steps.push(...part);
    else groups.push({ code: source.code, steps: part });
  }
  return at === steps.length && groups.every((g) => g.steps.length > 0) ? groups : whole;
}

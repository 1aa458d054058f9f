import type { CompiledElement, CompiledFlow, CompiledProcess, TicketDefinition } from './types.ts';

/**
 * What changed between two versions of a process, in the words an analyst uses: elements (and sequence
 * flows) added, removed, and changed field by field — name, type, script, condition, ticket texts, job,
 * timers. Pure: two compiled models in, plain data out. Element ids are the identity across versions
 * (the modeler keeps them), so a renamed element is "changed", a re-created one "removed" + "added".
 */

export interface FieldChange {
  /** What an analyst reads: "Script", "Condition", "Instructions for PHONE_MISSING". */
  field: string;
  before: string | null;
  after: string | null;
}

export interface ElementDiff {
  id: string;
  /** Flows are listed with the elements, so a changed branch condition reads like any other change. */
  kind: 'element' | 'flow';
  /** The moddle type (`bpmn:ScriptTask`, `bpmn:SequenceFlow`), of the newer version when both exist. */
  type: string;
  name: string | null;
  /** Only for changed entries, in a stable order. */
  changes: FieldChange[];
}

export interface ProcessDiff {
  added: ElementDiff[];
  removed: ElementDiff[];
  changed: ElementDiff[];
  /** Elements and flows present in both versions without a difference. */
  unchanged: number;
}

type Fields = Array<[string, string | null]>;

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return s === '' ? null : s;
}

function durationLabel(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function ticketFields(ticket: TicketDefinition | null): Fields {
  if (!ticket) return [['Ticket', null]];
  const out: Fields = [
    ['Ticket', 'yes'],
    ['Ticket title', ticket.title],
    ['Ticket queue', ticket.queue],
    ['Ticket priority', ticket.priority],
    ['Ticket due', ticket.due],
  ];
  // One field per code (instructions are keyed by code, in any order in the file); the fallback has none.
  const byCode = new Map<string, string[]>();
  for (const i of ticket.instructions) {
    const label = i.code ? `Instructions for ${i.code}` : 'Fallback instructions';
    byCode.set(label, [...(byCode.get(label) ?? []), i.text]);
  }
  for (const label of [...byCode.keys()].sort()) out.push([label, byCode.get(label)!.join('\n\n')]);
  const form = ticket.fields.map((f) => `${f.name}${f.type ? `: ${f.type}` : ''}${f.required ? ' (required)' : ''}${f.options ? ` [${f.options}]` : ''}`);
  out.push(['Form fields', form.length > 0 ? form.join(', ') : null]);
  return out;
}

/** The fields of an element an analyst can change in the modeler, as labelled text. */
export function describeElement(el: CompiledElement): Fields {
  const out: Fields = [
    ['Type', el.type],
    ['Name', el.name],
  ];
  switch (el.kind) {
    case 'scriptTask':
      out.push(['Script', el.script], ['Result variable', el.resultVariable], ['On issues', el.onIssues]);
      break;
    case 'serviceTask':
      out.push(['Job', el.job], ['Retries', String(el.retries)], ['Backoff', durationLabel(el.backoffMs)]);
      break;
    case 'startEvent':
    case 'intermediateCatchEvent':
      out.push(['Trigger', el.trigger], ['Message', el.messageName], ['Timer', el.timer ? `${el.timer.kind} ${el.timer.expression}` : null]);
      break;
    case 'boundaryEvent':
      out.push(
        ['Trigger', el.trigger],
        ['Attached to', el.attachedTo],
        ['Interrupting', el.cancelActivity ? 'yes' : 'no'],
        ['Timer', el.timer ? `${el.timer.kind} ${el.timer.expression}` : null],
        ['Error code', el.errorCode],
      );
      break;
    case 'endEvent':
      out.push(['Result', el.result], ['Error code', el.errorCode]);
      break;
    case 'receiveTask':
      out.push(['Message', el.messageName]);
      break;
    case 'callActivity':
      out.push(['Called process', el.calledElement]);
      break;
    default:
      break;
  }
  out.push(['Order status', el.status], ['Default flow', el.defaultFlow]);
  const mi = el.multiInstance;
  out.push([
    'Multi-instance',
    mi
      ? [
          mi.isSequential ? 'sequential' : 'parallel',
          `over ${mi.collection}`,
          mi.elementVariable ? `as ${mi.elementVariable}` : null,
          mi.outputCollection ? `into ${mi.outputCollection}${mi.outputElement ? ` = ${mi.outputElement}` : ''}` : null,
          mi.completionCondition ? `until ${mi.completionCondition}` : null,
        ]
          .filter(Boolean)
          .join(' ')
      : null,
  ]);
  out.push(...ticketFields(el.ticket));
  return out;
}

export function describeFlow(flow: CompiledFlow): Fields {
  return [
    ['From', flow.sourceId],
    ['To', flow.targetId],
    ['Condition', flow.condition],
    ['Default', flow.isDefault ? 'yes' : null],
  ];
}

function changesBetween(before: Fields, after: Fields): FieldChange[] {
  const a = new Map(before);
  const b = new Map(after);
  const labels = [...new Set([...before.map(([k]) => k), ...after.map(([k]) => k)])];
  const out: FieldChange[] = [];
  for (const field of labels) {
    const x = text(a.get(field) ?? null);
    const y = text(b.get(field) ?? null);
    if (x !== y) out.push({ field, before: x, after: y });
  }
  return out;
}

function flowName(model: CompiledProcess, flow: CompiledFlow): string | null {
  const source = model.elements[flow.sourceId];
  const target = model.elements[flow.targetId];
  return `${source?.name ?? flow.sourceId} → ${target?.name ?? flow.targetId}`;
}

/** Compare two versions of one process: `before` (e.g. version 3) and `after` (version 4, or a draft). */
export function diffProcesses(before: CompiledProcess, after: CompiledProcess): ProcessDiff {
  const diff: ProcessDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  const byId = (a: string, b: string) => a.localeCompare(b);

  for (const id of Object.keys(after.elements).sort(byId)) {
    const next = after.elements[id]!;
    const prev = before.elements[id];
    if (!prev) {
      diff.added.push({ id, kind: 'element', type: next.type, name: next.name, changes: [] });
      continue;
    }
    const changes = changesBetween(describeElement(prev), describeElement(next));
    if (changes.length > 0) diff.changed.push({ id, kind: 'element', type: next.type, name: next.name ?? prev.name, changes });
    else diff.unchanged++;
  }
  for (const id of Object.keys(before.elements).sort(byId)) {
    if (after.elements[id]) continue;
    const prev = before.elements[id]!;
    diff.removed.push({ id, kind: 'element', type: prev.type, name: prev.name, changes: [] });
  }

  for (const id of Object.keys(after.flows).sort(byId)) {
    const next = after.flows[id]!;
    const prev = before.flows[id];
    if (!prev) {
      diff.added.push({ id, kind: 'flow', type: 'bpmn:SequenceFlow', name: flowName(after, next), changes: [] });
      continue;
    }
    const changes = changesBetween(describeFlow(prev), describeFlow(next));
    if (changes.length > 0) diff.changed.push({ id, kind: 'flow', type: 'bpmn:SequenceFlow', name: flowName(after, next), changes });
    else diff.unchanged++;
  }
  for (const id of Object.keys(before.flows).sort(byId)) {
    if (after.flows[id]) continue;
    diff.removed.push({ id, kind: 'flow', type: 'bpmn:SequenceFlow', name: flowName(before, before.flows[id]!), changes: [] });
  }
  return diff;
}

/** True when the two versions behave the same as far as the diff can tell. */
export function isEmptyDiff(diff: ProcessDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

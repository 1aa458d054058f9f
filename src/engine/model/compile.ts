import type { ModdleElement } from './parse.ts';
import type {
  CompiledElement,
  CompiledFlow,
  CompiledProcess,
  CompiledScope,
  MessageStart,
  MultiInstanceDefinition,
  OnIssues,
  TicketDefinition,
  TimerDefinition,
  TimerStart,
} from './types.ts';
import { durationMs } from '../runtime/iso.ts';

/**
 * Compile parsed BPMN (bpmn-moddle) into one immutable, indexed model per executable process.
 *
 * The deploy validator has already refused anything Ordo cannot run, so an unexpected element here is a
 * programming error and throws a plain Error. Diagram interchange (DI) is never read.
 */

export const DEFAULT_JOB_RETRIES = 3;
export const DEFAULT_JOB_BACKOFF_MS = 10_000;

/** Elements that carry no behaviour: documentation, data, grouping. */
const IGNORED_TYPES = new Set([
  'bpmn:DataObject',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
  'bpmn:TextAnnotation',
  'bpmn:Association',
  'bpmn:Group',
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<CompiledElement> & { incoming: string[]; outgoing: string[]; boundaryEvents: string[] };

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function list(value: unknown): ModdleElement[] {
  return Array.isArray(value) ? (value as ModdleElement[]) : [];
}

function ref(value: unknown): ModdleElement | null {
  return value && typeof value === 'object' ? (value as ModdleElement) : null;
}

/** FEEL text from a flow condition or similar: the body, with the Camunda-style leading `=` dropped. */
export function feelText(text: string | null): string | null {
  if (text === null) return null;
  const t = text.trim().replace(/^=\s*/, '');
  return t === '' ? null : t;
}

function expressionBody(value: unknown): string | null {
  const e = ref(value);
  if (!e) return null;
  return str(e['body']);
}

function eventDefinition(el: ModdleElement): ModdleElement | null {
  const defs = list(el['eventDefinitions']);
  if (defs.length > 1) throw new Error(`${el.id}: events with several definitions are not supported`);
  return defs[0] ?? null;
}

function messageNameOf(def: ModdleElement, elementId: string): string {
  const message = ref(def['messageRef']);
  const name = message ? (str(message.name) ?? str(message.id)) : null;
  if (!name) throw new Error(`${elementId}: message event without a message`);
  return name;
}

function timerOf(def: ModdleElement, elementId: string): TimerDefinition {
  const pick = (['timeDuration', 'timeDate', 'timeCycle'] as const).find((k) => expressionBody(def[k]) !== null);
  if (!pick) throw new Error(`${elementId}: timer without a duration, date or cycle`);
  const kind = pick === 'timeDuration' ? 'duration' : pick === 'timeDate' ? 'date' : 'cycle';
  return { kind, expression: expressionBody(def[pick])!.trim() };
}

function ticketOf(el: ModdleElement): TicketDefinition | null {
  const ext = ref(el['extensionElements']);
  const t = list(ext?.['values']).find((v) => v.$type === 'ordo:Ticket');
  if (!t) return null;
  return {
    title: str(t['title']),
    queue: str(t['queue']),
    priority: str(t['priority']),
    due: str(t['due']),
    instructions: list(t['instructions']).map((i) => ({
      code: str(i['code']),
      text: typeof i['text'] === 'string' ? i['text'].trim() : '',
    })),
    fields: list(t['fields']).map((f) => ({
      name: str(f.name) ?? '',
      label: str(f['label']),
      type: str(f['type']),
      required: f['required'] === true,
      options: str(f['options']),
    })),
  };
}

function multiInstanceOf(el: ModdleElement): MultiInstanceDefinition | null {
  const lc = ref(el['loopCharacteristics']);
  if (!lc) return null;
  if (lc.$type !== 'bpmn:MultiInstanceLoopCharacteristics') throw new Error(`${el.id}: ${lc.$type} is not supported`);
  const collection = feelText(str(lc['collection']));
  if (!collection) throw new Error(`${el.id}: multi-instance without ordo:collection`);
  return {
    isSequential: lc['isSequential'] === true,
    collection,
    elementVariable: str(lc['elementVariable']),
    outputCollection: str(lc['outputCollection']),
    outputElement: feelText(str(lc['outputElement'])),
    completionCondition: feelText(expressionBody(lc['completionCondition'])),
  };
}

function onIssuesOf(value: unknown, elementId: string): OnIssues {
  const v = str(value) ?? 'ticket';
  if (v !== 'ticket' && v !== 'error' && v !== 'continue') throw new Error(`${elementId}: ordo:onIssues="${v}"`);
  return v;
}

function elementOf(el: ModdleElement, scopeId: string): Draft {
  const id = el.id!;
  const base = {
    id,
    type: el.$type,
    name: str(el.name),
    scopeId,
    incoming: [] as string[],
    outgoing: [] as string[],
    defaultFlow: ref(el['default'])?.id ?? null,
    boundaryEvents: [] as string[],
    multiInstance: multiInstanceOf(el),
    status: str(el['status']),
    ticket: ticketOf(el),
  };
  const def = eventDefinition(el);
  switch (el.$type) {
    case 'bpmn:StartEvent':
      if (!def) return { ...base, kind: 'startEvent', trigger: 'none', messageName: null, timer: null };
      if (def.$type === 'bpmn:MessageEventDefinition')
        return { ...base, kind: 'startEvent', trigger: 'message', messageName: messageNameOf(def, id), timer: null };
      if (def.$type === 'bpmn:TimerEventDefinition')
        return { ...base, kind: 'startEvent', trigger: 'timer', messageName: null, timer: timerOf(def, id) };
      break;
    case 'bpmn:EndEvent':
      if (!def) return { ...base, kind: 'endEvent', result: 'none', errorCode: null, errorMessage: null };
      if (def.$type === 'bpmn:TerminateEventDefinition')
        return { ...base, kind: 'endEvent', result: 'terminate', errorCode: null, errorMessage: null };
      if (def.$type === 'bpmn:ErrorEventDefinition') {
        const error = ref(def['errorRef']);
        return { ...base, kind: 'endEvent', result: 'error', errorCode: str(error?.['errorCode']), errorMessage: str(error?.name) };
      }
      break;
    case 'bpmn:IntermediateThrowEvent':
      if (!def) return { ...base, kind: 'passThrough' };
      break;
    case 'bpmn:IntermediateCatchEvent':
      if (def?.$type === 'bpmn:MessageEventDefinition')
        return { ...base, kind: 'intermediateCatchEvent', trigger: 'message', messageName: messageNameOf(def, id), timer: null };
      if (def?.$type === 'bpmn:TimerEventDefinition')
        return { ...base, kind: 'intermediateCatchEvent', trigger: 'timer', messageName: null, timer: timerOf(def, id) };
      break;
    case 'bpmn:BoundaryEvent': {
      const attachedTo = ref(el['attachedToRef'])?.id;
      if (!attachedTo) throw new Error(`${id}: boundary event not attached to an activity`);
      const common = { ...base, kind: 'boundaryEvent' as const, attachedTo, cancelActivity: el['cancelActivity'] !== false };
      if (def?.$type === 'bpmn:TimerEventDefinition') return { ...common, trigger: 'timer', timer: timerOf(def, id), errorCode: null };
      if (def?.$type === 'bpmn:ErrorEventDefinition') {
        // An error boundary always interrupts (BPMN 2.0 §10.5.5), whatever the attribute says.
        return { ...common, cancelActivity: true, trigger: 'error', timer: null, errorCode: str(ref(def['errorRef'])?.['errorCode']) };
      }
      break;
    }
    case 'bpmn:Task':
      return { ...base, kind: 'passThrough' };
    case 'bpmn:ScriptTask': {
      const script = feelText(str(el['script']));
      if (!script) throw new Error(`${id}: script task without a script`);
      return {
        ...base,
        kind: 'scriptTask',
        script,
        resultVariable: str(el['resultVariable']),
        onIssues: onIssuesOf(el['onIssues'], id),
      };
    }
    case 'bpmn:ServiceTask': {
      const job = str(el['job']);
      if (!job) throw new Error(`${id}: service task without ordo:job`);
      const retriesText = str(el['retries']);
      const retries = retriesText === null ? DEFAULT_JOB_RETRIES : Number(retriesText);
      if (!Number.isInteger(retries) || retries < 0) throw new Error(`${id}: ordo:retries="${retriesText}"`);
      const backoffText = str(el['backoff']);
      const backoffMs = backoffText === null ? DEFAULT_JOB_BACKOFF_MS : durationMs(backoffText);
      if (backoffMs === null) throw new Error(`${id}: ordo:backoff="${backoffText}" is not an ISO 8601 duration`);
      return { ...base, kind: 'serviceTask', job, retries, backoffMs };
    }
    case 'bpmn:UserTask':
    case 'bpmn:ManualTask':
      return { ...base, kind: 'userTask' };
    case 'bpmn:ReceiveTask': {
      const message = ref(el['messageRef']);
      const messageName = message ? (str(message.name) ?? str(message.id)) : null;
      if (!messageName) throw new Error(`${id}: receive task without a message`);
      return { ...base, kind: 'receiveTask', messageName };
    }
    case 'bpmn:ExclusiveGateway':
      return { ...base, kind: 'exclusiveGateway', upstream: new Set() };
    case 'bpmn:ParallelGateway':
      return { ...base, kind: 'parallelGateway', upstream: new Set() };
    case 'bpmn:InclusiveGateway':
      return { ...base, kind: 'inclusiveGateway', upstream: new Set() };
    case 'bpmn:EventBasedGateway':
      return { ...base, kind: 'eventBasedGateway', upstream: new Set() };
    case 'bpmn:SubProcess':
      if (el['triggeredByEvent'] === true) break;
      return { ...base, kind: 'subProcess' };
    case 'bpmn:CallActivity': {
      const calledElement = str(el['calledElement']);
      if (!calledElement) throw new Error(`${id}: call activity without calledElement`);
      return { ...base, kind: 'callActivity', calledElement };
    }
  }
  throw new Error(`${id}: ${el.$type}${def ? ` with ${def.$type}` : ''} is not supported by the engine`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!(value instanceof Set)) for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Elements (same scope) from which a token can reach `gatewayId` without passing through it. */
function upstreamOf(gatewayId: string, elements: Record<string, Draft>, flows: Record<string, CompiledFlow>): Set<string> {
  const seen = new Set<string>();
  const stack = [gatewayId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    const el = elements[id]!;
    const preds = el.incoming.map((f) => flows[f]!.sourceId);
    if (el.kind === 'boundaryEvent') preds.push(el.attachedTo);
    for (const p of preds) {
      if (p === gatewayId || seen.has(p)) continue;
      seen.add(p);
      stack.push(p);
    }
  }
  return seen;
}

export function compileProcess(process: ModdleElement): CompiledProcess {
  if (process.$type !== 'bpmn:Process' || !process.id) throw new Error('compileProcess expects a bpmn:Process with an id');
  const key = process.id;
  const elements: Record<string, Draft> = Object.create(null);
  const flows: Record<string, CompiledFlow> = Object.create(null);
  const scopes: Record<string, CompiledScope> = Object.create(null);
  const flowSources: ModdleElement[] = [];

  const walk = (container: ModdleElement, scopeId: string) => {
    const ids: string[] = [];
    for (const fe of list(container['flowElements'])) {
      if (IGNORED_TYPES.has(fe.$type)) continue;
      if (!fe.id) throw new Error(`${fe.$type} without an id`);
      if (fe.$type === 'bpmn:SequenceFlow') {
        flowSources.push(fe);
        continue;
      }
      const draft = elementOf(fe, scopeId);
      elements[fe.id] = draft;
      ids.push(fe.id);
      if (draft.kind === 'subProcess') walk(fe, fe.id);
    }
    const noneStarts = ids.filter((id) => {
      const e = elements[id]!;
      return e.kind === 'startEvent' && e.trigger === 'none';
    });
    if (scopeId !== key && noneStarts.length !== 1) throw new Error(`${scopeId}: a sub-process needs exactly one none start event`);
    scopes[scopeId] = { id: scopeId, startEventId: noneStarts[0] ?? null, elementIds: ids };
  };
  walk(process, key);

  for (const fe of flowSources) {
    const sourceId = ref(fe['sourceRef'])?.id;
    const targetId = ref(fe['targetRef'])?.id;
    const source = sourceId ? elements[sourceId] : undefined;
    const target = targetId ? elements[targetId] : undefined;
    if (!source || !target) throw new Error(`${fe.id}: sequence flow with an unknown source or target`);
    if (source.scopeId !== target.scopeId) throw new Error(`${fe.id}: sequence flow crosses a sub-process boundary`);
    flows[fe.id!] = {
      id: fe.id!,
      sourceId: source.id,
      targetId: target.id,
      condition: feelText(expressionBody(fe['conditionExpression'])),
      isDefault: source.defaultFlow === fe.id,
    };
    source.outgoing.push(fe.id!);
    target.incoming.push(fe.id!);
  }
  for (const el of Object.values(elements)) {
    if (el.kind !== 'boundaryEvent') continue;
    const host = elements[el.attachedTo];
    if (!host) throw new Error(`${el.id}: attached to unknown element ${el.attachedTo}`);
    host.boundaryEvents.push(el.id);
  }
  for (const el of Object.values(elements)) {
    if (el.kind === 'inclusiveGateway' && el.incoming.length > 1) el.upstream = upstreamOf(el.id, elements, flows);
  }

  const startEvents = { none: [] as string[], message: [] as MessageStart[], timer: [] as TimerStart[] };
  const messageNames = new Set<string>();
  for (const id of scopes[key]!.elementIds) {
    const e = elements[id]!;
    if (e.kind !== 'startEvent') continue;
    if (e.trigger === 'none') startEvents.none.push(id);
    if (e.trigger === 'message') startEvents.message.push({ elementId: id, messageName: e.messageName! });
    if (e.trigger === 'timer') startEvents.timer.push({ elementId: id, timer: e.timer! });
  }
  for (const e of Object.values(elements)) {
    if ((e.kind === 'startEvent' || e.kind === 'intermediateCatchEvent') && e.messageName) messageNames.add(e.messageName);
    if (e.kind === 'receiveTask') messageNames.add(e.messageName);
  }

  return deepFreeze({
    key,
    name: str(process.name),
    elements: elements as Record<string, CompiledElement>,
    flows,
    scopes,
    startEvents,
    messageNames: [...messageNames],
  });
}

/** Every executable process (`isExecutable="true"`) in the definitions; the others are documentation. */
export function compileDefinitions(definitions: ModdleElement): CompiledProcess[] {
  return list(definitions['rootElements'])
    .filter((e) => e.$type === 'bpmn:Process' && e['isExecutable'] === true)
    .map(compileProcess);
}

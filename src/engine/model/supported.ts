import type { ModdleElement } from './parse.ts';

/**
 * What Ordo executes, in one place: the deploy validator refuses everything else in an executable process,
 * and the compiler may rely on never meeting anything outside these lists.
 *
 * Reasons are written for the analyst who drew the diagram: what is wrong, and what to draw instead.
 */

/** How an event is triggered, from its event definition (or the lack of one). */
export type EventKind =
  | 'none'
  | 'message'
  | 'timer'
  | 'error'
  | 'terminate'
  | 'signal'
  | 'escalation'
  | 'compensate'
  | 'conditional'
  | 'link'
  | 'cancel'
  | 'multiple';

export type SupportedEventType = 'bpmn:StartEvent' | 'bpmn:EndEvent' | 'bpmn:IntermediateCatchEvent' | 'bpmn:BoundaryEvent';

/** Flow elements Ordo runs. Everything else that is a flow element is refused. */
export const EXECUTABLE_ELEMENT_TYPES: ReadonlySet<string> = new Set([
  'bpmn:StartEvent',
  'bpmn:EndEvent',
  'bpmn:IntermediateCatchEvent',
  'bpmn:BoundaryEvent',
  'bpmn:SequenceFlow',
  'bpmn:ExclusiveGateway',
  'bpmn:ParallelGateway',
  'bpmn:InclusiveGateway',
  'bpmn:EventBasedGateway',
  'bpmn:ScriptTask',
  'bpmn:ServiceTask',
  'bpmn:UserTask',
  'bpmn:ReceiveTask',
  'bpmn:ManualTask',
  'bpmn:Task',
  'bpmn:SubProcess',
  'bpmn:CallActivity',
]);

/**
 * Tasks with no behaviour: the token passes straight through. A plain `bpmn:Task` is what a modeler draws
 * before deciding what the step is. (Manual tasks are work done outside any system that someone confirms:
 * they wait like user tasks, with a manual ticket.)
 */
export const PASS_THROUGH_TASK_TYPES: ReadonlySet<string> = new Set(['bpmn:Task']);

/** Not flow: documentation, data and layout. Allowed anywhere, ignored by the engine. */
export const IGNORED_ELEMENT_TYPES: ReadonlySet<string> = new Set([
  'bpmn:TextAnnotation',
  'bpmn:Association',
  'bpmn:Group',
  'bpmn:DataObject',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
  'bpmn:DataInputAssociation',
  'bpmn:DataOutputAssociation',
  'bpmn:LaneSet',
  'bpmn:Lane',
]);

/** Event definition kinds Ordo runs, per event type. */
export const SUPPORTED_EVENT_KINDS: Readonly<Record<SupportedEventType, readonly EventKind[]>> = Object.freeze({
  'bpmn:StartEvent': ['none', 'message', 'timer'],
  'bpmn:EndEvent': ['none', 'error', 'terminate'],
  'bpmn:IntermediateCatchEvent': ['message', 'timer'],
  'bpmn:BoundaryEvent': ['timer', 'error'],
});

/** Loop characteristics Ordo runs: multi-instance over a list, parallel or sequential. */
export const SUPPORTED_LOOP_TYPES: ReadonlySet<string> = new Set(['bpmn:MultiInstanceLoopCharacteristics']);

const NOT_SUPPORTED = 'Ordo cannot execute this element.';

/** Why an element type is refused, and what to draw instead. */
export const UNSUPPORTED_ELEMENT_REASONS: Readonly<Record<string, string>> = Object.freeze({
  'bpmn:SendTask': `Send tasks are not supported: ${NOT_SUPPORTED} Use a service task with ordo:job.`,
  'bpmn:BusinessRuleTask': `Business rule tasks are not supported: ${NOT_SUPPORTED} Use a script task with a FEEL expression, or a service task with ordo:job.`,
  'bpmn:ComplexGateway': `Complex gateways are not supported: ${NOT_SUPPORTED} Use an exclusive, inclusive or parallel gateway.`,
  'bpmn:Transaction': `Transactions are not supported: ${NOT_SUPPORTED} Use an embedded sub-process with error boundary events.`,
  'bpmn:AdHocSubProcess': `Ad-hoc sub-processes are not supported: ${NOT_SUPPORTED} Use an embedded sub-process, or user tasks behind a parallel gateway.`,
  'bpmn:IntermediateThrowEvent': `Intermediate throw events are not supported: ${NOT_SUPPORTED} Remove it, or use a service task with ordo:job to send something.`,
  'bpmn:ImplicitThrowEvent': `Implicit throw events are not supported: ${NOT_SUPPORTED}`,
  'bpmn:CallChoreography': `Choreographies are not supported: ${NOT_SUPPORTED}`,
  'bpmn:SubChoreography': `Choreographies are not supported: ${NOT_SUPPORTED}`,
  'bpmn:ChoreographyTask': `Choreographies are not supported: ${NOT_SUPPORTED}`,
  'bpmn:StandardLoopCharacteristics': `Loops (standard loop characteristics) are not supported: ${NOT_SUPPORTED} Use multi-instance over a list (ordo:collection), or a gateway that loops back.`,
});

const EVENT_KIND_BY_DEFINITION: Readonly<Record<string, EventKind>> = Object.freeze({
  'bpmn:MessageEventDefinition': 'message',
  'bpmn:TimerEventDefinition': 'timer',
  'bpmn:ErrorEventDefinition': 'error',
  'bpmn:TerminateEventDefinition': 'terminate',
  'bpmn:SignalEventDefinition': 'signal',
  'bpmn:EscalationEventDefinition': 'escalation',
  'bpmn:CompensateEventDefinition': 'compensate',
  'bpmn:ConditionalEventDefinition': 'conditional',
  'bpmn:LinkEventDefinition': 'link',
  'bpmn:CancelEventDefinition': 'cancel',
});

const EVENT_KIND_LABEL: Readonly<Record<EventKind, string>> = Object.freeze({
  none: 'None',
  message: 'Message',
  timer: 'Timer',
  error: 'Error',
  terminate: 'Terminate',
  signal: 'Signal',
  escalation: 'Escalation',
  compensate: 'Compensation',
  conditional: 'Conditional',
  link: 'Link',
  cancel: 'Cancel',
  multiple: 'Multiple',
});

const EVENT_TYPE_LABEL: Readonly<Record<SupportedEventType, string>> = Object.freeze({
  'bpmn:StartEvent': 'start events',
  'bpmn:EndEvent': 'end events',
  'bpmn:IntermediateCatchEvent': 'intermediate catch events',
  'bpmn:BoundaryEvent': 'boundary events',
});

/** What to draw instead, for the combinations analysts reach for most. */
const EVENT_HINTS: Partial<Record<string, string>> = {
  'bpmn:EndEvent/message': 'Use a service task with ordo:job before a none end event.',
  'bpmn:BoundaryEvent/message': 'Use an event-based gateway with a message catch event, or a receive task.',
  'bpmn:IntermediateCatchEvent/link': 'Draw the sequence flow instead.',
  'bpmn:IntermediateCatchEvent/none': 'An intermediate catch event needs a message or timer definition.',
  'bpmn:BoundaryEvent/none': 'A boundary event needs a timer or error definition.',
};

function list(value: unknown): ModdleElement[] {
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as ModdleElement[]) : [];
}

function isSupportedEventType(type: string): type is SupportedEventType {
  return Object.hasOwn(SUPPORTED_EVENT_KINDS, type);
}

/** The event definitions an event carries, inline or referenced (BPMN allows both; Ordo runs only inline). */
export function eventDefinitionsOf(event: ModdleElement): ModdleElement[] {
  return [...list(event.eventDefinitions), ...list(event.eventDefinitionRef)];
}

/** The kind of an event: 'none' without a definition, 'multiple' with more than one. */
export function eventKind(event: ModdleElement): EventKind {
  const definitions = eventDefinitionsOf(event);
  if (definitions.length === 0) return 'none';
  if (definitions.length > 1) return 'multiple';
  return EVENT_KIND_BY_DEFINITION[definitions[0]!.$type] ?? 'multiple';
}

/**
 * Why Ordo refuses this element, or null when Ordo runs it or ignores it. Judges the element itself (its
 * type, its event definition, its loop characteristics), not its wiring or attributes: the validator does that.
 */
export function unsupportedReason(element: ModdleElement): string | null {
  const type = element.$type;
  if (IGNORED_ELEMENT_TYPES.has(type)) return null;
  const known = UNSUPPORTED_ELEMENT_REASONS[type];
  if (known) return known;
  if (!EXECUTABLE_ELEMENT_TYPES.has(type)) {
    return `${type} is not supported: ${NOT_SUPPORTED}`;
  }
  if (type === 'bpmn:SubProcess' && element.triggeredByEvent === true) {
    return `Event sub-processes are not supported: ${NOT_SUPPORTED} Use boundary events on an embedded sub-process.`;
  }
  if (element.isForCompensation === true) {
    return `Compensation handlers are not supported: ${NOT_SUPPORTED} Model the undo step as an ordinary task on an error path.`;
  }
  if (type === 'bpmn:EventBasedGateway' && (element.instantiate === true || element.eventGatewayType === 'Parallel')) {
    return `Event-based gateways that start a process are not supported: ${NOT_SUPPORTED} Use message or timer start events.`;
  }
  if (type === 'bpmn:ReceiveTask' && element.instantiate === true) {
    return `Receive tasks that start a process are not supported: ${NOT_SUPPORTED} Use a message start event.`;
  }
  const loop = element.loopCharacteristics as ModdleElement | undefined;
  if (loop && typeof loop === 'object' && !SUPPORTED_LOOP_TYPES.has(loop.$type)) {
    return UNSUPPORTED_ELEMENT_REASONS[loop.$type] ?? `${loop.$type} is not supported: ${NOT_SUPPORTED}`;
  }
  if (isSupportedEventType(type)) {
    if (list(element.eventDefinitionRef).length > 0) {
      return `Event definitions referenced from elsewhere (eventDefinitionRef) are not supported: ${NOT_SUPPORTED} Define the event inside the event element.`;
    }
    const kind = eventKind(element);
    if (!SUPPORTED_EVENT_KINDS[type].includes(kind)) {
      const hint = EVENT_HINTS[`${type}/${kind}`];
      const supported = SUPPORTED_EVENT_KINDS[type].join(', ');
      const what = kind === 'multiple' ? `Events with more than one event definition` : `${EVENT_KIND_LABEL[kind]} ${EVENT_TYPE_LABEL[type]}`;
      return `${what} are not supported: ${NOT_SUPPORTED} ${hint ?? `Ordo runs ${EVENT_TYPE_LABEL[type]} of kind ${supported}.`}`;
    }
    if (type === 'bpmn:BoundaryEvent' && kind === 'error' && element.cancelActivity === false) {
      return `Non-interrupting error boundary events are not supported: an error always interrupts the activity. Remove cancelActivity="false".`;
    }
  }
  return null;
}

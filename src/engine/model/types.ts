/**
 * The compiled, immutable shape of one executable process. Built once per deployed version by
 * `compileDefinitions` and shared by every step of every instance of that version: all lookups the
 * runtime does per element are O(1) here (records keyed by id, precomputed flow and boundary lists).
 */

/** A ticket's instruction step; the one without `code` is the fallback shown when no issue code matches. */
export interface TicketInstruction {
  readonly code: string | null;
  readonly text: string;
}

export interface TicketField {
  readonly name: string;
  readonly label: string | null;
  readonly type: string | null;
  readonly required: boolean;
  /** As written in the diagram (`ordo:field options="..."`); the tickets module interprets it. */
  readonly options: string | null;
}

/** Copied from `<ordo:ticket>`; the engine hands it to the caller untouched inside openTicket effects. */
export interface TicketDefinition {
  readonly title: string | null;
  readonly queue: string | null;
  readonly priority: string | null;
  /** ISO 8601 duration, e.g. PT4H. */
  readonly due: string | null;
  readonly instructions: readonly TicketInstruction[];
  readonly fields: readonly TicketField[];
}

/** Text as written: ISO 8601 (duration, date-time or repeating interval), or FEEL when it starts with `=`. */
export interface TimerDefinition {
  readonly kind: 'duration' | 'date' | 'cycle';
  readonly expression: string;
}

export interface MultiInstanceDefinition {
  readonly isSequential: boolean;
  /** FEEL expression yielding the list to iterate. */
  readonly collection: string;
  readonly elementVariable: string | null;
  readonly outputCollection: string | null;
  /** FEEL expression evaluated in each instance's scope when it completes. */
  readonly outputElement: string | null;
  readonly completionCondition: string | null;
}

export interface CompiledFlow {
  readonly id: string;
  readonly sourceId: string;
  readonly targetId: string;
  /** FEEL, leading `=` removed; null for an unconditional flow. */
  readonly condition: string | null;
  readonly isDefault: boolean;
}

interface ElementBase {
  readonly id: string;
  /** The moddle type, e.g. `bpmn:ScriptTask`. */
  readonly type: string;
  readonly name: string | null;
  /** Id of the enclosing scope: the process id or an embedded sub-process id. */
  readonly scopeId: string;
  readonly incoming: readonly string[];
  readonly outgoing: readonly string[];
  readonly defaultFlow: string | null;
  /** Boundary events attached to this element, in document order. */
  readonly boundaryEvents: readonly string[];
  readonly multiInstance: MultiInstanceDefinition | null;
  /** `ordo:status`: the order status an analyst declared for while a token waits here. */
  readonly status: string | null;
  /** `<ordo:ticket>` in the element's extensionElements, on any element (null when absent). */
  readonly ticket: TicketDefinition | null;
}

export interface StartEventElement extends ElementBase {
  readonly kind: 'startEvent';
  readonly trigger: 'none' | 'message' | 'timer';
  readonly messageName: string | null;
  readonly timer: TimerDefinition | null;
}

export interface EndEventElement extends ElementBase {
  readonly kind: 'endEvent';
  readonly result: 'none' | 'error' | 'terminate';
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export interface IntermediateCatchEventElement extends ElementBase {
  readonly kind: 'intermediateCatchEvent';
  readonly trigger: 'message' | 'timer';
  readonly messageName: string | null;
  readonly timer: TimerDefinition | null;
}

export interface BoundaryEventElement extends ElementBase {
  readonly kind: 'boundaryEvent';
  readonly trigger: 'timer' | 'error';
  readonly attachedTo: string;
  readonly cancelActivity: boolean;
  readonly timer: TimerDefinition | null;
  /** For error boundaries: the code caught, or null for a catch-all. */
  readonly errorCode: string | null;
}

/** Elements that do nothing but pass the token on: plain `bpmn:Task`, a none intermediate throw event. */
export interface PassThroughElement extends ElementBase {
  readonly kind: 'passThrough';
}

export type OnIssues = 'ticket' | 'error' | 'continue';

export interface ScriptTaskElement extends ElementBase {
  readonly kind: 'scriptTask';
  readonly script: string;
  readonly resultVariable: string | null;
  readonly onIssues: OnIssues;
}

export interface ServiceTaskElement extends ElementBase {
  readonly kind: 'serviceTask';
  readonly job: string;
  readonly retries: number;
  readonly backoffMs: number;
}

/** User tasks and manual tasks: both wait for a person (see behaviours/user-task.ts). */
export interface UserTaskElement extends ElementBase {
  readonly kind: 'userTask';
}

export interface ReceiveTaskElement extends ElementBase {
  readonly kind: 'receiveTask';
  readonly messageName: string;
}

export interface GatewayElement extends ElementBase {
  readonly kind: 'exclusiveGateway' | 'parallelGateway' | 'inclusiveGateway' | 'eventBasedGateway';
  /**
   * Inclusive joins only: ids of the elements (same scope) from which a token can still reach this
   * gateway without passing through it. A token on any of them keeps the join waiting.
   */
  readonly upstream: ReadonlySet<string>;
}

export interface SubProcessElement extends ElementBase {
  readonly kind: 'subProcess';
}

export interface CallActivityElement extends ElementBase {
  readonly kind: 'callActivity';
  readonly calledElement: string;
}

export type CompiledElement =
  | StartEventElement
  | EndEventElement
  | IntermediateCatchEventElement
  | BoundaryEventElement
  | PassThroughElement
  | ScriptTaskElement
  | ServiceTaskElement
  | UserTaskElement
  | ReceiveTaskElement
  | GatewayElement
  | SubProcessElement
  | CallActivityElement;

export type ElementKind = CompiledElement['kind'];

/** The process itself or one embedded sub-process. */
export interface CompiledScope {
  readonly id: string;
  /** The none start event a token begins at when the scope is entered (null for the process if it has none). */
  readonly startEventId: string | null;
  readonly elementIds: readonly string[];
}

export interface MessageStart {
  readonly elementId: string;
  readonly messageName: string;
}

export interface TimerStart {
  readonly elementId: string;
  readonly timer: TimerDefinition;
}

export interface StartEvents {
  readonly none: readonly string[];
  readonly message: readonly MessageStart[];
  readonly timer: readonly TimerStart[];
}

export interface CompiledProcess {
  /** The process id, which Ordo uses as the process key. */
  readonly key: string;
  readonly name: string | null;
  readonly elements: Readonly<Record<string, CompiledElement>>;
  readonly flows: Readonly<Record<string, CompiledFlow>>;
  /** Keyed by scope id: the process key and every embedded sub-process id. */
  readonly scopes: Readonly<Record<string, CompiledScope>>;
  readonly startEvents: StartEvents;
  /** Every message name some element of this process can wait for (start events included). */
  readonly messageNames: readonly string[];
}

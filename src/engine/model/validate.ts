import type { ModdleElement, ParsedDefinitions } from './parse.ts';
import { checkFeelSyntax, checkTimerExpression, feelFunctionCalls, isIsoDuration, scriptResultVariables, unknownFunctionCalls } from './feel-syntax.ts';
import type { TimerKind } from './feel-syntax.ts';
import { IGNORED_ELEMENT_TYPES, eventDefinitionsOf, eventKind, unsupportedReason } from './supported.ts';

/**
 * The deploy validator: everything Ordo cannot run in an executable process, element by element, before
 * anything is stored. It judges the diagram as moddle read it; it never throws on a diagram parseBpmn accepted.
 */

export interface DeployError {
  elementId: string;
  elementType: string;
  message: string;
}

export interface FeelFunctionInfo {
  name: string;
  /** Issue codes the function can return. */
  raises: readonly string[];
}

export interface ValidateOptions {
  /** Job names workers handle; null or absent = don't check. */
  knownJobs?: readonly string[] | null;
  /** The FEEL function library scripts may call, with the issue codes each can raise. */
  feelFunctions?: readonly FeelFunctionInfo[];
  /** Compiles a ticket template; returns an error message, or null when it compiles. */
  validateTemplate?: (text: string) => string | null;
}

export interface ProcessSummary {
  id: string;
  name: string | null;
  executable: boolean;
}

export interface ValidationResult {
  processes: ProcessSummary[];
  errors: DeployError[];
}

export const TICKET_PRIORITIES = Object.freeze(['low', 'normal', 'high', 'urgent'] as const);
export const ON_ISSUES_VALUES = Object.freeze(['ticket', 'error', 'continue'] as const);

const TIMER_KINDS: readonly TimerKind[] = ['timeDuration', 'timeDate', 'timeCycle'];
const GATEWAYS_WITH_CONDITIONS = new Set(['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway']);
const ACTIVITY_TYPES = new Set([
  'bpmn:Task',
  'bpmn:ScriptTask',
  'bpmn:ServiceTask',
  'bpmn:UserTask',
  'bpmn:ReceiveTask',
  'bpmn:ManualTask',
  'bpmn:SendTask',
  'bpmn:BusinessRuleTask',
  'bpmn:SubProcess',
  'bpmn:AdHocSubProcess',
  'bpmn:Transaction',
  'bpmn:CallActivity',
]);

// --- reading moddle elements defensively: the input is whatever another tool wrote ---

function isElement(value: unknown): value is ModdleElement {
  return typeof value === 'object' && value !== null && typeof (value as { $type?: unknown }).$type === 'string';
}

function elementOf(value: unknown): ModdleElement | undefined {
  return isElement(value) ? value : undefined;
}

function list(value: unknown): ModdleElement[] {
  return Array.isArray(value) ? value.filter(isElement) : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** The body of a bpmn:Expression / bpmn:FormalExpression (or a plain string, which some tools write). */
function expressionBody(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const expression = elementOf(value);
  if (!expression) return undefined;
  return typeof expression.body === 'string' ? expression.body : '';
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

function label(element: ModdleElement): string {
  const name = text(element.name);
  return name ? `"${name}" (${element.id ?? element.$type})` : `${element.id ?? element.$type}`;
}

/** Activities carry ordo:ticket; the deploy reads (and checks) tickets on activities only. */
export function isActivity(element: ModdleElement): boolean {
  return ACTIVITY_TYPES.has(element.$type);
}

/** "The instructions for PHONE_MISSING", "The fallback instructions": how the deploy and the lint name a set. */
export function instructionsName(instructions: ModdleElement): string {
  const code = text(instructions.code);
  return code ? `The instructions for ${code}` : 'The fallback instructions';
}

/**
 * A ticket's title and instructions that do not compile as templates, in the words of the deploy's refusal.
 * The compiler is passed in (the engine does not know Handlebars): the server hands it the tickets' check,
 * and the modeler's lint the same check, so both say the same.
 */
export function ticketTemplateProblems(ticket: ModdleElement, validate: (text: string) => string | null): string[] {
  const problems: string[] = [];
  const check = (what: string, template: string) => {
    let error: string | null;
    try {
      error = validate(template);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error) problems.push(`${what} cannot be compiled as a template: ${error.replace(/\s+/g, ' ').trim()}`);
  };
  if (typeof ticket.title === 'string') check('The ticket title', ticket.title);
  for (const instructions of list(ticket.instructions)) {
    const body = typeof instructions.text === 'string' ? instructions.text : '';
    if (body.trim() !== '') check(instructionsName(instructions), body);
  }
  return problems;
}

function ordoTickets(element: ModdleElement): ModdleElement[] {
  return list(elementOf(element.extensionElements)?.values).filter((v) => v.$type === 'ordo:Ticket');
}

/** Every element reachable from the definitions, by id (first one wins; duplicates are moddle's warnings). */
function indexById(root: ModdleElement): Map<string, ModdleElement> {
  const byId = new Map<string, ModdleElement>();
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (!isElement(value) || seen.has(value)) return;
    seen.add(value);
    if (typeof value.id === 'string' && !byId.has(value.id)) byId.set(value.id, value);
    for (const key of Object.keys(value)) {
      if (key.startsWith('$')) continue;
      visit(value[key]);
    }
  };
  visit(root);
  return byId;
}

function enclosingProcess(element: ModdleElement): ModdleElement | undefined {
  for (let current: ModdleElement | undefined = element, depth = 0; current && depth < 1000; current = current.$parent, depth++) {
    if (current.$type === 'bpmn:Process') return current;
  }
  return undefined;
}

class Validator {
  readonly errors: DeployError[] = [];
  private readonly functionNames: string[];
  private readonly raisesByFunction: Map<string, readonly string[]>;

  constructor(
    private readonly options: ValidateOptions,
    private readonly fallbackId: string,
  ) {
    const functions = options.feelFunctions ?? [];
    this.functionNames = functions.map((f) => f.name);
    this.raisesByFunction = new Map(functions.map((f) => [f.name.replace(/\s+/g, ' ').trim(), f.raises]));
  }

  private idOf(element: ModdleElement): string {
    for (let current: ModdleElement | undefined = element, depth = 0; current && depth < 1000; current = current.$parent, depth++) {
      if (typeof current.id === 'string' && current.id !== '') return current.id;
    }
    return this.fallbackId;
  }

  report(element: ModdleElement, message: string): void {
    this.errors.push({ elementId: this.idOf(element), elementType: element.$type, message });
  }

  // --- FEEL and timers ---

  private checkFeel(element: ModdleElement, what: string, expression: string): boolean {
    const error = checkFeelSyntax(expression, 'expression', this.functionNames);
    if (error) {
      this.report(element, `${what}: ${error.message}`);
      return false;
    }
    // Only against a known library: without one (a caller that passed none) every call would look unknown.
    if (this.options.feelFunctions) {
      const process = enclosingProcess(element);
      for (const call of unknownFunctionCalls(expression, this.functionNames, process ? this.resultVariablesOf(process) : [])) this.report(element, `${what} ${call.message}`);
    }
    return true;
  }

  private readonly resultVariables = new Map<ModdleElement, string[]>();

  /** The result variables of a process's script tasks (cached per process). */
  private resultVariablesOf(process: ModdleElement): string[] {
    let names = this.resultVariables.get(process);
    if (!names) this.resultVariables.set(process, (names = scriptResultVariables(process)));
    return names;
  }

  /** A formal expression must be FEEL: refuse other declared languages before parsing. */
  private checkExpression(element: ModdleElement, what: string, value: unknown): void {
    const body = expressionBody(value);
    if (body === undefined) return;
    const language = text(elementOf(value)?.language);
    if (language && !/feel/i.test(language)) {
      this.report(element, `${what} is written in "${language}"; Ordo evaluates FEEL only.`);
      return;
    }
    this.checkFeel(element, what, body);
  }

  // --- the process and its scopes ---

  validateProcess(process: ModdleElement): void {
    if (text(process.id) === '') this.report(process, 'An executable process needs an id: it is the process key.');
    this.validateScope(process);
  }

  private validateScope(scope: ModdleElement): void {
    const isProcess = scope.$type === 'bpmn:Process';
    const scopeLabel = isProcess ? 'process' : 'sub-process';
    const elements = list(scope.flowElements);
    const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
    const nodes = elements.filter((e) => e.$type !== 'bpmn:SequenceFlow' && !IGNORED_ELEMENT_TYPES.has(e.$type));
    const nodeSet = new Set(nodes);
    const refused = new Set<ModdleElement>();

    if (nodes.length === 0) {
      this.report(scope, isProcess
        ? `The process ${label(scope)} is empty: it has no start event and nothing to run.`
        : `The sub-process ${label(scope)} is empty: an embedded sub-process needs its own start event, steps and end event (to run a process defined elsewhere, use a call activity).`);
      return;
    }

    for (const element of elements) {
      if (IGNORED_ELEMENT_TYPES.has(element.$type)) continue;
      if (text(element.id) === '') this.report(element, `Every element of an executable ${scopeLabel} needs an id; this ${element.$type} has none.`);
    }

    for (const node of nodes) {
      const reason = unsupportedReason(node);
      if (reason) {
        // One message per refused element; what sits inside a refused container is not judged further.
        this.report(node, reason);
        refused.add(node);
        continue;
      }
      this.checkNode(node, scope, nodeSet);
      if (node.$type === 'bpmn:SubProcess') this.validateScope(node);
    }

    const outgoing = new Map<ModdleElement, ModdleElement[]>(nodes.map((n) => [n, []]));
    const connected: ModdleElement[] = [];
    for (const flow of flows) {
      if (this.checkFlowEnds(flow, nodeSet)) {
        outgoing.get(flow.sourceRef as ModdleElement)!.push(flow);
        connected.push(flow);
      }
    }
    for (const flow of connected) this.checkCondition(flow);
    for (const node of nodes) {
      if (refused.has(node)) continue;
      this.checkGateway(node, outgoing.get(node) ?? []);
    }

    this.checkStartsAndEnds(scope, nodes, connected, refused);
  }

  private checkStartsAndEnds(
    scope: ModdleElement,
    nodes: ModdleElement[],
    flows: ModdleElement[],
    refused: Set<ModdleElement>,
  ): void {
    const isProcess = scope.$type === 'bpmn:Process';
    const scopeLabel = isProcess ? 'process' : 'sub-process';
    const starts = nodes.filter((n) => n.$type === 'bpmn:StartEvent');
    const ends = nodes.filter((n) => n.$type === 'bpmn:EndEvent');

    if (starts.length === 0) {
      this.report(scope, `The ${scopeLabel} ${label(scope)} has no start event: Ordo would not know where to begin.`);
    }
    const noneStarts = starts.filter((s) => eventKind(s) === 'none');
    if (noneStarts.length > 1) {
      this.report(scope, `The ${scopeLabel} ${label(scope)} has ${noneStarts.length} none start events (${noneStarts.map((s) => s.id).join(', ')}): Ordo starts an instance at one. Keep one, or give the others a message or timer.`);
    }
    if (!isProcess) {
      for (const start of starts) {
        if (eventKind(start) !== 'none' && !refused.has(start)) {
          this.report(start, 'A sub-process starts with a none start event; message and timer start events belong to the process.');
        }
      }
    }
    if (ends.length === 0) {
      this.report(scope, `The ${scopeLabel} ${label(scope)} has no end event: draw one where each path finishes.`);
    }

    // The graph of this scope: sequence flows, plus activity -> its boundary events (a way out of it).
    const next = new Map<ModdleElement, ModdleElement[]>(nodes.map((n) => [n, []]));
    const previous = new Map<ModdleElement, ModdleElement[]>(nodes.map((n) => [n, []]));
    const link = (from: ModdleElement, to: ModdleElement) => {
      next.get(from)?.push(to);
      previous.get(to)?.push(from);
    };
    for (const flow of flows) link(flow.sourceRef as ModdleElement, flow.targetRef as ModdleElement);
    const detached = new Set<ModdleElement>();
    for (const node of nodes) {
      if (node.$type !== 'bpmn:BoundaryEvent') continue;
      const host = elementOf(node.attachedToRef);
      if (host && next.has(host)) link(host, node);
      else detached.add(node);
    }

    const walk = (from: ModdleElement[], edges: Map<ModdleElement, ModdleElement[]>): Set<ModdleElement> => {
      const seen = new Set<ModdleElement>(from);
      const queue = [...from];
      while (queue.length > 0) {
        for (const to of edges.get(queue.pop()!) ?? []) {
          if (!seen.has(to)) {
            seen.add(to);
            queue.push(to);
          }
        }
      }
      return seen;
    };
    const fromStart = walk(starts, next);
    const toEnd = walk(ends, previous);

    for (const node of nodes) {
      // Refused and detached elements already have their message; a second one about wiring is noise.
      if (refused.has(node) || detached.has(node)) continue;
      if (starts.length > 0 && !fromStart.has(node)) {
        this.report(node, `${label(node)} cannot be reached from a start event of its ${scopeLabel}: connect it, or remove it.`);
      } else if (ends.length > 0 && !toEnd.has(node)) {
        this.report(node, `${label(node)} cannot reach an end event: every path must lead to an end event of its ${scopeLabel} (a token stuck here would never finish).`);
      }
    }
  }

  /** Source and target exist, are flow nodes of this scope, and may carry flows that way. */
  private checkFlowEnds(flow: ModdleElement, nodeSet: Set<ModdleElement>): boolean {
    const source = elementOf(flow.sourceRef);
    const target = elementOf(flow.targetRef);
    let ok = true;
    for (const [end, role] of [
      [source, 'source'],
      [target, 'target'],
    ] as const) {
      if (!end) {
        this.report(flow, `This sequence flow has no ${role}: its ${role}Ref is missing or names no element.`);
        ok = false;
      } else if (!nodeSet.has(end)) {
        const why = end.$type === 'bpmn:SequenceFlow' || IGNORED_ELEMENT_TYPES.has(end.$type) ? `is a ${end.$type}, not a flow node` : 'is in another (sub-)process: sequence flows cannot cross a sub-process boundary';
        this.report(flow, `The ${role} of this sequence flow, ${label(end)}, ${why}.`);
        ok = false;
      }
    }
    if (!ok || !source || !target) return false;
    if (source.$type === 'bpmn:EndEvent') {
      this.report(flow, `This sequence flow leaves the end event ${label(source)}: an end event ends its path.`);
      return false;
    }
    if (target.$type === 'bpmn:StartEvent') {
      this.report(flow, `This sequence flow enters the start event ${label(target)}: nothing can flow into a start event.`);
      return false;
    }
    if (target.$type === 'bpmn:BoundaryEvent') {
      this.report(flow, `This sequence flow enters the boundary event ${label(target)}: a boundary event is triggered, never entered.`);
      return false;
    }
    return true;
  }

  private checkCondition(flow: ModdleElement): void {
    const source = flow.sourceRef as ModdleElement;
    const condition = flow.conditionExpression;
    if (condition === undefined || condition === null) return;
    const isDefault = elementOf(source.default) === flow;
    if (source.$type === 'bpmn:ParallelGateway') {
      this.report(flow, `Conditions on flows out of a parallel gateway are not allowed: a parallel gateway takes every branch. Use an inclusive gateway, or remove the condition.`);
    } else if (source.$type === 'bpmn:EventBasedGateway') {
      this.report(flow, `Flows out of an event-based gateway cannot have conditions: the first event to arrive decides.`);
    } else if (!GATEWAYS_WITH_CONDITIONS.has(source.$type)) {
      this.report(flow, `Conditional flows out of ${source.$type} are not supported: only exclusive and inclusive gateways evaluate conditions. Put an exclusive gateway after ${label(source)}.`);
    } else if (isDefault) {
      this.report(flow, `This flow is the default flow of ${label(source)} and also has a condition: a default flow is taken when no condition holds, so it must not have one.`);
    } else if (expressionBody(condition)?.trim() === '') {
      this.report(flow, `The condition of this sequence flow is empty: write a FEEL condition, or make it the gateway's default flow.`);
    } else {
      this.checkExpression(flow, 'The condition of this sequence flow', condition);
    }
  }

  private checkGateway(gateway: ModdleElement, outgoing: ModdleElement[]): void {
    if (GATEWAYS_WITH_CONDITIONS.has(gateway.$type)) {
      const defaultFlow = elementOf(gateway.default);
      if (defaultFlow && !outgoing.includes(defaultFlow)) {
        this.report(gateway, `The default flow of ${label(gateway)}, ${label(defaultFlow)}, does not leave this gateway.`);
      }
      if (outgoing.length > 1) {
        const kind = gateway.$type === 'bpmn:ExclusiveGateway' ? 'exclusive' : 'inclusive';
        for (const flow of outgoing) {
          if (flow === defaultFlow) continue;
          const body = expressionBody(flow.conditionExpression);
          if (body === undefined) {
            this.report(flow, `This flow leaves the ${kind} gateway ${label(gateway)} without a condition and is not its default flow: add a FEEL condition, or make it the default flow.`);
          }
        }
      }
    } else if (gateway.$type === 'bpmn:EventBasedGateway') {
      for (const flow of outgoing) {
        const target = flow.targetRef as ModdleElement;
        const kind = target.$type === 'bpmn:IntermediateCatchEvent' ? eventKind(target) : null;
        const fits = target.$type === 'bpmn:ReceiveTask' || kind === 'message' || kind === 'timer';
        if (!fits) {
          this.report(flow, `An event-based gateway must lead to message or timer catch events or receive tasks; ${label(gateway)} leads to ${label(target)} (${target.$type}).`);
        }
      }
    }
  }

  // --- one element at a time ---

  private checkNode(node: ModdleElement, scope: ModdleElement, nodeSet: Set<ModdleElement>): void {
    switch (node.$type) {
      case 'bpmn:ScriptTask':
        this.checkScriptTask(node);
        break;
      case 'bpmn:ServiceTask':
        this.checkServiceTask(node);
        break;
      case 'bpmn:ReceiveTask':
        this.checkMessage(node, node.messageRef, 'receive task');
        break;
      case 'bpmn:CallActivity':
        if (text(node.calledElement) === '') {
          this.report(node, 'A call activity needs calledElement: the key of the process it starts.');
        }
        break;
      case 'bpmn:StartEvent':
      case 'bpmn:EndEvent':
      case 'bpmn:IntermediateCatchEvent':
      case 'bpmn:BoundaryEvent':
        this.checkEvent(node, scope, nodeSet);
        break;
      default:
        break;
    }
    if (isActivity(node)) {
      this.checkLoop(node);
      const tickets = ordoTickets(node);
      if (tickets.length > 1) this.report(node, `${label(node)} has ${tickets.length} ordo:ticket elements; a task raises one kind of ticket.`);
      for (const ticket of tickets) this.checkTicket(node, ticket);
    }
  }

  private checkScriptTask(task: ModdleElement): void {
    const format = text(task.scriptFormat);
    if (format.toLowerCase() !== 'feel') {
      this.report(task, format ? `Script format "${format}" is not supported: Ordo runs FEEL scripts only (scriptFormat="feel").` : 'A script task needs scriptFormat="feel": Ordo runs FEEL scripts only.');
    }
    const script = typeof task.script === 'string' ? task.script : '';
    let scriptParses = false;
    if (script.trim() === '') {
      this.report(task, 'This script task has no script: write the FEEL expression in <bpmn:script>.');
    } else if (format.toLowerCase() === 'feel') {
      scriptParses = this.checkFeel(task, 'The script', script);
    }
    const onIssues = text(task.onIssues) || 'ticket';
    if (!(ON_ISSUES_VALUES as readonly string[]).includes(onIssues)) {
      this.report(task, `ordo:onIssues="${onIssues}" is not one of ${quoteList(ON_ISSUES_VALUES)}.`);
      return;
    }
    if (onIssues !== 'ticket' || !scriptParses) return;

    const codes = new Set<string>();
    for (const name of feelFunctionCalls(script, this.functionNames)) {
      for (const code of this.raisesByFunction.get(name) ?? []) codes.add(code);
    }
    if (codes.size === 0) return;
    const tickets = ordoTickets(task);
    if (tickets.length === 0) {
      this.report(task, `This script task can raise issues (${[...codes].join(', ')}) and would open a ticket, but has no ordo:ticket: add one with instructions, or set ordo:onIssues to "error" or "continue".`);
      return;
    }
    const instructions = tickets.flatMap((t) => list(t.instructions));
    if (instructions.some((i) => text(i.code) === '')) return;
    const covered = new Set(instructions.map((i) => text(i.code)));
    const missing = [...codes].filter((code) => !covered.has(code));
    if (missing.length > 0) {
      this.report(task, `Missing instructions for ${missing.join(', ')}: the script can raise ${missing.length === 1 ? 'this code' : 'these codes'}, and the operator would get a ticket with no steps. Add <ordo:instructions code="…"> for each, or a fallback <ordo:instructions> without code.`);
    }
  }

  private checkServiceTask(task: ModdleElement): void {
    const job = text(task.job);
    if (job === '') {
      this.report(task, 'A service task needs ordo:job: the name of the worker job that performs it.');
    } else if (this.options.knownJobs && !this.options.knownJobs.includes(job)) {
      const known = this.options.knownJobs.length > 0 ? ` Known jobs: ${[...this.options.knownJobs].sort().join(', ')}.` : ' No jobs are registered.';
      this.report(task, `Unknown job "${job}": no worker handles it.${known}`);
    }
    if (task.retries !== undefined && !/^\d+$/.test(text(task.retries))) {
      this.report(task, `ordo:retries="${String(task.retries)}" must be a whole number, 0 or more.`);
    }
    if (task.backoff !== undefined && !isIsoDuration(text(task.backoff))) {
      this.report(task, `ordo:backoff="${String(task.backoff)}" is not an ISO 8601 duration (e.g. PT10S).`);
    }
  }

  private checkMessage(element: ModdleElement, messageRef: unknown, what: string): void {
    const message = elementOf(messageRef);
    if (!message) {
      this.report(element, `This ${what} names no message (messageRef): Ordo would not know which message it waits for.`);
    } else if (text(message.name) === '') {
      this.report(element, `The message ${message.id ?? ''} of this ${what} has no name: messages are correlated by name.`);
    }
  }

  private checkEvent(event: ModdleElement, scope: ModdleElement, nodeSet: Set<ModdleElement>): void {
    const kind = eventKind(event);
    const definition = eventDefinitionsOf(event)[0];
    const what = `${kind} ${event.$type === 'bpmn:BoundaryEvent' ? 'boundary' : event.$type.replace('bpmn:', '').replace(/Event$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} event`;
    if (kind === 'message' && definition) this.checkMessage(event, definition.messageRef, what);
    if (kind === 'timer' && definition) this.checkTimer(event, definition);
    if (kind === 'error' && definition) {
      const error = elementOf(definition.errorRef);
      if (error && text(error.errorCode) === '') {
        this.report(event, event.$type === 'bpmn:EndEvent'
          ? `The error ${error.id ?? ''} thrown by this end event has no errorCode: boundary events catch errors by code.`
          : `The error ${error.id ?? ''} caught here has no errorCode: give it one, or leave errorRef out to catch every error.`);
      } else if (!error && event.$type === 'bpmn:EndEvent') {
        this.report(event, 'This error end event names no error (errorRef): give it an error with an errorCode, so a boundary event can catch it.');
      }
    }
    if (event.$type === 'bpmn:BoundaryEvent') {
      const host = elementOf(event.attachedToRef);
      if (!host) {
        this.report(event, 'This boundary event is attached to nothing (attachedToRef is missing or names no element).');
      } else if (!isActivity(host)) {
        this.report(event, `This boundary event is attached to ${label(host)}, a ${host.$type}; boundary events attach to activities.`);
      } else if (!nodeSet.has(host)) {
        this.report(event, `This boundary event is attached to ${label(host)}, which is not in the same ${scope.$type === 'bpmn:Process' ? 'process' : 'sub-process'}.`);
      }
    }
  }

  private checkTimer(event: ModdleElement, definition: ModdleElement): void {
    const present = TIMER_KINDS.filter((kind) => definition[kind] !== undefined && definition[kind] !== null);
    if (present.length === 0) {
      this.report(event, 'This timer has no definition: give it a duration (timeDuration), a date (timeDate) or a cycle (timeCycle).');
      return;
    }
    if (present.length > 1) {
      this.report(event, `This timer has ${present.join(' and ')}; a timer has exactly one of timeDuration, timeDate, timeCycle.`);
      return;
    }
    const kind = present[0]!;
    const body = expressionBody(definition[kind]) ?? '';
    const error = checkTimerExpression(kind, body, this.functionNames);
    if (error) this.report(event, `${kind}: ${error}`);
  }

  private checkLoop(activity: ModdleElement): void {
    const loop = elementOf(activity.loopCharacteristics);
    if (!loop || loop.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return;
    const collection = typeof loop.collection === 'string' ? loop.collection : undefined;
    if (collection === undefined || collection.trim() === '') {
      this.report(activity, 'Multi-instance needs ordo:collection: a FEEL expression giving the list to run over (e.g. order.lines).');
    } else {
      this.checkFeel(activity, 'ordo:collection', collection);
    }
    if (typeof loop.outputElement === 'string') this.checkFeel(activity, 'ordo:outputElement', loop.outputElement);
    if (loop.completionCondition !== undefined && loop.completionCondition !== null) {
      const body = expressionBody(loop.completionCondition);
      if (body !== undefined && body.trim() === '') {
        this.report(activity, 'The completion condition of this multi-instance is empty: write a FEEL condition, or remove it.');
      } else {
        this.checkExpression(activity, 'The completion condition', loop.completionCondition);
      }
    }
  }

  private checkTicket(task: ModdleElement, ticket: ModdleElement): void {
    const priority = ticket.priority;
    if (priority !== undefined && !(TICKET_PRIORITIES as readonly string[]).includes(text(priority))) {
      this.report(task, `Ticket priority "${String(priority)}" is not one of ${quoteList(TICKET_PRIORITIES)}.`);
    }
    if (ticket.due !== undefined && !isIsoDuration(text(ticket.due))) {
      this.report(task, `Ticket due="${String(ticket.due)}" is not an ISO 8601 duration (e.g. PT4H).`);
    }
    for (const instructions of list(ticket.instructions)) {
      const body = typeof instructions.text === 'string' ? instructions.text : '';
      if (body.trim() === '') this.report(task, `${instructionsName(instructions)} are empty: write the steps the operator should take.`);
    }
    const validate = this.options.validateTemplate;
    if (validate) for (const problem of ticketTemplateProblems(ticket, validate)) this.report(task, problem);
    const names = new Set<string>();
    for (const field of list(ticket.fields)) {
      const name = text(field.name);
      if (name === '') this.report(task, 'A ticket field needs a name: the variable its value is stored in.');
      else if (names.has(name)) this.report(task, `The ticket has two fields named "${name}".`);
      names.add(name);
    }
  }
}

/**
 * Everything Ordo cannot run in the executable processes of these definitions. Processes that are not
 * executable deploy as documentation and are not judged, and nor are files without an executable process.
 */
export function validateDefinitions(parsed: ParsedDefinitions, options: ValidateOptions = {}): ValidationResult {
  const definitions = parsed.definitions;
  const definitionsId = text(definitions.id) || 'definitions';
  const processes = list(definitions.rootElements).filter((e) => e.$type === 'bpmn:Process');
  const summaries = processes.map((p) => ({
    id: text(p.id),
    name: text(p.name) || null,
    executable: p.isExecutable === true,
  }));
  const executable = processes.filter((p) => p.isExecutable === true);
  if (executable.length === 0) return { processes: summaries, errors: [] };

  const validator = new Validator(options, definitionsId);

  // Warnings are moddle saying it read the XML only in part; inside a documentation-only process they don't matter.
  const byId = indexById(definitions);
  for (const warning of parsed.warnings) {
    const element = warning.elementId ? byId.get(warning.elementId) : undefined;
    const process = element ? enclosingProcess(element) : undefined;
    if (process && process.isExecutable !== true) continue;
    validator.errors.push({
      elementId: warning.elementId || definitionsId,
      elementType: element?.$type ?? definitions.$type,
      message: `The XML could not be read cleanly: ${warning.message}. Ordo does not run a diagram it only partly understands.`,
    });
  }

  for (const process of executable) {
    const before = validator.errors.length;
    try {
      validator.validateProcess(process);
    } catch (err) {
      // A crash here is a bug in Ordo; refusing the deploy with a message beats a 500 or a half-checked deploy.
      validator.errors.splice(before);
      validator.errors.push({
        elementId: text(process.id) || definitionsId,
        elementType: process.$type,
        message: `Ordo could not check this process (an internal error, please report it): ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  return { processes: summaries, errors: validator.errors };
}

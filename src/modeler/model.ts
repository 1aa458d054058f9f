/**
 * Reading BPMN moddle elements the way Ordo's server does (src/engine/model/validate.ts), for the lint rules
 * and the properties panel. Pure: no DOM, no bpmn-js services, so the rules also run in Node.
 *
 * The input is whatever another tool wrote, so every read is defensive.
 */

export interface ModdleNode {
  $type: string;
  id?: string;
  name?: string;
  $parent?: ModdleNode;
  [key: string]: unknown;
}

export const GATEWAYS_WITH_CONDITIONS: ReadonlySet<string> = new Set(['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway']);
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const ON_ISSUES_VALUES = ['ticket', 'error', 'continue'] as const;
export const ORDER_STATUSES = ['received', 'in_progress', 'on_hold', 'awaiting_payment', 'released', 'completed', 'cancelled'] as const;

export function isNode(value: unknown): value is ModdleNode {
  return typeof value === 'object' && value !== null && typeof (value as { $type?: unknown }).$type === 'string';
}

export function nodeOf(value: unknown): ModdleNode | undefined {
  return isNode(value) ? value : undefined;
}

export function nodeList(value: unknown): ModdleNode[] {
  return Array.isArray(value) ? value.filter(isNode) : [];
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** The body of a bpmn:Expression / bpmn:FormalExpression, or undefined when there is none. */
export function expressionBody(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const expression = nodeOf(value);
  if (!expression) return undefined;
  return typeof expression.body === 'string' ? expression.body : '';
}

export function label(element: ModdleNode): string {
  const name = text(element.name);
  return name ? `"${name}"` : (element.id ?? element.$type);
}

export function enclosingProcess(element: ModdleNode): ModdleNode | undefined {
  for (let current: ModdleNode | undefined = element, depth = 0; current && depth < 1000; current = current.$parent, depth++) {
    if (current.$type === 'bpmn:Process') return current;
  }
  return undefined;
}

/** Ordo executes (and judges) only executable processes; the others deploy as documentation. */
export function inExecutableProcess(element: ModdleNode): boolean {
  return enclosingProcess(element)?.isExecutable === true;
}

/** An element listed in the flowElements of its parent (process or sub-process). */
export function isFlowElement(element: ModdleNode): boolean {
  const parent = element.$parent;
  return !!parent && nodeList(parent.flowElements).includes(element);
}

/** The sequence flows leaving a node, from its scope's flows (tools do not always write bpmn:outgoing). */
export function outgoingFlows(node: ModdleNode): ModdleNode[] {
  const scope = node.$parent;
  if (!scope) return [];
  return nodeList(scope.flowElements).filter((e) => e.$type === 'bpmn:SequenceFlow' && e.sourceRef === node);
}

export function ordoTickets(element: ModdleNode): ModdleNode[] {
  return nodeList(nodeOf(element.extensionElements)?.values).filter((v) => v.$type === 'ordo:Ticket');
}

export function ticketInstructions(ticket: ModdleNode | undefined): ModdleNode[] {
  return ticket ? nodeList(ticket.instructions) : [];
}

/** The issue codes, of those given, that no instructions of the ticket cover (none when a fallback exists). */
export function missingInstructionCodes(codes: readonly string[], instructions: readonly ModdleNode[]): string[] {
  if (instructions.some((i) => text(i.code) === '')) return [];
  const covered = new Set(instructions.map((i) => text(i.code)));
  return codes.filter((code) => !covered.has(code));
}

export function onIssuesOf(task: ModdleNode): string {
  return text(task.onIssues) || 'ticket';
}

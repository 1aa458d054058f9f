/// <reference lib="dom" />
import type { DiagramElement, ModdleElement } from 'bpmn-js/lib/BaseViewer';
import { is } from 'bpmn-js/lib/util/ModelUtil';

/**
 * Changes to the `ordo:` extension as bpmn-js commands: one undoable step per edit, creating
 * bpmn:extensionElements and ordo:ticket on first use.
 */

export interface BpmnFactory {
  create(type: string, attrs?: Record<string, unknown>): ModdleElement;
}

export interface Command {
  cmd: string;
  context: Record<string, unknown>;
}

export interface CommandStack {
  execute(command: string, context: unknown): void;
}

export interface Modeling {
  updateProperties(element: DiagramElement, properties: Record<string, unknown>): void;
  updateModdleProperties(element: DiagramElement, moddleElement: ModdleElement, properties: Record<string, unknown>): void;
}

export const MULTI_COMMAND = 'properties-panel.multi-command-executor';

function values(extensionElements: ModdleElement | undefined): ModdleElement[] {
  const list = extensionElements?.get('values');
  return Array.isArray(list) ? (list as ModdleElement[]) : [];
}

export function getTicket(element: DiagramElement): ModdleElement | undefined {
  const extensionElements = element.businessObject.get('extensionElements') as ModdleElement | undefined;
  return values(extensionElements).find((value) => is(value, 'ordo:Ticket'));
}

export function getInstructions(ticket: ModdleElement | undefined): ModdleElement[] {
  const list = ticket?.get('instructions');
  return Array.isArray(list) ? (list as ModdleElement[]) : [];
}

/** The ticket of the element, with the commands that create it (and extensionElements) when missing. */
export function ensureTicket(element: DiagramElement, bpmnFactory: BpmnFactory): { ticket: ModdleElement; commands: Command[] } {
  const commands: Command[] = [];
  const businessObject = element.businessObject;
  let extensionElements = businessObject.get('extensionElements') as ModdleElement | undefined;
  if (!extensionElements) {
    extensionElements = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    extensionElements.$parent = businessObject;
    commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: businessObject, properties: { extensionElements } } });
  }
  let ticket = values(extensionElements).find((value) => is(value, 'ordo:Ticket'));
  if (!ticket) {
    ticket = bpmnFactory.create('ordo:Ticket', {});
    ticket.$parent = extensionElements;
    commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element, moddleElement: extensionElements, properties: { values: [...values(extensionElements), ticket] } },
    });
  }
  return { ticket, commands };
}

export function setTicketProperty(element: DiagramElement, name: string, value: string | undefined, bpmnFactory: BpmnFactory, commandStack: CommandStack): void {
  const { ticket, commands } = ensureTicket(element, bpmnFactory);
  commands.push({ cmd: 'element.updateModdleProperties', context: { element, moddleElement: ticket, properties: { [name]: value } } });
  commandStack.execute(MULTI_COMMAND, commands);
}

export function addInstructions(element: DiagramElement, code: string | undefined, bpmnFactory: BpmnFactory, commandStack: CommandStack): void {
  const { ticket, commands } = ensureTicket(element, bpmnFactory);
  const instructions = bpmnFactory.create('ordo:Instructions', code ? { code } : {});
  instructions.$parent = ticket;
  commands.push({
    cmd: 'element.updateModdleProperties',
    context: { element, moddleElement: ticket, properties: { instructions: [...getInstructions(ticket), instructions] } },
  });
  commandStack.execute(MULTI_COMMAND, commands);
}

export function removeInstructions(element: DiagramElement, instructions: ModdleElement, modeling: Modeling): void {
  const ticket = instructions.$parent;
  if (!ticket) return;
  modeling.updateModdleProperties(element, ticket, { instructions: getInstructions(ticket).filter((i) => i !== instructions) });
}

/** Set, change or (with an empty text) remove the FEEL condition of a sequence flow. */
export function setCondition(element: DiagramElement, body: string | undefined, bpmnFactory: BpmnFactory, modeling: Modeling): void {
  const current = element.businessObject.get('conditionExpression') as ModdleElement | undefined;
  if (body === undefined || body.trim() === '') {
    if (current) modeling.updateProperties(element, { conditionExpression: undefined });
    return;
  }
  if (current) {
    modeling.updateModdleProperties(element, current, { body });
    return;
  }
  const expression = bpmnFactory.create('bpmn:FormalExpression', { body });
  expression.$parent = element.businessObject;
  modeling.updateProperties(element, { conditionExpression: expression });
}

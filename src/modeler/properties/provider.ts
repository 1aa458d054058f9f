/// <reference lib="dom" />
import type { DiagramElement, EventBus, ModdleElement } from 'bpmn-js/lib/BaseViewer';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { useService } from 'bpmn-js-properties-panel';
import {
  ListGroup,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { h, type VNode } from '@bpmn-io/properties-panel/preact';
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { checkFeelSyntax, isIsoDuration } from '../../engine/model/feel-syntax.ts';
import { analyzeScript, type FeelFunctionInfo } from '../feel-functions.ts';
import { GATEWAYS_WITH_CONDITIONS, ON_ISSUES_VALUES, ORDER_STATUSES, TICKET_PRIORITIES, missingInstructionCodes, type ModdleNode } from '../model.ts';
import {
  addInstructions,
  getInstructions,
  getTicket,
  removeInstructions,
  setCondition,
  setTicketProperty,
  type BpmnFactory,
  type CommandStack,
  type Modeling,
} from './commands.ts';
import { FEEL_FUNCTIONS_LOADED, OrdoFeelFunctions, OrdoFeelFunctionsModule } from './feel-functions-service.ts';

/**
 * The properties panel for the `ordo:` extension (src/engine/model/ordo.json): scripts, tickets and their
 * instructions, jobs, order status, multi-instance and conditions. Groups are added after bpmn-js-properties-panel's
 * own "General" group; entry ids start with `ordo-` (tests and docs/modeler.md rely on them).
 */

interface EntryProps {
  element: DiagramElement;
  id: string;
}

type Debounce = <T extends (...args: never[]) => unknown>(fn: T) => T;

interface Entry {
  id: string;
  component: (props: EntryProps) => VNode | null;
  isEdited?: (node: unknown) => boolean;
  [key: string]: unknown;
}

interface Group {
  id: string;
  label: string;
  entries?: Entry[];
  component?: unknown;
  items?: unknown[];
  add?: (event: Event) => void;
  shouldOpen?: boolean;
}

const LOW_PRIORITY = 500;

function bo(element: DiagramElement): ModdleElement {
  return element.businessObject;
}

function stringValue(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The FEEL function library, loaded on first use; re-renders the entry once loading ends, either way. */
function useFeelFunctions(): FeelFunctionInfo[] | null {
  const service = useService<OrdoFeelFunctions>('ordoFeelFunctions');
  const eventBus = useService<EventBus>('eventBus');
  const [snapshot, setSnapshot] = useState<{ functions: FeelFunctionInfo[] | null; state: string }>({ functions: service.current(), state: service.state });
  useEffect(() => {
    let live = true;
    const refresh = () => {
      if (live) setSnapshot({ functions: service.current(), state: service.state });
    };
    eventBus.on(FEEL_FUNCTIONS_LOADED, refresh);
    void service.load().then(refresh);
    return () => {
      live = false;
      eventBus.off(FEEL_FUNCTIONS_LOADED, refresh);
    };
  }, [service]);
  return snapshot.functions;
}

function feelValidator(functions: FeelFunctionInfo[] | null, { required }: { required: boolean }) {
  const names = (functions ?? []).map((f) => f.name);
  return (value: string | undefined): string | null => {
    if (value === undefined || value.trim() === '') return required ? 'Write a FEEL expression.' : null;
    return checkFeelSyntax(value, 'expression', names)?.message ?? null;
  };
}

function validateDuration(value: string | undefined): string | null {
  if (!value || value.trim() === '') return null;
  return isIsoDuration(value) ? null : 'Not an ISO 8601 duration: e.g. PT4H (4 hours), P1D (1 day), PT10S (10 seconds).';
}

function options(values: readonly string[], labels: Record<string, string> = {}, current?: string) {
  const list = values.map((value) => ({ value, label: labels[value] ?? value }));
  if (current && !values.includes(current)) list.push({ value: current, label: `${current} (unknown)` });
  return list;
}

// --- script task ---

function ScriptEntry({ element, id }: EntryProps): VNode {
  const modeling = useService<Modeling>('modeling');
  const debounce = useService<Debounce>('debounceInput');
  const functions = useFeelFunctions();
  return h(TextAreaEntry, {
    element,
    id,
    label: 'FEEL script',
    description: 'Returns a list of issues, e.g. validate address(order). A non-empty list fails the step.',
    monospace: true,
    rows: 3,
    debounce,
    getValue: () => stringValue(bo(element).get('script')),
    setValue: (value: string | undefined) => modeling.updateProperties(element, { scriptFormat: 'feel', script: value ?? '' }),
    validate: feelValidator(functions, { required: true }),
  });
}

function ResultVariableEntry({ element, id }: EntryProps): VNode {
  const modeling = useService<Modeling>('modeling');
  const debounce = useService<Debounce>('debounceInput');
  return h(TextFieldEntry, {
    element,
    id,
    label: 'Result variable',
    description: 'Stores the issues under this name, e.g. addressIssues.',
    debounce,
    getValue: () => stringValue(bo(element).get('ordo:resultVariable')),
    setValue: (value: string | undefined) => modeling.updateProperties(element, { 'ordo:resultVariable': value || undefined }),
  });
}

const ON_ISSUES_LABELS: Record<string, string> = {
  ticket: 'Open a ticket (the order waits here)',
  error: "Throw a BPMN error with the first issue's code",
  continue: 'Only store the issues and go on',
};

function OnIssuesEntry({ element, id }: EntryProps): VNode {
  const modeling = useService<Modeling>('modeling');
  return h(SelectEntry, {
    element,
    id,
    label: 'On issues',
    getValue: () => stringValue(bo(element).get('ordo:onIssues')) || 'ticket',
    setValue: (value: string) => modeling.updateProperties(element, { 'ordo:onIssues': value === 'ticket' ? undefined : value }),
    getOptions: () => options(ON_ISSUES_VALUES, ON_ISSUES_LABELS, stringValue(bo(element).get('ordo:onIssues'))),
  });
}

// --- ticket ---

function TicketTextEntry(name: 'title' | 'queue', label: string, description: string) {
  return function TicketText({ element, id }: EntryProps): VNode {
    const bpmnFactory = useService<BpmnFactory>('bpmnFactory');
    const commandStack = useService<CommandStack>('commandStack');
    const debounce = useService<Debounce>('debounceInput');
    return h(TextFieldEntry, {
      element,
      id,
      label,
      description,
      debounce,
      getValue: () => stringValue(getTicket(element)?.get(name)),
      setValue: (value: string | undefined) => setTicketProperty(element, name, value || undefined, bpmnFactory, commandStack),
    });
  };
}

const TicketTitleEntry = TicketTextEntry('title', 'Ticket title', 'What the operator sees in the queue, e.g. Delivery data incomplete.');
const TicketQueueEntry = TicketTextEntry('queue', 'Queue', 'Which queue the ticket lands in, e.g. address, payment, invoice.');

function TicketPriorityEntry({ element, id }: EntryProps): VNode {
  const bpmnFactory = useService<BpmnFactory>('bpmnFactory');
  const commandStack = useService<CommandStack>('commandStack');
  return h(SelectEntry, {
    element,
    id,
    label: 'Priority',
    getValue: () => stringValue(getTicket(element)?.get('priority')),
    setValue: (value: string) => setTicketProperty(element, 'priority', value || undefined, bpmnFactory, commandStack),
    getOptions: () => [{ value: '', label: '(normal)' }, ...options(TICKET_PRIORITIES, {}, stringValue(getTicket(element)?.get('priority')))],
  });
}

function TicketDueEntry({ element, id }: EntryProps): VNode {
  const bpmnFactory = useService<BpmnFactory>('bpmnFactory');
  const commandStack = useService<CommandStack>('commandStack');
  const debounce = useService<Debounce>('debounceInput');
  return h(TextFieldEntry, {
    element,
    id,
    label: 'Due',
    description: 'How long the operator has, as an ISO 8601 duration: PT4H is 4 hours.',
    debounce,
    getValue: () => stringValue(getTicket(element)?.get('due')),
    setValue: (value: string | undefined) => setTicketProperty(element, 'due', value || undefined, bpmnFactory, commandStack),
    validate: validateDuration,
  });
}

/** The codes the script can raise, which have instructions, and a button to add the missing ones. */
function RaisedCodesEntry({ element, id }: EntryProps): VNode {
  const bpmnFactory = useService<BpmnFactory>('bpmnFactory');
  const commandStack = useService<CommandStack>('commandStack');
  const service = useService<OrdoFeelFunctions>('ordoFeelFunctions');
  const functions = useFeelFunctions();
  const wrap = (...children: unknown[]) => h('div', { class: 'bio-properties-panel-entry ordo-codes', 'data-entry-id': id }, ...children);
  if (functions === null) {
    const note = service.state === 'unavailable'
      ? 'The list of issue codes the script can raise is not available: write instructions per code, or fallback instructions.'
      : 'Loading the issue codes this script can raise…';
    return wrap(h('p', { class: 'ordo-codes-note' }, note));
  }
  const script = stringValue(bo(element).get('script'));
  const { calls, codes } = analyzeScript(script, functions);
  if (codes.length === 0) {
    return wrap(h('p', { class: 'ordo-codes-note' }, calls.length > 0 ? `The functions this script calls (${calls.join(', ')}) raise no known codes.` : 'The script calls no function of the library that raises issue codes.'));
  }
  const instructions = getInstructions(getTicket(element)) as unknown as ModdleNode[];
  const missing = new Set(missingInstructionCodes(codes, instructions));
  const own = new Set(instructions.map((i) => stringValue(i.code).trim()).filter((code) => code !== ''));
  const add = (code: string) =>
    h('button', { type: 'button', class: 'ordo-code-add', title: `Add instructions for ${code}`, onClick: () => addInstructions(element, code, bpmnFactory, commandStack) }, `+ ${code}`);
  return wrap(
    h(
      'p',
      { class: 'ordo-codes-note' },
      missing.size > 0
        ? 'Issue codes this script can raise. Codes in red have no instructions yet: click one to add them.'
        : own.size < codes.length
          ? 'Issue codes this script can raise. Codes marked ✓ have their own instructions; the others get the fallback (click to add their own).'
          : 'Issue codes this script can raise; each has its own instructions.',
    ),
    h(
      'ul',
      { class: 'ordo-codes-list' },
      ...codes.map((code) =>
        own.has(code)
          ? h('li', { class: 'ordo-code ordo-code-covered', 'data-code': code, title: 'Has its own instructions' }, `✓ ${code}`)
          : h('li', { class: `ordo-code ${missing.has(code) ? 'ordo-code-missing' : 'ordo-code-fallback'}`, 'data-code': code }, add(code)),
      ),
    ),
  );
}

function InstructionsCodeEntry({ element, id, instructions }: EntryProps & { instructions: ModdleElement }): VNode {
  const modeling = useService<Modeling>('modeling');
  const debounce = useService<Debounce>('debounceInput');
  return h(TextFieldEntry, {
    element,
    id,
    label: 'Issue code',
    description: 'Empty: the fallback, for every code without its own instructions.',
    debounce,
    getValue: () => stringValue(instructions.get('code')),
    setValue: (value: string | undefined) => modeling.updateModdleProperties(element, instructions, { code: value?.trim() || undefined }),
  });
}

function InstructionsTextEntry({ element, id, instructions }: EntryProps & { instructions: ModdleElement }): VNode {
  const modeling = useService<Modeling>('modeling');
  const debounce = useService<Debounce>('debounceInput');
  return h(TextAreaEntry, {
    element,
    id,
    label: 'Steps for the operator',
    description: 'One step per line. Placeholders such as {{order.customer.name}} are filled from the order.',
    rows: 5,
    debounce,
    getValue: () => stringValue(instructions.get('text')),
    setValue: (value: string | undefined) => modeling.updateModdleProperties(element, instructions, { text: value ?? '' }),
  });
}

function instructionsGroup(element: DiagramElement, injector: Injector): Group {
  const bpmnFactory = injector.get<BpmnFactory>('bpmnFactory');
  const commandStack = injector.get<CommandStack>('commandStack');
  const modeling = injector.get<Modeling>('modeling');
  const items = getInstructions(getTicket(element)).map((instructions, index) => {
    const id = `ordo-instructions-${index}`;
    const code = stringValue(instructions.get('code')).trim();
    return {
      id,
      label: code || 'Fallback (any other issue)',
      entries: [
        { id: `${id}-code`, component: InstructionsCodeEntry, instructions, isEdited: isTextFieldEntryEdited },
        { id: `${id}-text`, component: InstructionsTextEntry, instructions, isEdited: isTextAreaEntryEdited },
      ],
      autoFocusEntry: `${id}-text`,
      remove: (event: Event) => {
        event.stopPropagation();
        removeInstructions(element, instructions, modeling);
      },
    };
  });
  return {
    id: 'ordo-instructions',
    label: 'Ticket instructions',
    component: ListGroup,
    items,
    add: (event: Event) => {
      event.stopPropagation();
      addInstructions(element, undefined, bpmnFactory, commandStack);
    },
  };
}

// --- service task ---

function JobTextEntry(name: 'ordo:job' | 'ordo:retries' | 'ordo:backoff', label: string, description: string, validate?: (value: string | undefined) => string | null) {
  return function JobText({ element, id }: EntryProps): VNode {
    const modeling = useService<Modeling>('modeling');
    const debounce = useService<Debounce>('debounceInput');
    return h(TextFieldEntry, {
      element,
      id,
      label,
      description,
      debounce,
      getValue: () => stringValue(bo(element).get(name)),
      setValue: (value: string | undefined) => modeling.updateProperties(element, { [name]: value?.trim() || undefined }),
      validate,
    });
  };
}

const JobEntry = JobTextEntry('ordo:job', 'Job', 'The worker job that performs this step, e.g. reserve-stock.', (value) => (value && value.trim() ? null : 'A service task needs a job name.'));
const RetriesEntry = JobTextEntry('ordo:retries', 'Retries', 'How often a failed job is tried again before it becomes a technical ticket.', (value) =>
  !value || /^\d+$/.test(value.trim()) ? null : 'A whole number, 0 or more.',
);
const BackoffEntry = JobTextEntry('ordo:backoff', 'Backoff', 'Wait before the first retry, as an ISO 8601 duration (PT10S); it grows with each retry.', validateDuration);

// --- every flow node ---

const STATUS_LABELS: Record<string, string> = {
  received: 'received',
  in_progress: 'in progress',
  on_hold: 'on hold',
  awaiting_payment: 'awaiting payment',
  released: 'released',
  completed: 'completed',
  cancelled: 'cancelled',
};

function OrderStatusEntry({ element, id }: EntryProps): VNode {
  const modeling = useService<Modeling>('modeling');
  const current = stringValue(bo(element).get('ordo:status'));
  return h(SelectEntry, {
    element,
    id,
    label: 'Order status while waiting here',
    getValue: () => stringValue(bo(element).get('ordo:status')),
    setValue: (value: string) => modeling.updateProperties(element, { 'ordo:status': value || undefined }),
    getOptions: () => [{ value: '', label: '(unchanged)' }, ...options(ORDER_STATUSES, STATUS_LABELS, current)],
  });
}

// --- multi-instance ---

function loopOf(element: DiagramElement): ModdleElement | undefined {
  const loop = bo(element).get('loopCharacteristics') as ModdleElement | undefined;
  return loop && is(loop, 'bpmn:MultiInstanceLoopCharacteristics') ? loop : undefined;
}

function LoopEntry(name: 'ordo:collection' | 'ordo:elementVariable' | 'ordo:outputCollection' | 'ordo:outputElement', label: string, description: string, feel: 'required' | 'optional' | null) {
  return function LoopText({ element, id }: EntryProps): VNode | null {
    const modeling = useService<Modeling>('modeling');
    const debounce = useService<Debounce>('debounceInput');
    const functions = useFeelFunctions();
    const loop = loopOf(element);
    if (!loop) return null;
    return h(TextFieldEntry, {
      element,
      id,
      label,
      description,
      debounce,
      getValue: () => stringValue(loop.get(name)),
      setValue: (value: string | undefined) => modeling.updateModdleProperties(element, loop, { [name]: value?.trim() || undefined }),
      validate: feel ? feelValidator(functions, { required: feel === 'required' }) : undefined,
    });
  };
}

const CollectionEntry = LoopEntry('ordo:collection', 'Collection (FEEL)', 'The list to run over, e.g. order.lines.', 'required');
const ElementVariableEntry = LoopEntry('ordo:elementVariable', 'Element variable', 'Each item is available under this name, e.g. line.', null);
const OutputCollectionEntry = LoopEntry('ordo:outputCollection', 'Output collection', 'Collects the results under this name.', null);
const OutputElementEntry = LoopEntry('ordo:outputElement', 'Output element (FEEL)', 'What each instance contributes to the output collection.', 'optional');

// --- sequence flow ---

function ConditionEntry({ element, id }: EntryProps): VNode {
  const modeling = useService<Modeling>('modeling');
  const bpmnFactory = useService<BpmnFactory>('bpmnFactory');
  const debounce = useService<Debounce>('debounceInput');
  const functions = useFeelFunctions();
  const source = bo(element).get('sourceRef') as ModdleElement | undefined;
  const isDefault = !!source && source.get('default') === bo(element);
  return h(TextAreaEntry, {
    element,
    id,
    label: 'Condition (FEEL)',
    description: isDefault
      ? 'This is the default flow: it is taken when no other condition holds, so it has no condition.'
      : 'Taken when true, e.g. order.payment.method = "cod". Without a condition, make it the default flow.',
    monospace: true,
    rows: 2,
    debounce,
    getValue: () => stringValue((bo(element).get('conditionExpression') as ModdleElement | undefined)?.get('body')),
    setValue: (value: string | undefined) => setCondition(element, value, bpmnFactory, modeling),
    validate: feelValidator(functions, { required: false }),
  });
}

// --- the provider ---

interface Injector {
  get<T>(name: string): T;
}

interface PropertiesPanel {
  registerProvider(priority: number, provider: { getGroups(element: DiagramElement): (groups: Group[]) => Group[] }): void;
}

function ordoGroups(element: DiagramElement, injector: Injector): Group[] {
  const groups: Group[] = [];
  const businessObject = bo(element);
  const entry = (id: string, component: Entry['component'], isEdited?: Entry['isEdited']): Entry => ({ id, component, isEdited });

  if (is(businessObject, 'bpmn:ScriptTask')) {
    groups.push({
      id: 'ordo-script',
      label: 'Script',
      entries: [
        entry('ordo-script', ScriptEntry, isTextAreaEntryEdited),
        entry('ordo-resultVariable', ResultVariableEntry, isTextFieldEntryEdited),
        entry('ordo-onIssues', OnIssuesEntry, isSelectEntryEdited),
      ],
    });
  }
  const onIssues = stringValue(businessObject.get('ordo:onIssues')) || 'ticket';
  const opensTickets = (is(businessObject, 'bpmn:ScriptTask') && onIssues === 'ticket') || is(businessObject, 'bpmn:UserTask') || !!getTicket(element);
  if (opensTickets) {
    const entries = [
      entry('ordo-ticket-title', TicketTitleEntry, isTextFieldEntryEdited),
      entry('ordo-ticket-queue', TicketQueueEntry, isTextFieldEntryEdited),
      entry('ordo-ticket-priority', TicketPriorityEntry, isSelectEntryEdited),
      entry('ordo-ticket-due', TicketDueEntry, isTextFieldEntryEdited),
    ];
    if (is(businessObject, 'bpmn:ScriptTask')) entries.push(entry('ordo-ticket-codes', RaisedCodesEntry));
    groups.push({ id: 'ordo-ticket', label: 'Ticket', entries });
    groups.push(instructionsGroup(element, injector));
  }
  if (is(businessObject, 'bpmn:ServiceTask')) {
    groups.push({
      id: 'ordo-job',
      label: 'Job',
      entries: [
        entry('ordo-job', JobEntry, isTextFieldEntryEdited),
        entry('ordo-retries', RetriesEntry, isTextFieldEntryEdited),
        entry('ordo-backoff', BackoffEntry, isTextFieldEntryEdited),
      ],
    });
  }
  if (loopOf(element)) {
    groups.push({
      id: 'ordo-multi-instance',
      label: 'Multi-instance',
      entries: [
        entry('ordo-collection', CollectionEntry, isTextFieldEntryEdited),
        entry('ordo-elementVariable', ElementVariableEntry, isTextFieldEntryEdited),
        entry('ordo-outputCollection', OutputCollectionEntry, isTextFieldEntryEdited),
        entry('ordo-outputElement', OutputElementEntry, isTextFieldEntryEdited),
      ],
    });
  }
  if (is(businessObject, 'bpmn:SequenceFlow')) {
    const source = businessObject.get('sourceRef') as ModdleElement | undefined;
    if ((source && GATEWAYS_WITH_CONDITIONS.has(source.$type)) || businessObject.get('conditionExpression')) {
      groups.push({ id: 'ordo-condition', label: 'Condition', entries: [entry('ordo-condition', ConditionEntry, isTextAreaEntryEdited)] });
    }
  }
  if (is(businessObject, 'bpmn:FlowNode')) {
    groups.push({ id: 'ordo-order', label: 'Order', entries: [entry('ordo-status', OrderStatusEntry, isSelectEntryEdited)] });
  }
  return groups;
}

export class OrdoPropertiesProvider {
  static $inject = ['propertiesPanel', 'injector'];

  constructor(
    propertiesPanel: PropertiesPanel,
    private readonly injector: Injector,
  ) {
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element: DiagramElement): (groups: Group[]) => Group[] {
    return (groups) => {
      const ordo = ordoGroups(element, this.injector);
      const general = groups.findIndex((g) => g.id === 'general');
      const at = general === -1 ? 0 : general + 1;
      return [...groups.slice(0, at), ...ordo, ...groups.slice(at)];
    };
  }
}

/** Needs bpmn-js-properties-panel's modules; brings the FEEL function library along. */
export const OrdoPropertiesProviderModule = {
  __depends__: [OrdoFeelFunctionsModule],
  __init__: ['ordoPropertiesProvider'],
  ordoPropertiesProvider: ['type', OrdoPropertiesProvider],
};

import { describe, expect, it } from 'vitest';
import type { ModdleElement } from '../../../../src/engine/model/parse.ts';
import {
  EXECUTABLE_ELEMENT_TYPES,
  IGNORED_ELEMENT_TYPES,
  PASS_THROUGH_TASK_TYPES,
  SUPPORTED_EVENT_KINDS,
  eventKind,
  unsupportedReason,
} from '../../../../src/engine/model/supported.ts';

function el(type: string, props: Record<string, unknown> = {}): ModdleElement {
  return { $type: type, id: 'X', ...props };
}

const definition = (type: string) => el(`bpmn:${type}EventDefinition`);

describe('the list of what Ordo executes', () => {
  it('covers SPEC §5: tasks, gateways, sub-processes, call activities', () => {
    for (const type of ['ScriptTask', 'ServiceTask', 'UserTask', 'ReceiveTask', 'ManualTask', 'Task', 'SubProcess', 'CallActivity', 'ExclusiveGateway', 'ParallelGateway', 'InclusiveGateway', 'EventBasedGateway', 'SequenceFlow']) {
      expect(EXECUTABLE_ELEMENT_TYPES.has(`bpmn:${type}`)).toBe(true);
      expect(unsupportedReason(el(`bpmn:${type}`))).toBeNull();
    }
    expect([...PASS_THROUGH_TASK_TYPES]).toEqual(['bpmn:Task']);
  });

  it('lists the event kinds per event type', () => {
    expect(SUPPORTED_EVENT_KINDS).toEqual({
      'bpmn:StartEvent': ['none', 'message', 'timer'],
      'bpmn:EndEvent': ['none', 'error', 'terminate'],
      'bpmn:IntermediateCatchEvent': ['message', 'timer'],
      'bpmn:BoundaryEvent': ['timer', 'error'],
    });
  });

  it('ignores what is not flow', () => {
    for (const type of ['TextAnnotation', 'Association', 'DataObject', 'DataObjectReference', 'DataStoreReference', 'Group']) {
      expect(IGNORED_ELEMENT_TYPES.has(`bpmn:${type}`)).toBe(true);
      expect(unsupportedReason(el(`bpmn:${type}`))).toBeNull();
    }
  });
});

describe('eventKind', () => {
  it('reads the kind from the definition, none without one, multiple with several', () => {
    expect(eventKind(el('bpmn:StartEvent'))).toBe('none');
    expect(eventKind(el('bpmn:StartEvent', { eventDefinitions: [definition('Timer')] }))).toBe('timer');
    expect(eventKind(el('bpmn:StartEvent', { eventDefinitions: [definition('Timer'), definition('Message')] }))).toBe('multiple');
  });
});

describe('unsupportedReason', () => {
  it.each([
    [el('bpmn:SendTask'), 'Send tasks are not supported'],
    [el('bpmn:SubProcess', { triggeredByEvent: true }), 'Event sub-processes are not supported'],
    [el('bpmn:UserTask', { loopCharacteristics: el('bpmn:StandardLoopCharacteristics') }), 'Loops (standard loop characteristics)'],
    [el('bpmn:ServiceTask', { isForCompensation: true }), 'Compensation handlers'],
    [el('bpmn:StartEvent', { eventDefinitions: [definition('Signal')] }), 'Signal start events are not supported'],
    [el('bpmn:EndEvent', { eventDefinitions: [definition('Message')] }), 'Message end events are not supported'],
    [el('bpmn:IntermediateCatchEvent'), 'None intermediate catch events are not supported'],
    [el('bpmn:BoundaryEvent', { eventDefinitions: [definition('Escalation')] }), 'Escalation boundary events are not supported'],
    [el('bpmn:BoundaryEvent', { eventDefinitions: [definition('Error')], cancelActivity: false }), 'Non-interrupting error boundary events'],
    [el('bpmn:EventBasedGateway', { instantiate: true }), 'Event-based gateways that start a process'],
    [el('vendor:Thing'), 'vendor:Thing is not supported'],
  ])('given %o, then it is refused with a reason', (element, fragment) => {
    expect(unsupportedReason(element)).toContain(fragment);
  });

  it('runs timer boundary events, interrupting or not, and multi-instance activities', () => {
    const timer = [definition('Timer')];
    expect(unsupportedReason(el('bpmn:BoundaryEvent', { eventDefinitions: timer, cancelActivity: false }))).toBeNull();
    expect(unsupportedReason(el('bpmn:BoundaryEvent', { eventDefinitions: timer }))).toBeNull();
    expect(unsupportedReason(el('bpmn:CallActivity', { loopCharacteristics: el('bpmn:MultiInstanceLoopCharacteristics') }))).toBeNull();
  });
});

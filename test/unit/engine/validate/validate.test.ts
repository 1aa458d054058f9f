import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { parseBpmn } from '../../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../../src/engine/model/validate.ts';
import type { DeployError, ValidateOptions } from '../../../../src/engine/model/validate.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Handlebars' own compiler, as the tickets module would hand it to the validator. */
function validateTemplate(text: string): string | null {
  try {
    Handlebars.precompile(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const OPTIONS: ValidateOptions = {
  knownJobs: ['reserve-stock', 'release-stock', 'sweep-stale-orders'],
  feelFunctions: [
    { name: 'validate address', raises: ['PHONE_MISSING', 'ZIP_INVALID', 'STREET_MISSING'] },
    { name: 'check-vat', raises: ['VAT_INVALID'] },
    { name: 'order total', raises: [] },
  ],
  validateTemplate,
};

async function validateFixture(name: string, options: ValidateOptions = OPTIONS) {
  const parsed = await parseBpmn(await readFile(path.join(FIXTURES, `${name}.bpmn`)));
  return validateDefinitions(parsed, options);
}

async function validateXml(xml: string, options: ValidateOptions = OPTIONS) {
  return validateDefinitions(await parseBpmn(xml), options);
}

function refusal(elementId: string, elementType: string, fragment: string) {
  return { elementId, elementType, message: expect.stringContaining(fragment) as unknown as string };
}

function process(body: string, roots = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ordo="urn:ordo:bpmn:1" id="Definitions_inline" targetNamespace="urn:ordo:test">
${roots}<bpmn:process id="Process_inline" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`;
}

describe('validateDefinitions: refusals, one fixture per reason', () => {
  const cases: Array<[fixture: string, expected: DeployError[]]> = [
    // Elements Ordo does not execute.
    ['refuse-send-task', [refusal('Task_1', 'bpmn:SendTask', 'Send tasks are not supported: Ordo cannot execute this element. Use a service task with ordo:job.')]],
    ['refuse-business-rule-task', [refusal('Task_1', 'bpmn:BusinessRuleTask', 'Business rule tasks are not supported')]],
    ['refuse-complex-gateway', [refusal('Task_1', 'bpmn:ComplexGateway', 'Complex gateways are not supported')]],
    ['refuse-intermediate-throw-event', [refusal('Task_1', 'bpmn:IntermediateThrowEvent', 'Intermediate throw events are not supported')]],
    ['refuse-signal-catch-event', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'Signal intermediate catch events are not supported')]],
    ['refuse-link-catch-event', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'Link intermediate catch events are not supported')]],
    ['refuse-conditional-start-event', [refusal('Start', 'bpmn:StartEvent', 'Conditional start events are not supported')]],
    ['refuse-escalation-end-event', [refusal('End', 'bpmn:EndEvent', 'Escalation end events are not supported')]],
    ['refuse-message-end-event', [refusal('End', 'bpmn:EndEvent', 'Message end events are not supported')]],
    ['refuse-message-boundary-event', [refusal('Boundary_1', 'bpmn:BoundaryEvent', 'Message boundary events are not supported')]],
    ['refuse-non-interrupting-error-boundary', [refusal('Boundary_1', 'bpmn:BoundaryEvent', 'Non-interrupting error boundary events are not supported')]],
    [
      'refuse-compensation',
      [
        refusal('Boundary_1', 'bpmn:BoundaryEvent', 'Compensation boundary events are not supported'),
        refusal('Undo_1', 'bpmn:ServiceTask', 'Compensation handlers are not supported'),
      ],
    ],
    // What is inside a refused container is not judged again (the send task inside is not reported).
    ['refuse-transaction', [refusal('Task_1', 'bpmn:Transaction', 'Transactions are not supported')]],
    ['refuse-ad-hoc-sub-process', [refusal('Task_1', 'bpmn:AdHocSubProcess', 'Ad-hoc sub-processes are not supported')]],
    ['refuse-event-sub-process', [refusal('EventSub_1', 'bpmn:SubProcess', 'Event sub-processes are not supported')]],
    ['refuse-standard-loop', [refusal('Task_1', 'bpmn:UserTask', 'Loops (standard loop characteristics) are not supported')]],

    // FEEL that does not parse, wherever it is.
    ['feel-condition-syntax', [refusal('Flow_Cod', 'bpmn:SequenceFlow', 'FEEL syntax error: the expression ends too early (at position 23)')]],
    ['feel-condition-leading-equals', [refusal('Flow_Cod', 'bpmn:SequenceFlow', 'without a leading "="')]],
    ['feel-condition-other-language', [refusal('Flow_Cod', 'bpmn:SequenceFlow', 'written in "javascript"; Ordo evaluates FEEL only')]],
    ['feel-script-syntax', [refusal('Task_1', 'bpmn:ScriptTask', 'The script: FEEL syntax error')]],
    ['feel-multi-instance-collection', [refusal('Task_1', 'bpmn:ServiceTask', 'ordo:collection: FEEL syntax error')]],
    ['feel-completion-condition', [refusal('Task_1', 'bpmn:UserTask', 'The completion condition: FEEL syntax error')]],
    ['multi-instance-without-collection', [refusal('Task_1', 'bpmn:UserTask', 'Multi-instance needs ordo:collection')]],

    // Timers.
    ['timer-bad-duration', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'timeDuration: "10 minutes" is not an ISO 8601 duration')]],
    ['timer-bad-date', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'timeDate: "2026-12-01 10:00" is not an ISO 8601 date-time')]],
    ['timer-bad-cycle', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'is not an ISO 8601 repeating interval')]],
    ['timer-bad-feel', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'In the timer expression: FEEL syntax error')]],
    ['timer-without-definition', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'This timer has no definition')]],

    // Script tasks and their tickets.
    ['script-format-javascript', [refusal('Task_1', 'bpmn:ScriptTask', 'Script format "javascript" is not supported')]],
    ['script-missing', [refusal('Task_1', 'bpmn:ScriptTask', 'This script task has no script')]],
    ['script-on-issues-unknown', [refusal('Task_1', 'bpmn:ScriptTask', 'ordo:onIssues="ignore" is not one of')]],
    ['missing-instructions', [refusal('Task_1', 'bpmn:ScriptTask', 'Missing instructions for ZIP_INVALID, STREET_MISSING')]],
    ['missing-ticket', [refusal('Task_1', 'bpmn:ScriptTask', 'can raise issues (PHONE_MISSING, ZIP_INVALID, STREET_MISSING) and would open a ticket, but has no ordo:ticket')]],
    [
      'ticket-bad-template',
      [
        refusal('Task_1', 'bpmn:UserTask', 'The ticket title cannot be compiled as a template: Parse error'),
        refusal('Task_1', 'bpmn:UserTask', 'The fallback instructions cannot be compiled as a template'),
      ],
    ],
    ['ticket-bad-priority', [refusal('Task_1', 'bpmn:UserTask', 'Ticket priority "asap" is not one of "low", "normal", "high", "urgent"')]],
    ['ticket-bad-due', [refusal('Task_1', 'bpmn:UserTask', 'Ticket due="4 hours" is not an ISO 8601 duration')]],

    // Gateways and conditions.
    ['gateway-branch-without-condition', [refusal('Flow_Other', 'bpmn:SequenceFlow', 'without a condition and is not its default flow')]],
    ['parallel-gateway-condition', [refusal('Flow_A', 'bpmn:SequenceFlow', 'Conditions on flows out of a parallel gateway are not allowed')]],
    ['conditional-flow-from-task', [refusal('Flow_2', 'bpmn:SequenceFlow', 'Conditional flows out of bpmn:UserTask are not supported')]],
    ['event-gateway-to-task', [refusal('Flow_Call', 'bpmn:SequenceFlow', 'An event-based gateway must lead to message or timer catch events or receive tasks')]],

    // Structure: starts, ends, reachability, flows.
    ['no-start-event', [refusal('Process_1', 'bpmn:Process', 'has no start event')]],
    ['no-end-event', [refusal('Process_1', 'bpmn:Process', 'has no end event')]],
    ['two-none-start-events', [refusal('Process_1', 'bpmn:Process', 'has 2 none start events (Start_A, Start_B)')]],
    ['dead-end', [refusal('Stuck', 'bpmn:UserTask', '"Approve" (Stuck) cannot reach an end event')]],
    [
      'infinite-loop',
      [refusal('Ping', 'bpmn:UserTask', 'cannot reach an end event'), refusal('Pong', 'bpmn:UserTask', 'cannot reach an end event')],
    ],
    ['unreachable', [refusal('Orphan', 'bpmn:UserTask', 'cannot be reached from a start event')]],
    ['empty-sub-process', [refusal('Task_1', 'bpmn:SubProcess', 'The sub-process "Repair" (Task_1) is empty')]],
    ['sub-process-message-start', [refusal('Inner_Start', 'bpmn:StartEvent', 'A sub-process starts with a none start event')]],
    [
      'flow-missing-target',
      [
        refusal('Flow_Broken', 'bpmn:SequenceFlow', 'unresolved reference <Nowhere>'),
        refusal('Flow_Broken', 'bpmn:SequenceFlow', 'This sequence flow has no target'),
      ],
    ],
    ['flow-crosses-sub-process', [refusal('Flow_Out', 'bpmn:SequenceFlow', 'sequence flows cannot cross a sub-process boundary')]],

    // Service tasks.
    ['service-task-without-job', [refusal('Task_1', 'bpmn:ServiceTask', 'A service task needs ordo:job')]],
    ['service-task-unknown-job', [refusal('Task_1', 'bpmn:ServiceTask', 'Unknown job "reserve-stok": no worker handles it. Known jobs: release-stock, reserve-stock')]],
    ['service-task-bad-retries', [refusal('Task_1', 'bpmn:ServiceTask', 'ordo:retries="-1" must be a whole number')]],
    ['service-task-bad-backoff', [refusal('Task_1', 'bpmn:ServiceTask', 'ordo:backoff="10s" is not an ISO 8601 duration')]],

    // Messages, errors, call activities.
    ['receive-task-without-message', [refusal('Task_1', 'bpmn:ReceiveTask', 'This receive task names no message (messageRef)')]],
    ['message-catch-without-message', [refusal('Task_1', 'bpmn:IntermediateCatchEvent', 'names no message (messageRef)')]],
    ['message-without-name', [refusal('Start', 'bpmn:StartEvent', 'The message Message_1 of this message start event has no name')]],
    ['error-without-code', [refusal('Boundary_1', 'bpmn:BoundaryEvent', 'The error Error_1 caught here has no errorCode')]],
    ['error-end-without-error', [refusal('End', 'bpmn:EndEvent', 'This error end event names no error')]],
    ['call-activity-without-called-element', [refusal('Task_1', 'bpmn:CallActivity', 'A call activity needs calledElement')]],

    // What moddle could not read: each warning is a refusal.
    ['unknown-ordo-attribute', [refusal('Task_1', 'bpmn:ServiceTask', 'unknown attribute <ordo:retry>')]],
    ['unresolved-default-flow', [refusal('Gateway_1', 'bpmn:ExclusiveGateway', 'unresolved reference <Flow_Gone>')]],
    ['duplicate-id', [refusal('Definitions_duplicate_id', 'bpmn:Definitions', 'unparsable content <bpmn:task>')]],
  ];

  it.each(cases)('given %s.bpmn, when validated, then exactly the expected refusals', async (fixture, expected) => {
    const result = await validateFixture(fixture);
    expect(result.errors).toEqual(expected);
  });
});

describe('validateDefinitions: what deploys', () => {
  it('given a lifecycle using every supported element, then there is no error', async () => {
    const result = await validateFixture('valid-order-lifecycle');
    expect(result.errors).toEqual([]);
    expect(result.processes).toEqual([
      { id: 'order-lifecycle', name: 'Order lifecycle', executable: true },
      { id: 'nightly-sweep', name: 'Nightly sweep', executable: true },
    ]);
  });

  it('given a non-executable process full of unsupported elements, then it deploys as documentation', async () => {
    const result = await validateFixture('non-executable');
    expect(result.errors).toEqual([]);
    expect(result.processes).toEqual([{ id: 'Process_1', name: null, executable: false }]);
  });

  it('given definitions without any process, then there is nothing to refuse', async () => {
    const result = await validateFixture('no-process');
    expect(result).toEqual({ processes: [], errors: [] });
  });

  it('given knownJobs null, then job names are not checked', async () => {
    const result = await validateFixture('service-task-unknown-job', { ...OPTIONS, knownJobs: null });
    expect(result.errors).toEqual([]);
  });

  it('given no FEEL function library, then scripts cannot be known to raise issues and need no ticket', async () => {
    const result = await validateFixture('missing-ticket', { knownJobs: null });
    expect(result.errors).toEqual([]);
  });

  it('given no template compiler, then ticket templates are not compiled', async () => {
    const result = await validateFixture('ticket-bad-template', { knownJobs: null });
    expect(result.errors).toEqual([]);
  });

  it('given onIssues="error", then a script that can raise issues needs no ticket', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
        <bpmn:scriptTask id="T" scriptFormat="feel" ordo:onIssues="error"><bpmn:script>validate address(order)</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([]);
  });

  it('given instructions for every code a script can raise and no fallback, then there is no error', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
        <bpmn:scriptTask id="T" scriptFormat="feel"><bpmn:extensionElements><ordo:ticket title="VAT">
          <ordo:instructions code="VAT_INVALID">Ask for the VAT id</ordo:instructions></ordo:ticket></bpmn:extensionElements>
          <bpmn:script>check-vat(order) ++ order total(order)</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([]);
  });

  it('given a call to a function that exists nowhere, then it is refused with the nearest library name', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
        <bpmn:scriptTask id="T" scriptFormat="feel" ordo:onIssues="continue"><bpmn:script>validate adress(order) ++ frobnicate(order)</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="G" /><bpmn:exclusiveGateway id="G" default="F4" />
        <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="E"><bpmn:conditionExpression>string lenght(order.id) > 3</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="F4" sourceRef="G" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([
      refusal('T', 'bpmn:ScriptTask', 'The script calls "validate adress", which is neither a FEEL built-in function nor one of Ordo\'s. Did you mean "validate address"?'),
      { elementId: 'T', elementType: 'bpmn:ScriptTask', message: 'The script calls "frobnicate", which is neither a FEEL built-in function nor one of Ordo\'s.' },
      refusal('F3', 'bpmn:SequenceFlow', 'calls "string lenght"'),
    ]);
  });

  it('given calls to FEEL built-ins, library functions and functions a script stored, then nothing is refused', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="D" />
        <bpmn:scriptTask id="D" scriptFormat="feel" ordo:resultVariable="twice"><bpmn:script>function(x) x * 2</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F2" sourceRef="D" targetRef="T" />
        <bpmn:scriptTask id="T" scriptFormat="feel" ordo:onIssues="continue" ordo:resultVariable="r"><bpmn:script>{ n: string length(upper case(order.id)), d: date and time("2026-01-01T00:00:00Z"), t: twice(count(order.lines)), s: substring("abc", 2), v: order total(order), w: now() }</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F3" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([]);
  });

  it('given no function library, then calls are not judged (nothing to judge them by)', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
        <bpmn:scriptTask id="T" scriptFormat="feel" ordo:onIssues="continue"><bpmn:script>frobnicate(order)</bpmn:script></bpmn:scriptTask>
        <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`),
      { knownJobs: null },
    );
    expect(result.errors).toEqual([]);
  });

  it('given a single unconditioned flow out of an exclusive gateway, then it is not refused', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" />
        <bpmn:exclusiveGateway id="G" /><bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([]);
  });

  it('given an activity whose only way out is its boundary event, then it can reach the end', async () => {
    const result = await validateXml(
      process(`<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
        <bpmn:userTask id="T" />
        <bpmn:boundaryEvent id="B" attachedToRef="T"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
        <bpmn:sequenceFlow id="F2" sourceRef="B" targetRef="E" /><bpmn:endEvent id="E" />`),
    );
    expect(result.errors).toEqual([]);
  });
});

describe('validateDefinitions: odd diagrams are refused, never thrown on', () => {
  const odd: Array<[string, string, string?]> = [
    ['boundary event attached to nothing', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E" /><bpmn:endEvent id="E" />
      <bpmn:boundaryEvent id="B"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
      <bpmn:sequenceFlow id="F2" sourceRef="B" targetRef="E" />`],
    ['boundary event attached to a gateway', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" /><bpmn:parallelGateway id="G" />
      <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="E" /><bpmn:endEvent id="E" />
      <bpmn:boundaryEvent id="B" attachedToRef="G"><bpmn:errorEventDefinition /></bpmn:boundaryEvent><bpmn:sequenceFlow id="F2" sourceRef="B" targetRef="E" />`],
    ['flow into a data object', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="D" /><bpmn:dataObject id="D" />
      <bpmn:sequenceFlow id="F2" sourceRef="S" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['flow out of an end event and into a start event', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E" />
      <bpmn:endEvent id="E" /><bpmn:sequenceFlow id="F2" sourceRef="E" targetRef="S" />`],
    ['flow without source or target', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E" /><bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F2" />`],
    ['gateway default that leaves another gateway', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" />
      <bpmn:exclusiveGateway id="G" default="F1" /><bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['default flow with a condition', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" />
      <bpmn:inclusiveGateway id="G" default="F2" /><bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E"><bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="F3" sourceRef="G" targetRef="E"><bpmn:conditionExpression></bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="E" />`],
    ['elements without ids', `<bpmn:startEvent /><bpmn:task /><bpmn:sequenceFlow /><bpmn:endEvent />`],
    ['an event with two definitions and a referenced one', `<bpmn:startEvent id="S"><bpmn:messageEventDefinition /><bpmn:timerEventDefinition /></bpmn:startEvent>
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E" /><bpmn:endEvent id="E"><bpmn:eventDefinitionRef>TD</bpmn:eventDefinitionRef></bpmn:endEvent>`,
      '<bpmn:timerEventDefinition id="TD" />'],
    ['a timer with two definitions and an empty one', `<bpmn:startEvent id="S"><bpmn:timerEventDefinition><bpmn:timeDate>2026-01-01T00:00:00Z</bpmn:timeDate><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="C" /><bpmn:intermediateCatchEvent id="C"><bpmn:timerEventDefinition><bpmn:timeDuration /></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
      <bpmn:sequenceFlow id="F2" sourceRef="C" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['nested sub-processes with a refused one inside', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="P" />
      <bpmn:subProcess id="P"><bpmn:subProcess id="P2"><bpmn:transaction id="TX" /></bpmn:subProcess></bpmn:subProcess>
      <bpmn:sequenceFlow id="F2" sourceRef="P" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['a ticket with odd content', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
      <bpmn:userTask id="T"><bpmn:extensionElements><ordo:ticket /><ordo:ticket priority="" due=""><ordo:instructions code="" /><ordo:field /><ordo:field name="a" /><ordo:field name="a" /></ordo:ticket></bpmn:extensionElements></bpmn:userTask>
      <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['multi-instance with empty attributes', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="T" />
      <bpmn:userTask id="T"><bpmn:multiInstanceLoopCharacteristics ordo:collection="" ordo:outputElement=""><bpmn:completionCondition /></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
      <bpmn:sequenceFlow id="F2" sourceRef="T" targetRef="E" /><bpmn:endEvent id="E" />`],
    ['an event-based gateway leading nowhere useful', `<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="G" />
      <bpmn:eventBasedGateway id="G" instantiate="true" /><bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E"><bpmn:conditionExpression>true</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="E" />`],
  ];

  it.each(odd)('given %s, then every refusal names an element, a type and a reason', async (_name, body, roots = '') => {
    const result = await validateXml(process(body, roots));
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.elementId).not.toBe('');
      expect(error.elementType).toMatch(/^bpmn:/);
      expect(error.message).not.toMatch(/internal error/);
      expect(error.message.length).toBeGreaterThan(10);
    }
  });

  it('given an element attached through a cycle of $parent, then validation still terminates', async () => {
    const parsed = await parseBpmn(process('<bpmn:startEvent id="S" /><bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E" /><bpmn:endEvent id="E" />'));
    const root = parsed.definitions as unknown as { rootElements: Array<{ flowElements: Array<Record<string, unknown>> }> };
    const start = root.rootElements[0]!.flowElements[0]!;
    // A hand-built model (not from XML) can be anything; the validator must not loop forever on it.
    start.id = undefined;
    start.$parent = start;
    const result = validateDefinitions(parsed, OPTIONS);
    expect(result.errors.every((e) => e.elementId !== '')).toBe(true);
  });
});

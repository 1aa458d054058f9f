import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileDefinitions, type CompiledProcess } from '../../../src/engine/index.ts';
import { diffProcesses, isEmptyDiff } from '../../../src/engine/model/diff.ts';
import { parseBpmn } from '../../../src/engine/model/parse.ts';

const LIFECYCLE = readFileSync(new URL('../../../processes/order-lifecycle.bpmn', import.meta.url), 'utf8');

async function compile(xml: string, key: string): Promise<CompiledProcess> {
  const model = compileDefinitions((await parseBpmn(xml)).definitions).find((m) => m.key === key);
  if (!model) throw new Error(`no process ${key}`);
  return model;
}

function edit(xml: string, from: string, to: string): string {
  expect(xml).toContain(from);
  return xml.replace(from, to);
}

/** A small process: start → check (script) → decide (xor) → ship | reject → end(s). */
function small(parts: { checkName?: string; extra?: string; rejectBranch?: boolean; condition?: string } = {}): string {
  const reject = parts.rejectBranch ?? true;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ordo="urn:ordo:bpmn:1" id="D" targetNamespace="urn:t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:scriptTask id="check" name="${parts.checkName ?? 'Check'}" scriptFormat="feel" ordo:resultVariable="issues"><bpmn:script>[]</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="decide" />
    <bpmn:exclusiveGateway id="decide" default="toShip" />
    <bpmn:sequenceFlow id="toShip" sourceRef="decide" targetRef="ship" />
    <bpmn:serviceTask id="ship" ordo:job="ship" />
    <bpmn:sequenceFlow id="f3" sourceRef="ship" targetRef="end" />
    <bpmn:endEvent id="end" />
    ${reject ? `<bpmn:sequenceFlow id="toReject" sourceRef="decide" targetRef="reject"><bpmn:conditionExpression>${parts.condition ?? 'x > 1'}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="reject" name="Rejected" />` : ''}
    ${parts.extra ?? ''}
  </bpmn:process>
</bpmn:definitions>`;
}

describe('diffProcesses', () => {
  it('given the same version twice, then nothing changed', async () => {
    const a = await compile(LIFECYCLE, 'order-lifecycle');
    const diff = diffProcesses(a, a);
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.unchanged).toBe(Object.keys(a.elements).length + Object.keys(a.flows).length);
  });

  it('given edits to a script, a branch condition, a ticket text, a job and a timer, then each is one field change on its element', async () => {
    let xml = LIFECYCLE;
    xml = edit(xml, '<bpmn:script>validate address(order)</bpmn:script>', '<bpmn:script>validate address(order)[item.code != "PHONE_MISSING"]</bpmn:script>');
    xml = edit(xml, 'money(order.totals.grandTotal) &gt;= money(settings.approvalThreshold)', 'money(order.totals.grandTotal) &gt;= money("100.00")');
    xml = edit(xml, '1. Courier and parcel locker deliveries need a phone number', '1. Call the customer: courier and parcel locker deliveries need a phone number');
    xml = edit(xml, 'ordo:job="reserve-stock" ordo:retries="5"', 'ordo:job="reserve-stock" ordo:retries="8"');
    xml = edit(xml, '=settings.paymentTimeout', 'P7D');
    xml = edit(xml, 'name="Approve large order"', 'name="Approve big order"');
    const before = await compile(LIFECYCLE, 'order-lifecycle');
    const after = await compile(xml, 'order-lifecycle');

    const diff = diffProcesses(before, after);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    const byId = Object.fromEntries(diff.changed.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(['Event_PaymentPeriodOver', 'Flow_ApprovalNeeded', 'Task_ApproveOrder', 'Task_ReserveStock', 'Task_ValidateAddress']);

    expect(byId.Task_ValidateAddress!.changes).toEqual([
      { field: 'Script', before: 'validate address(order)', after: 'validate address(order)[item.code != "PHONE_MISSING"]' },
      expect.objectContaining({ field: 'Instructions for PHONE_MISSING' }),
    ]);
    const instructions = byId.Task_ValidateAddress!.changes[1]!;
    expect(instructions.before).toMatch(/^1\. Courier and parcel locker/);
    expect(instructions.after).toMatch(/^1\. Call the customer: courier/);

    expect(byId.Flow_ApprovalNeeded).toMatchObject({
      kind: 'flow',
      type: 'bpmn:SequenceFlow',
      name: 'Large order? → Approve big order',
      changes: [{ field: 'Condition', before: 'money(order.totals.grandTotal) >= money(settings.approvalThreshold)', after: 'money(order.totals.grandTotal) >= money("100.00")' }],
    });
    expect(byId.Task_ReserveStock!.changes).toEqual([{ field: 'Retries', before: '5', after: '8' }]);
    expect(byId.Event_PaymentPeriodOver!.changes).toEqual([{ field: 'Timer', before: 'duration =settings.paymentTimeout', after: 'duration P7D' }]);
    expect(byId.Task_ApproveOrder!.changes).toEqual([{ field: 'Name', before: 'Approve large order', after: 'Approve big order' }]);
  });

  it('given an element and its branch removed and another added, then they are listed as removed and added, flows included', async () => {
    const before = await compile(small(), 'p');
    const after = await compile(
      small({
        rejectBranch: false,
        checkName: 'Check again',
        extra: '<bpmn:sequenceFlow id="toHold" sourceRef="decide" targetRef="hold"><bpmn:conditionExpression>x > 2</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:userTask id="hold" name="Hold" /><bpmn:sequenceFlow id="f4" sourceRef="hold" targetRef="end" />',
      }),
      'p',
    );
    const diff = diffProcesses(before, after);
    expect(diff.added.map((d) => [d.kind, d.id, d.type])).toEqual([
      ['element', 'hold', 'bpmn:UserTask'],
      ['flow', 'f4', 'bpmn:SequenceFlow'],
      ['flow', 'toHold', 'bpmn:SequenceFlow'],
    ]);
    expect(diff.removed.map((d) => [d.kind, d.id, d.name])).toEqual([
      ['element', 'reject', 'Rejected'],
      ['flow', 'toReject', 'decide → Rejected'],
    ]);
    expect(diff.changed.map((c) => [c.id, c.changes.map((x) => x.field)])).toEqual([['check', ['Name']]]);
  });

  it('given a ticket gained on a task, then the ticket and its texts show as added fields', async () => {
    const before = await compile(small(), 'p');
    const after = await compile(
      small().replace(
        '<bpmn:script>[]</bpmn:script>',
        '<bpmn:extensionElements><ordo:ticket title="Fix it" queue="q"><ordo:instructions>Do it.</ordo:instructions></ordo:ticket></bpmn:extensionElements><bpmn:script>[]</bpmn:script>',
      ),
      'p',
    );
    const [check] = diffProcesses(before, after).changed;
    expect(check!.changes).toEqual([
      { field: 'Ticket', before: null, after: 'yes' },
      { field: 'Ticket title', before: null, after: 'Fix it' },
      { field: 'Ticket queue', before: null, after: 'q' },
      { field: 'Fallback instructions', before: null, after: 'Do it.' },
    ]);
  });
});

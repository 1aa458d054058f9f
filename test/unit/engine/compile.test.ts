import { describe, expect, it } from 'vitest';
import { loadProcess } from './driver.ts';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { compileDefinitions } from '../../../src/engine/model/compile.ts';

describe('compile', () => {
  it('given a diagram without DI, then elements, flows, conditions and defaults are indexed by id', async () => {
    const m = await loadProcess('exclusive.bpmn');
    expect(m.key).toBe('exclusive');
    const route = m.elements['route']!;
    expect(route).toMatchObject({ kind: 'exclusiveGateway', type: 'bpmn:ExclusiveGateway', scopeId: 'exclusive', incoming: ['f1'], outgoing: ['toCod', 'toCard', 'toOther'], defaultFlow: 'toOther' });
    expect(m.flows['toCod']).toEqual({ id: 'toCod', sourceId: 'route', targetId: 'cod', condition: 'order.payment.method = "cod"', isDefault: false });
    expect(m.flows['toOther']!.isDefault).toBe(true);
    expect(m.elements['nope']).toBeUndefined();
    expect(m.elements['constructor']).toBeUndefined();
  });

  it('given the model, then it is deeply frozen', async () => {
    const m = await loadProcess('tickets.bpmn');
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.elements['checkAddress'])).toBe(true);
    const el = m.elements['checkAddress']!;
    if (el.kind !== 'scriptTask') throw new Error('expected a script task');
    expect(Object.isFrozen(el.ticket!.instructions[0])).toBe(true);
    expect(el).toMatchObject({ script: 'validate address(order)', resultVariable: 'addressIssues', onIssues: 'ticket' });
    expect(m.elements['checkAddress']!.boundaryEvents).toEqual([]);
    expect(m.elements['strictCheck']!.boundaryEvents).toEqual(['addressInvalid']);
    expect(m.elements['addressInvalid']).toMatchObject({ kind: 'boundaryEvent', trigger: 'error', attachedTo: 'strictCheck', errorCode: 'ADDRESS_INVALID', cancelActivity: true });
  });

  it('given sub-processes, then each is a scope with its none start event and its own elements', async () => {
    const m = await loadProcess('subprocess.bpmn', 'sub-nested');
    expect(m.scopes['sub-nested']).toEqual({ id: 'sub-nested', startEventId: 'nStart', elementIds: ['nStart', 'outer', 'catchAll', 'nEnd', 'nHandled'] });
    expect(m.scopes['inner']).toEqual({ id: 'inner', startEventId: 'innerStart', elementIds: ['innerStart', 'deepFail'] });
    expect(m.elements['deepFail']).toMatchObject({ scopeId: 'inner', result: 'error', errorCode: 'DEEP' });
    expect(m.elements['catchAll']).toMatchObject({ errorCode: null });
  });

  it('given an inclusive join, then its upstream set holds every element that can still reach it, and nothing downstream', async () => {
    const m = await loadProcess('inclusive.bpmn');
    const join = m.elements['join']!;
    if (join.kind !== 'inclusiveGateway') throw new Error('expected an inclusive gateway');
    expect([...join.upstream].sort()).toEqual(['fork', 'routeA', 'scriptC', 'start', 'taskA', 'waitB']);
    expect(m.elements['fork']!.kind === 'inclusiveGateway' && m.elements['fork']!.upstream.size).toBe(0);
  });

  it('given service, multi-instance, timer and message elements, then their ordo: attributes and definitions are read', async () => {
    const service = await loadProcess('service.bpmn');
    expect(service.elements['reserve']).toMatchObject({ kind: 'serviceTask', job: 'reserve-stock', retries: 5, backoffMs: 10_000 });
    const mi = await loadProcess('multi-instance.bpmn', 'mi-completion');
    expect(mi.elements['quote']!.multiInstance).toEqual({
      isSequential: false,
      collection: 'carriers',
      elementVariable: 'carrier',
      outputCollection: 'quotes',
      outputElement: 'price',
      completionCondition: 'nrOfCompletedInstances >= 2',
    });
    const timers = await loadProcess('timers.bpmn', 'reminders');
    expect(timers.elements['remind']).toMatchObject({ trigger: 'timer', cancelActivity: false, timer: { kind: 'cycle', expression: 'R3/PT10M' } });
    const events = await loadProcess('events.bpmn', 'race');
    expect(events.messageNames).toEqual(['payment-confirmed', 'goods-shipped']);
  });

  it('given an element the engine cannot run in an executable process, then compile throws', async () => {
    const { definitions } = await parseBpmn(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s" /><bpmn:sendTask id="send" /></bpmn:process>
</bpmn:definitions>`);
    expect(() => compileDefinitions(definitions)).toThrow(/send: bpmn:SendTask is not supported/);
  });
});

import { describe, expect, it } from 'vitest';
import { given, loadProcesses } from './driver.ts';
import { planStartTimer, startEventsFor, waitingAt } from '../../../src/engine/runtime/queries.ts';
import { step } from '../../../src/engine/runtime/step.ts';
import { EngineError } from '../../../src/engine/runtime/errors.ts';

describe('call activities', () => {
  it('given a call activity, then startChild carries the process key and a variables copy; childCompleted merges the result', async () => {
    const d = await given('call-activity.bpmn', { key: 'parent' });
    d.start({ order: { id: 'o1' } });
    const w = d.waitAt('ship', 'child');
    expect(d.effects).toEqual([{ type: 'startChild', waitId: w.waitId, elementId: 'ship', processKey: 'shipping', variables: { order: { id: 'o1' } } }]);
    d.send({ type: 'childCompleted', waitId: w.waitId, variables: { trackingNo: 'T1' } });
    expect(d.variables['trackingNo']).toBe('T1');
    expect(d.trail()).toEqual(['ship:left', 'end:entered', 'parent:left']);
    d.sendNoop({ type: 'childCompleted', waitId: w.waitId });
  });

  it('given the child fails with a code a boundary catches, then the boundary takes the token', async () => {
    const d = await given('call-activity.bpmn', { key: 'parent' });
    d.start({});
    d.send({ type: 'childFailed', waitId: d.waitAt('ship').waitId, error: 'CHILD_BROKEN' });
    expect(d.trail()).toEqual(['ship:withdrawn', 'shipBroken:entered', 'shipBroken:left', 'brokenEnd:entered', 'parent:left']);
    expect(d.effectsOf('cancelChild')).toEqual([]);
  });

  it('given the child fails otherwise, then a technical ticket; its retry starts a new child', async () => {
    const d = await given('call-activity.bpmn', { key: 'parent' });
    d.start({});
    const first = d.waitAt('ship', 'child');
    d.send({ type: 'childFailed', waitId: first.waitId, error: 'carrier API down' });
    const incident = d.waitAt('ship', 'incident');
    expect(d.effects).toEqual([expect.objectContaining({ type: 'openTicket', kind: 'technical', error: 'carrier API down' })]);
    d.send({ type: 'ticketRetry', waitId: incident.waitId });
    const second = d.waitAt('ship', 'child');
    expect(second.waitId).not.toBe(first.waitId);
    expect(d.effectsOf('startChild')).toEqual([expect.objectContaining({ waitId: second.waitId, processKey: 'shipping' })]);
  });

  it('given a waiting call activity, when the instance is cancelled, then the child is cancelled', async () => {
    const d = await given('call-activity.bpmn', { key: 'parent' });
    d.start({});
    const w = d.waitAt('ship');
    d.send({ type: 'cancel', reason: 'order withdrawn' });
    expect(d.effects).toEqual([{ type: 'cancelChild', waitId: w.waitId }, { type: 'ended', outcome: 'cancelled' }]);
    expect(d.history.at(-1)).toMatchObject({ elementId: 'parent', elementType: 'bpmn:Process', event: 'cancelled', data: { reason: 'order withdrawn' } });
  });

  it('given definitions with a non-executable process, then only executable ones are compiled', async () => {
    expect((await loadProcesses('call-activity.bpmn')).map((p) => p.key)).toEqual(['parent', 'shipping']);
  });
});

describe('step limit', () => {
  it('given a loop that never waits, then it stops after the limit with a technical ticket; each retry continues with a new budget', async () => {
    const d = await given('loop.bpmn', { key: 'loop', stepLimit: 50 });
    d.start({ counter: 0, target: 40 });
    expect(d.status).toBe('active');
    const incident = d.waitAt('enough', 'incident');
    // start, then inc and enough alternate: the 50th entry is inc, the 51st (enough) is refused
    expect(d.history.filter((h) => h.event === 'entered' && h.elementId !== 'loop')).toHaveLength(50);
    expect(d.variables['counter']).toBe(25);
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'openTicket', waitId: incident.waitId, elementId: 'enough', kind: 'technical', issues: [expect.objectContaining({ code: 'STEP_LIMIT' })] }),
    ]);
    expect(waitingAt(d.state!)).toEqual(['enough']);

    d.send({ type: 'ticketRetry', waitId: incident.waitId });
    expect(d.variables['counter']).toBe(40);
    expect(d.status).toBe('completed');
    expect(d.effects[0]).toEqual({ type: 'closeTicket', waitId: incident.waitId, resolution: 'resolved' });
  });

  it('given two parallel loops, then the tokens still on their way are parked with the incident and resumed by its retry', async () => {
    const d = await given('loop.bpmn', { key: 'two-loops', stepLimit: 30 });
    d.start({ a: 0, b: 0, target: 20 });
    expect(d.effectsOf('openTicket')).toHaveLength(1);
    expect(d.state!.tokens.map((t) => t.status).sort()).toEqual(['incident', 'ready']);
    for (let i = 0; i < 10 && d.status === 'active'; i++) {
      d.send({ type: 'ticketRetry', waitId: d.waits('incident')[0]!.waitId });
    }
    expect(d.status).toBe('completed');
    expect(d.variables).toMatchObject({ a: 20, b: 20 });
  });

  it('given the default limit, then ordinary loops of a few hundred entries run in one step', async () => {
    const d = await given('loop.bpmn', { key: 'loop' });
    d.start({ counter: 0, target: 300 });
    expect(d.status).toBe('completed');
  });
});

describe('cancel and stale events', () => {
  it('given waits of every kind, when cancelled, then tickets close as cancelled, timers and jobs are cancelled and the instance ends', async () => {
    const d = await given('timers.bpmn', { key: 'reminders' });
    d.start({});
    const job = d.waitAt('pack', 'job');
    const timer = d.waitAt('remind', 'timer');
    d.send({ type: 'cancel', reason: 'customer' });
    expect(d.status).toBe('cancelled');
    expect(d.effects).toEqual([
      { type: 'cancelJob', jobId: job.jobId },
      { type: 'cancelTimer', timerId: timer.timerId },
      { type: 'ended', outcome: 'cancelled' },
    ]);
    expect(d.trail()).toEqual(['pack:withdrawn']);
    expect(d.state!.waits).toEqual([]);
    expect(d.state!.tokens).toEqual([]);
    d.sendNoop({ type: 'jobCompleted', jobId: job.jobId! });
    d.sendNoop({ type: 'timer', timerId: timer.timerId! });
    d.sendNoop({ type: 'cancel', reason: 'twice' });
  });

  it('given a user task, when cancelled, then its ticket closes as cancelled', async () => {
    const d = await given('user-tasks.bpmn');
    d.start({});
    const w = d.waitAt('approve');
    d.send({ type: 'cancel', reason: 'x' });
    expect(d.effects).toEqual([{ type: 'closeTicket', waitId: w.waitId, resolution: 'cancelled' }, { type: 'ended', outcome: 'cancelled' }]);
  });

  it('given unknown ids, then every kind of event is a no-op', async () => {
    const d = await given('service.bpmn');
    d.start({});
    d.sendNoop({ type: 'timer', timerId: 'nope' });
    d.sendNoop({ type: 'jobCompleted', jobId: 'nope' });
    d.sendNoop({ type: 'jobFailed', jobId: 'nope', error: 'x' });
    d.sendNoop({ type: 'jobError', jobId: 'nope', errorCode: 'x' });
    d.sendNoop({ type: 'ticketRetry', waitId: 'nope' });
    d.sendNoop({ type: 'userTaskCompleted', waitId: 'nope' });
    d.sendNoop({ type: 'childCompleted', waitId: 'nope' });
    d.sendNoop({ type: 'childFailed', waitId: 'nope', error: 'x' });
    d.sendNoop({ type: 'message', name: 'nobody-listens' });
    // the job wait is not a ticket: retrying it by its wait id does nothing
    d.sendNoop({ type: 'ticketRetry', waitId: d.waitAt('reserve').waitId });
  });

  it('given a start event for an existing instance or an event without state, then the caller gets an EngineError', async () => {
    const d = await given('service.bpmn');
    d.start({});
    expect(() => step(d.model, d.state, { type: 'start' }, d.now, d.ports)).toThrow(EngineError);
    expect(() => step(d.model, null, { type: 'cancel', reason: 'x' }, d.now, d.ports)).toThrow(EngineError);
  });
});

describe('start events', () => {
  it('given none, message and timer start events, then startEventsFor lists them and start can pick one', async () => {
    const d = await given('start-events.bpmn');
    expect(startEventsFor(d.model)).toEqual({
      none: ['manual'],
      message: [{ elementId: 'byMessage', messageName: 'order-received' }],
      timer: [{ elementId: 'nightly', timer: { kind: 'cycle', expression: 'R/P1D' } }],
    });
    expect(planStartTimer(d.model.startEvents.timer[0]!.timer, new Date('2026-03-01T00:00:00Z'), d.ports)).toEqual({
      dueAt: '2026-03-02T00:00:00.000Z',
      remaining: null,
      period: 'P1D',
    });

    d.start({ order: { id: 'o9' } }, 'byMessage');
    expect(d.trail()).toEqual(['starts:entered', 'byMessage:entered', 'byMessage:left', 'merge:entered', 'merge:left', 'handle:entered']);
    expect(d.history[0]).toMatchObject({ elementId: 'starts', event: 'entered', data: { startEventId: 'byMessage' } });
    expect(d.variables).toEqual({ order: { id: 'o9' } });
  });

  it('given no start event id, then the none start event is used; an unknown one is refused', async () => {
    const d = await given('start-events.bpmn');
    d.start();
    expect(d.trail()[1]).toBe('manual:entered');
    expect(() => step(d.model, null, { type: 'start', startEventId: 'handle' }, d.now, d.ports)).toThrow(/not a start event/);
  });
});

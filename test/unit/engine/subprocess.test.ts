import { describe, expect, it } from 'vitest';
import { given } from './driver.ts';
import { waitingAt } from '../../../src/engine/runtime/queries.ts';

describe('embedded sub-processes', () => {
  it('given a sub-process, then its tokens run in its scope and the host leaves when the last one ends', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-error' });
    d.start({ fail: false });
    expect(d.trail()).toEqual(['sub-error:entered', 'start:entered', 'start:left', 'fulfil:entered', 'subStart:entered', 'subStart:left', 'route:entered', 'route:left', 'work:entered']);
    expect(waitingAt(d.state!)).toEqual(['work']);
    expect(d.state!.scopes.map((s) => s.kind)).toEqual(['process', 'subProcess']);
    const timer = d.waitAt('tooSlow', 'timer');

    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('work').waitId });
    expect(d.trail()).toEqual(['work:left', 'mark:entered', 'mark:left', 'subEnd:entered', 'fulfil:left', 'afterSub:entered', 'afterSub:left', 'end:entered', 'sub-error:left']);
    // variables set inside an embedded sub-process are the process's
    expect(d.variables['marked']).toBe('inside');
    expect(d.effectsOf('cancelTimer')).toEqual([{ type: 'cancelTimer', timerId: timer.timerId }]);
    expect(d.state!.scopes.map((s) => s.kind)).toEqual(['process']);
  });

  it('given an error end event inside, then the boundary on the sub-process catches it by code', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-error' });
    d.start({ fail: true });
    expect(d.status).toBe('completed');
    expect(d.trail()).toEqual([
      'sub-error:entered', 'start:entered', 'start:left', 'fulfil:entered', 'subStart:entered', 'subStart:left', 'route:entered', 'route:left',
      'addrFail:entered', 'fulfil:withdrawn', 'caught:entered', 'caught:left', 'handled:entered', 'sub-error:left',
    ]);
    expect(d.history.find((h) => h.event === 'error')).toMatchObject({ elementId: 'addrFail', data: { code: 'ADDR', message: 'Address broken' } });
    // the sub-process' own boundary timer was armed when it started waiting and is gone with it
    expect(d.effectsOf('scheduleTimer')).toHaveLength(1);
    expect(d.effectsOf('cancelTimer')).toHaveLength(1);
  });

  it('given an interrupting timer on the sub-process, when it fires, then the inner user task is withdrawn with its ticket', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-error' });
    d.start({ fail: false });
    const ticket = d.waitAt('work');
    d.fireTimer('tooSlow');
    expect(d.effects).toEqual([{ type: 'closeTicket', waitId: ticket.waitId, resolution: 'cancelled' }, { type: 'ended', outcome: 'completed' }]);
    expect(d.trail()).toEqual(['work:withdrawn', 'fulfil:withdrawn', 'tooSlow:entered', 'tooSlow:left', 'late:entered', 'sub-error:left']);
    d.sendNoop({ type: 'userTaskCompleted', waitId: ticket.waitId });
  });

  it('given a terminate end inside a sub-process, then only that scope ends and the process goes on; at the root it ends everything', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-terminate' });
    d.start({});
    expect(d.trail()).toEqual([
      'sub-terminate:entered', 'tStart:entered', 'tStart:left', 'tSub:entered', 'tSubStart:entered', 'tSubStart:left', 'tFork:entered', 'tFork:left',
      'tWait:entered', 'tKill:entered', 'tWait:withdrawn', 'tSub:left', 'rootFork:entered', 'rootFork:left', 'rootWait:entered', 'rootJob:entered',
    ]);
    const innerTicket = d.effectsOf('openTicket')[0]!;
    expect(d.effectsOf('closeTicket')).toEqual([{ type: 'closeTicket', waitId: innerTicket.waitId, resolution: 'cancelled' }]);
    expect(d.status).toBe('active');

    const job = d.waitAt('rootJob', 'job');
    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('rootWait').waitId });
    expect(d.status).toBe('completed');
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'closeTicket', resolution: 'resolved' }),
      { type: 'cancelJob', jobId: job.jobId },
      { type: 'ended', outcome: 'completed' },
    ]);
    d.sendNoop({ type: 'jobCompleted', jobId: job.jobId! });
  });

  it('given an error two sub-processes deep, then it propagates to the outer catch-all boundary and withdraws the siblings', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-nested' });
    d.start({});
    const sibling = d.waitAt('sibling');
    d.fireTimer('delay');
    expect(d.trail()).toEqual([
      'delay:left', 'inner:entered', 'innerStart:entered', 'innerStart:left', 'deepFail:entered',
      'sibling:withdrawn', 'inner:withdrawn', 'outer:withdrawn', 'catchAll:entered', 'catchAll:left', 'nHandled:entered', 'sub-nested:left',
    ]);
    expect(d.effects).toEqual([{ type: 'closeTicket', waitId: sibling.waitId, resolution: 'cancelled' }, { type: 'ended', outcome: 'completed' }]);
    expect(d.state!.scopes).toHaveLength(1);
  });

  it('given an error nothing catches, then the instance fails: every wait withdrawn and a technical ticket', async () => {
    const d = await given('subprocess.bpmn', { key: 'sub-uncaught' });
    d.start({});
    expect(d.status).toBe('failed');
    const opened = d.effectsOf('openTicket');
    expect(opened).toHaveLength(2);
    expect(d.effects.slice(1)).toEqual([
      { type: 'closeTicket', waitId: opened[0]!.waitId, resolution: 'cancelled' },
      { type: 'openTicket', waitId: expect.any(String), elementId: 'uFail', kind: 'technical', issues: [{ code: 'UNCAUGHT_ERROR', message: expect.stringContaining('ADDR') }], ticket: null, error: expect.stringContaining('ADDR') },
      { type: 'ended', outcome: 'failed', error: expect.stringContaining('ADDR') },
    ]);
    expect(d.state!.error).toMatch(/BPMN error ADDR/);
    d.sendNoop({ type: 'userTaskCompleted', waitId: opened[0]!.waitId });
    d.sendNoop({ type: 'cancel', reason: 'late' });
  });
});

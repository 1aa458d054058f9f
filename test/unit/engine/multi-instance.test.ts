import { describe, expect, it } from 'vitest';
import { given } from './driver.ts';

const lines = [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 3 }];

describe('multi-instance activities', () => {
  it('given a parallel script task over the order lines, then each runs with its own line and the outputs are collected in order', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-parallel' });
    d.start({ order: { lines } });
    expect(d.status).toBe('completed');
    expect(d.variables['lineResults']).toEqual([
      { sku: 'a', doubled: 2, n: 1 },
      { sku: 'b', doubled: 4, n: 2 },
      { sku: 'c', doubled: 6, n: 3 },
    ]);
    // the body's result variable and element variable stayed local to each instance
    expect(d.variables).not.toHaveProperty('lineResult');
    expect(d.variables).not.toHaveProperty('line');
    expect(d.trail().filter((t) => t.startsWith('checkLine'))).toEqual([
      'checkLine:entered', 'checkLine:entered', 'checkLine:entered', 'checkLine:entered',
      'checkLine:left', 'checkLine:left', 'checkLine:left', 'checkLine:left',
    ]);
  });

  it('given an empty list, then the activity completes at once with an empty output', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-parallel' });
    d.start({ order: { lines: [] } });
    expect(d.status).toBe('completed');
    expect(d.variables['lineResults']).toEqual([]);
  });

  it('given a collection that is not a list, then a technical ticket stops the activity', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-parallel' });
    d.start({ order: {} });
    expect(d.waitAt('checkLine', 'incident').error).toMatch(/not a list/);
  });

  it('given a sequential user task, then one ticket at a time, with the line as a local variable, outputs collected', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-sequential' });
    d.start({ order: { lines } });
    expect(d.effectsOf('openTicket')).toHaveLength(1);
    for (const [i, approved] of [true, false, true].entries()) {
      const w = d.waitAt('approveLine', 'userTask');
      const body = d.state!.scopes.find((s) => s.kind === 'miBody')!;
      expect(body.variables).toMatchObject({ line: lines[i], loopCounter: i + 1 });
      d.send({ type: 'userTaskCompleted', waitId: w.waitId, variables: { approved } });
    }
    expect(d.status).toBe('completed');
    expect(d.variables['approvals']).toEqual([true, false, true]);
    expect(d.variables).not.toHaveProperty('approved');
    expect(d.effectsOf('openTicket', d.allEffects)).toHaveLength(3);
  });

  it('given a completion condition, when it holds, then the remaining instances are withdrawn and their tickets cancelled', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-completion' });
    d.start({ carriers: ['dhl', 'ups', 'dpd'] });
    const tickets = d.waits('userTask');
    expect(tickets).toHaveLength(3);
    const timer = d.waitAt('quoteTimeout', 'timer');

    d.send({ type: 'userTaskCompleted', waitId: tickets[2]!.waitId, variables: { price: 9 } });
    expect(d.status).toBe('active');
    d.send({ type: 'userTaskCompleted', waitId: tickets[0]!.waitId, variables: { price: 7 } });
    expect(d.status).toBe('completed');
    expect(d.variables['quotes']).toEqual([7, null, 9]);
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: tickets[0]!.waitId, resolution: 'resolved' },
      { type: 'closeTicket', waitId: tickets[1]!.waitId, resolution: 'cancelled' },
      { type: 'cancelTimer', timerId: timer.timerId },
      { type: 'ended', outcome: 'completed' },
    ]);
  });

  it('given a boundary timer on a multi-instance activity, then it is armed once and interrupts every instance', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-completion' });
    d.start({ carriers: ['dhl', 'ups'] });
    expect(d.effectsOf('scheduleTimer')).toHaveLength(1);
    d.fireTimer('quoteTimeout');
    expect(d.effectsOf('closeTicket').map((e) => e.resolution)).toEqual(['cancelled', 'cancelled']);
    expect(d.trail()).toContain('cLate:entered');
    expect(d.status).toBe('completed');
  });

  it('given a parallel multi-instance sub-process with a job inside, then each line reserves on its own and results are collected', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-sub' });
    d.start({ lines: ['a', 'b'] });
    const jobs = d.effectsOf('runJob');
    expect(jobs.map((j) => j.variables)).toEqual([
      { lines: ['a', 'b'], line: 'a', loopCounter: 1 },
      { lines: ['a', 'b'], line: 'b', loopCounter: 2 },
    ]);
    d.send({ type: 'jobCompleted', jobId: jobs[1]!.jobId, output: { reservation: 'R-b' } });
    expect(d.status).toBe('active');
    d.send({ type: 'jobCompleted', jobId: jobs[0]!.jobId, output: { reservation: 'R-a' } });
    expect(d.variables['reservations']).toEqual(['R-a', 'R-b']);
    expect(d.variables).not.toHaveProperty('reservation');
    expect(d.status).toBe('completed');
    expect(d.state!.scopes).toHaveLength(1);
  });

  it('given a multi-instance sub-process, when cancelled, then every job is cancelled', async () => {
    const d = await given('multi-instance.bpmn', { key: 'mi-sub' });
    d.start({ lines: ['a', 'b'] });
    const jobs = d.effectsOf('runJob');
    d.send({ type: 'cancel', reason: 'customer cancelled' });
    expect(d.effects).toEqual([
      { type: 'cancelJob', jobId: jobs[0]!.jobId },
      { type: 'cancelJob', jobId: jobs[1]!.jobId },
      { type: 'ended', outcome: 'cancelled' },
    ]);
  });
});

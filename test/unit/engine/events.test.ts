import { describe, expect, it } from 'vitest';
import { given } from './driver.ts';
import { messageSubscriptions, waitingAt } from '../../../src/engine/runtime/queries.ts';

const MINUTE_MS = 60_000;

describe('boundary timers', () => {
  it('given an interrupting timer on a user task, when it fires, then the ticket is cancelled and the token takes the boundary', async () => {
    const d = await given('timers.bpmn', { key: 'interrupting' });
    d.start({});
    const ticket = d.waitAt('review', 'userTask');
    const timer = d.waitAt('timeout', 'timer');
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'openTicket', waitId: ticket.waitId }),
      { type: 'scheduleTimer', timerId: timer.timerId, elementId: 'timeout', dueAt: '2026-03-01T11:00:00.000Z' },
    ]);

    d.advance(60 * MINUTE_MS).send({ type: 'timer', timerId: timer.timerId! });
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: ticket.waitId, resolution: 'cancelled' },
      { type: 'ended', outcome: 'completed' },
    ]);
    expect(d.trail()).toEqual(['review:withdrawn', 'timeout:entered', 'timeout:left', 'escalated:entered', 'interrupting:left']);
    expect(d.history.every((h) => h.at === '2026-03-01T11:00:00.000Z')).toBe(true);
  });

  it('given an interrupting timer, when the task completes first, then the timer is cancelled and a late firing is a no-op', async () => {
    const d = await given('timers.bpmn', { key: 'interrupting' });
    d.start({});
    const timer = d.waitAt('timeout', 'timer');
    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('review').waitId });
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'closeTicket', resolution: 'resolved' }),
      { type: 'cancelTimer', timerId: timer.timerId },
      { type: 'ended', outcome: 'completed' },
    ]);
    expect(d.trail()).toContain('done:entered');
    d.sendNoop({ type: 'timer', timerId: timer.timerId! });
  });

  it('given a non-interrupting cycle R3/PT10M on a job, then it fires three times beside the job, re-arming from the previous due time', async () => {
    const d = await given('timers.bpmn', { key: 'reminders' });
    d.start({});
    const job = d.waitAt('pack', 'job');
    expect(d.effectsOf('scheduleTimer')).toEqual([expect.objectContaining({ elementId: 'remind', dueAt: '2026-03-01T10:10:00.000Z' })]);

    // fired a little late: the next occurrence still follows the schedule, not the late firing
    d.advance(12 * MINUTE_MS).send({ type: 'timer', timerId: d.waitAt('remind').timerId! });
    expect(d.variables['reminders']).toBe(1);
    expect(d.effects).toEqual([{ type: 'scheduleTimer', timerId: expect.any(String), elementId: 'remind', dueAt: '2026-03-01T10:20:00.000Z' }]);
    expect(d.trail()).toEqual(['remind:entered', 'remind:left', 'countReminder:entered', 'countReminder:left', 'reminded:entered']);
    expect(d.waitAt('pack', 'job').jobId).toBe(job.jobId);

    d.fireTimer('remind');
    expect(d.effectsOf('scheduleTimer')[0]!.dueAt).toBe('2026-03-01T10:30:00.000Z');
    d.fireTimer('remind');
    expect(d.effectsOf('scheduleTimer')).toEqual([]);
    expect(d.variables['reminders']).toBe(3);
    expect(d.waits('timer')).toEqual([]);
    expect(d.status).toBe('active');

    d.send({ type: 'jobCompleted', jobId: job.jobId! });
    expect(d.effects).toEqual([{ type: 'ended', outcome: 'completed' }]);
  });

  it('given a cycle still armed, when the job completes, then the pending timer is cancelled', async () => {
    const d = await given('timers.bpmn', { key: 'reminders' });
    d.start({});
    d.fireTimer('remind');
    const rearmed = d.waitAt('remind', 'timer');
    d.send({ type: 'jobCompleted', jobId: d.waitAt('pack', 'job').jobId! });
    expect(d.effects).toEqual([{ type: 'cancelTimer', timerId: rearmed.timerId }, { type: 'ended', outcome: 'completed' }]);
  });
});

describe('interrupting timer on a job', () => {
  it('given a job that takes too long, when the timer fires, then the job is cancelled and a late completion is a no-op', async () => {
    const d = await given('timers.bpmn', { key: 'job-timeout' });
    d.start({});
    const job = d.waitAt('label', 'job');
    d.fireTimer('labelTimeout');
    expect(d.effects).toEqual([
      { type: 'cancelJob', jobId: job.jobId },
      expect.objectContaining({ type: 'openTicket', elementId: 'printByHand', kind: 'manual' }),
    ]);
    expect(d.trail()).toEqual(['label:withdrawn', 'labelTimeout:entered', 'labelTimeout:left', 'printByHand:entered']);
    d.sendNoop({ type: 'jobCompleted', jobId: job.jobId! });
    d.sendNoop({ type: 'jobFailed', jobId: job.jobId!, error: 'late' });
  });
});

describe('intermediate timer catch events', () => {
  it('given a duration, a date and a FEEL expression, then each schedules at the right time and fires', async () => {
    const d = await given('timers.bpmn', { key: 'catches' });
    d.start({ delay: 'PT5M' });
    expect(d.effects).toEqual([{ type: 'scheduleTimer', timerId: expect.any(String), elementId: 'waitDay', dueAt: '2026-03-02T10:00:00.000Z' }]);
    d.fireTimer('waitDay');
    expect(d.effects).toEqual([{ type: 'scheduleTimer', timerId: expect.any(String), elementId: 'waitDate', dueAt: '2026-12-01T10:00:00.000Z' }]);
    d.fireTimer('waitDate');
    expect(d.effects).toEqual([{ type: 'scheduleTimer', timerId: expect.any(String), elementId: 'waitFeel', dueAt: '2026-12-01T10:05:00.000Z' }]);
    d.fireTimer('waitFeel');
    expect(d.status).toBe('completed');
  });

  it('given a FEEL timer that gives no ISO text, then a technical ticket stops the token', async () => {
    const d = await given('timers.bpmn', { key: 'catches' });
    d.start({ delay: 'soon' });
    d.fireTimer('waitDay').fireTimer('waitDate');
    expect(d.waitAt('waitFeel', 'incident').error).toMatch(/ISO 8601/);
  });
});

describe('messages', () => {
  it('given a message catch and a receive task, then each waits for its message by name and merges its variables', async () => {
    const d = await given('events.bpmn', { key: 'messages' });
    d.start({});
    expect(messageSubscriptions(d.state!)).toEqual(['payment-confirmed']);
    expect(waitingAt(d.state!)).toEqual(['awaitPayment']);
    d.sendNoop({ type: 'message', name: 'goods-shipped' });

    d.send({ type: 'message', name: 'payment-confirmed', variables: { payment: { status: 'paid' } } });
    expect(d.variables['payment']).toEqual({ status: 'paid' });
    expect(d.trail()).toEqual(['awaitPayment:left', 'awaitShipping:entered']);
    expect(messageSubscriptions(d.state!)).toEqual(['goods-shipped']);
    d.sendNoop({ type: 'message', name: 'payment-confirmed' });

    d.send({ type: 'message', name: 'goods-shipped', variables: { tracking: 'X1' } });
    expect(d.status).toBe('completed');
    expect(messageSubscriptions(d.state!)).toEqual([]);
  });
});

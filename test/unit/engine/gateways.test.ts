import { describe, expect, it } from 'vitest';
import { given } from './driver.ts';
import { waitingAt, messageSubscriptions } from '../../../src/engine/runtime/queries.ts';

describe('parallel gateway', () => {
  it('given a fork into three branches, then all run (conditions ignored) and the join waits for every one', async () => {
    const d = await given('parallel.bpmn');
    d.start({});

    expect(d.trail()).toEqual([
      'parallel:entered', 'start:entered', 'start:left', 'fork:entered', 'fork:left',
      'pack:entered', 'invoice:entered', 'notify:entered', 'notify:left', 'join:entered',
    ]);
    expect(waitingAt(d.state!).sort()).toEqual(['invoice', 'join', 'pack']);
    const pack = d.waitAt('pack', 'userTask');
    const invoice = d.waitAt('invoice', 'userTask');

    d.send({ type: 'userTaskCompleted', waitId: pack.waitId });
    expect(d.trail()).toEqual(['pack:left', 'join:entered']);
    expect(d.status).toBe('active');
    expect(d.state!.tokens.filter((t) => t.status === 'joining')).toHaveLength(2);

    d.send({ type: 'userTaskCompleted', waitId: invoice.waitId });
    expect(d.trail()).toEqual(['invoice:left', 'join:entered', 'join:left', 'after:entered', 'after:left', 'end:entered', 'parallel:left']);
    expect(d.variables['afterCount']).toBe(1);
    expect(d.status).toBe('completed');
    expect(d.state!.tokens).toEqual([]);
  });
});

describe('inclusive gateway', () => {
  it('given only some branches taken, then the join waits for exactly those and fires once', async () => {
    const d = await given('inclusive.bpmn');
    d.start({ wantA: false, wantB: true });

    expect(d.trail()).not.toContain('taskA:entered');
    expect(d.state!.tokens.map((t) => `${t.elementId}:${t.status}`).sort()).toEqual(['join:joining', 'waitB:waiting']);
    expect(messageSubscriptions(d.state!)).toEqual(['b-done']);

    d.send({ type: 'message', name: 'b-done' });
    expect(d.trail()).toEqual(['waitB:left', 'join:entered', 'join:left', 'after:entered', 'after:left', 'end:entered', 'inclusive:left']);
    expect(d.variables['afterCount']).toBe(1);
    expect(d.status).toBe('completed');
  });

  it('given a branch still active upstream (a waiting user task), then the join waits for it', async () => {
    const d = await given('inclusive.bpmn');
    d.start({ wantA: true, wantB: false });
    expect(waitingAt(d.state!).sort()).toEqual(['join', 'taskA']);

    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('taskA').waitId, variables: { skipJoin: false } });
    expect(d.trail()).toEqual(['taskA:left', 'routeA:entered', 'routeA:left', 'join:entered', 'join:left', 'after:entered', 'after:left', 'end:entered', 'inclusive:left']);
    expect(d.variables['afterCount']).toBe(1);
  });

  it('given the upstream branch ends elsewhere, then the join fires with the branches that did arrive', async () => {
    const d = await given('inclusive.bpmn');
    d.start({ wantA: true, wantB: false });
    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('taskA').waitId, variables: { skipJoin: true } });
    expect(d.trail()).toEqual(['taskA:left', 'routeA:entered', 'routeA:left', 'endA:entered', 'join:left', 'after:entered', 'after:left', 'end:entered', 'inclusive:left']);
    expect(d.variables['afterCount']).toBe(1);
    expect(d.status).toBe('completed');
  });

  it('given all branches taken, then the join fires once after the last', async () => {
    const d = await given('inclusive.bpmn');
    d.start({ wantA: true, wantB: true });
    d.send({ type: 'message', name: 'b-done' });
    expect(d.trail()).toEqual(['waitB:left', 'join:entered']);
    d.send({ type: 'userTaskCompleted', waitId: d.waitAt('taskA').waitId });
    expect(d.trail()).toContain('join:left');
    expect(d.variables['afterCount']).toBe(1);
    expect(d.status).toBe('completed');
  });

  it('given only the unconditional branch, then the join passes it straight through', async () => {
    const d = await given('inclusive.bpmn');
    d.start({});
    expect(d.status).toBe('completed');
    expect(d.variables['afterCount']).toBe(1);
  });
});

describe('event-based gateway', () => {
  it('given a message and a timer race, when the message comes first, then the timer and the other subscription are withdrawn', async () => {
    const d = await given('events.bpmn', { key: 'race' });
    d.start({});
    const timer = d.waitAt('expired', 'timer');
    expect(d.effects).toEqual([{ type: 'scheduleTimer', timerId: timer.timerId, elementId: 'expired', dueAt: '2026-03-03T10:00:00.000Z' }]);
    expect(messageSubscriptions(d.state!).sort()).toEqual(['goods-shipped', 'payment-confirmed']);
    expect(waitingAt(d.state!)).toEqual(['gate']);

    d.send({ type: 'message', name: 'payment-confirmed', variables: { paidAmount: '10.00' } });
    expect(d.effects).toEqual([{ type: 'cancelTimer', timerId: timer.timerId }, { type: 'ended', outcome: 'completed' }]);
    expect(d.trail()).toEqual(['gate:left', 'paid:entered', 'paid:left', 'paidEnd:entered', 'race:left']);
    expect(d.variables['paidAmount']).toBe('10.00');
    d.sendNoop({ type: 'timer', timerId: timer.timerId! });
  });

  it('given the timer fires first, then the message subscriptions end and a late message is a no-op', async () => {
    const d = await given('events.bpmn', { key: 'race' });
    d.start({});
    d.fireTimer('expired');
    expect(d.trail()).toEqual(['gate:left', 'expired:entered', 'expired:left', 'expiredEnd:entered', 'race:left']);
    expect(d.effects).toEqual([{ type: 'ended', outcome: 'completed' }]);
    expect(messageSubscriptions(d.state!)).toEqual([]);
    d.sendNoop({ type: 'message', name: 'payment-confirmed' });
  });

  it('given a receive task behind the gateway, then its message wins the race too', async () => {
    const d = await given('events.bpmn', { key: 'race' });
    d.start({});
    d.send({ type: 'message', name: 'goods-shipped' });
    expect(d.trail()).toEqual(['gate:left', 'shipped:entered', 'shipped:left', 'shippedEnd:entered', 'race:left']);
    expect(d.effectsOf('cancelTimer')).toHaveLength(1);
  });
});

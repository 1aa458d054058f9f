import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../support/app.ts';
import { deploy, eventually, fixture, instance, startProcess } from './helpers.ts';

let t: TestApp;
let failJob = true;
beforeAll(async () => {
  t = await createTestApp({
    workers: true,
    runtime: {
      jobHandlers: {
        'test-job': async (input) => {
          if (failJob) throw new Error('connection refused by warehouse.example');
          return { warehouse: 'ok', key: input.key };
        },
      },
    },
  });
  for (const f of ['approval.bpmn', 'wait-message.bpmn', 'timer.bpmn', 'service.bpmn']) {
    const res = await deploy(t, await fixture(f));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
});

describe('running instances durably', () => {
  it('runs a script task, stops at a user task with a manual ticket, and records the history', async () => {
    const res = await startProcess(t, 'approval', { amount: 21, customer: 'Fjord AS' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ processKey: 'approval', version: 1, state: 'active', waitingAt: ['approve'] });
    expect(res.body.variables).toMatchObject({ amount: 21, total: 42 });
    const events = res.body.history.map((h: { elementId: string; event: string }) => `${h.elementId}:${h.event}`);
    expect(events).toEqual(expect.arrayContaining(['start:entered', 'compute:entered', 'compute:left', 'approve:entered']));

    const tickets = await t.database.db.selectFrom('tickets').selectAll().where('instance_id', '=', res.body.id).execute();
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ kind: 'manual', status: 'open', queue: 'approval', priority: 'high', title: 'Approve 42 for Fjord AS' });
    expect(tickets[0]!.instructions).toEqual(['Check the payout of 42 for Fjord AS.', 'Approve it or reject it with a note.']);
    expect(tickets[0]!.due_at!.getTime() - tickets[0]!.created_at.getTime()).toBeGreaterThan(2 * 3600_000 - 5_000);
  });

  it('starts a process with a message start event for a sender who may start processes; an operator may only reach what waits', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs-return" targetNamespace="urn:test">
  <bpmn:message id="Msg_Return" name="return-requested" />
  <bpmn:process id="customer-return" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="Msg_Return" /></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review the return" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;
    expect((await deploy(t, xml)).status).toBe(201);
    const [operator, analyst] = await Promise.all([t.tokenFor('operator'), t.tokenFor('analyst')]);
    const send = (token: string, body: Record<string, unknown>) => t.http.post('/api/v1/messages').set('authorization', `Bearer ${token}`).send(body);
    const instances = () => t.database.db.selectFrom('process_instances').select('id').where('process_key', '=', 'customer-return').execute();

    // An operator's token delivers messages, but does not start processes with them; analysts send none.
    const refused = await send(operator, { name: 'return-requested', businessKey: 'RET-1', messageId: 'ret-1' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    expect(refused.body.detail).toBe('Nothing waits for the message "return-requested", and starting process "customer-return" with it needs a role that may start processes.');
    expect((await send(analyst, { name: 'return-requested', businessKey: 'RET-1' })).status).toBe(403);
    expect(await instances()).toEqual([]);

    // An admin's token starts it; the messageId the refused delivery carried was not used up.
    const started = await send(t.token, { name: 'return-requested', businessKey: 'RET-1', messageId: 'ret-1', variables: { reason: 'too small' } });
    expect(started.status).toBe(200);
    expect(started.body.outcome).toBe('started');
    const inst = await instance(t, started.body.instanceId);
    expect(inst.waitingAt).toEqual(['review']);
    expect(inst.variables.reason).toBe('too small');
    expect((await send(t.token, { name: 'return-requested', businessKey: 'RET-1', messageId: 'ret-1' })).body).toEqual({ outcome: 'duplicate', instanceId: started.body.instanceId });
    expect(await instances()).toHaveLength(1);
  });

  it('waits for a message, answers 404 when nobody waits, and treats a repeated messageId as a no-op', async () => {
    const started = await startProcess(t, 'wait-message', {}, 'BK-1');
    expect(started.body.waitingAt).toEqual(['wait']);
    expect(started.body.waitingFor).toEqual(['go']);

    const nobody = await t.http.post('/api/v1/messages').set('authorization', `Bearer ${t.token}`).send({ name: 'go', businessKey: 'BK-unknown' });
    expect(nobody.status).toBe(404);
    expect(nobody.body.code).toBe('NOT_FOUND');

    const first = await t.http.post('/api/v1/messages').set('authorization', `Bearer ${t.token}`).send({ name: 'go', businessKey: 'BK-1', messageId: 'm-1', variables: { note: 'hi' } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ outcome: 'delivered', instanceId: started.body.id });
    const again = await t.http.post('/api/v1/messages').set('authorization', `Bearer ${t.token}`).send({ name: 'go', businessKey: 'BK-1', messageId: 'm-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ outcome: 'duplicate', instanceId: started.body.id });

    const done = await instance(t, started.body.id);
    expect(done.state).toBe('completed');
    expect(done.variables.note).toBe('hi');
  });

  it('delivers one message to one waiting instance even when ten arrive at once', async () => {
    const started = await startProcess(t, 'wait-message', {}, 'BK-RACE');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post('/api/v1/messages').set('authorization', `Bearer ${t.token}`).send({ name: 'go', businessKey: 'BK-RACE' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 404)).toHaveLength(9);
    const history = await t.database.db.selectFrom('instance_history').select('event').where('instance_id', '=', started.body.id).where('element_id', '=', 'end').execute();
    expect(history).toHaveLength(1);
  });

  it('fires a timer through pg-boss and moves on', async () => {
    const started = await startProcess(t, 'timer');
    expect(started.body.waitingAt).toEqual(['pause']);
    const done = await eventually(() => instance(t, started.body.id), (i) => i.state === 'completed');
    expect(done.history.some((h: { elementId: string; event: string }) => h.elementId === 'end' && h.event === 'entered')).toBe(true);
  });

  it('fires a timer due before year 1 at once and keeps one due after year 9999 waiting (both outside what a job row can say)', async () => {
    const xml = (await fixture('timer.bpmn'))
      .replaceAll('id="timer"', 'id="timer-date"')
      .replace('<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1S</bpmn:timeDuration>', '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">=due</bpmn:timeDate>');
    expect((await deploy(t, xml)).status).toBe(201);
    const past = await startProcess(t, 'timer-date', { due: '0000-01-01T00:00:00Z' });
    const future = await startProcess(t, 'timer-date', { due: '9999-12-31T23:59:59-01:00' });
    expect([past.status, future.status]).toEqual([201, 201]);
    await eventually(() => instance(t, past.body.id), (i) => i.state === 'completed');
    expect(await instance(t, future.body.id)).toMatchObject({ state: 'active', waitingAt: ['pause'] });
  });

  it('opens a ticket due in ten thousand years as due at the end of 9999 and lists it', async () => {
    const xml = (await fixture('approval.bpmn')).replaceAll('id="approval"', 'id="approval-far"').replace('due="PT2H"', 'due="P10000Y"');
    expect((await deploy(t, xml)).status).toBe(201);
    const started = await startProcess(t, 'approval-far', { amount: 1, customer: 'Far AS' });
    expect(started.status).toBe(201);
    const ticket = await t.database.db.selectFrom('tickets').select(['id', 'due_at']).where('instance_id', '=', started.body.id).executeTakeFirstOrThrow();
    expect(ticket.due_at!.toISOString()).toBe('9999-12-30T23:59:59.999Z');
    const page = await t.http.get('/api/v1/tickets?sort=due&limit=200').set('authorization', `Bearer ${t.token}`);
    expect(page.status).toBe(200);
    expect(page.body.items.map((i: { id: string }) => i.id)).toContain(ticket.id);
  });

  it('retries a failing service task with its backoff, then raises a technical ticket; a retry after the fix completes it', async () => {
    failJob = true;
    const started = await startProcess(t, 'service');
    expect(started.body.waitingAt).toEqual(['call']);
    const ticket = await eventually(
      () => t.database.db.selectFrom('tickets').selectAll().where('instance_id', '=', started.body.id).executeTakeFirst(),
      (row) => !!row,
      20_000,
    );
    expect(ticket).toMatchObject({ kind: 'technical', status: 'open', queue: 'fulfilment', title: 'Warehouse unreachable' });
    expect(ticket!.error).toContain('connection refused');
    expect((ticket!.instructions as string[])[0]).toContain('connection refused by warehouse.example');
    // Two attempts: the first and one retry.
    const attempts = await t.database.db.selectFrom('instance_history').select('event').where('instance_id', '=', started.body.id).where('event', '=', 'incident').execute();
    expect(attempts.length).toBeLessThanOrEqual(1);

    failJob = false;
    const { applyEvent } = await import('../../../src/runtime/instances.ts');
    await t.database.db.transaction().execute((trx) => applyEvent(t.runtime.ctx, trx, started.body.id, { type: 'ticketRetry', waitId: ticket!.wait_id }, 'test'));
    t.runtime.nudge('ordo-service');
    const done = await eventually(() => instance(t, started.body.id), (i) => i.state === 'completed');
    expect(done.variables.warehouse).toBe('ok');
    const closed = await t.database.db.selectFrom('tickets').select('status').where('id', '=', ticket!.id).executeTakeFirstOrThrow();
    expect(closed.status).toBe('resolved');
  });

  it('answers 404 for unknown instances and processes', async () => {
    expect((await t.http.get('/api/v1/instances/00000000-0000-4000-8000-000000000000').set('authorization', `Bearer ${t.token}`)).status).toBe(404);
    expect((await startProcess(t, 'nope')).status).toBe(404);
  });
});

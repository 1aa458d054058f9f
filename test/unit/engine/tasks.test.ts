import { describe, expect, it } from 'vitest';
import { given } from './driver.ts';

const noIssues = { 'validate address': (_order: unknown) => [] };

describe('script tasks and exclusive gateways', () => {
  it('given three script tasks and an exclusive gateway, when started, then results are stored and the condition picks the flow', async () => {
    const calls: unknown[] = [];
    const d = await given('scripts-xor.bpmn', {
      functions: { 'validate address': (order: unknown) => (calls.push(order), [{ code: 'STREET_MISSING' }]) },
    });
    d.start({ order: { total: 60, lines: [{ sku: 'a' }, { sku: 'b' }] } });

    expect(d.status).toBe('completed');
    expect(calls).toEqual([{ total: 60, lines: [{ sku: 'a' }, { sku: 'b' }] }]);
    expect(d.variables).toMatchObject({ addressIssues: [{ code: 'STREET_MISSING' }], doubled: 120, lineCount: 2 });
    expect(d.trail()).toEqual([
      'order-check:entered', 'start:entered', 'start:left', 'checkAddress:entered', 'checkAddress:left', 'double:entered', 'double:left',
      'countLines:entered', 'countLines:left', 'big:entered', 'big:left', 'bigEnd:entered', 'order-check:left',
    ]);
    expect(d.history.find((h) => h.elementId === 'big' && h.event === 'left')?.data).toEqual({ flows: ['toBig'] });
    expect(d.history.filter((h) => h.event === 'variables').map((h) => h.data)).toEqual([
      { order: { total: 60, lines: [{ sku: 'a' }, { sku: 'b' }] } },
      { addressIssues: [{ code: 'STREET_MISSING' }] },
      { doubled: 120 },
      { lineCount: 2 },
    ]);
    expect(d.effects).toEqual([{ type: 'ended', outcome: 'completed' }]);
  });

  it('given no condition holds, when the gateway is reached, then the default flow is taken', async () => {
    const d = await given('scripts-xor.bpmn', { functions: noIssues });
    d.start({ order: { total: 10, lines: [] } });
    expect(d.trail().slice(-3)).toEqual(['big:left', 'smallEnd:entered', 'order-check:left']);
  });

  it('given conditions on payment method, then the first that holds wins and a missing property is just false', async () => {
    const cod = await given('exclusive.bpmn');
    cod.start({ order: { payment: { method: 'cod' } }, approved: true });
    expect(cod.trail()).toContain('cod:entered');
    expect(cod.status).toBe('completed');

    const none = await given('exclusive.bpmn');
    none.start({ order: {}, approved: true });
    expect(none.trail()).toContain('other:entered');
    expect(none.trail()).not.toContain('cod:entered');
  });

  it('given now() in a script, then it is the time passed to step, not the clock', async () => {
    const d = await given('exclusive.bpmn', { now: '2031-05-06T07:08:09.000Z' });
    d.start({ order: {}, approved: true });
    expect(d.variables['stampedAt']).toBe('2031-05-06T07:08:09Z');
  });

  it('given no flow and no default, when the gateway is reached, then a technical ticket stops the token and a retry with variables re-decides', async () => {
    const d = await given('exclusive.bpmn');
    d.start({ order: {}, approved: false });

    expect(d.status).toBe('active');
    const incident = d.waitAt('strict', 'incident');
    expect(d.effectsOf('openTicket')).toEqual([
      expect.objectContaining({ waitId: incident.waitId, elementId: 'strict', kind: 'technical', ticket: null, issues: [expect.objectContaining({ code: 'NO_OUTGOING_FLOW' })] }),
    ]);
    expect(d.trail(d.history, ['incident'])).toEqual(['strict:incident']);

    d.send({ type: 'ticketRetry', waitId: incident.waitId, variables: { approved: true } });
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: incident.waitId, resolution: 'resolved' },
      { type: 'ended', outcome: 'completed' },
    ]);
    expect(d.trail()).toEqual(['strict:left', 'stamp:entered', 'stamp:left', 'end:entered', 'exclusive:left']);
  });

  it('given a FEEL function that does not exist or throws, then the script gets a technical ticket naming the cause', async () => {
    const missing = await given('scripts-xor.bpmn');
    missing.start({ order: { total: 1, lines: [] } });
    const w = missing.waitAt('checkAddress', 'incident');
    expect(w.error).toMatch(/FEEL/);
    expect(missing.effectsOf('openTicket')[0]).toMatchObject({ kind: 'technical', elementId: 'checkAddress' });

    const throwing = await given('scripts-xor.bpmn', {
      functions: {
        'validate address': (_order: unknown) => {
          throw new Error('address service down');
        },
      },
    });
    throwing.start({ order: { total: 1, lines: [] } });
    expect(throwing.waitAt('checkAddress', 'incident').error).toMatch(/address service down/);
  });

  it("given a result the host's check refuses, then the script gets a technical ticket quoting it and the variable is not stored; a retry after the fix goes on", async () => {
    const seen: unknown[] = [];
    const d = await given('scripts-xor.bpmn', {
      functions: noIssues,
      checkVariable: (name, value, previous) => (seen.push([name, value, previous]), name === 'doubled' && (value as number) > 100 ? 'more than 100 cannot be shipped' : null),
    });
    d.start({ order: { total: 60, lines: [] }, doubled: 7 });
    const w = d.waitAt('double', 'incident');
    expect(w.error).toMatch(/^bpmn:ScriptTask .*\(double\) produced a value for "doubled" that was not stored: more than 100 cannot be shipped$/);
    expect(d.effectsOf('openTicket')[0]).toMatchObject({ kind: 'technical', elementId: 'double', issues: [{ code: 'VARIABLE_INVALID' }] });
    expect(d.variables.doubled).toBe(7);
    expect(seen).toContainEqual(['doubled', 120, 7]);
    d.send({ type: 'ticketRetry', waitId: w.waitId, variables: { order: { total: 10, lines: [] } } });
    expect(d.status).toBe('completed');
    expect(d.variables.doubled).toBe(20);
  });
});

describe('validation tickets on script tasks', () => {
  const issues = (order: { customer?: { phone?: string } }) =>
    order.customer?.phone ? [] : [{ code: 'PHONE_MISSING', field: 'customer.phone', message: 'No phone' }];

  it('given issues, when the script runs, then a validation ticket opens with the ticket definition and the token waits', async () => {
    const d = await given('tickets.bpmn', { functions: { 'validate address': issues } });
    d.start({ order: { customer: { name: 'Ann' } } });

    const w = d.waitAt('checkAddress', 'ticket');
    expect(d.effects).toEqual([
      {
        type: 'openTicket',
        waitId: w.waitId,
        elementId: 'checkAddress',
        kind: 'validation',
        issues: [{ code: 'PHONE_MISSING', field: 'customer.phone', message: 'No phone' }],
        ticket: {
          title: 'Delivery data incomplete',
          queue: 'address',
          priority: 'high',
          due: 'PT4H',
          instructions: [
            { code: 'PHONE_MISSING', text: 'Call {{order.customer.name}}' },
            { code: null, text: 'Check the address' },
          ],
          fields: [{ name: 'phone', label: 'Phone', type: 'string', required: true, options: null }],
        },
      },
    ]);
    expect(d.variables['addressIssues']).toEqual([{ code: 'PHONE_MISSING', field: 'customer.phone', message: 'No phone' }]);
    expect(d.trail()).toEqual(['tickets:entered', 'start:entered', 'start:left', 'checkAddress:entered']);
  });

  it('given a ticket, when retried without a fix, then the ticket is updated and the token keeps waiting', async () => {
    const d = await given('tickets.bpmn', {
      functions: { 'validate address': (o: { customer?: { phone?: string; email?: string } }) => [...issues(o), ...(o.customer?.email ? [] : [{ code: 'EMAIL_MISSING' }])] },
    });
    d.start({ order: { customer: { name: 'Ann' } } });
    const w = d.waitAt('checkAddress', 'ticket');

    d.send({ type: 'ticketRetry', waitId: w.waitId, variables: { order: { customer: { name: 'Ann', email: 'a@x' } } } });
    expect(d.effects).toEqual([{ type: 'updateTicket', waitId: w.waitId, issues: [{ code: 'PHONE_MISSING', field: 'customer.phone', message: 'No phone' }] }]);
    expect(d.waitAt('checkAddress', 'ticket').issues).toHaveLength(1);
    expect(d.variables['order']).toEqual({ customer: { name: 'Ann', email: 'a@x' } });
  });

  it('given a ticket, when retried after the fix, then it closes resolved and the token moves on (onIssues=error and continue pass too)', async () => {
    const d = await given('tickets.bpmn', { functions: { 'validate address': issues } });
    d.start({ order: { customer: { name: 'Ann' } } });
    const w = d.waitAt('checkAddress', 'ticket');

    d.send({ type: 'ticketRetry', waitId: w.waitId, variables: { order: { customer: { name: 'Ann', phone: '+48 600' } } } });
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: w.waitId, resolution: 'resolved' },
      { type: 'ended', outcome: 'completed' },
    ]);
    expect(d.trail()).toEqual([
      'checkAddress:left', 'strictCheck:entered', 'strictCheck:left', 'lenientCheck:entered', 'lenientCheck:left', 'end:entered', 'tickets:left',
    ]);
    expect(d.variables).toMatchObject({ addressIssues: [], strictIssues: [], lenientIssues: [] });
  });

  it('given onIssues="error", when issues are found, then a BPMN error with the first code is caught by the error boundary', async () => {
    let calls = 0;
    const d = await given('tickets.bpmn', {
      // first call (checkAddress) passes; the second (strictCheck) finds issues
      functions: { 'validate address': (_order: unknown) => (++calls === 1 ? [] : [{ code: 'ADDRESS_INVALID' }, { code: 'OTHER' }]) },
    });
    d.start({ order: {} });
    expect(d.status).toBe('completed');
    expect(d.trail()).toEqual([
      'tickets:entered', 'start:entered', 'start:left', 'checkAddress:entered', 'checkAddress:left', 'strictCheck:entered', 'strictCheck:withdrawn',
      'addressInvalid:entered', 'addressInvalid:left', 'rejected:entered', 'tickets:left',
    ]);
    expect(d.history.find((h) => h.event === 'error')).toMatchObject({ elementId: 'strictCheck', data: { code: 'ADDRESS_INVALID' } });
    expect(d.variables['strictIssues']).toEqual([{ code: 'ADDRESS_INVALID' }, { code: 'OTHER' }]);
    expect(d.effectsOf('openTicket')).toEqual([]);
  });

  it('given onIssues="error" with a code no boundary catches, then the instance fails with a technical ticket', async () => {
    let calls = 0;
    const d = await given('tickets.bpmn', { functions: { 'validate address': (_order: unknown) => (++calls === 1 ? [] : [{ code: 'SOMETHING_ELSE' }]) } });
    d.start({ order: {} });
    expect(d.status).toBe('failed');
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'openTicket', kind: 'technical', elementId: 'strictCheck' }),
      { type: 'ended', outcome: 'failed', error: expect.stringContaining('SOMETHING_ELSE') },
    ]);
    expect(d.state!.tokens).toEqual([]);
    expect(d.state!.waits).toEqual([]);
  });

  it('given onIssues="continue", then issues are only stored', async () => {
    let calls = 0;
    const d = await given('tickets.bpmn', { functions: { 'validate address': (_order: unknown) => (++calls <= 2 ? [] : [{ code: 'X' }]) } });
    d.start({ order: {} });
    expect(d.status).toBe('completed');
    expect(d.variables['lenientIssues']).toEqual([{ code: 'X' }]);
  });

  it('given a ticket, when its retry is delivered twice, then the second is a no-op', async () => {
    const d = await given('tickets.bpmn', { functions: { 'validate address': issues } });
    d.start({ order: { customer: { phone: undefined } } });
    const w = d.waitAt('checkAddress', 'ticket');
    const fixed = { type: 'ticketRetry' as const, waitId: w.waitId, variables: { order: { customer: { phone: '1' } } } };
    d.send(fixed);
    d.sendNoop(fixed);
    d.sendNoop({ type: 'userTaskCompleted', waitId: w.waitId });
  });
});

describe('service tasks', () => {
  it('given a service task, when entered, then runJob carries the job, its retries, backoff and a variables snapshot', async () => {
    const d = await given('service.bpmn');
    d.start({ order: { id: 'o1' } });
    const w = d.waitAt('reserve', 'job');
    expect(d.effects).toEqual([
      { type: 'runJob', jobId: w.jobId, elementId: 'reserve', job: 'reserve-stock', retries: 5, backoffMs: 10_000, variables: { order: { id: 'o1' } } },
    ]);
  });

  it('given a running job, when it completes, then its output is merged and the next job runs with default retries', async () => {
    const d = await given('service.bpmn');
    d.start({ order: { id: 'o1' } });
    const w = d.waitAt('reserve', 'job');
    d.send({ type: 'jobCompleted', jobId: w.jobId!, output: { reservation: 'r-1' } });
    expect(d.variables['reservation']).toBe('r-1');
    expect(d.effectsOf('runJob')).toEqual([expect.objectContaining({ elementId: 'charge', job: 'charge-card', retries: 3, backoffMs: 10_000 })]);
    expect(d.effectsOf('runJob')[0]!.variables).toEqual({ order: { id: 'o1' }, reservation: 'r-1' });
  });

  it('given a job that failed after its retries, then a technical ticket opens; a retry runs the job again under a new id', async () => {
    const d = await given('service.bpmn');
    d.start({});
    const job = d.waitAt('reserve', 'job');
    d.send({ type: 'jobFailed', jobId: job.jobId!, error: 'warehouse API 503' });

    const incident = d.waitAt('reserve', 'incident');
    expect(d.effects).toEqual([
      {
        type: 'openTicket',
        waitId: incident.waitId,
        elementId: 'reserve',
        kind: 'technical',
        issues: [{ code: 'JOB_FAILED', message: 'warehouse API 503' }],
        ticket: expect.objectContaining({ title: 'Stock reservation failed', queue: 'ops' }),
        error: 'warehouse API 503',
      },
    ]);
    d.sendNoop({ type: 'jobCompleted', jobId: job.jobId! });

    d.send({ type: 'ticketRetry', waitId: incident.waitId });
    const again = d.waitAt('reserve', 'job');
    expect(again.jobId).not.toBe(job.jobId);
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: incident.waitId, resolution: 'resolved' },
      expect.objectContaining({ type: 'runJob', jobId: again.jobId, elementId: 'reserve' }),
    ]);
    d.send({ type: 'jobCompleted', jobId: again.jobId! });
    expect(d.waitAt('charge', 'job')).toBeTruthy();
  });

  it('given a job reporting a BPMN error code, then the error boundary takes the token', async () => {
    const d = await given('service.bpmn');
    d.start({});
    d.send({ type: 'jobCompleted', jobId: d.waitAt('reserve', 'job').jobId! });
    const charge = d.waitAt('charge', 'job');
    d.send({ type: 'jobError', jobId: charge.jobId!, errorCode: 'PAYMENT_DECLINED', message: 'insufficient funds' });
    expect(d.status).toBe('completed');
    expect(d.trail()).toEqual(['charge:withdrawn', 'declined:entered', 'declined:left', 'declinedEnd:entered', 'service:left']);
    // the job reported the error itself: nothing to cancel
    expect(d.effectsOf('cancelJob')).toEqual([]);
  });

  it('given a job error no boundary catches, then the instance fails', async () => {
    const d = await given('service.bpmn');
    d.start({});
    d.send({ type: 'jobError', jobId: d.waitAt('reserve', 'job').jobId!, errorCode: 'OUT_OF_STOCK' });
    expect(d.status).toBe('failed');
    expect(d.effectsOf('ended')).toEqual([{ type: 'ended', outcome: 'failed', error: expect.stringContaining('OUT_OF_STOCK') }]);
  });
});

describe('user and manual tasks', () => {
  it('given a user task, then a manual ticket opens; completing it merges the form and the manual task waits the same way', async () => {
    const d = await given('user-tasks.bpmn');
    d.start({});
    const approve = d.waitAt('approve', 'userTask');
    expect(d.effects).toEqual([
      {
        type: 'openTicket',
        waitId: approve.waitId,
        elementId: 'approve',
        kind: 'manual',
        issues: [],
        ticket: expect.objectContaining({ title: 'Approve large order', fields: [expect.objectContaining({ name: 'approved', type: 'boolean' })] }),
      },
    ]);
    d.sendNoop({ type: 'ticketRetry', waitId: approve.waitId });

    d.send({ type: 'userTaskCompleted', waitId: approve.waitId, variables: { approved: true } });
    expect(d.variables['approved']).toBe(true);
    const manual = d.waitAt('callCarrier', 'userTask');
    expect(d.effects).toEqual([
      { type: 'closeTicket', waitId: approve.waitId, resolution: 'resolved' },
      { type: 'openTicket', waitId: manual.waitId, elementId: 'callCarrier', kind: 'manual', issues: [], ticket: null },
    ]);
    d.send({ type: 'userTaskCompleted', waitId: manual.waitId });
    expect(d.status).toBe('completed');
    d.sendNoop({ type: 'userTaskCompleted', waitId: manual.waitId });
  });
});

describe('a start that could not be run', () => {
  it('given a start with an incident, then the instance waits at its start event with a technical ticket, and a retry runs it from there', async () => {
    const d = await given('service.bpmn');
    d.send({ type: 'start', variables: { orderId: 'o-1' }, incident: 'The start job expired on its last attempt.' });
    expect(d.status).toBe('active');
    const incident = d.waitAt('start', 'incident');
    expect(incident).toMatchObject({ phase: 'enter', error: 'The start job expired on its last attempt.' });
    expect(d.effects).toEqual([
      expect.objectContaining({ type: 'openTicket', waitId: incident.waitId, elementId: 'start', kind: 'technical', issues: [{ code: 'JOB_FAILED', message: 'The start job expired on its last attempt.' }] }),
    ]);
    expect(d.variables).toEqual({ orderId: 'o-1' });

    d.send({ type: 'ticketRetry', waitId: incident.waitId });
    expect(d.effectsOf('closeTicket')).toEqual([{ type: 'closeTicket', waitId: incident.waitId, resolution: 'resolved' }]);
    expect(d.waitAt('reserve', 'job')).toBeTruthy();
  });
});

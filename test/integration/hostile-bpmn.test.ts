import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FEEL_EXPRESSION_CHARS } from '../../src/engine/feel.ts';
import { MAX_FEEL_CHARS } from '../../src/engine/model/feel-syntax.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { validOrder } from '../fixtures/orders.ts';
import { eventually } from './engine/helpers.ts';

/**
 * Hostile diagrams at the deploy route (XML bombs, external entities, huge and deep files, broken
 * encodings, every MIWG reference file) and hostile FEEL inside diagrams that deploy fine (loops, products,
 * recursion, doubling strings). A refusal names the file or element at fault and stores nothing; FEEL
 * that runs away becomes a technical ticket within a bounded time while the process keeps answering.
 */

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ workers: true });
});
afterAll(async () => {
  await t?.close();
});

const STACK_TRACE = /\bat .+[(\s](?:file:\/\/)?\/?[\w./-]+\.(?:ts|js|mjs|cjs):\d+/;
const NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ordo="urn:ordo:bpmn:1"';

async function stored() {
  const n = async (table: 'deployments' | 'process_definitions') => Number((await t.database.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return { deployments: await n('deployments'), definitions: await n('process_definitions') };
}

function deploy(body: string | Buffer, contentType = 'application/xml') {
  return t.http.post('/api/v1/processes').set('authorization', `Bearer ${t.token}`).set('content-type', contentType).send(body);
}

/** Deploy what must be refused: a 4xx problem+json with a precise error, no stack trace, nothing stored. */
async function expectRefused(body: string | Buffer, contentType = 'application/xml') {
  const before = await stored();
  const started = Date.now();
  const res = await deploy(body, contentType);
  const elapsed = Date.now() - started;
  expect(res.status, res.text.slice(0, 500)).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.text).not.toMatch(STACK_TRACE);
  expect(res.text).not.toMatch(/root:x:0:0|\/bin\/(?:ba)?sh/);
  expect(await stored()).toEqual(before);
  return { res, elapsed };
}

const diagram = (id: string, body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="defs-${id}" targetNamespace="urn:test">
  <bpmn:process id="${id}" isExecutable="true">
${body}
  </bpmn:process>
</bpmn:definitions>`;

const simpleBody = `    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />`;

describe('hostile diagrams at POST /api/v1/processes', () => {
  it('refuses a billion-laughs entity bomb at once, naming the DOCTYPE and its line', async () => {
    const entities = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join('\n  ');
    const bomb = `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [\n  ${entities}\n]>\n${diagram('bomb', simpleBody).replace(/^<\?xml[^>]*>\n/, '').replace('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="end" name="&lol9;" />')}`;
    const { res, elapsed } = await expectRefused(bomb);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ elementId: '(file)', elementType: 'xml', message: expect.stringMatching(/DOCTYPE or ENTITY declaration.*\(line 2\)/) }]);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('refuses external entities (file:// and http://) and any DOCTYPE, reading nothing', async () => {
    for (const doctype of [
      '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
      '<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>',
      '<!DOCTYPE bpmn:definitions SYSTEM "file:///etc/passwd">',
      '<!doctype bpmn:definitions>',
    ]) {
      const xml = diagram('xxe', simpleBody.replace('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="end" name="&x;" />')).replace('?>\n', `?>\n${doctype}\n`);
      const { res } = await expectRefused(xml);
      expect(res.body.errors[0]).toMatchObject({ elementId: '(file)', elementType: 'xml', message: expect.stringMatching(/DOCTYPE/) });
    }
  });

  it('does not follow XInclude or schema locations: the diagram deploys as written, with nothing read in', async () => {
    const xml = diagram('xinclude', simpleBody.replace('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="end"><bpmn:documentation><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/></bpmn:documentation></bpmn:endEvent>'))
      .replace('targetNamespace="urn:test"', 'targetNamespace="urn:test" xsi:schemaLocation="http://www.omg.org/spec/BPMN/20100524/MODEL http://127.0.0.1:9/BPMN20.xsd"');
    const res = await deploy(xml);
    expect(res.status).toBeLessThan(500);
    const v = await t.http.get('/api/v1/processes/xinclude/versions/1').set('authorization', `Bearer ${t.token}`);
    expect(v.text).not.toMatch(/root:x:0:0/);
  });

  it('refuses a 6 MB file with 413 and the limit in words, before parsing it', async () => {
    const huge = diagram('huge', simpleBody).replace('</bpmn:definitions>', `<!-- ${'x'.repeat(6 * 1024 * 1024)} -->\n</bpmn:definitions>`);
    const { res, elapsed } = await expectRefused(huge);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'BODY_TOO_LARGE', detail: 'Bodies are limited to 5 MiB here.' });
    expect(elapsed).toBeLessThan(5_000);
  });

  it('refuses XML nested 100,000 levels deep at once, naming the line where it gets too deep', async () => {
    const depth = 100_000;
    const deep = diagram('deep', simpleBody.replace('<bpmn:endEvent id="end" />', `<bpmn:endEvent id="end">\n<bpmn:extensionElements>${'<x:a>'.repeat(depth)}${'</x:a>'.repeat(depth)}</bpmn:extensionElements></bpmn:endEvent>`)).replace('<bpmn:definitions ', '<bpmn:definitions xmlns:x="urn:x" ');
    const { res, elapsed } = await expectRefused(deep);
    expect(res.status).toBe(422);
    const line = deep.split('\n').findIndex((l) => l.startsWith('<bpmn:extensionElements>')) + 1;
    expect(res.body.errors).toEqual([{ elementId: '(file)', elementType: 'xml', message: expect.stringMatching(new RegExp(`nested more than 200 levels deep.*\\(line ${line}\\)`)) }]);
    expect(elapsed).toBeLessThan(BOUND_MS);
    expect((await t.http.get('/healthz')).status).toBe(200);
  });

  it('refuses bytes that are not UTF-8 under a UTF-8 declaration, naming the line and the byte', async () => {
    const text = diagram('latin', simpleBody.replace('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="end" name="Zam\u00f3wienie" />'));
    const latin1 = Buffer.from(text, 'latin1');
    const { res } = await expectRefused(latin1);
    expect(res.status).toBe(422);
    const line = text.split('\n').findIndex((l) => l.includes('Zam')) + 1;
    expect(res.body.errors[0]).toMatchObject({ elementId: '(file)', elementType: 'xml' });
    expect(res.body.errors[0].message).toContain('not valid UTF-8');
    expect(res.body.errors[0].message).toContain('0xF3');
    expect(res.body.errors[0].message).toContain(`(line ${line})`);
    // The same bytes declared as what they are deploy fine.
    const declared = await deploy(Buffer.from(text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'latin1'), 'text/xml');
    expect(declared.status).toBe(201);
  });

  it('refuses an unknown encoding and a lone surrogate-like byte soup with a file error', async () => {
    const { res } = await expectRefused(diagram('enc', simpleBody).replace('encoding="UTF-8"', 'encoding="x-klingon"'));
    expect(res.body.errors[0].message).toMatch(/encoding "x-klingon"/);
    await expectRefused(Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x3c, 0x00]));
    await expectRefused(Buffer.from([0xed, 0xa0, 0x80, 0x3c, 0x78, 0x2f, 0x3e]));
  });

  it('deploys or refuses every MIWG reference diagram: never a 5xx, a precise error per element, nothing stored when refused', async () => {
    const dir = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'miwg');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.bpmn')).sort();
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const before = await stored();
      const res = await deploy(await readFile(path.join(dir, file)), 'text/xml');
      expect([200, 201, 422], `${file}: ${res.text.slice(0, 300)}`).toContain(res.status);
      expect(res.text).not.toMatch(STACK_TRACE);
      const after = await stored();
      if (res.status === 422) {
        expect(after, `${file} was refused but left rows behind`).toEqual(before);
        expect(res.body.errors.length).toBeGreaterThan(0);
        for (const e of res.body.errors) {
          expect(e.elementId, file).toBeTruthy();
          expect(e.elementType, file).toMatch(/^(bpmn:|xml|ordo:)/);
          expect(e.message.length, file).toBeGreaterThan(10);
        }
      } else if (res.status === 201) {
        expect(after.deployments, file).toBe(before.deployments + 1);
        expect(after.definitions, file).toBe(before.definitions + res.body.processes.filter((p: { created: boolean }) => p.created).length);
      } else {
        expect(after, file).toEqual(before);
      }
    }
  });
});

// ── FEEL that runs away ─────────────────────────────────────────────────────────

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function scriptProcess(id: string, expression: string, before = '') {
  return diagram(
    id,
    `    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="${before ? 'pause' : 'boom'}" />
${before}
    <bpmn:scriptTask id="boom" name="Runaway script" scriptFormat="feel" ordo:resultVariable="result" ordo:onIssues="continue">
      <bpmn:script>${xmlText(expression)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="boom" targetRef="end" />
    <bpmn:endEvent id="end" />`,
  );
}

/** A 9,999-character expression that also explodes: a product of two big ranges padded with a long string. */
function longBomb(): string {
  const head = 'count(for a in 1..100000, b in 1..100000 return "';
  const tail = '")';
  return head + 'x'.repeat(9_999 - head.length - tail.length) + tail;
}

const BOMBS: Array<[string, string]> = [
  ['a range of 100 million', 'for i in 1..100000000 return i'],
  ['a product of two ranges of 100,000', 'count(for a in 1..100000, b in 1..100000 return a)'],
  ['a 9,999-character expression', longBomb()],
  ['a string doubled 26 times', `{${['a: "xxxxxxxxxx"', ...'bcdefghijklmnopqrstuvwxyz'.split('').map((c, i) => `${c}: ${'abcdefghijklmnopqrstuvwxyz'[i]}+${'abcdefghijklmnopqrstuvwxyz'[i]}`)].join(', ')}}.z`],
  ['unbounded recursion', '{f: function(n) f(n + 1), r: f(1)}.r'],
  ['a quantifier over a range of 100 million', 'some i in 1..100000000 satisfies i < 0'],
  // feelin materialises the cartesian product of `for` over lists with a copy of the whole context per
  // element: unbounded, 3,000 × 3,000 exhausted the heap and 2,000 × 2,000 blocked the worker for 13 s.
  ['a product of two lists built from ranges', '{l: for i in 1..3000 return i, r: count(for a in l, b in l return 0)}.r'],
  ['lists doubled by concatenate', `{${['a: for i in 1..1000 return i', ...'bcdefghijklmnopqrstu'.split('').map((c, i) => `${c}: concatenate(${'abcdefghijklmnopqrstu'[i]}, ${'abcdefghijklmnopqrstu'[i]})`)].join(', ')}}.u`],
];

/** The wall-clock bound SPEC-level "bounded time" means here, on a busy 2-core machine. */
const BOUND_MS = 2_000;

describe('FEEL that loops or explodes in a deployed script', () => {
  it('keeps the two limits in step: the deploy check refuses what the engine would not evaluate', () => {
    expect(MAX_FEEL_CHARS).toBe(MAX_FEEL_EXPRESSION_CHARS);
  });

  it('refuses a 10,001-character expression at deploy, naming the script task', async () => {
    const { res } = await expectRefused(scriptProcess('too-long', `"${'x'.repeat(9_999)}"`));
    expect(res.body.errors).toEqual([expect.objectContaining({ elementId: 'boom', elementType: 'bpmn:ScriptTask', message: expect.stringMatching(/10001 characters long; at most 10000/) })]);
  });

  it.each(BOMBS.map(([name, expr], i) => [name, expr, i] as const))('%s: a technical ticket within 2 s, and /healthz answers meanwhile', async (_name, expression, i) => {
    expect(expression.length).toBeLessThanOrEqual(MAX_FEEL_EXPRESSION_CHARS);
    const key = `bomb-${i}`;
    const deployed = await deploy(scriptProcess(key, expression));
    expect(deployed.status, deployed.text).toBe(201);

    const started = Date.now();
    const startReq = t.http.post(`/api/v1/processes/${key}/instances`).set('authorization', `Bearer ${t.token}`).send({ variables: {} }).then((r) => ({ r, at: Date.now() }));
    // Sent while the script runs: answered as soon as the evaluation gives up, not after it finished exploding.
    await new Promise((r) => setTimeout(r, 5));
    const healthReq = t.http.get('/healthz').then((r) => ({ r, at: Date.now() }));
    const [start, health] = await Promise.all([startReq, healthReq]);

    expect(start.r.status, start.r.text.slice(0, 300)).toBe(201);
    expect(start.at - started).toBeLessThan(BOUND_MS);
    expect(health.r.status).toBe(200);
    expect(health.at - started).toBeLessThan(BOUND_MS);

    expect(start.r.body.state).toBe('active');
    expect(start.r.body.waitingAt).toEqual(['boom']);
    const tickets = await t.database.db.selectFrom('tickets').selectAll().where('instance_id', '=', start.r.body.id).execute();
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ kind: 'technical', status: 'open', element_id: 'boom' });
    expect(tickets[0]!.issues).toEqual([expect.objectContaining({ code: 'FEEL_ERROR' })]);
    expect(tickets[0]!.error).toMatch(/too large|stopped|allowed/);
    // A mistake in the process, and the operator is told so: not to wait for a system to come back.
    const steps = tickets[0]!.instructions as string[];
    expect(steps[1]).toBe('This is a mistake in the process, not in the order: Retry fails the same way until the process is corrected.');
    expect(steps[2]).toContain(`in the process "${key}" (Processes → ${key} → Edit)`);
    expect(steps.join(' ')).not.toContain('reachable');
    if (/product|concatenate/.test(_name)) {
      // Names the element and the limit it hit.
      expect(tickets[0]!.error).toMatch(/^bpmn:ScriptTask "Runaway script" \(boom\): FEEL .*the evaluation was stopped: it (enumerated more than 100,000 elements|took more than 1,000,000 steps).*at most [\d,]+ are allowed per evaluation/);
    }
  });

  it('in a worker (after a timer), the runaway script becomes a technical ticket and the worker goes on with the next instance', async () => {
    const timer = `    <bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT0S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="pause" targetRef="boom" />`;
    expect((await deploy(scriptProcess('bomb-in-worker', 'count(for a in 1..100000, b in 1..100000 return a)', timer))).status).toBe(201);
    expect((await deploy(scriptProcess('calm-in-worker', 'count(for a in 1..100 return a)', timer))).status).toBe(201);
    const started = Date.now();
    const bomb = await t.http.post('/api/v1/processes/bomb-in-worker/instances').set('authorization', `Bearer ${t.token}`).send({});
    const calm = await t.http.post('/api/v1/processes/calm-in-worker/instances').set('authorization', `Bearer ${t.token}`).send({});
    expect(bomb.body.waitingAt).toEqual(['pause']);
    const ticket = await eventually(
      () => t.database.db.selectFrom('tickets').selectAll().where('instance_id', '=', bomb.body.id).executeTakeFirst(),
      (row) => !!row,
      10_000,
    );
    expect(Date.now() - started).toBeLessThan(BOUND_MS + 1_000);
    expect(ticket).toMatchObject({ kind: 'technical', element_id: 'boom' });
    const done = await eventually(
      () => t.database.db.selectFrom('process_instances').select(['status', 'state']).where('id', '=', calm.body.id).executeTakeFirstOrThrow(),
      (row) => row.status === 'completed',
      10_000,
    );
    expect((done.state as { variables: Record<string, unknown> }).variables.result).toBe(100);
  });
});

describe("a lifecycle script that writes a malformed order (ordo:resultVariable=\"order\")", () => {
  /** An order lifecycle whose one script rewrites the order, optionally after a timer (then it runs in a worker). */
  const tidyLifecycle = (expression: string, viaTimer: boolean) =>
    diagram(
      'order-lifecycle',
      `    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="${viaTimer ? 'pause' : 'tidy'}" />
${viaTimer ? PAUSE_THEN_TIDY : ''}
    <bpmn:scriptTask id="tidy" name="Tidy the order" scriptFormat="feel" ordo:resultVariable="order">
      <bpmn:script>${xmlText(expression)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="tidy" targetRef="check" />
    <bpmn:userTask id="check" name="Look at the order" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />`,
    );
  const PAUSE_THEN_TIDY = `    <bpmn:intermediateCatchEvent id="pause"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT0S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="pause" targetRef="tidy" />`;
  let n = 0;

  it.each([
    ['an empty context, at intake', '{}', false, /^bpmn:ScriptTask "Tidy the order" \(tidy\) produced a value for "order" that was not stored: it is not a well-formed order \(8 field\(s\) at fault: channel is required; externalId is required; currency is required; customer is required; delivery is required; lines is required; totals is required; payment is required\)\. The stored order was left as it was\.$/],
    ['totals without a grand total, in a worker', 'context put(order, "totals", {subtotal: "99.90"})', true, /not a well-formed order \(3 field\(s\) at fault: totals\.shipping is required; totals\.tax is required; totals\.grandTotal is required\)/],
    ['a money amount as a number, at intake', 'context put(order, "payment", context put(order.payment, "amount", 114.9))', false, /1 field\(s\) at fault: payment\.amount must be string/],
    ['another externalId, at intake', 'context put(order, "externalId", "SOMEONE-ELSE")', false, /it changes externalId \(from "HOSTILE-ORDER-\d+" to "SOMEONE-ELSE"\), which identifies the order and cannot be changed/],
  ] as const)('%s: a technical ticket at the script naming the fields, the stored order unchanged, never a 500', async (_name, expression, viaTimer, message) => {
    expect((await deploy(tidyLifecycle(expression, viaTimer))).status).toBe(201);
    const order = validOrder({ externalId: `HOSTILE-ORDER-${++n}` });
    const posted = await t.http.post('/api/v1/orders').set('authorization', `Bearer ${t.token}`).send(order);
    expect(posted.status, posted.text.slice(0, 300)).toBe(201);
    const id = posted.body.id as string;

    const held = await eventually(() => t.http.get(`/api/v1/orders/${id}`).set('authorization', `Bearer ${t.token}`).then((r) => r.body), (o) => o.status === 'on_hold', 10_000);
    expect(held.activeSteps).toEqual(['tidy']);
    expect(held.tickets).toHaveLength(1);
    expect(held.tickets[0]).toMatchObject({ kind: 'technical', status: 'open', elementId: 'tidy' });
    expect(held.tickets[0].issues).toEqual([{ code: 'VARIABLE_INVALID', message: expect.stringMatching(message) }]);
    // The order is what the channel sent, and the lifecycle still holds that order.
    expect(held.data).toEqual(order);
    const instance = await t.database.db.selectFrom('process_instances').select('state').where('order_id', '=', id).executeTakeFirstOrThrow();
    expect((instance.state as { variables: { order: unknown } }).variables.order).toEqual(order);
    const changed = await t.database.db.selectFrom('order_events').select('kind').where('order_id', '=', id).where('kind', '=', 'changed_by_process').execute();
    expect(changed).toEqual([]);
  });
});


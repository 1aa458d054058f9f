import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../support/app.ts';
import { deploy, fixture } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const counts = async () => ({
  deployments: Number((await t.database.db.selectFrom('deployments').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
  definitions: Number((await t.database.db.selectFrom('process_definitions').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
});

describe('POST /api/v1/processes', () => {
  it('deploys version 1, answers an identical deploy with the same version, and a changed one with version 2', async () => {
    const xml = await fixture('approval.bpmn');
    const first = await deploy(t, xml);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ key: 'approval', version: 1, created: true });
    expect(first.headers.location).toBe('/api/v1/processes/approval/versions/1');

    const same = await deploy(t, xml);
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ key: 'approval', version: 1, created: false });
    // Nothing new to point at.
    expect(same.headers.location).toBeUndefined();

    const changed = await deploy(t, xml.replace('amount * 2', 'amount * 3'));
    expect(changed.status).toBe(201);
    expect(changed.body).toMatchObject({ key: 'approval', version: 2, created: true });
    expect(changed.headers.location).toBe('/api/v1/processes/approval/versions/2');
    expect((await t.http.get(changed.headers.location!).set('authorization', `Bearer ${t.token}`)).body).toMatchObject({ key: 'approval', version: 2 });

    const list = await t.http.get('/api/v1/processes').set('authorization', `Bearer ${t.token}`);
    const approval = list.body.items.find((p: { key: string }) => p.key === 'approval');
    expect(approval.latestVersion).toBe(2);
    expect(approval.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const v1 = await t.http.get('/api/v1/processes/approval/versions/1').set('authorization', `Bearer ${t.token}`);
    expect(v1.status).toBe(200);
    expect(v1.body.xml).toContain('amount * 2');
    expect(v1.body.stats).toEqual({ elements: {} });
    // A version past PostgreSQL's integer is a shape error, not a failed query.
    const huge = await t.http.get('/api/v1/processes/approval/versions/2147483648').set('authorization', `Bearer ${t.token}`);
    expect(huge.status).toBe(400);
    expect(huge.body.code).toBe('VALIDATION_FAILED');
    expect((await t.http.get('/api/v1/processes/approval/versions/2147483647').set('authorization', `Bearer ${t.token}`)).status).toBe(404);
  });

  it('refuses a diagram it cannot run with 422 and one error per element, storing nothing', async () => {
    const before = await counts();
    const res = await deploy(t, await fixture('unsupported.bpmn'));
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 422, code: 'DEPLOY_REFUSED' });
    const byElement = Object.fromEntries(res.body.errors.map((e: { elementId: string; elementType: string; message: string }) => [e.elementId, e]));
    expect(byElement.mail).toMatchObject({ elementType: 'bpmn:SendTask' });
    expect(byElement.f3.message).toMatch(/FEEL/i);
    expect(byElement.f4?.message ?? byElement.gw?.message).toMatch(/condition|default/i);
    expect(await counts()).toEqual(before);
  });

  it('answers malformed XML, an empty body and DOCTYPE declarations with 422, never a 500', async () => {
    for (const body of ['<bpmn:definitions', 'not xml at all', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>']) {
      const res = await deploy(t, body);
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ elementId: '(file)', elementType: 'xml' });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    const empty = await t.http.post('/api/v1/processes').set('authorization', `Bearer ${t.token}`).set('content-type', 'application/xml').send('');
    expect(empty.status).toBeGreaterThanOrEqual(400);
    expect(empty.status).toBeLessThan(500);
  });

  it('refuses a JSON body with 415 and operators with 403', async () => {
    const json = await t.http.post('/api/v1/processes').set('authorization', `Bearer ${t.token}`).send({ xml: '<x/>' });
    expect(json.status).toBe(415);
    const operator = await t.tokenFor('operator');
    const res = await deploy(t, await fixture('approval.bpmn'), operator);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('deploys or refuses every MIWG reference diagram element by element, none with a 5xx', async () => {
    const dir = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'conformance', 'miwg');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.bpmn'));
    expect(files.length).toBeGreaterThan(20);
    const outcomes: Record<string, number> = {};
    for (const file of files) {
      const res = await deploy(t, await readFile(path.join(dir, file)));
      outcomes[file] = res.status;
      expect([200, 201, 422]).toContain(res.status);
      if (res.status === 422) {
        for (const e of res.body.errors) {
          expect(e.elementId).toBeTruthy();
          expect(e.elementType).toBeTruthy();
          expect(e.message).toBeTruthy();
        }
      }
    }
    // The ISO-8859-1 files with no executable process deploy as documentation.
    expect(outcomes['A.1.0.bpmn']).toBe(201);
    expect(outcomes['C.9.1.bpmn']).toBe(422);
    const doc = await t.database.db.selectFrom('process_definitions').select(['key', 'executable']).where('executable', '=', false).execute();
    expect(doc.length).toBeGreaterThan(0);
  });
});

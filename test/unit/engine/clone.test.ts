import { describe, expect, it } from 'vitest';
import { clonePlain } from '../../../src/engine/runtime/clone.ts';
import { orderStream } from '../../../scripts/bench/orders.ts';
import { step } from '../../../src/engine/runtime/step.ts';
import type { InstanceState } from '../../../src/engine/runtime/types.ts';
import { loadProcess } from './driver.ts';

describe('clonePlain', () => {
  it('given JSON-shaped data, then the copy equals what structuredClone makes and shares nothing with the original', () => {
    for (const order of orderStream(200, { defectRate: 0.5, prefix: 'CLONE' })) {
      const variables = JSON.parse(JSON.stringify({ order, issues: [{ code: 'X', path: ['a', 0] }], none: null, nested: [[1, [2, { three: 3 }]]] })) as Record<string, unknown>;
      const copy = clonePlain(variables);
      expect(copy).toStrictEqual(structuredClone(variables));
      (copy.order as { customer: { email: string } }).customer.email = 'changed@example.com';
      (copy.nested as unknown[][])[0]!.push('more');
      expect(variables).toStrictEqual(JSON.parse(JSON.stringify({ order, issues: [{ code: 'X', path: ['a', 0] }], none: null, nested: [[1, [2, { three: 3 }]]] })));
    }
  });

  it('given an own "__proto__" key, then it stays a key of the copy and no prototype is set', () => {
    const original = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": [1]}}') as Record<string, unknown>;
    const copy = clonePlain(original);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy.a, '__proto__')?.value).toEqual([1]);
    expect(copy).toStrictEqual(structuredClone(original));
  });

  it('given values that are not plain data, then they are copied as structuredClone copies them', () => {
    const at = new Date('2026-12-07T10:00:00Z');
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: [1, 2] });
    const original = { at, map: new Map([['k', { v: 1 }]]), bare, sparse: [1, undefined, 3], big: 10n };
    const copy = clonePlain(original);
    expect(copy).toStrictEqual(structuredClone(original));
    expect(copy.at).not.toBe(at);
    expect(copy.at.getTime()).toBe(at.getTime());
    expect(copy.map).not.toBe(original.map);
    expect(copy.map.get('k')).not.toBe(original.map.get('k'));
    expect(Object.getPrototypeOf(copy.bare)).toBe(Object.prototype);
    expect(copy.bare.k).not.toBe(bare.k);
  });
});

describe('the state a step works on', () => {
  it('given a step that leaves a variable alone, then the new state holds the very same value and the given state is untouched', async () => {
    const model = await loadProcess('service.bpmn');
    const ports = { feelFunctions: {} };
    const now = new Date('2026-03-01T10:00:00.000Z');
    const started = step(model, null, { type: 'start', variables: { order: { id: 'o1', lines: [{ sku: 'A', qty: 1 }] } } }, now, ports).state;
    const before = JSON.parse(JSON.stringify(started)) as InstanceState;
    const jobId = started.waits.find((w) => w.kind === 'job')!.jobId!;

    const next = step(model, started, { type: 'jobCompleted', jobId, output: { reservation: 'r-1' } }, now, ports);

    // Shared, not copied: the runtime and FEEL's memo see an unchanged order by reference.
    expect(next.state.variables.order).toBe(started.variables.order);
    expect(next.state.variables).not.toBe(started.variables);
    expect(next.state.tokens).not.toBe(started.tokens);
    expect(next.state.waits).not.toBe(started.waits);
    // The job's own copy of the variables is its own.
    const job = next.effects.find((e) => e.type === 'runJob');
    expect(job?.type === 'runJob' && job.variables.order).toStrictEqual(started.variables.order);
    expect(job?.type === 'runJob' && job.variables.order).not.toBe(started.variables.order);
    expect(started).toStrictEqual(before);
  });
});

import { describe, expect, it } from 'vitest';
import { forbiddenKeyPath } from '../../../src/http/json-body.ts';

describe('forbiddenKeyPath', () => {
  it('names where a __proto__ key or a constructor.prototype is, in the order a reader meets them', () => {
    expect(forbiddenKeyPath(JSON.parse('{"__proto__": {"admin": true}}'))).toBe('__proto__');
    expect(forbiddenKeyPath(JSON.parse('{"a": [{"b": 1}, {"c": {"__proto__": {}}}]}'))).toBe('a[1].c.__proto__');
    expect(forbiddenKeyPath(JSON.parse('{"lines": [{"sku": "A"}, {"constructor": {"prototype": {}}}]}'))).toBe('lines[1].constructor.prototype');
    expect(forbiddenKeyPath(JSON.parse('[[{"x": {"__proto__": 1}}]]'))).toBe('[0][0].x.__proto__');
  });

  it('lets keys that only look alike through', () => {
    expect(forbiddenKeyPath({ customer: { constructor: 'Bob the builder', prototype: 'x' }, proto: 1 })).toBeNull();
    expect(forbiddenKeyPath(JSON.parse('{"constructor": {"name": "x"}}'))).toBeNull();
    expect(forbiddenKeyPath(null)).toBeNull();
    expect(forbiddenKeyPath('__proto__')).toBeNull();
  });

  it('walks a body nested a hundred thousand levels deep without running out of stack', () => {
    const depth = 100_000;
    expect(forbiddenKeyPath(JSON.parse('['.repeat(depth) + ']'.repeat(depth)))).toBeNull();
    expect(forbiddenKeyPath(JSON.parse('['.repeat(depth) + '{"__proto__": 1}' + ']'.repeat(depth)))).toBe('[0]'.repeat(depth - 1) + '[0].__proto__');
  });
});

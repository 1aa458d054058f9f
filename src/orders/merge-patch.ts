/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, `null` removes a key, anything else replaces.
 * Keys that could reach an object's prototype are refused rather than applied.
 */
export class MergePatchError extends Error {
  readonly code = 'INVALID_PATCH' as const;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function applyMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(key)) throw new MergePatchError(`The patch contains the forbidden key "${path}${key}".`);
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value, `${path}${key}.`);
  }
  return out;
}

/** Paths whose values differ between two JSON documents, with the values before and after (for the audit trail). */
export function changedPaths(before: unknown, after: unknown, path = ''): Array<{ path: string; before: unknown; after: unknown }> {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => changedPaths(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path || '(order)', before: before ?? null, after: after ?? null }];
}

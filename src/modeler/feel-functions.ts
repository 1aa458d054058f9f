import { parseExpression } from 'feelin';
import type { SyntaxNode } from '@lezer/common';

/**
 * What the FEEL function library tells the modeler (GET /api/v1/feel-functions): which functions exist and
 * which issue codes each can raise, so the lint rules and the properties panel can ask for ticket
 * instructions per code. Pure: parsing and reading, no fetching.
 */

export interface FeelFunctionInfo {
  /** The FEEL name, spaces included (`validate address`). */
  name: string;
  raises: readonly string[];
  params?: readonly { name: string }[];
  /** Set when the function raises whatever code its caller passes in this parameter (`issue`). */
  raisesCodeFromParam?: string;
  description?: string;
}

function normalizeName(name: string): string {
  return name.replace(/\s+/g, ' ').trim();
}

/** Read the endpoint's JSON defensively: an array, or `{ functions: [...] }`; malformed entries are dropped. */
export function readFeelFunctions(json: unknown): FeelFunctionInfo[] {
  const list = Array.isArray(json)
    ? json
    : json && typeof json === 'object' && Array.isArray((json as { functions?: unknown }).functions)
      ? (json as { functions: unknown[] }).functions
      : [];
  const out: FeelFunctionInfo[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const { name, raises, params, raisesCodeFromParam, description } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '') continue;
    const info: FeelFunctionInfo = {
      name: normalizeName(name),
      raises: Array.isArray(raises) ? raises.filter((c): c is string => typeof c === 'string' && c !== '') : [],
    };
    if (Array.isArray(params)) {
      info.params = params
        .filter((p): p is { name: string } => !!p && typeof p === 'object' && typeof (p as { name?: unknown }).name === 'string')
        .map((p) => ({ name: p.name }));
    }
    if (typeof raisesCodeFromParam === 'string') info.raisesCodeFromParam = raisesCodeFromParam;
    if (typeof description === 'string') info.description = description;
    out.push(info);
  }
  return out;
}

function stringLiteral(node: SyntaxNode | null, source: string): string | null {
  if (!node || node.name !== 'StringLiteral') return null;
  const raw = source.slice(node.from, node.to);
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : null;
  } catch {
    return raw.slice(1, -1);
  }
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

/** The literal code passed to a function like `issue("MY_CODE", ...)`, positionally or by name. */
function codeArgument(invocation: SyntaxNode, source: string, fn: FeelFunctionInfo): string | null {
  const param = fn.raisesCodeFromParam;
  if (!param) return null;
  const args = children(invocation).find((c) => c.name === 'PositionalParameters' || c.name === 'NamedParameters');
  if (!args) return null;
  if (args.name === 'PositionalParameters') {
    const index = Math.max(0, fn.params?.findIndex((p) => p.name === param) ?? 0);
    return stringLiteral(children(args)[index] ?? null, source);
  }
  for (const named of children(args)) {
    const nameNode = named.getChild('ParameterName');
    if (nameNode && source.slice(nameNode.from, nameNode.to).trim() === param) {
      return stringLiteral(named.lastChild, source);
    }
  }
  return null;
}

export interface ScriptAnalysis {
  /** Library functions the script calls, by FEEL name. */
  calls: string[];
  /** Issue codes the script can raise, in the order first met. */
  codes: string[];
}

/** Which library functions a FEEL script calls and which issue codes it can therefore raise. */
export function analyzeScript(script: string, functions: readonly FeelFunctionInfo[]): ScriptAnalysis {
  const byName = new Map(functions.map((f) => [normalizeName(f.name), f]));
  const calls = new Set<string>();
  const codes = new Set<string>();
  if (script.trim() === '') return { calls: [], codes: [] };
  let tree;
  try {
    const context: Record<string, unknown> = {};
    for (const name of byName.keys()) context[name] = true;
    tree = parseExpression(script, context, undefined);
  } catch {
    return { calls: [], codes: [] };
  }
  tree.iterate({
    enter(ref) {
      if (ref.name !== 'FunctionInvocation') return undefined;
      const callee = ref.node.firstChild;
      if (!callee || callee.name !== 'VariableName') return undefined;
      const name = normalizeName(script.slice(callee.from, callee.to));
      const fn = byName.get(name);
      if (!fn) return undefined;
      calls.add(name);
      for (const code of fn.raises) codes.add(code);
      const passed = codeArgument(ref.node, script, fn);
      if (passed) codes.add(passed);
      return undefined;
    },
  });
  return { calls: [...calls], codes: [...codes] };
}

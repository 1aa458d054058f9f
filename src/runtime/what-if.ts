import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compileDefinitions, step, waitingAt, type CompiledProcess, type EngineEvent, type Effect, type HistoryEntry, type InstanceState, type StepResult } from '../engine/index.ts';
import { diffProcesses, type ProcessDiff } from '../engine/model/diff.ts';
import type { ValidateOptions } from '../engine/model/validate.ts';
import { checkDiagram, DeployRefusedError, latestDefinition } from './definitions.ts';
import { checkOrderVariable, type RuntimeContext } from './instances.ts';
import type { LifecycleSettings } from './lifecycle.ts';

/**
 * What-if before deploy: run a draft diagram's checks and gateway decisions over the last N orders, and the
 * current version's too, without side effects, and say per element how many orders would pass, fail or
 * take another branch than they do now.
 *
 * Each order runs in memory through the pure engine (`step`) on a copy of the variables a real lifecycle
 * starts with (`{ order, orderId, settings }`), with an effect harness that touches nothing:
 *
 *   script tasks     evaluate for real (the FEEL library is pure): pass, or fail with their issue codes
 *   gateways         decide for real
 *   service tasks    answered at once with jobCompleted and no output: no handler runs, nothing retries
 *   user/manual      the run STOPS there ("waits for a person"): a person's answer cannot be predicted,
 *   tasks            and inventing one (approved = true) would report decisions nobody made
 *   messages/timers  the run stops ("would wait for payment-confirmed, order-cancelled or a timer")
 *   tickets          a failing check stops the run where a ticket would open, with its issue codes
 *   incidents        a technical failure (FEEL error, no branch applies, step limit) stops it as an error
 *   call activities  the run stops ("would start process X"); the called process is not simulated
 *
 * The only database access is one read-only transaction that selects the orders.
 */

export const WHAT_IF_DEFAULT_ORDERS = 1_000;
export const WHAT_IF_MAX_ORDERS = 5_000;
/** Job completions the harness feeds one order before it gives up (a loop around a service task). */
const MAX_EVENTS_PER_ORDER = 100;
/** Element entries per engine step: a draft that loops stops as an incident, as it would for real. */
const STEP_LIMIT = 500;
const EXAMPLES_PER_ELEMENT = 5;
/** Orders simulated between two yields to the event loop, so a big run does not stall other requests. */
const YIELD_EVERY = 50;

export interface SimulationPorts {
  now: Date;
  feelFunctions: Record<string, (...args: any[]) => unknown>;
  maxEvents?: number;
  stepLimit?: number;
}

/** What happened at one element in one run (the last visit decides the outcome; flows add up). */
export interface ElementTrace {
  outcome: 'passed' | 'failed' | 'error' | 'waits';
  /** Issue codes of a failed check, BPMN error codes, or the incident's code. */
  codes: string[];
  /** The sequence flows the element was left by: a gateway's decision. */
  flows: string[];
}

export type StopKind = 'ended' | 'ticket' | 'userTask' | 'message' | 'timer' | 'incident' | 'child' | 'limit';

export interface SimulationStop {
  kind: StopKind;
  /** Where the run stopped (the waiting elements, or the end event reached). */
  elementIds: string[];
  /** For message waits: the message names the order would wait for. */
  messages: string[];
  /** Instance status at the stop, and a short technical detail (error text, called process). */
  status: InstanceState['status'];
  detail: string | null;
}

export interface SimulationResult {
  elements: Record<string, ElementTrace>;
  stop: SimulationStop;
}

/** Run one order through a model in memory until it would wait for something other than a job. */
export function simulate(model: CompiledProcess, variables: Record<string, unknown>, ports: SimulationPorts): SimulationResult {
  // As in a real order's lifecycle: a script that would break the order stops there with a technical ticket.
  const enginePorts = { feelFunctions: ports.feelFunctions, stepLimit: ports.stepLimit ?? STEP_LIMIT, checkVariable: checkOrderVariable };
  const history: HistoryEntry[] = [];
  const effects: Effect[] = [];
  let state: InstanceState;
  try {
    let result: StepResult = step(model, null, { type: 'start', variables: structuredClone(variables) }, ports.now, enginePorts);
    history.push(...result.history);
    effects.push(...result.effects);
    state = result.state;
    for (let events = 0; events < (ports.maxEvents ?? MAX_EVENTS_PER_ORDER) && state.status === 'active'; events++) {
      const job = state.waits.find((w) => w.kind === 'job');
      if (!job?.jobId) break;
      const event: EngineEvent = { type: 'jobCompleted', jobId: job.jobId };
      result = step(model, state, event, ports.now, enginePorts);
      history.push(...result.history);
      effects.push(...result.effects);
      state = result.state;
    }
  } catch (err) {
    // Only a start the model cannot make (no none start event) gets here; everything else is an incident.
    return { elements: {}, stop: { kind: 'incident', elementIds: [], messages: [], status: 'failed', detail: (err as Error).message } };
  }
  return { elements: traceOf(model, history), stop: stopOf(model, state, history, effects) };
}

function traceOf(model: CompiledProcess, history: readonly HistoryEntry[]): Record<string, ElementTrace> {
  const out: Record<string, ElementTrace> = {};
  for (const h of history) {
    if (!model.elements[h.elementId]) continue;
    const data = (h.data ?? {}) as { flows?: string[]; action?: string; kind?: string; issues?: Array<{ code: string }>; code?: string | null };
    const t = (out[h.elementId] ??= { outcome: 'waits', codes: [], flows: [] });
    switch (h.event) {
      case 'entered':
        t.outcome = 'waits';
        t.codes = [];
        break;
      case 'left':
        if (t.outcome === 'waits') t.outcome = 'passed';
        for (const f of data.flows ?? []) if (!t.flows.includes(f)) t.flows.push(f);
        break;
      case 'ticket':
        if (data.action !== 'opened') break;
        if (data.kind === 'validation') {
          t.outcome = 'failed';
          t.codes = uniqueCodes(data.issues);
        }
        break;
      case 'incident':
        t.outcome = 'error';
        t.codes = data.code ? [data.code] : [];
        break;
      case 'error':
        t.outcome = 'failed';
        t.codes = data.code ? [data.code] : [];
        break;
      case 'failed':
        t.outcome = 'error';
        break;
      default:
        break;
    }
  }
  return out;
}

function uniqueCodes(issues: Array<{ code: string }> | undefined): string[] {
  return [...new Set((issues ?? []).map((i) => i.code))];
}

function stopOf(model: CompiledProcess, state: InstanceState, history: readonly HistoryEntry[], effects: readonly Effect[]): SimulationStop {
  if (state.status !== 'active') {
    const ends: string[] = [];
    for (let i = history.length - 1; i >= 0; i--) {
      const h = history[i]!;
      if (h.event === 'entered' && model.elements[h.elementId]?.kind === 'endEvent') {
        ends.push(h.elementId);
        break;
      }
    }
    return { kind: 'ended', elementIds: ends, messages: [], status: state.status, detail: state.error };
  }
  const waits = state.waits.filter((w) => w.role !== 'boundary');
  const at = (kinds: string[]) => waits.filter((w) => kinds.includes(w.kind));
  const tokenElement = (tokenId: string) => state.tokens.find((t) => t.id === tokenId)?.elementId;
  const places = (list: typeof waits) => [...new Set(list.map((w) => (w.role === 'option' ? tokenElement(w.tokenId) : w.elementId) ?? w.elementId))];
  const base = { messages: [] as string[], status: state.status, detail: null as string | null };

  const incidents = at(['incident']);
  if (incidents.length > 0) return { ...base, kind: 'incident', elementIds: places(incidents), detail: incidents[0]!.error ?? null };
  const tickets = at(['ticket']);
  if (tickets.length > 0) return { ...base, kind: 'ticket', elementIds: places(tickets) };
  const people = at(['userTask']);
  if (people.length > 0) return { ...base, kind: 'userTask', elementIds: places(people) };
  const children = at(['child']);
  if (children.length > 0) {
    const called = effects.filter((e): e is Extract<Effect, { type: 'startChild' }> => e.type === 'startChild').map((e) => e.processKey);
    return { ...base, kind: 'child', elementIds: places(children), detail: called.length > 0 ? [...new Set(called)].join(', ') : null };
  }
  const messages = at(['message']);
  if (messages.length > 0) {
    const timers = at(['timer']);
    return {
      ...base,
      kind: 'message',
      elementIds: places([...messages, ...timers]),
      messages: [...new Set(messages.map((w) => w.messageName ?? '?'))],
      detail: timers.length > 0 ? 'or a timer' : null,
    };
  }
  const timers = at(['timer']);
  if (timers.length > 0) return { ...base, kind: 'timer', elementIds: places(timers) };
  return { ...base, kind: 'limit', elementIds: waitingAt(state), detail: 'stopped after too many job completions' };
}

// ------------------------------------------------------------------------------------------ comparing

export const CHANGES = ['passInsteadOfFail', 'failInsteadOfPass', 'failsDifferently', 'otherBranch', 'newlyReached', 'noLongerReached'] as const;
export type Change = (typeof CHANGES)[number];

export const CHANGE_LABELS: Readonly<Record<Change, string>> = Object.freeze({
  passInsteadOfFail: 'would pass instead of failing',
  failInsteadOfPass: 'would fail instead of passing',
  failsDifferently: 'would fail with other issues',
  otherBranch: 'would take another branch',
  newlyReached: 'would get here (they do not now)',
  noLongerReached: 'would no longer get here',
});

export interface OutcomeCounts {
  reached: number;
  passed: number;
  /** Failed checks (a ticket would open) and technical errors. */
  failed: number;
  waits: number;
}

export interface WhatIfExample {
  orderId: string;
  externalId: string;
  change: Change;
  current: ElementTrace | null;
  draft: ElementTrace | null;
}

export interface ElementReport {
  elementId: string;
  name: string | null;
  type: string;
  draft: OutcomeCounts;
  current: OutcomeCounts | null;
  changes: Record<Change, number>;
  /** Up to five orders that changed here: ones whose outcome or branch differs, else ones that newly (no longer) get here. */
  examples: WhatIfExample[];
}

export interface StopSummary {
  label: string;
  kind: StopKind;
  count: number;
}

export interface SimulatedOrder {
  orderId: string;
  externalId: string;
  current: SimulationResult | null;
  draft: SimulationResult;
}

export interface WhatIfComparison {
  orders: number;
  /** Orders with at least one change anywhere. */
  ordersChanged: number;
  totals: Record<Change, number>;
  elements: ElementReport[];
  stops: { draft: StopSummary[]; current: StopSummary[] | null };
}

function isFail(t: ElementTrace): boolean {
  return t.outcome === 'failed' || t.outcome === 'error';
}

function isDecision(id: string, ...models: Array<CompiledProcess | null>): boolean {
  return models.some((m) => {
    const el = m?.elements[id];
    return !!el && (el.kind === 'exclusiveGateway' || el.kind === 'inclusiveGateway' || el.outgoing.length > 1);
  });
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** The changes one order shows at one element between the current version and the draft. */
export function changesAt(current: ElementTrace | undefined, draft: ElementTrace | undefined, decision: boolean, hasCurrent = true): Change[] {
  if (!hasCurrent) return [];
  if (!current && !draft) return [];
  if (!current) return ['newlyReached'];
  if (!draft) return ['noLongerReached'];
  const out: Change[] = [];
  if (isFail(current) && draft.outcome === 'passed') out.push('passInsteadOfFail');
  else if (current.outcome === 'passed' && isFail(draft)) out.push('failInsteadOfPass');
  else if (isFail(current) && isFail(draft) && !sameList(current.codes, draft.codes)) out.push('failsDifferently');
  if (decision && current.flows.length > 0 && draft.flows.length > 0 && !sameList(current.flows, draft.flows)) out.push('otherBranch');
  return out;
}

function emptyCounts(): OutcomeCounts {
  return { reached: 0, passed: 0, failed: 0, waits: 0 };
}

function count(c: OutcomeCounts, t: ElementTrace | undefined): void {
  if (!t) return;
  c.reached++;
  if (t.outcome === 'passed') c.passed++;
  else if (isFail(t)) c.failed++;
  else c.waits++;
}

function zeroChanges(): Record<Change, number> {
  return Object.fromEntries(CHANGES.map((c) => [c, 0])) as Record<Change, number>;
}

function elementLabel(model: CompiledProcess, id: string): string {
  const el = model.elements[id];
  return el?.name ? `“${el.name}”` : id;
}

/** "Ticket at “Validate address”", "Waits for payment-confirmed or a timer at “Wait for payment”", ... */
export function describeStop(model: CompiledProcess, stop: SimulationStop): string {
  const where = stop.elementIds.map((id) => elementLabel(model, id)).join(', ');
  switch (stop.kind) {
    case 'ended':
      return stop.status === 'completed' ? `Ends${where ? ` at ${where}` : ''}` : `Ends ${stop.status}${stop.detail ? `: ${stop.detail}` : ''}`;
    case 'ticket':
      return `Ticket at ${where}`;
    case 'userTask':
      return `Waits for a person at ${where}`;
    case 'message':
      return `Waits for ${stop.messages.join(', ')}${stop.detail ? ` ${stop.detail}` : ''} at ${where}`;
    case 'timer':
      return `Waits for a timer at ${where}`;
    case 'incident':
      return `Technical error${where ? ` at ${where}` : ''}${stop.detail ? `: ${stop.detail}` : ''}`;
    case 'child':
      return `Would start ${stop.detail ?? 'another process'} at ${where}`;
    case 'limit':
      return `Stopped after too many steps at ${where}`;
  }
}

function summariseStops(model: CompiledProcess, stops: SimulationStop[]): StopSummary[] {
  const byLabel = new Map<string, StopSummary>();
  for (const s of stops) {
    const label = describeStop(model, s);
    const entry = byLabel.get(label) ?? { label, kind: s.kind, count: 0 };
    entry.count++;
    byLabel.set(label, entry);
  }
  return [...byLabel.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}

/**
 * Per element, over every order: outcomes under the draft (and the current version), and the orders that
 * would change. Elements no order reaches in either version are left out.
 */
export function compareSimulations(draftModel: CompiledProcess, currentModel: CompiledProcess | null, runs: readonly SimulatedOrder[]): WhatIfComparison {
  const ids = [...Object.keys(draftModel.elements), ...Object.keys(currentModel?.elements ?? {}).filter((id) => !draftModel.elements[id])];
  const reports = new Map<string, ElementReport>();
  const totals = zeroChanges();
  const primaryExamples = new Map<string, WhatIfExample[]>();
  const reachExamples = new Map<string, WhatIfExample[]>();
  let ordersChanged = 0;
  for (const id of ids) {
    const el = draftModel.elements[id] ?? currentModel!.elements[id]!;
    reports.set(id, { elementId: id, name: el.name, type: el.type, draft: emptyCounts(), current: currentModel ? emptyCounts() : null, changes: zeroChanges(), examples: [] });
  }
  for (const run of runs) {
    let changed = false;
    for (const id of ids) {
      const r = reports.get(id)!;
      const d = run.draft.elements[id];
      const c = run.current?.elements[id];
      count(r.draft, d);
      if (r.current) count(r.current, c);
      const changes = changesAt(c, d, isDecision(id, draftModel, currentModel), !!currentModel && !!run.current);
      for (const change of changes) {
        r.changes[change]++;
        totals[change]++;
      }
      if (changes.length > 0) {
        changed = true;
        // Orders whose outcome differs here come first; "gets here now" examples only where nothing else differs.
        const list = changes[0] === 'newlyReached' || changes[0] === 'noLongerReached' ? reachExamples : primaryExamples;
        const examples = list.get(id) ?? [];
        if (examples.length < EXAMPLES_PER_ELEMENT) examples.push({ orderId: run.orderId, externalId: run.externalId, change: changes[0]!, current: c ?? null, draft: d ?? null });
        list.set(id, examples);
      }
    }
    if (changed) ordersChanged++;
  }
  for (const [id, r] of reports) r.examples = primaryExamples.get(id) ?? reachExamples.get(id) ?? [];
  const elements = [...reports.values()].filter((r) => r.draft.reached > 0 || (r.current?.reached ?? 0) > 0);
  return {
    orders: runs.length,
    ordersChanged,
    totals,
    elements,
    stops: {
      draft: summariseStops(draftModel, runs.map((r) => r.draft.stop)),
      current: currentModel ? summariseStops(currentModel, runs.flatMap((r) => (r.current ? [r.current.stop] : []))) : null,
    },
  };
}

// ------------------------------------------------------------------------------------------ the use case

export interface WhatIfReport extends WhatIfComparison {
  key: string;
  draftName: string | null;
  /** The version the draft is compared with (the latest executable one), or null for a new process. */
  currentVersion: number | null;
  limit: number;
  diff: ProcessDiff | null;
  elapsedMs: number;
}

export interface WhatIfDeps {
  ctx: Pick<RuntimeContext, 'db' | 'models' | 'feelFunctions' | 'clock'>;
  settings: LifecycleSettings;
  validateOptions: ValidateOptions;
}

/** Clamp a requested order count to what a what-if run takes. */
export function whatIfLimit(requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested)) return WHAT_IF_DEFAULT_ORDERS;
  return Math.max(1, Math.min(WHAT_IF_MAX_ORDERS, Math.floor(requested)));
}

export interface WhatIfRun {
  report: WhatIfReport;
  /** The compiled models compared, for callers that describe the report (names of elements and flows). */
  draft: CompiledProcess;
  current: CompiledProcess | null;
}

/**
 * Parse and validate the draft (DeployRefusedError, like a deploy, when it is broken), then simulate the
 * last `limit` orders under the draft and under the latest deployed version of `key`.
 */
export async function whatIf(deps: WhatIfDeps, input: { key: string; xml: string | Uint8Array; limit?: number }): Promise<WhatIfRun> {
  const started = performance.now();
  const { ctx } = deps;
  const { parsed } = await checkDiagram(input.xml, deps.validateOptions);
  const draft = compileDefinitions(parsed.definitions).find((m) => m.key === input.key);
  if (!draft) {
    throw new DeployRefusedError([
      { elementId: input.key, elementType: 'bpmn:Process', message: `The draft has no executable process with the id "${input.key}"; a what-if compares a draft with the process it would replace.` },
    ]);
  }
  const limit = whatIfLimit(input.limit);
  const { current, currentVersion, orders } = await ctx.db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx) => {
      const def = await latestDefinition(trx, input.key, { executableOnly: true });
      const model = def ? await ctx.models.get(trx, def.id) : null;
      const rows = await trx.selectFrom('orders').select(['id', 'external_id', 'data']).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return { current: model, currentVersion: def?.version ?? null, orders: rows };
    });

  const ports: SimulationPorts = { now: ctx.clock(), feelFunctions: ctx.feelFunctions };
  const runs: SimulatedOrder[] = [];
  for (let i = 0; i < orders.length; i++) {
    const o = orders[i]!;
    const variables = { order: o.data, orderId: o.id, settings: { ...deps.settings } };
    runs.push({ orderId: o.id, externalId: o.external_id, draft: simulate(draft, variables, ports), current: current ? simulate(current, variables, ports) : null });
    if ((i + 1) % YIELD_EVERY === 0) await yieldToLoop();
  }
  const report: WhatIfReport = {
    key: input.key,
    draftName: draft.name,
    currentVersion,
    limit,
    diff: current ? diffProcesses(current, draft) : null,
    ...compareSimulations(draft, current, runs),
    elapsedMs: Math.round(performance.now() - started),
  };
  return { report, draft, current };
}

import type { BoundaryEventElement, CompiledElement, CompiledProcess, TicketDefinition, TimerDefinition } from '../model/types.ts';
import type {
  AgendaItem,
  EngineEvent,
  EnginePorts,
  Effect,
  HistoryEntry,
  HistoryEvent,
  InstanceState,
  Issue,
  ScopeInstance,
  TicketKind,
  Token,
  Wait,
} from './types.ts';
import { evaluateFeel, FeelError, toPlain, type FeelOptions } from '../feel.ts';
import { clonePlain } from './clone.ts';
import { EngineError, isEngineError } from './errors.ts';
import { nextDue, planTimer } from './iso.ts';
import { behaviourFor } from './behaviours/index.ts';
import { multiInstance } from './behaviours/multi-instance.ts';

/**
 * One call of `step`: the token lifecycle, written once. Behaviours (one per element kind) only say what
 * their element does on entry and when its wait is triggered; everything else (history, boundary timers,
 * leaving by sequence flows, joins settling, scopes ending, errors propagating, incidents, the step limit,
 * withdrawing waits) happens here.
 *
 * A Run works on its own copy of the state; `step` discards it unless the event applied.
 */

export const ROOT_SCOPE = 'root';
export const DEFAULT_STEP_LIMIT = 1_000;

export interface Behaviour<E extends CompiledElement = CompiledElement> {
  /** A token entered the element: complete it (`run.complete`), or register a wait and `run.wait` it. */
  enter(run: Run, token: Token, el: E): void;
  /** One of the element's own waits was triggered by an event. */
  trigger?(run: Run, token: Token, el: E, wait: Wait, event: EngineEvent): void;
  /** The outgoing flows a leaving token takes; activities' rule when absent (see `Run.activityFlows`). */
  selectFlows?(run: Run, token: Token, el: E): string[];
}

function clean(value: Record<string, unknown> | undefined): Record<string, unknown> {
  return value ? (toPlain(value) as Record<string, unknown>) : {};
}

export class Run {
  readonly effects: Effect[] = [];
  readonly history: HistoryEntry[] = [];
  readonly at: string;
  private readonly limit: number;
  private readonly feelOptions: FeelOptions;
  private readonly checkVariable: EnginePorts['checkVariable'];
  private agenda: AgendaItem[] = [];
  private entries = 0;
  private halted = false;

  constructor(
    readonly model: CompiledProcess,
    readonly state: InstanceState,
    readonly now: Date,
    ports: EnginePorts,
  ) {
    this.at = now.toISOString();
    this.limit = ports.stepLimit ?? DEFAULT_STEP_LIMIT;
    this.feelOptions = { functions: ports.feelFunctions, now };
    this.checkVariable = ports.checkVariable;
  }

  // ---------------------------------------------------------------- lookups and bookkeeping

  nextId(prefix: string): string {
    this.state.seq += 1;
    return `${prefix}${this.state.seq}`;
  }

  element(id: string): CompiledElement {
    const el = this.model.elements[id];
    if (!el) throw new EngineError('MODEL_INVALID', `The instance refers to element ${id}, which its process version does not have.`, id);
    return el;
  }

  token(id: string): Token | undefined {
    return this.state.tokens.find((t) => t.id === id);
  }

  scope(id: string): ScopeInstance | undefined {
    return this.state.scopes.find((s) => s.id === id);
  }

  tokensIn(scopeId: string): Token[] {
    return this.state.tokens.filter((t) => t.scopeId === scopeId);
  }

  record(elementId: string, event: HistoryEvent, data?: unknown): void {
    const elementType = elementId === this.model.key ? 'bpmn:Process' : (this.model.elements[elementId]?.type ?? 'unknown');
    const entry: HistoryEntry = { elementId, elementType, event, at: this.at };
    if (data !== undefined) entry.data = data;
    this.history.push(entry);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  // ---------------------------------------------------------------- variables

  /**
   * What FEEL sees from a scope: process variables overlaid with the locals of every multi-instance body
   * on the way up (an inner body wins).
   */
  variables(scopeId: string): Record<string, unknown> {
    const locals: Record<string, unknown>[] = [];
    for (let s = this.scope(scopeId); s; s = s.parentId ? this.scope(s.parentId) : undefined) {
      if (s.variables) locals.push(s.variables);
    }
    if (locals.length === 0) return this.state.variables;
    const view = { ...this.state.variables };
    for (let i = locals.length - 1; i >= 0; i--) Object.assign(view, locals[i]);
    return view;
  }

  /** Writes land in the nearest multi-instance body (so parallel instances keep their own), else the process. */
  setVariables(scopeId: string, values: Record<string, unknown> | undefined, elementId: string): void {
    const plain = clean(values);
    if (Object.keys(plain).length === 0) return;
    let target = this.state.variables;
    for (let s = this.scope(scopeId); s; s = s.parentId ? this.scope(s.parentId) : undefined) {
      if (s.kind === 'miBody') {
        target = s.variables ??= {};
        break;
      }
    }
    Object.assign(target, plain);
    this.record(elementId, 'variables', plain);
  }

  snapshot(scopeId: string): Record<string, unknown> {
    return clonePlain(this.variables(scopeId));
  }

  /** Refuse a script's result that the host's check refuses for that variable (an incident at the element). */
  checkResult(elementId: string, name: string, value: unknown, scopeId: string): void {
    const problem = this.checkVariable?.(name, toPlain(value), this.variables(scopeId)[name]) ?? null;
    if (problem === null) return;
    const el = this.element(elementId);
    throw new EngineError('VARIABLE_INVALID', `${el.type} ${el.name ? `"${el.name}" ` : ''}(${el.id}) produced a value for "${name}" that was not stored: ${problem}`, elementId);
  }

  feel(expression: string, scopeId: string, extra?: Record<string, unknown>): unknown {
    const vars = this.variables(scopeId);
    return evaluateFeel(expression, extra ? { ...vars, ...extra } : vars, this.feelOptions);
  }

  condition(expression: string, scopeId: string, extra?: Record<string, unknown>): boolean {
    return this.feel(expression, scopeId, extra) === true;
  }

  // ---------------------------------------------------------------- tokens, scopes, waits

  createToken(elementId: string, scopeId: string, viaFlow: string | null = null): Token {
    const token: Token = { id: this.nextId('t'), elementId, scopeId, status: 'ready', viaFlow };
    this.state.tokens.push(token);
    return token;
  }

  createScope(elementId: string, kind: ScopeInstance['kind'], host: Token, variables?: Record<string, unknown>): ScopeInstance {
    const scope: ScopeInstance = { id: this.nextId('s'), elementId, kind, parentId: host.scopeId, hostTokenId: host.id };
    if (variables) scope.variables = variables;
    this.state.scopes.push(scope);
    return scope;
  }

  addWait(wait: Omit<Wait, 'waitId'>): Wait {
    const w = { waitId: this.nextId('w'), ...wait } as Wait;
    this.state.waits.push(w);
    return w;
  }

  waitsOf(tokenId: string, role?: Wait['role']): Wait[] {
    return this.state.waits.filter((w) => w.tokenId === tokenId && (role === undefined || w.role === role));
  }

  /** Forget a wait whose event has happened (no effect: the timer fired, the job finished...). */
  dropWait(wait: Wait): void {
    const i = this.state.waits.indexOf(wait);
    if (i >= 0) this.state.waits.splice(i, 1);
  }

  /** Take back a wait that will no longer be needed, telling the outside world. */
  withdrawWait(wait: Wait): void {
    this.dropWait(wait);
    if (wait.ticketKind) {
      this.emit({ type: 'closeTicket', waitId: wait.waitId, resolution: 'cancelled' });
      this.record(wait.elementId, 'ticket', { action: 'closed', waitId: wait.waitId, resolution: 'cancelled' });
    }
    if (wait.kind === 'timer' && wait.timerId) this.emit({ type: 'cancelTimer', timerId: wait.timerId });
    if (wait.kind === 'job' && wait.jobId) this.emit({ type: 'cancelJob', jobId: wait.jobId });
    if (wait.kind === 'child') this.emit({ type: 'cancelChild', waitId: wait.waitId });
    // Tokens parked by the step limit on this incident must not be stranded with it.
    for (const item of wait.resume ?? []) if (this.token(item.tokenId)) this.agenda.push(item);
  }

  openTicket(
    token: Token,
    kind: 'ticket' | 'userTask' | 'incident',
    ticketKind: TicketKind,
    issues: Issue[],
    ticket: TicketDefinition | null,
    error?: string,
  ): Wait {
    const wait = this.addWait({ kind, elementId: token.elementId, tokenId: token.id, role: 'main', ticketKind, issues });
    const effect: Effect = { type: 'openTicket', waitId: wait.waitId, elementId: token.elementId, kind: ticketKind, issues, ticket };
    if (error !== undefined) effect.error = error;
    this.emit(effect);
    this.record(token.elementId, 'ticket', { action: 'opened', waitId: wait.waitId, kind: ticketKind, issues, ...(error ? { error } : {}) });
    return wait;
  }

  closeTicket(wait: Wait, resolution: 'resolved' | 'cancelled'): void {
    this.dropWait(wait);
    this.emit({ type: 'closeTicket', waitId: wait.waitId, resolution });
    this.record(wait.elementId, 'ticket', { action: 'closed', waitId: wait.waitId, resolution });
  }

  /** Arm a timer for `elementId` (a catch event, a boundary event, an event-gateway option). */
  scheduleTimer(token: Token, elementId: string, timer: TimerDefinition, role: Wait['role'], extra?: Partial<Wait>): Wait {
    let text = timer.expression;
    if (text.startsWith('=')) {
      const value = this.feel(text.slice(1), token.scopeId);
      if (typeof value !== 'string') throw new EngineError('TIMER_INVALID', `The timer expression ${text} gave ${JSON.stringify(value)}, not an ISO 8601 text.`, elementId);
      text = value;
    }
    const plan = planTimer(timer.kind, text, this.now);
    const timerId = this.nextId('tm');
    const wait = this.addWait({
      kind: 'timer',
      elementId,
      tokenId: token.id,
      role,
      timerId,
      dueAt: plan.dueAt,
      remaining: plan.remaining,
      period: plan.period,
      ...extra,
    });
    this.emit({ type: 'scheduleTimer', timerId, elementId, dueAt: plan.dueAt });
    return wait;
  }

  /** Re-arm a cycle timer after it fired; false when it has no firings left. */
  rearmTimer(wait: Wait): boolean {
    if (wait.remaining === 0 || !wait.period || !wait.dueAt) return false;
    wait.timerId = this.nextId('tm');
    wait.dueAt = nextDue(wait.dueAt, wait.period);
    if (wait.remaining !== null && wait.remaining !== undefined) wait.remaining -= 1;
    this.emit({ type: 'scheduleTimer', timerId: wait.timerId, elementId: wait.elementId, dueAt: wait.dueAt });
    return true;
  }

  // ---------------------------------------------------------------- the lifecycle

  enqueue(op: AgendaItem['op'], token: Token): void {
    token.status = 'ready';
    this.agenda.push({ op, tokenId: token.id });
  }

  /** Move a token along a sequence flow to the flow's target. */
  arrive(token: Token, flowId: string): void {
    const flow = this.model.flows[flowId]!;
    token.elementId = flow.targetId;
    token.viaFlow = flowId;
    this.enqueue('enter', token);
  }

  /** The element is done with the token: it leaves (after the current step of the loop). */
  complete(token: Token): void {
    this.enqueue('leave', token);
  }

  /** The token waits at its element; activities get their boundary timers armed. */
  wait(token: Token): void {
    token.status = 'waiting';
    if (token.miBody) return; // boundaries belong to the multi-instance activity as a whole
    const el = this.element(token.elementId);
    for (const id of el.boundaryEvents) {
      const b = this.element(id) as BoundaryEventElement;
      if (b.trigger !== 'timer' || this.state.waits.some((w) => w.tokenId === token.id && w.elementId === id)) continue;
      this.scheduleTimer(token, id, b.timer!, 'boundary');
    }
  }

  /** The token ends here (end event, activity without outgoing flows); its scope may be done. */
  consume(token: Token): void {
    this.removeToken(token);
    this.checkScopeEnd(token.scopeId);
  }

  /** Remove a token without further ado (merged into a join, a finished multi-instance body, an error end). */
  removeToken(token: Token): void {
    const i = this.state.tokens.indexOf(token);
    if (i >= 0) this.state.tokens.splice(i, 1);
  }

  /** Withdraw one scope instance and every token in it. */
  withdrawScope(scope: ScopeInstance): void {
    for (const inner of this.tokensIn(scope.id)) this.withdrawToken(inner);
    const i = this.state.scopes.indexOf(scope);
    if (i >= 0) this.state.scopes.splice(i, 1);
  }

  /** Withdraw a token and everything it carries: its waits, the scopes it hosts and their tokens. */
  withdrawToken(token: Token): void {
    for (const scope of this.state.scopes.filter((s) => s.hostTokenId === token.id)) this.withdrawScope(scope);
    for (const w of this.waitsOf(token.id)) this.withdrawWait(w);
    this.agenda = this.agenda.filter((a) => a.tokenId !== token.id);
    this.removeToken(token);
    this.record(token.elementId, 'withdrawn');
  }

  /** Run the loop until every token waits (or the step limit stops it). */
  drain(): void {
    for (;;) {
      while (this.agenda.length > 0 && this.state.status === 'active') {
        const item = this.agenda.shift()!;
        const token = this.token(item.tokenId);
        if (!token) continue;
        if (item.op === 'enter') this.enterNow(token);
        else this.leaveNow(token);
      }
      if (this.halted || this.state.status !== 'active' || !this.settleInclusiveJoin()) return;
    }
  }

  /** Run a piece of element behaviour; what goes wrong becomes an incident on the token. */
  guard(token: Token, phase: 'enter' | 'leave', fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!isEngineError(err)) throw err;
      if (this.token(token.id)) this.incident(token, phase, err);
    }
  }

  private enterNow(token: Token): void {
    if (this.entries >= this.limit) {
      this.halted = true;
      const parked = this.agenda;
      this.agenda = [];
      const w = this.incident(
        token,
        'enter',
        new EngineError('STEP_LIMIT', `Stopped after ${this.limit} element entries without waiting: the process probably loops.`, token.elementId),
      );
      // The tokens still on the way are parked with the incident, not lost: a retry resumes them too.
      if (parked.length > 0) w.resume = parked;
      return;
    }
    this.entries += 1;
    const el = this.element(token.elementId);
    this.record(el.id, 'entered');
    this.guard(token, 'enter', () => {
      if (el.multiInstance && !token.miBody) multiInstance.enter(this, token, el);
      else behaviourFor(el).enter(this, token, el);
    });
  }

  private leaveNow(token: Token): void {
    const el = this.element(token.elementId);
    this.guard(token, 'leave', () => {
      if (token.miBody) {
        multiInstance.instanceCompleted(this, token, el);
        return;
      }
      const behaviour = behaviourFor(el);
      const flows = behaviour.selectFlows ? behaviour.selectFlows(this, token, el) : this.activityFlows(token, el);
      for (const w of this.waitsOf(token.id, 'boundary')) this.withdrawWait(w);
      delete token.mi;
      this.record(el.id, 'left', flows.length > 0 ? { flows } : undefined);
      this.take(token, flows);
    });
  }

  /** Send the token down the given flows (copies for all but the first); none: the token ends here. */
  take(token: Token, flows: string[]): void {
    if (flows.length === 0) {
      this.consume(token);
      return;
    }
    flows.forEach((flowId, i) => {
      const t = i === 0 ? token : this.createToken(token.elementId, token.scopeId);
      this.arrive(t, flowId);
    });
  }

  /**
   * Leaving an activity or event: every unconditional flow plus every conditional one that holds; the
   * default flow only when nothing else does.
   */
  activityFlows(token: Token, el: CompiledElement): string[] {
    if (el.outgoing.length === 0) return [];
    const taken: string[] = [];
    let conditional = false;
    for (const id of el.outgoing) {
      const f = this.model.flows[id]!;
      if (f.isDefault) continue;
      if (f.condition === null) taken.push(id);
      else {
        conditional = true;
        if (this.condition(f.condition, token.scopeId)) taken.push(id);
      }
    }
    if (taken.length > 0) return taken;
    if (el.defaultFlow) return [el.defaultFlow];
    if (!conditional) return [];
    throw new EngineError('NO_OUTGOING_FLOW', `No condition on the flows leaving ${el.id} holds, and it has no default flow.`, el.id);
  }

  // ---------------------------------------------------------------- joins

  /** Fire one inclusive join whose missing branches can no longer arrive; true if one fired. */
  private settleInclusiveJoin(): boolean {
    for (const token of this.state.tokens) {
      if (token.status !== 'joining') continue;
      const el = this.element(token.elementId);
      if (el.kind !== 'inclusiveGateway') continue;
      const blocked = this.state.tokens.some((t) => t.scopeId === token.scopeId && t.elementId !== el.id && el.upstream.has(t.elementId));
      if (blocked) continue;
      this.fireJoin(el, token.scopeId);
      return true;
    }
    return false;
  }

  /** The tokens joining at a gateway in a scope, one per incoming flow (the earliest arrival). */
  joiningAt(el: CompiledElement, scopeId: string): Map<string, Token> {
    const byFlow = new Map<string, Token>();
    for (const t of this.state.tokens) {
      if (t.status === 'joining' && t.elementId === el.id && t.scopeId === scopeId && t.viaFlow && !byFlow.has(t.viaFlow)) byFlow.set(t.viaFlow, t);
    }
    return byFlow;
  }

  /** Merge the joining tokens (one per flow) into the first, which leaves the gateway. */
  fireJoin(el: CompiledElement, scopeId: string): void {
    const [first, ...rest] = [...this.joiningAt(el, scopeId).values()];
    for (const t of rest) this.removeToken(t);
    this.complete(first!);
  }

  // ---------------------------------------------------------------- scopes

  checkScopeEnd(scopeId: string): void {
    if (this.tokensIn(scopeId).length > 0) return;
    const scope = this.scope(scopeId);
    if (!scope) return;
    if (scope.kind === 'process') {
      // Nothing should be left waiting without a token; if something is, it must not outlive the instance.
      for (const w of [...this.state.waits]) this.withdrawWait(w);
      this.finish('completed');
      return;
    }
    this.state.scopes.splice(this.state.scopes.indexOf(scope), 1);
    const host = this.token(scope.hostTokenId!);
    if (host) this.complete(host);
  }

  /** Terminate end event: end every other token of the scope; the scope then completes. */
  terminateScope(token: Token): void {
    for (const t of this.tokensIn(token.scopeId)) if (t !== token) this.withdrawToken(t);
    this.consume(token);
  }

  // ---------------------------------------------------------------- errors, incidents, endings

  /** The token whose boundary events apply: a multi-instance body's errors belong to the whole activity. */
  boundaryOwner(token: Token): Token {
    if (!token.miBody) return token;
    const body = this.scope(token.scopeId)!;
    return this.token(body.hostTokenId!)!;
  }

  findErrorBoundary(activityId: string, code: string | null): BoundaryEventElement | null {
    let catchAll: BoundaryEventElement | null = null;
    for (const id of this.element(activityId).boundaryEvents) {
      const b = this.element(id) as BoundaryEventElement;
      if (b.trigger !== 'error') continue;
      if (b.errorCode === null) catchAll ??= b;
      else if (code !== null && b.errorCode === code) return b;
    }
    return catchAll;
  }

  /** Interrupt (or not) the host and start a token on the boundary event. */
  startBoundary(host: Token, boundary: BoundaryEventElement): void {
    const scopeId = host.scopeId;
    if (boundary.cancelActivity) this.withdrawToken(host);
    const t = this.createToken(boundary.id, scopeId);
    this.enqueue('enter', t);
  }

  /**
   * Throw a BPMN error. With `atToken`, the token's own activity's error boundaries are tried first;
   * then each enclosing sub-process / multi-instance activity outwards. Uncaught, the instance fails.
   */
  throwError(origin: Token, code: string | null, message: string | null, atToken: boolean): void {
    this.record(origin.elementId, 'error', { code, message });
    let t = origin;
    let check = atToken;
    for (;;) {
      if (check) {
        const owner = this.boundaryOwner(t);
        const b = this.findErrorBoundary(owner.elementId, code);
        if (b) {
          this.startBoundary(owner, b);
          return;
        }
        t = owner;
      }
      const scope = this.scope(t.scopeId);
      const host = scope?.hostTokenId ? this.token(scope.hostTokenId) : undefined;
      if (!host) {
        const what = code ? `BPMN error ${code}` : 'A BPMN error';
        this.fail(origin.elementId, `${what}${message ? ` (${message})` : ''} thrown at ${origin.elementId} was not caught.`);
        return;
      }
      t = host;
      check = true;
    }
  }

  /**
   * A technical problem at a token: its own waits are withdrawn, a technical ticket opens, and the token
   * waits for a ticketRetry, which re-runs the phase that failed (with the parked tokens, if any).
   */
  incident(token: Token, phase: 'enter' | 'leave', err: EngineError): Wait {
    for (const w of this.waitsOf(token.id)) if (w.role !== 'boundary') this.withdrawWait(w);
    token.status = 'incident';
    const el = this.element(token.elementId);
    // A FEEL limit reads the same in any expression: the ticket says where it was hit.
    const message = err instanceof FeelError && err.reason === 'limit' ? `${el.type} ${el.name ? `"${el.name}" ` : ''}(${el.id}): ${err.message}` : err.message;
    this.record(token.elementId, 'incident', { code: err.code, error: message });
    // A service task's or call activity's ticket describes its technical failure; a script's, its issues.
    const ticket = el.kind === 'serviceTask' || el.kind === 'callActivity' ? el.ticket : null;
    const wait = this.openTicket(token, 'incident', 'technical', [{ code: err.code, message }], ticket, message);
    wait.phase = phase;
    wait.error = message;
    return wait;
  }

  /** A timer boundary fired: interrupting, the host is withdrawn; otherwise both go on (cycles re-arm). */
  fireBoundaryTimer(wait: Wait, host: Token): void {
    const b = this.element(wait.elementId) as BoundaryEventElement;
    if (b.cancelActivity) {
      this.dropWait(wait);
      this.startBoundary(host, b);
      return;
    }
    if (!this.rearmTimer(wait)) this.dropWait(wait);
    this.enqueue('enter', this.createToken(b.id, host.scopeId));
  }

  resolveIncident(wait: Wait, token: Token, variables: Record<string, unknown> | undefined): void {
    this.closeTicket(wait, 'resolved');
    this.setVariables(token.scopeId, variables, token.elementId);
    this.enqueue(wait.phase ?? 'enter', token);
    for (const item of wait.resume ?? []) if (this.token(item.tokenId)) this.agenda.push(item);
  }

  /** Withdraw everything still running (cancel, failure). */
  private withdrawAll(): void {
    for (const w of [...this.state.waits]) this.withdrawWait(w);
    for (const t of this.state.tokens) this.record(t.elementId, 'withdrawn');
    this.state.tokens = [];
    this.state.scopes = this.state.scopes.filter((s) => s.kind === 'process');
    this.agenda = [];
  }

  private finish(outcome: 'completed' | 'cancelled' | 'failed', error?: string, data?: unknown): void {
    this.state.status = outcome;
    this.agenda = [];
    const effect: Effect = { type: 'ended', outcome };
    if (error !== undefined) {
      effect.error = error;
      this.state.error = error;
    }
    this.emit(effect);
    this.record(this.model.key, outcome === 'completed' ? 'left' : outcome, data);
  }

  /** The instance cannot go on (an uncaught BPMN error): everything stops, a technical ticket tells people. */
  fail(elementId: string, error: string): void {
    this.withdrawAll();
    const waitId = this.nextId('w');
    this.emit({ type: 'openTicket', waitId, elementId, kind: 'technical', issues: [{ code: 'UNCAUGHT_ERROR', message: error }], ticket: null, error });
    this.record(elementId, 'failed', { error, waitId });
    this.finish('failed', error, { error });
  }

  cancel(reason: string): void {
    this.withdrawAll();
    this.finish('cancelled', undefined, { reason });
  }
}

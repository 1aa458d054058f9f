import type { CompiledProcess } from '../model/types.ts';
import type { EngineEvent, EnginePorts, InstanceState, StepResult, Wait } from './types.ts';
import { EngineError } from './errors.ts';
import { behaviourFor } from './behaviours/index.ts';
import { clonePlain } from './clone.ts';
import { ROOT_SCOPE, Run } from './run.ts';

/**
 * Apply one event to one instance: `step(model, state, event, now, ports) → { state, effects, history }`.
 *
 * Pure: the input state is never modified, the clock is `now`, the only outside code run is the FEEL
 * function library. Tokens run synchronously until every one waits. An event that finds nothing to act
 * on (a timer, job, ticket or message for a wait that no longer exists, any event for an ended instance)
 * returns the very same state object with no effects and no history, so callers may deliver twice.
 */
export function step(model: CompiledProcess, state: InstanceState | null, event: EngineEvent, now: Date, ports: EnginePorts): StepResult {
  if (event.type === 'start') {
    if (state) throw new EngineError('INVALID_EVENT', 'A start event needs no state: the instance already exists.');
    return start(model, event, now, ports);
  }
  if (!state) throw new EngineError('INVALID_EVENT', `A ${event.type} event needs the instance's state.`);
  if (state.status !== 'active') return { state, effects: [], history: [] };

  if (event.type === 'cancel') {
    const run = new Run(model, working(state), now, ports);
    run.cancel(event.reason);
    return { state: run.state, effects: run.effects, history: run.history };
  }

  const index = state.waits.findIndex((w) => matches(w, event));
  if (index < 0) return { state, effects: [], history: [] };

  const run = new Run(model, working(state), now, ports);
  const wait = run.state.waits[index]!;
  const token = run.token(wait.tokenId);
  if (!token) throw new EngineError('INVALID_EVENT', `Wait ${wait.waitId} belongs to token ${wait.tokenId}, which the state does not have.`);
  if (wait.kind === 'incident') {
    run.resolveIncident(wait, token, event.type === 'ticketRetry' ? event.variables : undefined);
  } else if (wait.role === 'boundary') {
    run.fireBoundaryTimer(wait, token);
  } else {
    const el = run.element(token.elementId);
    const behaviour = behaviourFor(el);
    run.guard(token, 'enter', () => behaviour.trigger?.(run, token, el, wait, event));
  }
  run.drain();
  return { state: run.state, effects: run.effects, history: run.history };
}

/**
 * The state a step works on, so the one given stays as it was: its own tokens, scopes and waits (a step
 * changes those in place) and its own variables object, holding the given state's values. Variable values
 * are never changed in place, only replaced (`setVariables` stores fresh plain copies), so they are shared
 * rather than copied: an unchanged order is then the same object before and after the step, which the
 * runtime's comparisons and FEEL's per-object memo see at once, and a step copies a few hundred bytes of
 * bookkeeping instead of the whole order. Engine tests freeze every state they pass in, so a step that
 * changed a shared value in place would fail them.
 */
function working(state: InstanceState): InstanceState {
  return { ...state, variables: { ...state.variables }, tokens: clonePlain(state.tokens), scopes: clonePlain(state.scopes), waits: clonePlain(state.waits) };
}

function matches(w: Wait, event: Exclude<EngineEvent, { type: 'start' | 'cancel' }>): boolean {
  switch (event.type) {
    case 'message':
      return w.kind === 'message' && w.messageName === event.name;
    case 'timer':
      return w.kind === 'timer' && w.timerId === event.timerId;
    case 'jobCompleted':
    case 'jobFailed':
    case 'jobError':
      return w.kind === 'job' && w.jobId === event.jobId;
    case 'ticketRetry':
      return w.waitId === event.waitId && (w.kind === 'ticket' || w.kind === 'incident');
    case 'userTaskCompleted':
      return w.waitId === event.waitId && w.kind === 'userTask';
    case 'childCompleted':
    case 'childFailed':
      return w.waitId === event.waitId && w.kind === 'child';
  }
}

function start(model: CompiledProcess, event: Extract<EngineEvent, { type: 'start' }>, now: Date, ports: EnginePorts): StepResult {
  const startId = event.startEventId ?? model.startEvents.none[0];
  const el = startId ? model.elements[startId] : undefined;
  if (!startId || !el || el.kind !== 'startEvent' || el.scopeId !== model.key) {
    throw new EngineError(
      'INVALID_EVENT',
      startId ? `${startId} is not a start event of process ${model.key}.` : `Process ${model.key} has no none start event; name the start event to use.`,
    );
  }
  const state: InstanceState = {
    status: 'active',
    variables: {},
    tokens: [],
    scopes: [{ id: ROOT_SCOPE, elementId: model.key, kind: 'process', parentId: null, hostTokenId: null }],
    waits: [],
    seq: 0,
    error: null,
  };
  const run = new Run(model, state, now, ports);
  run.record(model.key, 'entered', { startEventId: startId });
  run.setVariables(ROOT_SCOPE, event.variables, startId);
  const token = run.createToken(startId, ROOT_SCOPE);
  if (event.incident !== undefined) run.incident(token, 'enter', new EngineError('JOB_FAILED', event.incident, startId));
  else run.enqueue('enter', token);
  run.drain();
  return { state: run.state, effects: run.effects, history: run.history };
}

import type { CompiledProcess, StartEvents, TimerDefinition } from '../model/types.ts';
import type { EnginePorts, InstanceState } from './types.ts';
import { evaluateFeel } from '../feel.ts';
import { EngineError } from './errors.ts';
import { planTimer, type TimerPlan } from './iso.ts';

/** Element ids where the instance's tokens are (waiting, joining, stopped), hosts of sub-processes left out. */
export function waitingAt(state: InstanceState): string[] {
  const hosts = new Set(state.scopes.map((s) => s.hostTokenId));
  const ids = new Set<string>();
  for (const t of state.tokens) if (!hosts.has(t.id)) ids.add(t.elementId);
  return [...ids];
}

/** Message names the instance would accept now. */
export function messageSubscriptions(state: InstanceState): string[] {
  if (state.status !== 'active') return [];
  const names = new Set<string>();
  for (const w of state.waits) if (w.kind === 'message' && w.messageName) names.add(w.messageName);
  return [...names];
}

/** How instances of the process start: none start events, message names, timers (for the caller to schedule). */
export function startEventsFor(model: CompiledProcess): StartEvents {
  return model.startEvents;
}

/**
 * When a timer (e.g. a timer start event) is due, counted from `now`. FEEL timers (`=...`) see no
 * variables, only the function library.
 */
export function planStartTimer(timer: TimerDefinition, now: Date, ports: EnginePorts): TimerPlan {
  let text = timer.expression;
  if (text.startsWith('=')) {
    const value = evaluateFeel(text.slice(1), {}, { functions: ports.feelFunctions, now });
    if (typeof value !== 'string') throw new EngineError('TIMER_INVALID', `The timer expression ${text} gave ${JSON.stringify(value)}.`);
    text = value;
  }
  return planTimer(timer.kind, text, now);
}

import type { CompiledElement } from '../../model/types.ts';
import type { Token } from '../types.ts';
import type { Run } from '../run.ts';
import { EngineError } from '../errors.ts';

/**
 * Multi-instance activities (any activity with `ordo:collection`). The outer token waits at the activity
 * (its boundary events belong to it) while one body instance per item runs the activity itself: all at
 * once (parallel) or one after the other (sequential). Each body is a scope with local variables
 * (`elementVariable`, `loopCounter`, and whatever the body sets); when it completes, `outputElement` is
 * evaluated there and stored at the item's index. When all are done, or `completionCondition` holds
 * (the others are withdrawn), `outputCollection` gets the list and the outer token leaves.
 */

function startInstance(run: Run, outer: Token, el: CompiledElement): void {
  const progress = outer.mi!;
  const index = progress.next++;
  const locals: Record<string, unknown> = { loopCounter: index + 1 };
  const variable = el.multiInstance!.elementVariable;
  if (variable) locals[variable] = progress.items[index] ?? null;
  const body = run.createScope(el.id, 'miBody', outer, locals);
  body.index = index;
  const inner = run.createToken(el.id, body.id);
  inner.miBody = true;
  run.enqueue('enter', inner);
}

function finish(run: Run, outer: Token, el: CompiledElement): void {
  const output = el.multiInstance!.outputCollection;
  if (output) run.setVariables(outer.scopeId, { [output]: outer.mi!.results }, el.id);
  run.complete(outer);
}

export const multiInstance = {
  enter(run: Run, outer: Token, el: CompiledElement): void {
    const mi = el.multiInstance!;
    const items = run.feel(mi.collection, outer.scopeId);
    if (!Array.isArray(items)) {
      throw new EngineError('MULTI_INSTANCE_INVALID', `The collection ${mi.collection} of ${el.id} is ${JSON.stringify(items)}, not a list.`, el.id);
    }
    outer.mi = { items, results: items.map(() => null), next: 0, completed: 0 };
    if (items.length === 0) {
      finish(run, outer, el);
      return;
    }
    run.wait(outer);
    const start = mi.isSequential ? 1 : items.length;
    for (let i = 0; i < start; i++) startInstance(run, outer, el);
  },

  /** A body instance left the activity. Reads first, then writes: a failing FEEL leaves nothing half-done. */
  instanceCompleted(run: Run, inner: Token, el: CompiledElement): void {
    const mi = el.multiInstance!;
    const body = run.scope(inner.scopeId)!;
    const outer = run.token(body.hostTokenId!)!;
    const progress = outer.mi!;
    const active = run.state.scopes.filter((s) => s.hostTokenId === outer.id).length;
    const counters = {
      nrOfInstances: progress.items.length,
      nrOfCompletedInstances: progress.completed + 1,
      nrOfActiveInstances: active - 1,
    };
    const result = mi.outputElement ? run.feel(mi.outputElement, body.id) : null;
    const done = mi.completionCondition ? run.condition(mi.completionCondition, body.id, counters) : false;

    progress.results[body.index!] = result;
    progress.completed += 1;
    run.removeToken(inner);
    run.state.scopes.splice(run.state.scopes.indexOf(body), 1);
    run.record(el.id, 'left', { instance: body.index });

    if (done || progress.completed === progress.items.length) {
      for (const other of run.state.scopes.filter((s) => s.hostTokenId === outer.id)) run.withdrawScope(other);
      finish(run, outer, el);
    } else if (mi.isSequential) {
      startInstance(run, outer, el);
    }
  },
};

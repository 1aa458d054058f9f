import type { CallActivityElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';
import { EngineError } from '../errors.ts';

/**
 * Starts an instance of the process `calledElement` (the caller does, on the startChild effect) with a
 * copy of the visible variables, and waits. childCompleted merges the child's variables back.
 * childFailed is thrown at the call activity as an error whose code is the failure text, so an error
 * boundary (matching code, or catch-all) takes it; otherwise it is a technical ticket whose retry
 * starts a new child.
 */
export const callActivity: Behaviour<CallActivityElement> = {
  enter(run, token, el) {
    const wait = run.addWait({ kind: 'child', elementId: el.id, tokenId: token.id, role: 'main' });
    run.emit({ type: 'startChild', waitId: wait.waitId, elementId: el.id, processKey: el.calledElement, variables: run.snapshot(token.scopeId) });
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    run.dropWait(wait);
    if (event.type === 'childCompleted') {
      run.setVariables(token.scopeId, event.variables, el.id);
      run.complete(token);
      return;
    }
    if (event.type !== 'childFailed') return;
    const owner = run.boundaryOwner(token);
    const boundary = run.findErrorBoundary(owner.elementId, event.error);
    if (boundary) {
      run.record(el.id, 'error', { code: event.error, message: 'child instance failed' });
      run.startBoundary(owner, boundary);
      return;
    }
    run.incident(token, 'enter', new EngineError('CHILD_FAILED', event.error, el.id));
  },
};

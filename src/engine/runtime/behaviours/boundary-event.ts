import type { BoundaryEventElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/**
 * A token is put on a boundary event only once it has fired (Run.fireBoundaryTimer, Run.throwError):
 * it then leaves by its outgoing flows. Arming the timers is the lifecycle's job (Run.wait).
 */
export const boundaryEvent: Behaviour<BoundaryEventElement> = {
  enter(run, token) {
    run.complete(token);
  },
};

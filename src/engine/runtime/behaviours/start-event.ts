import type { StartEventElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/** Start events (none, message, timer) have fired by the time a token is on them: they pass it on. */
export const startEvent: Behaviour<StartEventElement> = {
  enter(run, token) {
    run.complete(token);
  },
};

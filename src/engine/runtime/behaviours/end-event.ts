import type { EndEventElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/**
 * None: the token ends (its scope completes when it was the last). Terminate: every token of the scope
 * ends with it. Error: the token ends and the error propagates to the enclosing sub-process' boundary
 * events, outwards; uncaught, the instance fails.
 */
export const endEvent: Behaviour<EndEventElement> = {
  enter(run, token, el) {
    if (el.result === 'terminate') {
      run.terminateScope(token);
      return;
    }
    if (el.result === 'error') {
      run.removeToken(token);
      run.throwError(token, el.errorCode, el.errorMessage, false);
      return;
    }
    run.consume(token);
  },
};

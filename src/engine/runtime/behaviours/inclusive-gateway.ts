import type { GatewayElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/**
 * Forks: every flow whose condition holds (unconditional ones always), the default flow when none does.
 * Joins: the arriving token waits; once the run loop has nothing else to do, the join fires when no
 * token of the same scope sits on an element from which it could still reach the gateway
 * (`GatewayElement.upstream`, computed at compile time). See Run.settleInclusiveJoin.
 */
export const inclusiveGateway: Behaviour<GatewayElement> = {
  enter(run, token, el) {
    if (el.incoming.length <= 1) {
      run.complete(token);
      return;
    }
    token.status = 'joining';
  },

  selectFlows(run, token, el) {
    return run.activityFlows(token, el);
  },
};

import type { GatewayElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/** Joins: waits until a token has arrived on every incoming flow. Forks: every outgoing flow, conditions ignored. */
export const parallelGateway: Behaviour<GatewayElement> = {
  enter(run, token, el) {
    if (el.incoming.length <= 1) {
      run.complete(token);
      return;
    }
    token.status = 'joining';
    if (run.joiningAt(el, token.scopeId).size === el.incoming.length) run.fireJoin(el, token.scopeId);
  },

  selectFlows(_run, _token, el) {
    return [...el.outgoing];
  },
};

import type { GatewayElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';
import { EngineError } from '../errors.ts';

/**
 * The first outgoing flow (document order) whose condition holds, or that has none; the default flow
 * when none does. No flow at all is a technical problem at the gateway (a ticket; retry re-decides).
 * Several incoming flows simply pass through: an exclusive gateway never joins.
 */
export const exclusiveGateway: Behaviour<GatewayElement> = {
  enter(run, token) {
    run.complete(token);
  },

  selectFlows(run, token, el) {
    for (const id of el.outgoing) {
      const f = run.model.flows[id]!;
      if (f.isDefault) continue;
      if (f.condition === null || run.condition(f.condition, token.scopeId)) return [id];
    }
    if (el.defaultFlow) return [el.defaultFlow];
    if (el.outgoing.length === 0) return [];
    throw new EngineError('NO_OUTGOING_FLOW', `No condition on the flows leaving gateway ${el.id} holds, and it has no default flow.`, el.id);
  },
};

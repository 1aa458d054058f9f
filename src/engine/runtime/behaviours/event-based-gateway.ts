import type { GatewayElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';
import { EngineError } from '../errors.ts';

/**
 * Subscribes to the event of every catch event (message or timer) or receive task after it. The first
 * to happen wins: the other subscriptions are withdrawn and the token moves through the winner, which
 * completes at once since its event has already happened.
 */
export const eventBasedGateway: Behaviour<GatewayElement> = {
  enter(run, token, el) {
    for (const flowId of el.outgoing) {
      const target = run.element(run.model.flows[flowId]!.targetId);
      if (target.kind === 'intermediateCatchEvent' && target.trigger === 'timer') {
        run.scheduleTimer(token, target.id, target.timer!, 'option', { flowId });
      } else if (target.kind === 'intermediateCatchEvent' || target.kind === 'receiveTask') {
        run.addWait({ kind: 'message', elementId: target.id, tokenId: token.id, role: 'option', messageName: target.messageName!, flowId });
      } else {
        throw new EngineError('MODEL_INVALID', `Event-based gateway ${el.id} leads to ${target.id}, which is no catch event.`, el.id);
      }
    }
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    run.dropWait(wait);
    for (const other of run.waitsOf(token.id, 'option')) run.withdrawWait(other);
    run.record(el.id, 'left', { flows: [wait.flowId] });
    token.elementId = wait.elementId;
    token.viaFlow = wait.flowId ?? null;
    run.record(wait.elementId, 'entered');
    if (event.type === 'message') run.setVariables(token.scopeId, event.variables, wait.elementId);
    run.complete(token);
  },
};

import type { ReceiveTaskElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/** Waits for its message (by name); the message's variables are merged. */
export const receiveTask: Behaviour<ReceiveTaskElement> = {
  enter(run, token, el) {
    run.addWait({ kind: 'message', elementId: el.id, tokenId: token.id, role: 'main', messageName: el.messageName });
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    run.dropWait(wait);
    if (event.type === 'message') run.setVariables(token.scopeId, event.variables, el.id);
    run.complete(token);
  },
};

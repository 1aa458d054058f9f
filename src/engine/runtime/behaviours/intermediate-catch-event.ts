import type { IntermediateCatchEventElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/** Waits for a message (variables merged) or a timer (a cycle fires once here). */
export const intermediateCatchEvent: Behaviour<IntermediateCatchEventElement> = {
  enter(run, token, el) {
    if (el.trigger === 'message') {
      run.addWait({ kind: 'message', elementId: el.id, tokenId: token.id, role: 'main', messageName: el.messageName! });
    } else {
      run.scheduleTimer(token, el.id, el.timer!, 'main');
    }
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    run.dropWait(wait);
    if (event.type === 'message') run.setVariables(token.scopeId, event.variables, el.id);
    run.complete(token);
  },
};

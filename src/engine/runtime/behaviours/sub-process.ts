import type { SubProcessElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/**
 * An embedded sub-process opens a scope with a token on its none start event; the host token waits at
 * the sub-process and leaves when the scope's last token ends (Run.checkScopeEnd). Variables are shared
 * with the enclosing scope.
 */
export const subProcess: Behaviour<SubProcessElement> = {
  enter(run, token, el) {
    const scope = run.createScope(el.id, 'subProcess', token);
    const start = run.model.scopes[el.id]!.startEventId!;
    run.enqueue('enter', run.createToken(start, scope.id));
    run.wait(token);
  },
};

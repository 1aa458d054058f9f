import type { UserTaskElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/**
 * User tasks and manual tasks: a person does something. Entering opens a manual ticket (with the
 * element's `ordo:ticket`); userTaskCompleted merges the form's variables and moves on.
 *
 * Manual tasks wait too rather than pass through: in Ordo a manual step exists to be confirmed by
 * someone (the console shows it as a ticket); a step nobody confirms belongs in a plain `bpmn:Task`.
 */
export const userTask: Behaviour<UserTaskElement> = {
  enter(run, token, el) {
    run.openTicket(token, 'userTask', 'manual', [], el.ticket);
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    if (event.type !== 'userTaskCompleted') return;
    run.closeTicket(wait, 'resolved');
    run.setVariables(token.scopeId, event.variables, el.id);
    run.complete(token);
  },
};

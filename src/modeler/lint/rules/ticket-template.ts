import { isActivity, ticketTemplateProblems } from '../../../engine/model/validate.ts';
import { templateError } from '../../../tickets/template-check.ts';
import { inExecutableProcess, isFlowElement, ordoTickets } from '../../model.ts';
import { reportId, type RuleDefinition } from '../types.ts';

/**
 * ordo/ticket-template: a ticket's title and instructions must compile as Handlebars templates. The same
 * compile and the same words as the deploy's refusal (src/tickets/template-check.ts, through the validator's
 * ticketTemplateProblems), so the analyst reads the server's reason before deploying.
 */
export default function ticketTemplate(): RuleDefinition {
  return {
    check(node, reporter) {
      if (!isActivity(node) || !isFlowElement(node) || !inExecutableProcess(node)) return;
      for (const ticket of ordoTickets(node)) {
        for (const problem of ticketTemplateProblems(ticket, templateError)) reporter.report(reportId(node), problem);
      }
    },
  };
}

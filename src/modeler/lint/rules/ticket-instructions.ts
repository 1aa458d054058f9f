import { isIsoDuration } from '../../../engine/model/feel-syntax.ts';
import { analyzeScript } from '../../feel-functions.ts';
import {
  inExecutableProcess,
  isFlowElement,
  label,
  missingInstructionCodes,
  onIssuesOf,
  ordoTickets,
  text,
  ticketInstructions,
} from '../../model.ts';
import { reportId, type OrdoRuleOptions, type RuleDefinition } from '../types.ts';

/**
 * ordo/ticket-instructions: an operator who gets a ticket must get steps to follow. A script task that opens
 * tickets needs instructions for each issue code its script can raise, or a fallback without code.
 *
 * Which codes a script can raise comes from the FEEL function library (options.functions, fetched by the
 * modeler); until it is known, the rule asks for at least one set of instructions on every ticket.
 */
export default function ticketInstructionsRule(options: OrdoRuleOptions = {}): RuleDefinition {
  const functions = options.functions ?? [];

  return {
    check(task, reporter) {
      // A ticket's due time, on a script or a user task, as the server reads it at deploy.
      if ((task.$type === 'bpmn:ScriptTask' || task.$type === 'bpmn:UserTask') && isFlowElement(task) && inExecutableProcess(task)) {
        for (const ticket of ordoTickets(task)) {
          const due = ticket.due;
          if (due !== undefined && due !== null && !isIsoDuration(text(due))) {
            reporter.report(reportId(task), `The ticket's due time "${text(due)}" is not an ISO 8601 duration: write PT4H for four hours, P1D for a day.`);
          }
        }
      }
      if (task.$type !== 'bpmn:ScriptTask' || !isFlowElement(task) || !inExecutableProcess(task)) return;
      if (onIssuesOf(task) !== 'ticket') return;
      const id = reportId(task);
      const tickets = ordoTickets(task);
      const instructions = tickets.flatMap((t) => ticketInstructions(t));

      for (const item of instructions) {
        if (typeof item.text !== 'string' || item.text.trim() === '') {
          const code = text(item.code);
          reporter.report(id, `${code ? `The instructions for ${code}` : 'The fallback instructions'} are empty: write the steps the operator should take.`);
        }
      }

      const script = typeof task.script === 'string' ? task.script : '';
      const codes = functions.length > 0 ? analyzeScript(script, functions).codes : [];
      if (tickets.length === 0) {
        if (codes.length > 0) {
          reporter.report(id, `${label(task)} can raise issues (${codes.join(', ')}) and would open a ticket, but has no ticket: add one with instructions, or set "On issues" to error or continue.`);
        }
        return;
      }
      if (instructions.length === 0) {
        reporter.report(id, `The ticket of ${label(task)} has no instructions: add instructions for each issue code${codes.length > 0 ? ` (${codes.join(', ')})` : ''}, or fallback instructions without a code.`);
        return;
      }
      const missing = missingInstructionCodes(codes, instructions);
      if (missing.length > 0) {
        reporter.report(id, `Missing ticket instructions for ${missing.join(', ')}: the script can raise ${missing.length === 1 ? 'this code' : 'these codes'}, and the operator would get a ticket with no steps. Add instructions for each, or fallback instructions without a code.`);
      }
    },
  };
}

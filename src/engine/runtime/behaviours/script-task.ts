import type { ScriptTaskElement } from '../../model/types.ts';
import type { Issue, Token, Wait } from '../types.ts';
import type { Behaviour, Run } from '../run.ts';

/**
 * A FEEL script; its value goes to `ordo:resultVariable`. A non-empty list of issues (objects with a
 * `code`) fails the task, and `ordo:onIssues` says how: "ticket" (default) opens a validation ticket and
 * waits for a ticketRetry, which re-evaluates; "error" throws a BPMN error with the first issue's code;
 * "continue" only stores the result.
 */

export function asIssues(value: unknown): Issue[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const issues: Issue[] = [];
  for (const item of value) {
    if (!item || typeof item !== 'object' || typeof (item as Issue).code !== 'string') return null;
    const { code, field, message } = item as Record<string, unknown>;
    const issue: Issue = { code: code as string };
    if (typeof field === 'string') issue.field = field;
    if (typeof message === 'string') issue.message = message;
    issues.push(issue);
  }
  return issues;
}

function evaluate(run: Run, token: Token, el: ScriptTaskElement): Issue[] | null {
  const value = run.feel(el.script, token.scopeId);
  if (el.resultVariable) run.checkResult(el.id, el.resultVariable, value, token.scopeId);
  if (el.resultVariable) run.setVariables(token.scopeId, { [el.resultVariable]: value }, el.id);
  return el.onIssues === 'continue' ? null : asIssues(value);
}

export const scriptTask: Behaviour<ScriptTaskElement> = {
  enter(run, token, el) {
    const issues = evaluate(run, token, el);
    if (!issues) {
      run.complete(token);
      return;
    }
    if (el.onIssues === 'error') {
      run.throwError(token, issues[0]!.code, issues[0]!.message ?? null, true);
      return;
    }
    run.openTicket(token, 'ticket', 'validation', issues, el.ticket);
    run.wait(token);
  },

  trigger(run, token, el, wait: Wait, event) {
    if (event.type !== 'ticketRetry') return;
    run.setVariables(token.scopeId, event.variables, el.id);
    const issues = evaluate(run, token, el);
    if (!issues) {
      run.closeTicket(wait, 'resolved');
      run.complete(token);
      return;
    }
    wait.issues = issues;
    run.emit({ type: 'updateTicket', waitId: wait.waitId, issues });
    run.record(el.id, 'ticket', { action: 'updated', waitId: wait.waitId, issues });
  },
};

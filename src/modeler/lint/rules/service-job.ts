import { isIsoDuration } from '../../../engine/model/feel-syntax.ts';
import { inExecutableProcess, isFlowElement, text } from '../../model.ts';
import { reportId, type RuleDefinition } from '../types.ts';

/**
 * ordo/service-job: a service task names the worker job that performs it (ordo:job), with a whole number of
 * retries and an ISO 8601 backoff, as the deploy requires. Whether a worker handles that job only the server knows.
 */
export default function serviceJob(): RuleDefinition {
  return {
    check(task, reporter) {
      if (task.$type !== 'bpmn:ServiceTask' || !isFlowElement(task) || !inExecutableProcess(task)) return;
      const id = reportId(task);
      if (text(task.job) === '') reporter.report(id, 'A service task needs ordo:job: the name of the worker job that performs it.', ['job']);
      if (task.retries !== undefined && !/^\d+$/.test(text(task.retries))) {
        reporter.report(id, `ordo:retries="${String(task.retries)}" must be a whole number, 0 or more.`, ['retries']);
      }
      if (task.backoff !== undefined && !isIsoDuration(text(task.backoff))) {
        reporter.report(id, `ordo:backoff="${String(task.backoff)}" is not an ISO 8601 duration (e.g. PT10S).`, ['backoff']);
      }
    },
  };
}

import {
  GATEWAYS_WITH_CONDITIONS,
  expressionBody,
  inExecutableProcess,
  isFlowElement,
  label,
  nodeOf,
  outgoingFlows,
} from '../../model.ts';
import { reportId, type RuleDefinition } from '../types.ts';

/**
 * ordo/condition-required: a branch out of an exclusive or inclusive gateway needs a FEEL condition unless it is
 * the gateway's default flow; and conditions only belong where Ordo evaluates them. Mirrors the server's
 * deploy checks (src/engine/model/validate.ts), so what lints clean here deploys.
 */
export default function conditionRequired(): RuleDefinition {
  return {
    check(flow, reporter) {
      if (flow.$type !== 'bpmn:SequenceFlow' || !isFlowElement(flow) || !inExecutableProcess(flow)) return;
      const source = nodeOf(flow.sourceRef);
      if (!source) return;
      const id = reportId(flow);
      const isDefault = nodeOf(source.default) === flow;
      const body = expressionBody(flow.conditionExpression);
      const gateway = GATEWAYS_WITH_CONDITIONS.has(source.$type);

      if (body !== undefined) {
        if (source.$type === 'bpmn:ParallelGateway') {
          reporter.report(id, 'A parallel gateway takes every branch: remove this condition, or use an inclusive gateway.', ['conditionExpression']);
        } else if (source.$type === 'bpmn:EventBasedGateway') {
          reporter.report(id, 'Flows out of an event-based gateway cannot have conditions: the first event to arrive decides.', ['conditionExpression']);
        } else if (!gateway) {
          reporter.report(id, `Only exclusive and inclusive gateways evaluate conditions: put an exclusive gateway after ${label(source)}, or remove this condition.`, ['conditionExpression']);
        } else if (isDefault) {
          reporter.report(id, `This is the default flow of ${label(source)} and also has a condition: a default flow is taken when no condition holds, so remove the condition.`, ['conditionExpression']);
        } else if (body.trim() === '') {
          reporter.report(id, "The condition is empty: write a FEEL condition, or make this the gateway's default flow.", ['conditionExpression']);
        }
        return;
      }
      if (gateway && !isDefault && outgoingFlows(source).length > 1) {
        const kind = source.$type === 'bpmn:ExclusiveGateway' ? 'exclusive' : 'inclusive';
        reporter.report(id, `This branch of the ${kind} gateway ${label(source)} has no condition and is not its default flow: add a FEEL condition, or make it the default flow.`, ['conditionExpression']);
      }
    },
  };
}

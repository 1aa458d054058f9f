import { IGNORED_ELEMENT_TYPES, unsupportedReason } from '../../../engine/model/supported.ts';
import { inExecutableProcess, isFlowElement, type ModdleNode } from '../../model.ts';
import { reportId, type RuleDefinition } from '../types.ts';

/**
 * ordo/unsupported-element: what Ordo cannot execute, with the server's own reason (src/engine/model/supported.ts),
 * so the analyst sees at drawing time what the deploy would refuse. Only executable processes are judged, and
 * nothing inside an element that is already refused (one message per refused element, as the server does).
 */
export default function unsupportedElement(): RuleDefinition {
  function refusedAncestor(node: ModdleNode): boolean {
    for (let parent = node.$parent, depth = 0; parent && depth < 1000; parent = parent.$parent, depth++) {
      if (parent.$type === 'bpmn:Process') return false;
      if (isFlowElement(parent) && unsupportedReason(parent as Parameters<typeof unsupportedReason>[0])) return true;
    }
    return false;
  }

  return {
    check(node, reporter) {
      if (IGNORED_ELEMENT_TYPES.has(node.$type) || !isFlowElement(node) || !inExecutableProcess(node)) return;
      if (refusedAncestor(node)) return;
      const reason = unsupportedReason(node as Parameters<typeof unsupportedReason>[0]);
      if (reason) reporter.report(reportId(node), reason);
    },
  };
}

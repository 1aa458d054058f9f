import { checkFeelSyntax, checkTimerExpression, scriptResultVariables, unknownFunctionCalls, type TimerKind } from '../../../engine/model/feel-syntax.ts';
import { expressionBody, inExecutableProcess, isFlowElement, nodeList, nodeOf, text, type ModdleNode } from '../../model.ts';
import { reportId, type OrdoRuleOptions, type Reporter, type RuleDefinition } from '../types.ts';

const TIMER_KINDS: readonly TimerKind[] = ['timeDuration', 'timeDate', 'timeCycle'];

/**
 * ordo/feel-syntax: every FEEL text Ordo evaluates must parse — scripts, conditions, multi-instance
 * collections, timers — using the server's own parser check (src/engine/model/feel-syntax.ts).
 */
export default function feelSyntax(options: OrdoRuleOptions = {}): RuleDefinition {
  const knownNames = (options.functions ?? []).map((f) => f.name);

  function checkFeel(node: ModdleNode, reporter: Reporter, what: string, expression: string, path: string[]): void {
    const error = checkFeelSyntax(expression, 'expression', knownNames);
    if (error) {
      reporter.report(reportId(node), `${what}: ${error.message}`, path);
      return;
    }
    // As the server judges it at deploy: only once the function list has loaded.
    if (!options.functions) return;
    for (const call of unknownFunctionCalls(expression, knownNames, resultVariablesOf(node))) reporter.report(reportId(node), `${what} ${call.message}`, path);
  }

  /** The result variables of the process the node is in (a script may store a function there). */
  function resultVariablesOf(node: ModdleNode): string[] {
    let process: ModdleNode | undefined = node;
    for (let depth = 0; process && process.$type !== 'bpmn:Process' && depth < 1000; depth++) process = nodeOf(process.$parent);
    return process ? scriptResultVariables(process) : [];
  }

  function checkExpression(node: ModdleNode, reporter: Reporter, what: string, value: unknown, path: string[]): void {
    const body = expressionBody(value);
    if (body === undefined || body.trim() === '') return;
    const language = text(nodeOf(value)?.language);
    if (language && !/feel/i.test(language)) {
      reporter.report(reportId(node), `${what} is written in "${language}"; Ordo evaluates FEEL only.`, path);
      return;
    }
    checkFeel(node, reporter, what, body, path);
  }

  function checkScriptTask(task: ModdleNode, reporter: Reporter): void {
    const format = text(task.scriptFormat);
    const script = typeof task.script === 'string' ? task.script : '';
    if (format.toLowerCase() !== 'feel') {
      reporter.report(
        reportId(task),
        format ? `Script format "${format}" is not supported: Ordo runs FEEL scripts (scriptFormat="feel").` : 'A script task needs scriptFormat="feel": Ordo runs FEEL scripts only.',
        ['scriptFormat'],
      );
      return;
    }
    if (script.trim() === '') {
      reporter.report(reportId(task), 'This script task has no script: write the FEEL expression.', ['script']);
      return;
    }
    checkFeel(task, reporter, 'The script', script, ['script']);
  }

  function checkLoop(activity: ModdleNode, reporter: Reporter): void {
    const loop = nodeOf(activity.loopCharacteristics);
    if (!loop || loop.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return;
    const collection = typeof loop.collection === 'string' ? loop.collection : '';
    if (collection.trim() === '') {
      reporter.report(reportId(activity), 'Multi-instance needs ordo:collection: a FEEL expression giving the list to run over (e.g. order.lines).', ['loopCharacteristics', 'collection']);
    } else {
      checkFeel(activity, reporter, 'ordo:collection', collection, ['loopCharacteristics', 'collection']);
    }
    if (typeof loop.outputElement === 'string' && loop.outputElement.trim() !== '') {
      checkFeel(activity, reporter, 'ordo:outputElement', loop.outputElement, ['loopCharacteristics', 'outputElement']);
    }
    checkExpression(activity, reporter, 'The completion condition', loop.completionCondition, ['loopCharacteristics', 'completionCondition']);
  }

  function checkTimers(event: ModdleNode, reporter: Reporter): void {
    for (const definition of nodeList(event.eventDefinitions)) {
      if (definition.$type !== 'bpmn:TimerEventDefinition') continue;
      const present = TIMER_KINDS.filter((kind) => definition[kind] !== undefined && definition[kind] !== null);
      if (present.length !== 1) {
        reporter.report(reportId(event), present.length === 0
          ? 'This timer has no definition: give it a duration (timeDuration), a date (timeDate) or a cycle (timeCycle).'
          : `This timer has ${present.join(' and ')}; a timer has exactly one of them.`);
        continue;
      }
      const kind = present[0]!;
      const error = checkTimerExpression(kind, expressionBody(definition[kind]) ?? '', knownNames);
      if (error) reporter.report(reportId(event), `${kind}: ${error}`);
    }
  }

  return {
    check(node, reporter) {
      if (!isFlowElement(node) || !inExecutableProcess(node)) return;
      if (node.$type === 'bpmn:ScriptTask') checkScriptTask(node, reporter);
      if (node.$type === 'bpmn:SequenceFlow') {
        checkExpression(node, reporter, 'The condition', node.conditionExpression, ['conditionExpression']);
      }
      if (node.loopCharacteristics) checkLoop(node, reporter);
      if (node.eventDefinitions) checkTimers(node, reporter);
    },
  };
}

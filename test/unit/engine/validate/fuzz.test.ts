import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpmnParseError, parseBpmn } from '../../../../src/engine/model/parse.ts';
import { validateDefinitions } from '../../../../src/engine/model/validate.ts';

/**
 * Random diagrams, wired at random: whatever parseBpmn accepts, validateDefinitions must answer with
 * refusals (or none), never a throw and never its internal-error fallback.
 */

const NODE_TEMPLATES: Array<(id: string) => string> = [
  (id) => `<bpmn:startEvent id="${id}" />`,
  (id) => `<bpmn:startEvent id="${id}"><bpmn:messageEventDefinition messageRef="Message_1" /></bpmn:startEvent>`,
  (id) => `<bpmn:startEvent id="${id}"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`,
  (id) => `<bpmn:endEvent id="${id}" />`,
  (id) => `<bpmn:endEvent id="${id}"><bpmn:errorEventDefinition errorRef="Error_1" /></bpmn:endEvent>`,
  (id) => `<bpmn:endEvent id="${id}"><bpmn:terminateEventDefinition /></bpmn:endEvent>`,
  (id) => `<bpmn:exclusiveGateway id="${id}" />`,
  (id) => `<bpmn:inclusiveGateway id="${id}" />`,
  (id) => `<bpmn:parallelGateway id="${id}" />`,
  (id) => `<bpmn:eventBasedGateway id="${id}" />`,
  (id) => `<bpmn:complexGateway id="${id}" />`,
  (id) => `<bpmn:task id="${id}" />`,
  (id) => `<bpmn:userTask id="${id}"><bpmn:extensionElements><ordo:ticket title="{{x}}" priority="high"><ordo:instructions>Do it</ordo:instructions></ordo:ticket></bpmn:extensionElements></bpmn:userTask>`,
  (id) => `<bpmn:serviceTask id="${id}" ordo:job="reserve-stock" ordo:retries="3" />`,
  (id) => `<bpmn:scriptTask id="${id}" scriptFormat="feel"><bpmn:script>validate address(order)</bpmn:script></bpmn:scriptTask>`,
  (id) => `<bpmn:receiveTask id="${id}" messageRef="Message_1" />`,
  (id) => `<bpmn:sendTask id="${id}" />`,
  (id) => `<bpmn:intermediateCatchEvent id="${id}"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`,
  (id) => `<bpmn:intermediateCatchEvent id="${id}"><bpmn:messageEventDefinition messageRef="Message_1" /></bpmn:intermediateCatchEvent>`,
  (id) => `<bpmn:intermediateThrowEvent id="${id}" />`,
  (id) => `<bpmn:callActivity id="${id}" calledElement="other" />`,
  (id) => `<bpmn:subProcess id="${id}"><bpmn:startEvent id="${id}_s" /><bpmn:sequenceFlow id="${id}_f" sourceRef="${id}_s" targetRef="${id}_e" /><bpmn:endEvent id="${id}_e" /></bpmn:subProcess>`,
  (id) => `<bpmn:subProcess id="${id}"><bpmn:multiInstanceLoopCharacteristics ordo:collection="order.lines" /></bpmn:subProcess>`,
  (id) => `<bpmn:subProcess id="${id}" triggeredByEvent="true" />`,
  (id) => `<bpmn:dataObjectReference id="${id}" />`,
  (id) => `<bpmn:textAnnotation id="${id}" />`,
];

const CONDITIONS = ['', 'order.total > 100', 'a = ', '${x}', '= x', 'true'];

const diagram = fc
  .record({
    nodes: fc.array(fc.nat(NODE_TEMPLATES.length - 1), { minLength: 1, maxLength: 12 }),
    flows: fc.array(fc.record({ from: fc.nat(13), to: fc.nat(13), condition: fc.nat(CONDITIONS.length) }), { maxLength: 20 }),
    boundaries: fc.array(fc.record({ host: fc.nat(13), kind: fc.constantFrom('timer', 'error', 'message'), interrupting: fc.boolean() }), { maxLength: 3 }),
    defaults: fc.array(fc.record({ gateway: fc.nat(11), flow: fc.nat(21) }), { maxLength: 2 }),
  })
  .map(({ nodes, flows, boundaries, defaults }) => {
    const ids = nodes.map((_, i) => `N${i}`);
    const defaultOf = new Map(defaults.map((d) => [d.gateway, `F${d.flow}`]));
    const nodeXml = nodes.map((t, i) => {
      const xml = NODE_TEMPLATES[t]!(ids[i]!);
      const flow = defaultOf.get(i);
      return flow && /Gateway id=/.test(xml) ? xml.replace(' />', ` default="${flow}" />`) : xml;
    });
    // Indexes past the node list make dangling references, on purpose.
    const flowXml = flows.map((f, i) => {
      const condition = CONDITIONS[f.condition];
      const body = condition === undefined ? '' : `<bpmn:conditionExpression>${condition.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</bpmn:conditionExpression>`;
      return `<bpmn:sequenceFlow id="F${i}" sourceRef="N${f.from}" targetRef="N${f.to}">${body}</bpmn:sequenceFlow>`;
    });
    const boundaryXml = boundaries.map((b, i) => {
      const definition = b.kind === 'timer' ? '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>' : b.kind === 'error' ? '<bpmn:errorEventDefinition />' : '<bpmn:messageEventDefinition messageRef="Message_1" />';
      return `<bpmn:boundaryEvent id="B${i}" attachedToRef="N${b.host}" cancelActivity="${b.interrupting}">${definition}</bpmn:boundaryEvent>`;
    });
    return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:ordo="urn:ordo:bpmn:1" id="Fuzz" targetNamespace="urn:ordo:test">
<bpmn:message id="Message_1" name="m" /><bpmn:error id="Error_1" errorCode="E" />
<bpmn:process id="P" isExecutable="true">${[...nodeXml, ...flowXml, ...boundaryXml].join('\n')}</bpmn:process>
</bpmn:definitions>`;
  });

describe('validateDefinitions on random diagrams', () => {
  it('never throws, and every refusal names an element, a type and a reason', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(diagram, async (xml) => {
        let parsed;
        try {
          parsed = await parseBpmn(xml);
        } catch (err) {
          if (err instanceof BpmnParseError) return;
          throw err;
        }
        const result = validateDefinitions(parsed, {
          knownJobs: ['reserve-stock'],
          feelFunctions: [{ name: 'validate address', raises: ['PHONE_MISSING'] }],
          validateTemplate: () => null,
        });
        for (const error of result.errors) {
          expect(error.elementId).not.toBe('');
          expect(error.elementType).not.toBe('');
          expect(error.message).not.toMatch(/internal error/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * Throughput of the pure engine core, in memory: instances per second of `step` running a start event,
 * three FEEL script tasks (one calling a library function) and an exclusive gateway to an end, with a
 * JSON round trip of the final state as persistence would do. For comparison with bpmn-engine later.
 * A CPU profile puts ~90% of the time in feelin's evaluate (parsing every call, name lookups), so this
 * number is mostly the price of FEEL; the engine's own bookkeeping is the small rest.
 *
 *   npx tsx scripts/bench/engine-core.ts [seconds]
 */
import { parseBpmn } from '../../src/engine/model/parse.ts';
import { compileDefinitions } from '../../src/engine/model/compile.ts';
import { step } from '../../src/engine/runtime/step.ts';
import type { EnginePorts } from '../../src/engine/runtime/types.ts';
import { commandLine } from '../cli.ts';

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:ordo="urn:ordo:bpmn:1" id="bench-definitions" targetNamespace="urn:ordo:bench">
  <bpmn:process id="bench" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="checkAddress" scriptFormat="feel" ordo:resultVariable="addressIssues" ordo:onIssues="continue">
      <bpmn:script>validate address(order)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="total" scriptFormat="feel" ordo:resultVariable="total"><bpmn:script>sum(for l in order.lines return l.qty * l.price)</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="lines" scriptFormat="feel" ordo:resultVariable="lineCount"><bpmn:script>count(order.lines)</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="big" default="toSmall" />
    <bpmn:endEvent id="bigEnd" />
    <bpmn:endEvent id="smallEnd" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="checkAddress" />
    <bpmn:sequenceFlow id="f2" sourceRef="checkAddress" targetRef="total" />
    <bpmn:sequenceFlow id="f3" sourceRef="total" targetRef="lines" />
    <bpmn:sequenceFlow id="f4" sourceRef="lines" targetRef="big" />
    <bpmn:sequenceFlow id="toBig" sourceRef="big" targetRef="bigEnd">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">total &gt; 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toSmall" sourceRef="big" targetRef="smallEnd" />
  </bpmn:process>
</bpmn:definitions>`;

const cli = commandLine({
  name: 'engine-core',
  usage: 'npx tsx scripts/bench/engine-core.ts [seconds]',
  about: 'Instances per second of the pure engine core in memory, for `seconds` seconds (default 5).',
  options: {},
  positionals: ['seconds'],
});
const seconds = cli.num('seconds', { above: 0, default: 5 });
const { definitions } = await parseBpmn(XML);
const model = compileDefinitions(definitions)[0]!;
const ports: EnginePorts = {
  feelFunctions: { 'validate address': (order: { address?: { street?: string } }) => (order.address?.street ? [] : [{ code: 'STREET_MISSING' }]) },
};
const order = {
  id: 'o-1',
  address: { street: 'Main 1', city: 'Kraków', postalCode: '30-001', country: 'PL' },
  lines: [
    { sku: 'a', qty: 2, price: 19.9 },
    { sku: 'b', qty: 1, price: 99 },
  ],
};

function runOne(i: number): void {
  const { state } = step(model, null, { type: 'start', variables: { order: { ...order, id: `o-${i}` } } }, new Date(1_700_000_000_000 + i), ports);
  if (state.status !== 'completed') throw new Error(`instance ${i} ended ${state.status}`);
  JSON.parse(JSON.stringify(state));
}

for (let i = 0; i < 500; i++) runOne(i); // warm-up
let n = 0;
const t0 = performance.now();
const until = t0 + seconds * 1000;
while (performance.now() < until) {
  for (let k = 0; k < 100; k++) runOne(n++);
}
const elapsedS = (performance.now() - t0) / 1000;
const perS = Math.round(n / elapsedS);
console.log(`engine core: ${n} instances in ${elapsedS.toFixed(2)} s (3 script tasks + exclusive gateway, state JSON round trip)`);
console.log(`RESULT core_per_s=${perS}`);

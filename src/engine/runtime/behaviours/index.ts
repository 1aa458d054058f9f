import type { CompiledElement, ElementKind } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';
import { boundaryEvent } from './boundary-event.ts';
import { callActivity } from './call-activity.ts';
import { endEvent } from './end-event.ts';
import { eventBasedGateway } from './event-based-gateway.ts';
import { exclusiveGateway } from './exclusive-gateway.ts';
import { inclusiveGateway } from './inclusive-gateway.ts';
import { intermediateCatchEvent } from './intermediate-catch-event.ts';
import { parallelGateway } from './parallel-gateway.ts';
import { passThrough } from './pass-through.ts';
import { receiveTask } from './receive-task.ts';
import { scriptTask } from './script-task.ts';
import { serviceTask } from './service-task.ts';
import { startEvent } from './start-event.ts';
import { subProcess } from './sub-process.ts';
import { userTask } from './user-task.ts';

const behaviours: { readonly [K in ElementKind]: Behaviour<Extract<CompiledElement, { kind: K }>> } = {
  startEvent,
  endEvent,
  intermediateCatchEvent,
  boundaryEvent,
  passThrough,
  scriptTask,
  serviceTask,
  userTask,
  receiveTask,
  exclusiveGateway: exclusiveGateway,
  parallelGateway,
  inclusiveGateway,
  eventBasedGateway,
  subProcess,
  callActivity,
};

export function behaviourFor(el: CompiledElement): Behaviour {
  return behaviours[el.kind] as Behaviour;
}

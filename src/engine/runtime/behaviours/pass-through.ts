import type { PassThroughElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';

/** A plain `bpmn:Task` or a none intermediate throw event: documentation in the flow, nothing to do. */
export const passThrough: Behaviour<PassThroughElement> = {
  enter(run, token) {
    run.complete(token);
  },
};

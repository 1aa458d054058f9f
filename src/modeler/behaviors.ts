/// <reference lib="dom" />
import type { DiagramElement, EventBus } from 'bpmn-js/lib/BaseViewer';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import type { Modeling } from './properties/commands.ts';

/**
 * Modeling defaults for Ordo: a script task drawn (or a task changed into one) is a FEEL script task, since
 * that is the only kind Ordo runs. Part of the same command, so one undo removes both.
 */
export class OrdoModelingDefaults {
  static $inject = ['eventBus', 'modeling'];

  constructor(eventBus: EventBus, modeling: Modeling) {
    const ensureFeel = (shape: DiagramElement | undefined) => {
      if (!shape || !is(shape.businessObject, 'bpmn:ScriptTask')) return;
      if (!shape.businessObject.get('scriptFormat')) modeling.updateProperties(shape, { scriptFormat: 'feel' });
    };
    eventBus.on('commandStack.shape.create.postExecuted', (event) => ensureFeel((event.context as { shape?: DiagramElement } | undefined)?.shape));
    eventBus.on('commandStack.shape.replace.postExecuted', (event) => ensureFeel((event.context as { newShape?: DiagramElement } | undefined)?.newShape));
  }
}

export const OrdoModelingDefaultsModule = {
  __init__: ['ordoModelingDefaults'],
  ordoModelingDefaults: ['type', OrdoModelingDefaults],
};

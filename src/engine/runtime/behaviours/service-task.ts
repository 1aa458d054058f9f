import type { ServiceTaskElement } from '../../model/types.ts';
import type { Behaviour } from '../run.ts';
import { EngineError } from '../errors.ts';

/**
 * `ordo:job` runs outside the engine (a pg-boss worker): entering emits runJob and waits. The worker
 * reports back: completed (output merged), failed after its retries (a technical ticket; a ticketRetry
 * runs the job again under a new job id), or a BPMN error code (thrown at the task).
 */
export const serviceTask: Behaviour<ServiceTaskElement> = {
  enter(run, token, el) {
    const jobId = run.nextId('j');
    run.addWait({ kind: 'job', elementId: el.id, tokenId: token.id, role: 'main', jobId });
    run.emit({
      type: 'runJob',
      jobId,
      elementId: el.id,
      job: el.job,
      retries: el.retries,
      backoffMs: el.backoffMs,
      variables: run.snapshot(token.scopeId),
    });
    run.wait(token);
  },

  trigger(run, token, el, wait, event) {
    run.dropWait(wait);
    if (event.type === 'jobCompleted') {
      run.setVariables(token.scopeId, event.output, el.id);
      run.complete(token);
    } else if (event.type === 'jobFailed') {
      run.incident(token, 'enter', new EngineError('JOB_FAILED', event.error, el.id));
    } else if (event.type === 'jobError') {
      run.throwError(token, event.errorCode, event.message ?? null, true);
    }
  },
};

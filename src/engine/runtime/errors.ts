/**
 * Errors the engine raises. Those met while running a token (FEEL failing, no outgoing flow, a bad timer)
 * never escape `step`: they become a technical ticket at the element. Those that do escape mean the
 * caller used the engine wrongly (an event for an instance that does not exist, a broken model).
 */
export type EngineErrorCode =
  | 'FEEL_ERROR'
  | 'VARIABLE_INVALID'
  | 'NO_OUTGOING_FLOW'
  | 'TIMER_INVALID'
  | 'MULTI_INSTANCE_INVALID'
  | 'STEP_LIMIT'
  | 'JOB_FAILED'
  | 'CHILD_FAILED'
  | 'INVALID_EVENT'
  | 'MODEL_INVALID';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly elementId: string | null = null,
  ) {
    super(message);
  }
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof EngineError;
}

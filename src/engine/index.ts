/** Ordo's BPMN runtime core: compile a process once, then `step` its instances, one event at a time. */
export { compileDefinitions, compileProcess, DEFAULT_JOB_BACKOFF_MS, DEFAULT_JOB_RETRIES } from './model/compile.ts';
export type * from './model/types.ts';
export { step } from './runtime/step.ts';
export { DEFAULT_STEP_LIMIT, ROOT_SCOPE } from './runtime/run.ts';
export { waitingAt, messageSubscriptions, startEventsFor, planStartTimer } from './runtime/queries.ts';
export type * from './runtime/types.ts';
export { EngineError, isEngineError, type EngineErrorCode } from './runtime/errors.ts';
export { evaluateFeel, evaluateCondition, toPlain, FeelError, type FeelFunctions, type FeelOptions } from './feel.ts';
export { addDuration, durationMs, parseDuration, planTimer, type IsoDuration, type TimerPlan } from './runtime/iso.ts';

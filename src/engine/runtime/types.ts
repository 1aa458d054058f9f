import type { TicketDefinition } from '../model/types.ts';

/** A problem a check found in an order: what a validation ticket lists and its instructions key on. */
export interface Issue {
  code: string;
  field?: string;
  message?: string;
}

export interface EnginePorts {
  /** The FEEL function library, keyed by FEEL name (`validate address`). */
  feelFunctions: Record<string, (...args: any[]) => unknown>;
  /** Element entries allowed in one `step` call before the instance is stopped with a technical ticket. */
  stepLimit?: number;
  /**
   * Checks what a script is about to store in a variable (its `ordo:resultVariable`), given the variable's
   * current value: the host relies on some (an order's lifecycle writes `order` back to the stored order).
   * A message refuses the value: the variable keeps its old one and the script task stops with a
   * technical ticket (VARIABLE_INVALID) quoting it.
   */
  checkVariable?: (name: string, value: unknown, previous: unknown) => string | null;
}

export type EngineEvent =
  /**
   * `incident`: the instance is created but stops at its start event with a technical ticket carrying this
   * text (its start could not be run); retrying the ticket runs it from there.
   */
  | { type: 'start'; variables?: Record<string, unknown>; startEventId?: string; incident?: string }
  | { type: 'message'; name: string; variables?: Record<string, unknown> }
  | { type: 'timer'; timerId: string }
  | { type: 'jobCompleted'; jobId: string; output?: Record<string, unknown> }
  | { type: 'jobFailed'; jobId: string; error: string }
  | { type: 'jobError'; jobId: string; errorCode: string; message?: string }
  | { type: 'ticketRetry'; waitId: string; variables?: Record<string, unknown> }
  | { type: 'userTaskCompleted'; waitId: string; variables?: Record<string, unknown> }
  | { type: 'childCompleted'; waitId: string; variables?: Record<string, unknown> }
  | { type: 'childFailed'; waitId: string; error: string }
  | { type: 'cancel'; reason: string };

export type TicketKind = 'validation' | 'manual' | 'technical';

export type Effect =
  | { type: 'openTicket'; waitId: string; elementId: string; kind: TicketKind; issues: Issue[]; ticket: TicketDefinition | null; error?: string }
  | { type: 'updateTicket'; waitId: string; issues: Issue[] }
  | { type: 'closeTicket'; waitId: string; resolution: 'resolved' | 'cancelled' }
  | { type: 'scheduleTimer'; timerId: string; elementId: string; dueAt: string }
  | { type: 'cancelTimer'; timerId: string }
  | { type: 'runJob'; jobId: string; elementId: string; job: string; retries: number; backoffMs: number; variables: Record<string, unknown> }
  | { type: 'cancelJob'; jobId: string }
  | { type: 'startChild'; waitId: string; elementId: string; processKey: string; variables: Record<string, unknown> }
  | { type: 'cancelChild'; waitId: string }
  | { type: 'ended'; outcome: 'completed' | 'cancelled' | 'failed'; error?: string };

export type HistoryEvent =
  | 'entered'
  | 'left'
  | 'withdrawn'
  | 'variables'
  | 'failed'
  | 'ticket'
  | 'incident'
  | 'error'
  | 'cancelled';

export interface HistoryEntry {
  elementId: string;
  elementType: string;
  event: HistoryEvent;
  /** ISO time: the `now` the step was called with. */
  at: string;
  data?: unknown;
}

export type InstanceStatus = 'active' | 'completed' | 'cancelled' | 'failed';

/** Where a token is in its element's lifecycle between two steps. */
export type TokenStatus =
  /** About to enter or leave (only between steps when parked by the step limit). */
  | 'ready'
  | 'waiting'
  /** Arrived at a joining gateway, waiting for the other branches. */
  | 'joining'
  /** Stopped by a technical problem; a ticketRetry resumes it. */
  | 'incident';

export interface MultiInstanceProgress {
  items: unknown[];
  results: unknown[];
  /** Index of the next item to start (sequential) / number started (parallel). */
  next: number;
  completed: number;
}

export interface Token {
  id: string;
  elementId: string;
  /** The scope instance the token runs in. */
  scopeId: string;
  status: TokenStatus;
  /** The sequence flow the token arrived by (joins count them); null at a start or boundary event. */
  viaFlow: string | null;
  /** One instance of a multi-instance activity: it runs the activity's body, not its loop. */
  miBody?: true;
  /** The outer token of a multi-instance activity, waiting for its instances. */
  mi?: MultiInstanceProgress;
}

export interface ScopeInstance {
  id: string;
  /** The process key, the sub-process id, or the multi-instance activity id. */
  elementId: string;
  kind: 'process' | 'subProcess' | 'miBody';
  parentId: string | null;
  /** The token waiting at the sub-process / multi-instance activity in the parent scope. */
  hostTokenId: string | null;
  /** Local variables (multi-instance bodies only: the element variable, loopCounter, and what the body sets). */
  variables?: Record<string, unknown>;
  /** Multi-instance bodies: the item's index. */
  index?: number;
}

export type WaitKind = 'ticket' | 'userTask' | 'message' | 'timer' | 'job' | 'child' | 'incident';

/** A pending step of the run loop, kept in an incident when the step limit parks it. */
export interface AgendaItem {
  op: 'enter' | 'leave';
  tokenId: string;
}

export interface Wait {
  waitId: string;
  kind: WaitKind;
  /** The element the wait belongs to (for boundary timers: the boundary event; for event-gateway options: the catch event). */
  elementId: string;
  tokenId: string;
  /** main: the element's own wait; boundary: a timer boundary armed for the host token; option: one branch of an event-based gateway. */
  role: 'main' | 'boundary' | 'option';
  messageName?: string;
  timerId?: string;
  jobId?: string;
  dueAt?: string;
  /** Timer cycles: firings left after the current one (null = unbounded). */
  remaining?: number | null;
  period?: string | null;
  /** Event-gateway options: the flow to the catch event. */
  flowId?: string;
  /** For waits that hold an open ticket. */
  ticketKind?: TicketKind;
  issues?: Issue[];
  /** Incidents: what a retry re-runs, the error, and run-loop steps parked by the step limit. */
  phase?: 'enter' | 'leave';
  error?: string;
  resume?: AgendaItem[];
}

/** The whole instance: plain JSON, round-trips through JSON.stringify/parse unchanged. */
export interface InstanceState {
  status: InstanceStatus;
  /** Process-level variables. */
  variables: Record<string, unknown>;
  tokens: Token[];
  scopes: ScopeInstance[];
  waits: Wait[];
  /** Counter behind every id the instance hands out (t1, w2, ...). */
  seq: number;
  error: string | null;
}

export interface StepResult {
  state: InstanceState;
  effects: Effect[];
  history: HistoryEntry[];
}

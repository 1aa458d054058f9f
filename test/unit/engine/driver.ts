import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseBpmn } from '../../../src/engine/model/parse.ts';
import { compileDefinitions } from '../../../src/engine/model/compile.ts';
import { step } from '../../../src/engine/runtime/step.ts';
import type { CompiledProcess } from '../../../src/engine/model/types.ts';
import type { Effect, EngineEvent, EnginePorts, HistoryEntry, InstanceState, Wait } from '../../../src/engine/runtime/types.ts';

/**
 * Given/when/then driver for engine scenarios. Between every step the state goes through
 * JSON.stringify/parse (and must come back identical) and is deep-frozen before the next step, so
 * every scenario also proves the state round-trips and `step` never mutates its input.
 */

export async function loadProcesses(fixture: string): Promise<CompiledProcess[]> {
  const xml = readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), 'utf8');
  const { definitions, warnings } = await parseBpmn(xml);
  expect(warnings).toEqual([]);
  return compileDefinitions(definitions);
}

export async function loadProcess(fixture: string, key?: string): Promise<CompiledProcess> {
  const all = await loadProcesses(fixture);
  const found = key ? all.find((p) => p.key === key) : all[0];
  if (!found) throw new Error(`${fixture}: no process ${key ?? ''}`);
  return found;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface DriverOptions {
  functions?: EnginePorts['feelFunctions'];
  stepLimit?: number;
  now?: string;
  checkVariable?: EnginePorts['checkVariable'];
}

export class Driver {
  state: InstanceState | null = null;
  now: Date;
  /** Effects and history of the last step. */
  effects: Effect[] = [];
  history: HistoryEntry[] = [];
  /** Everything since the start. */
  allEffects: Effect[] = [];
  allHistory: HistoryEntry[] = [];
  readonly ports: EnginePorts;

  constructor(
    readonly model: CompiledProcess,
    options: DriverOptions = {},
  ) {
    this.now = new Date(options.now ?? '2026-03-01T10:00:00.000Z');
    this.ports = { feelFunctions: options.functions ?? {}, ...(options.stepLimit ? { stepLimit: options.stepLimit } : {}), ...(options.checkVariable ? { checkVariable: options.checkVariable } : {}) };
  }

  start(variables?: Record<string, unknown>, startEventId?: string): this {
    return this.send({ type: 'start', ...(variables ? { variables } : {}), ...(startEventId ? { startEventId } : {}) });
  }

  send(event: EngineEvent): this {
    const result = step(this.model, this.state, event, this.now, this.ports);
    const text = JSON.stringify(result.state);
    const parsed = JSON.parse(text) as InstanceState;
    expect(parsed).toStrictEqual(result.state);
    expect(JSON.parse(JSON.stringify(result.effects))).toStrictEqual(result.effects);
    this.state = deepFreeze(parsed);
    this.effects = result.effects;
    this.history = result.history;
    this.allEffects.push(...result.effects);
    this.allHistory.push(...result.history);
    return this;
  }

  /** Send an event and expect it to change nothing at all. */
  sendNoop(event: EngineEvent): void {
    const before = this.state;
    const result = step(this.model, before, event, this.now, this.ports);
    expect(result.state).toBe(before);
    expect(result.effects).toEqual([]);
    expect(result.history).toEqual([]);
  }

  advance(ms: number): this {
    this.now = new Date(this.now.getTime() + ms);
    return this;
  }

  get status() {
    return this.state!.status;
  }

  get variables() {
    return this.state!.variables;
  }

  waits(kind?: Wait['kind']): Wait[] {
    return this.state!.waits.filter((w) => kind === undefined || w.kind === kind);
  }

  /** The single wait at an element (of a kind, if given). */
  waitAt(elementId: string, kind?: Wait['kind']): Wait {
    const found = this.waits(kind).filter((w) => w.elementId === elementId);
    expect(found, `one wait at ${elementId}`).toHaveLength(1);
    return found[0]!;
  }

  effectsOf<T extends Effect['type']>(type: T, from: Effect[] = this.effects): Array<Extract<Effect, { type: T }>> {
    return from.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  }

  /** `elementId:event` pairs of the last step's history (or of all), for compact assertions. */
  trail(from: HistoryEntry[] = this.history, events: string[] = ['entered', 'left', 'withdrawn']): string[] {
    return from.filter((h) => events.includes(h.event)).map((h) => `${h.elementId}:${h.event}`);
  }

  /** Fire the timer scheduled for an element at its due time. */
  fireTimer(elementId: string): this {
    const w = this.waits('timer').find((x) => x.elementId === elementId);
    if (!w) throw new Error(`no timer at ${elementId}`);
    this.now = new Date(w.dueAt!);
    return this.send({ type: 'timer', timerId: w.timerId! });
  }
}

export async function given(fixture: string, options: DriverOptions & { key?: string } = {}): Promise<Driver> {
  return new Driver(await loadProcess(fixture, options.key), options);
}

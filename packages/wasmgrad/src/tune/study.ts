/**
 * A study: the search space, the direction, the method and its seed, and the finished trials. It
 * saves as JSON and loads back to be resumed by `optimize({ study })`; it reports the best trial
 * and a table of all trials.
 * @module
 */
import { ValueError } from '../errors.js';
import type { Method } from './sampler.js';
import { type Params, Space, type SpaceSpec } from './space.js';

/** Minimize or maximize the objective. */
export type Direction = 'minimize' | 'maximize';

/** How a trial ended: ran to completion, stopped early by the early-stopping rule, or failed (non-finite value). */
export type TrialState = 'complete' | 'pruned' | 'failed';

/** A finished trial. */
export interface Trial {
  /** 0-based trial number; trial n's parameters depend only on the seed and the trials before it. */
  number: number;
  params: Params;
  state: TrialState;
  /** The objective's value (undefined for a failed trial). */
  value: number | undefined;
  /** Values reported with `trial.report(step, value)`, in order. */
  intermediate: [step: number, value: number][];
  durationMs: number;
}

/** The settings that define a study (what `optimize` takes besides the objective). */
export interface StudyOptions {
  space: SpaceSpec;
  direction?: Direction;
  method?: Method;
  seed?: number;
  initialTrials?: number;
  gridPoints?: number;
}

/** The saved form of a study (`study.toJSON()`). */
export interface StudyJSON {
  format: 'wasmgrad-tune-study';
  version: 1;
  space: SpaceSpec;
  direction: Direction;
  method: Method;
  seed: number;
  initialTrials?: number;
  gridPoints?: number;
  trials: (Omit<Trial, 'value'> & { value: number | null })[];
}

/** A row of {@link Study.table}: trial number, state, value, each parameter, and seconds. */
export type TrialRow = Record<string, string | number | boolean | undefined>;

/** The trials of a search and what defines it. */
export class Study {
  readonly space: Space;
  readonly spec: SpaceSpec;
  readonly direction: Direction;
  readonly method: Method;
  readonly seed: number;
  readonly initialTrials: number | undefined;
  readonly gridPoints: number | undefined;
  private readonly byNumber = new Map<number, Trial>();
  private stopRequested = false;

  constructor(options: StudyOptions, op = 'tune.study') {
    if (!options || typeof options !== 'object') throw new ValueError(op, 'expects { space, direction, method, seed }');
    this.space = new Space(options.space, op);
    this.spec = JSON.parse(JSON.stringify(options.space)) as SpaceSpec;
    this.direction = options.direction ?? 'minimize';
    if (this.direction !== 'minimize' && this.direction !== 'maximize')
      throw new ValueError(op, `direction must be 'minimize' or 'maximize', got ${String(this.direction)}`);
    this.method = options.method ?? 'bayesian';
    this.seed = options.seed ?? 0;
    this.initialTrials = options.initialTrials;
    this.gridPoints = options.gridPoints;
  }

  /**
   * Asks a running `optimize` to start no more trials (those running finish and are recorded), as
   * Optuna's `study.stop()`; call it from `onTrial`, e.g. once a target value is reached.
   */
  stop(): void {
    this.stopRequested = true;
  }

  /** True after {@link Study.stop}, until an optimize call starts with this study again. */
  get stopped(): boolean {
    return this.stopRequested;
  }

  /** Clears a stop request (optimize does this when it starts). */
  clearStop(): void {
    this.stopRequested = false;
  }

  /** The finished trials, by number. */
  get trials(): Trial[] {
    return [...this.byNumber.values()].sort((a, b) => a.number - b.number);
  }

  /** The trial with this number, if it has finished. */
  trial(number: number): Trial | undefined {
    return this.byNumber.get(number);
  }

  /** Records a finished trial (replacing any earlier record of the same number). */
  record(trial: Trial): void {
    this.byNumber.set(trial.number, trial);
  }

  /** The best complete trial (pruned and failed trials do not count), or undefined. */
  get best(): Trial | undefined {
    let best: Trial | undefined;
    for (const t of this.trials) {
      if (t.state !== 'complete' || t.value === undefined) continue;
      if (!best || this.better(t.value, best.value as number)) best = t;
    }
    return best;
  }

  /** The parameters of the best trial (like Keras Tuner's `get_best_hyperparameters()[0]`). */
  get bestParams(): Params | undefined {
    const b = this.best;
    return b && { ...b.params };
  }

  /** True when a is better than b in the study's direction. */
  better(a: number, b: number): boolean {
    return this.direction === 'minimize' ? a < b : a > b;
  }

  /** One row per trial for `console.table`: trial, state, value, the parameters, seconds. */
  table(): TrialRow[] {
    return this.trials.map((t) => ({
      trial: t.number,
      state: t.state,
      value: t.value,
      ...t.params,
      seconds: Math.round(t.durationMs) / 1000,
    }));
  }

  /** The table as aligned text, the best trial marked with `*`. */
  format(): string {
    const rows = this.table();
    const columns = ['trial', 'state', 'value', ...this.space.names, 'seconds'];
    const best = this.best?.number;
    const cell = (v: unknown) =>
      v === undefined ? '-' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v);
    const body = rows.map((r) => columns.map((c) => cell(r[c]) + (c === 'trial' && r.trial === best ? '*' : '')));
    const widths = columns.map((c, i) => Math.max(c.length, ...body.map((b) => (b[i] as string).length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
    return [line(columns), ...body.map(line)].join('\n');
  }

  /** The study as JSON-safe data (`JSON.stringify(study)` uses it). */
  toJSON(): StudyJSON {
    return {
      format: 'wasmgrad-tune-study',
      version: 1,
      space: this.spec,
      direction: this.direction,
      method: this.method,
      seed: this.seed,
      ...(this.initialTrials === undefined ? {} : { initialTrials: this.initialTrials }),
      ...(this.gridPoints === undefined ? {} : { gridPoints: this.gridPoints }),
      trials: this.trials.map((t) => ({
        ...t,
        value: t.value ?? null,
        intermediate: t.intermediate.map((p) => [...p]),
      })),
    };
  }

  /** A study from {@link Study.toJSON} data (or its string), validated; resume it with `optimize({ study })`. */
  static fromJSON(json: StudyJSON | string, op = 'tune.Study.fromJSON'): Study {
    let data: unknown = json;
    if (typeof json === 'string') {
      try {
        data = JSON.parse(json);
      } catch (err) {
        throw new ValueError(op, `not JSON: ${(err as Error).message}`);
      }
    }
    const d = data as StudyJSON;
    if (!d || typeof d !== 'object' || d.format !== 'wasmgrad-tune-study' || d.version !== 1)
      throw new ValueError(op, 'not a saved study (format "wasmgrad-tune-study", version 1)');
    const study = new Study(d, op);
    if (!Array.isArray(d.trials)) throw new ValueError(op, 'trials must be an array');
    for (const t of d.trials) {
      const ok =
        t &&
        Number.isSafeInteger(t.number) &&
        t.number >= 0 &&
        ['complete', 'pruned', 'failed'].includes(t.state) &&
        (t.value === null || typeof t.value === 'number') &&
        Array.isArray(t.intermediate) &&
        typeof t.durationMs === 'number';
      if (!ok) throw new ValueError(op, `malformed trial ${JSON.stringify(t)}`);
      if (study.byNumber.has(t.number)) throw new ValueError(op, `trial ${t.number} appears twice`);
      study.space.encode(t.params, op);
      study.record({
        number: t.number,
        params: { ...t.params },
        state: t.state,
        value: t.value ?? undefined,
        intermediate: t.intermediate.map(([s, v]) => [s, v]),
        durationMs: t.durationMs,
      });
    }
    return study;
  }
}

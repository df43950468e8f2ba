/**
 * `wg.tune.optimize`: runs an async objective over a search space, `parallel` trials at a time,
 * with random, grid or Bayesian proposals and optional median early stopping.
 *
 * Determinism with parallel trials: trial n is proposed once every trial numbered ≤ n − parallel
 * has finished, and it is shown exactly those trials as finished and trials n − parallel + 1 … n − 1
 * as running (constant liars), whether or not they happen to have finished. The same holds for the
 * early-stopping rule's reference trials. So the proposals and the stopping decisions depend only on
 * the seed and the objective's values, never on timing; with one trial at a time every trial sees
 * all earlier ones.
 * @module
 */
import { ValueError } from '../errors.js';
import { type Observation, Sampler, type SamplerOptions } from './sampler.js';
import type { Params, SpaceSpec } from './space.js';
import { type Direction, Study, type StudyJSON, type Trial } from './study.js';

/** What an objective gets besides the parameters: its number and a way to report progress. */
export interface TrialContext {
  readonly number: number;
  readonly params: Params;
  /**
   * Reports an intermediate value (e.g. the validation loss after an epoch). Returns true when the
   * early-stopping rule says the trial should stop: the objective should then return its current
   * value, and the trial is recorded as pruned.
   */
  report(step: number, value: number): boolean;
  /** True once the early-stopping rule has stopped this trial. */
  readonly shouldStop: boolean;
}

/** An objective: the value of a parameter set (lower or higher is better, per `direction`). */
export type Objective = (params: Params, trial: TrialContext) => number | Promise<number>;

/**
 * The median stopping rule (Golovin et al., "Google Vizier", KDD 2017): stop a trial at a step when
 * its best value so far is worse than the median of the reference trials' best values up to the
 * same step, once `minTrials` reference trials reached that step and after `warmupSteps` steps.
 */
export interface MedianStopping {
  rule: 'median';
  /** Reports before the rule may stop a trial (default 1: never at the first report). */
  warmupSteps?: number;
  /** Reference trials needed at a step (default 3). */
  minTrials?: number;
}

/** Options of {@link optimize}. */
export interface OptimizeArgs extends SamplerOptions {
  /** The search space (may be omitted when resuming a `study`). */
  space?: SpaceSpec;
  objective: Objective;
  direction?: Direction;
  /** Trials in the study when it ends, counting those a resumed study already has (default 20). */
  maxTrials?: number;
  /** Trials run concurrently (default 1). */
  parallel?: number;
  /** Early stopping of poor trials: 'median' or its options; default none. */
  earlyStopping?: 'median' | MedianStopping | false;
  /** Called after each trial with the trial and the study (awaited: save the study here). */
  onTrial?: (trial: Trial, study: Study) => void | Promise<void>;
  /** A study to resume (a Study or its JSON); its space, direction, method and seed are used. */
  study?: Study | StudyJSON | string;
}

function resolveStudy(args: OptimizeArgs, op: string): Study {
  if (args.study === undefined) {
    if (args.space === undefined) throw new ValueError(op, 'needs a space (or a study to resume)');
    return new Study(
      {
        space: args.space,
        direction: args.direction,
        method: args.method,
        seed: args.seed,
        initialTrials: args.initialTrials,
        gridPoints: args.gridPoints,
      },
      op,
    );
  }
  const study = args.study instanceof Study ? args.study : Study.fromJSON(args.study, op);
  const same = (a: unknown, b: unknown, what: string) => {
    if (a !== undefined && JSON.stringify(a) !== JSON.stringify(b))
      throw new ValueError(op, `${what} ${JSON.stringify(a)} differs from the resumed study's ${JSON.stringify(b)}`);
  };
  same(args.space, study.spec, 'space');
  same(args.direction, study.direction, 'direction');
  same(args.method, study.method, 'method');
  same(args.seed, study.seed, 'seed');
  return study;
}

function resolveStopping(e: OptimizeArgs['earlyStopping'], op: string): Required<MedianStopping> | undefined {
  if (e === undefined || e === false) return undefined;
  const m = e === 'median' ? { rule: 'median' as const } : e;
  if (m?.rule !== 'median')
    throw new ValueError(op, `earlyStopping must be 'median' or { rule: 'median' }, got ${JSON.stringify(e)}`);
  const warmupSteps = m.warmupSteps ?? 1;
  const minTrials = m.minTrials ?? 3;
  if (!Number.isSafeInteger(warmupSteps) || warmupSteps < 0)
    throw new ValueError(op, `earlyStopping.warmupSteps must be an integer ≥ 0, got ${warmupSteps}`);
  if (!Number.isSafeInteger(minTrials) || minTrials < 1)
    throw new ValueError(op, `earlyStopping.minTrials must be a positive integer, got ${minTrials}`);
  return { rule: 'median', warmupSteps, minTrials };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Searches `space` for the parameters that minimize (or maximize) `objective`; resolves with the
 * study (`study.best`, `study.bestParams`, `study.table()`, `study.toJSON()`). An objective that
 * returns a non-finite value makes a failed trial; one that throws ends the search (after the
 * running trials finish) with that error, and the study passed in keeps the finished trials.
 */
export async function optimize(args: OptimizeArgs): Promise<Study> {
  const op = 'tune.optimize';
  if (!args || typeof args !== 'object') throw new ValueError(op, 'expects { space, objective, ... }');
  if (typeof args.objective !== 'function') throw new ValueError(op, 'objective must be a function');
  const study = resolveStudy(args, op);
  const sampler = new Sampler(
    study.space,
    {
      method: study.method,
      seed: study.seed,
      initialTrials: study.initialTrials,
      gridPoints: study.gridPoints,
      candidates: args.candidates,
    },
    op,
  );
  const maxTrials = Math.min(args.maxTrials ?? 20, sampler.capacity);
  if (!Number.isSafeInteger(maxTrials) || maxTrials < 0)
    throw new ValueError(op, `maxTrials must be an integer ≥ 0, got ${args.maxTrials}`);
  const parallel = args.parallel ?? 1;
  if (!Number.isSafeInteger(parallel) || parallel < 1)
    throw new ValueError(op, `parallel must be a positive integer, got ${parallel}`);
  const stopping = resolveStopping(args.earlyStopping, op);
  const sign = study.direction === 'minimize' ? 1 : -1;

  /** Parameters of every trial proposed so far (finished or running), by number. */
  const proposed = new Map<number, Params>();
  for (const t of study.trials) proposed.set(t.number, t.params);
  const running = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;

  /** Finished trials numbered ≤ limit. */
  const visible = (limit: number) => study.trials.filter((t) => t.number <= limit);

  const observations = (trials: Trial[]): Observation[] => {
    const done = trials.filter((t) => t.value !== undefined && Number.isFinite(t.value));
    const values = done.map((t) => sign * (t.value as number));
    const worst = values.length > 0 ? Math.max(...values) : 0;
    // A failed trial counts as the worst value seen, so the search moves away from it.
    return trials
      .filter((t) => (t.value !== undefined && Number.isFinite(t.value)) || values.length > 0)
      .map((t) => ({
        u: study.space.encode(t.params, op),
        value: t.value !== undefined && Number.isFinite(t.value) ? sign * t.value : worst,
      }));
  };

  const shouldStop = (n: number, intermediate: [number, number][]): boolean => {
    if (!stopping || intermediate.length <= stopping.warmupSteps) return false;
    const [step] = intermediate[intermediate.length - 1] as [number, number];
    const bestUpTo = (points: [number, number][]) => {
      let b: number | undefined;
      for (const [s, v] of points)
        if (s <= step && Number.isFinite(v) && (b === undefined || sign * v < b)) b = sign * v;
      return b;
    };
    const refs: number[] = [];
    for (const t of visible(n - parallel)) {
      if (!t.intermediate.some(([s]) => s === step)) continue;
      const b = bestUpTo(t.intermediate);
      if (b !== undefined) refs.push(b);
    }
    const mine = bestUpTo(intermediate);
    return refs.length >= stopping.minTrials && mine !== undefined && mine > median(refs);
  };

  const run = async (n: number, params: Params) => {
    const intermediate: [number, number][] = [];
    let stopped = false;
    const context: TrialContext = {
      number: n,
      params: { ...params },
      report(step, value) {
        if (typeof step !== 'number' || !Number.isFinite(step))
          throw new ValueError(op, `trial ${n}: report step must be a finite number, got ${String(step)}`);
        intermediate.push([step, value]);
        if (!stopped && shouldStop(n, intermediate)) stopped = true;
        return stopped;
      },
      get shouldStop() {
        return stopped;
      },
    };
    const t0 = performance.now();
    const result = await args.objective({ ...params }, context);
    const durationMs = performance.now() - t0;
    const finite = typeof result === 'number' && Number.isFinite(result);
    const last = intermediate[intermediate.length - 1]?.[1];
    const value = finite ? result : stopped && last !== undefined && Number.isFinite(last) ? last : undefined;
    const trial: Trial = {
      number: n,
      params: { ...params },
      state: value === undefined ? 'failed' : stopped ? 'pruned' : 'complete',
      value,
      intermediate,
      durationMs,
    };
    study.record(trial);
    await args.onTrial?.(trial, study);
  };

  const todo: number[] = [];
  for (let n = 0; n < maxTrials; n++) if (!study.trial(n)) todo.push(n);
  study.clearStop();
  for (const n of todo) {
    // Wait until every trial numbered ≤ n − parallel has finished (see the module comment).
    for (;;) {
      if (failure || study.stopped) break;
      const blocking = [...running.entries()].filter(([m]) => m <= n - parallel).map(([, p]) => p);
      if (blocking.length === 0 && running.size < parallel) break;
      await Promise.race(blocking.length > 0 ? blocking : running.values());
    }
    if (failure || study.stopped) break;
    // Only Bayesian proposals look at other trials (random and grid ones stay O(1) per trial).
    const guided = sampler.method === 'bayesian' && n >= sampler.initialTrials;
    const pending: Float64Array[] = [];
    for (let m = Math.max(0, n - parallel + 1); guided && m < n; m++) {
      const p = proposed.get(m);
      if (p) pending.push(study.space.encode(p, op));
    }
    const params = sampler.propose(n, guided ? observations(visible(n - parallel)) : [], pending);
    proposed.set(n, params);
    const p = run(n, params).then(
      () => {
        running.delete(n);
      },
      (error: unknown) => {
        running.delete(n);
        failure ??= { error };
      },
    );
    running.set(n, p);
  }
  await Promise.all(running.values());
  if (failure) throw failure.error;
  return study;
}

/**
 * Where the next trial goes: random search, grid search, or Bayesian optimization (a Latin
 * hypercube initial design, then a Gaussian process on the finished trials and expected
 * improvement; trials still running are included as "constant liars" (Ginsbourger, Le Riche &
 * Carraro 2010, CL-min): they count as observed at the best value seen so far, which collapses the
 * GP's uncertainty there so that parallel workers are sent to different places).
 *
 * Every proposal draws from its own generator keyed by (seed, trial number), so a proposal depends
 * only on the seed, the trial number and the trials it is shown: a study is deterministic and a
 * resumed study proposes what the uninterrupted one would have.
 * @module
 */
import { ValueError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { maximizeEI } from './acquisition.js';
import { fitHyperparameters, GaussianProcess } from './gp.js';
import type { Params, Space } from './space.js';

/** Search methods. */
export type Method = 'random' | 'grid' | 'bayesian';

/** A finished trial as the sampler sees it: its encoded point and its value to minimize. */
export interface Observation {
  u: Float64Array;
  /** Lower is better (maximized objectives are negated by the study). */
  value: number;
}

/** Options of the samplers (the `optimize` options of the same names). */
export interface SamplerOptions {
  method?: Method;
  seed?: number;
  /** Bayesian: trials of the initial Latin hypercube design (default max(5, dimensions + 1)). */
  initialTrials?: number;
  /** Grid: values per real parameter (default 5). */
  gridPoints?: number;
  /** Bayesian: random candidates scored per proposal (default 500 + 100 per encoded dimension). */
  candidates?: number;
}

/** A generator for trial `n` of a study seeded with `seed`. */
export function trialRandom(seed: number, n: number, stream = 0): () => number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (n + 0x632be5ab), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (stream + 0x27d4eb2f) ^ (h >>> 15), 0x85ebca6b) >>> 0;
  return mulberry32(h ^ (h >>> 13));
}

/** Proposes trials for one study. */
export class Sampler {
  readonly method: Method;
  readonly seed: number;
  readonly initialTrials: number;
  private readonly gridList: Params[] | undefined;
  private lhs: Float64Array[] | undefined;

  constructor(
    readonly space: Space,
    private readonly options: SamplerOptions,
    op: string,
  ) {
    this.method = options.method ?? 'bayesian';
    if (!['random', 'grid', 'bayesian'].includes(this.method))
      throw new ValueError(op, `method must be 'random', 'grid' or 'bayesian', got ${String(this.method)}`);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new ValueError(op, `seed must be an integer, got ${this.seed}`);
    this.initialTrials = options.initialTrials ?? Math.max(5, space.dims + 1);
    if (!Number.isSafeInteger(this.initialTrials) || this.initialTrials < 1)
      throw new ValueError(op, `initialTrials must be a positive integer, got ${this.initialTrials}`);
    if (this.method === 'grid') {
      const points = options.gridPoints ?? 5;
      if (!Number.isSafeInteger(points) || points < 1)
        throw new ValueError(op, `gridPoints must be a positive integer, got ${points}`);
      this.gridList = space.grid(points);
    }
  }

  /** How many trials the method can propose (the grid's size; unbounded otherwise). */
  get capacity(): number {
    return this.gridList?.length ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The parameters of trial `n`, given the finished trials it may see and the encoded points of
   * trials still running.
   */
  propose(n: number, finished: readonly Observation[], running: readonly Float64Array[]): Params {
    const rand = trialRandom(this.seed, n);
    if (this.method === 'grid') return { ...(this.gridList?.[n] as Params) };
    if (this.method === 'random') return this.space.decode(this.space.sampleUnit(rand));
    if (n < this.initialTrials) return this.space.decode(this.latinHypercube()[n] as Float64Array);
    if (finished.length < 2) return this.space.decode(this.space.sampleUnit(rand));
    return this.space.decode(this.bayesian(finished, running, rand));
  }

  /** The next point by expected improvement on a GP of the finished trials plus liars for the running ones. */
  private bayesian(
    finished: readonly Observation[],
    running: readonly Float64Array[],
    rand: () => number,
  ): Float64Array {
    const n = finished.length;
    let mean = 0;
    for (const o of finished) mean += o.value;
    mean /= n;
    let variance = 0;
    for (const o of finished) variance += (o.value - mean) ** 2;
    const std = Math.sqrt(variance / n) || 1;
    const X = finished.map((o) => o.u);
    const z = finished.map((o) => (o.value - mean) / std);
    const theta = fitHyperparameters(X, z, { rand, restarts: 2 });
    const best = Math.min(...z);
    const gp =
      running.length === 0
        ? new GaussianProcess(X, z, theta)
        : new GaussianProcess([...X, ...running], [...z, ...running.map(() => best)], theta);
    const order = z.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    const incumbents = order.map(([, i]) => X[i] as Float64Array);
    return maximizeEI(gp, this.space, { best, incumbents, rand, candidates: this.options.candidates }).x;
  }

  /** The initial design: a Latin hypercube of `initialTrials` points (choices cycled, shuffled). */
  private latinHypercube(): Float64Array[] {
    if (this.lhs) return this.lhs;
    const m = this.initialTrials;
    const rand = trialRandom(this.seed, 0, 1);
    const points = Array.from({ length: m }, () => this.space.sampleUnit(rand));
    const perm = () => {
      const p = Array.from({ length: m }, (_, i) => i);
      for (let i = m - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [p[i], p[j]] = [p[j] as number, p[i] as number];
      }
      return p;
    };
    for (const k of this.space.numericDims()) {
      const p = perm();
      for (let i = 0; i < m; i++) (points[i] as Float64Array)[k] = ((p[i] as number) + rand()) / m;
    }
    for (const s of this.space.choiceSlots()) {
      const p = perm();
      for (let i = 0; i < m; i++) {
        const u = points[i] as Float64Array;
        u.fill(0, s.offset, s.offset + s.width);
        u[s.offset + ((p[i] as number) % s.width)] = 1;
      }
    }
    this.lhs = points;
    return points;
  }
}

/**
 * Feature scaling fitted on training data only (scikit-learn `StandardScaler`/`MinMaxScaler`
 * semantics): `fit` on the training features, then `transform` training, validation and test data
 * with the training statistics. Features are the last axis. Statistics accumulate in f64 and can be
 * fitted in pieces (`partialFit`, `fitDataset`) for data that does not fit in memory; `getConfig`
 * gives plain JSON to save with a model, `scalerFromConfig` restores it.
 */
import { fmtShape, RuntimeStateError, ShapeError, ValueError } from '../errors.js';
import { currentRuntime } from '../tensor/engine.js';
import { empty, Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';

/** What scalers accept: a tensor (features on the last axis), rows of numbers, or flat values + `features`. */
export type ScalerInput = Tensor | readonly (readonly number[])[] | Float32Array | Float64Array;

/** The serialized form of a scaler. */
export interface ScalerConfig {
  className: 'StandardScaler' | 'MinMaxScaler';
  config: {
    count: number;
    /** StandardScaler: per-feature mean and standard deviation (population; 0 is stored as is). */
    mean?: number[];
    std?: number[];
    /** MinMaxScaler: per-feature minimum and maximum, and the target range. */
    dataMin?: number[];
    dataMax?: number[];
    featureRange?: [number, number];
  };
}

/** Flat values and the feature count of an input. */
function flatOf(op: string, x: ScalerInput, features?: number): { values: ArrayLike<number>; features: number } {
  if (x instanceof Tensor) {
    if (x.rank < 1) throw new ShapeError(op, `expects features on the last axis, got shape ${fmtShape(x.shape)}`);
    return { values: x.dataSync(), features: x.shape[x.rank - 1] as number };
  }
  if (x instanceof Float32Array || x instanceof Float64Array) {
    const f = features ?? x.length;
    if (!Number.isSafeInteger(f) || f < 1 || x.length % f !== 0) {
      throw new ShapeError(op, `${x.length} values are not whole rows of ${f} features`);
    }
    return { values: x, features: f };
  }
  if (Array.isArray(x)) {
    const f = (x[0] as number[] | undefined)?.length ?? 0;
    const out = new Float64Array(x.length * f);
    x.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== f)
        throw new ShapeError(op, `row ${i} has ${row?.length} values, the first has ${f}`);
      for (let j = 0; j < f; j++) out[i * f + j] = Number(row[j]);
    });
    return { values: out, features: f };
  }
  throw new ValueError(op, 'expects a Tensor, an array of rows or a Float32Array');
}

/** Shared fitting state and transform plumbing; subclasses define the per-feature affine map. */
abstract class Scaler {
  protected features = 0;
  protected count = 0;
  abstract readonly className: ScalerConfig['className'];

  /** Whether fit (or partialFit) has seen data. */
  get fitted(): boolean {
    return this.count > 0;
  }

  /** Number of features (0 before fitting). */
  get featureCount(): number {
    return this.features;
  }

  /** Forgets earlier statistics and fits on `x` (the training data only). Returns this. */
  fit(x: ScalerInput, features?: number): this {
    this.reset();
    return this.partialFit(x, features);
  }

  /** Adds `x` to the statistics (fit in pieces). Returns this. */
  partialFit(x: ScalerInput, features?: number): this {
    const { values, features: f } = flatOf(`${this.className}.fit`, x, features ?? (this.features || undefined));
    if (this.count > 0 && f !== this.features) {
      throw new ShapeError(`${this.className}.fit`, `fitted on ${this.features} features, got ${f}`);
    }
    if (values.length === 0) throw new ValueError(`${this.className}.fit`, 'no rows to fit on');
    if (this.count === 0) this.init(f);
    this.features = f;
    this.accumulate(values, f);
    this.count += values.length / f;
    return this;
  }

  /** Fits on every element of a dataset, reading `key` of object elements (e.g. 'xs'). */
  async fitDataset(dataset: Dataset<unknown>, key?: string): Promise<this> {
    this.reset();
    for await (const el of dataset) {
      const v = key === undefined ? el : (el as Record<string, unknown>)[key];
      if (v instanceof Tensor) this.partialFit(v);
      else {
        const flatRow = Array.isArray(v) && !Array.isArray(v[0]) ? Float64Array.from(v as number[]) : v;
        this.partialFit(flatRow as ScalerInput, this.features || (flatRow as ArrayLike<number>).length);
      }
    }
    if (this.count === 0) throw new ValueError(`${this.className}.fitDataset`, 'the dataset is empty');
    return this;
  }

  /** A new tensor of `x` scaled with the fitted statistics (x itself is untouched). */
  transform(x: Tensor): Tensor {
    const op = `${this.className}.transform`;
    if (!(x instanceof Tensor)) throw new ValueError(op, 'expects a Tensor (use transformValues for arrays)');
    const values = this.transformValues(x.dataSync(), op, x.shape[x.rank - 1]);
    const rt = currentRuntime();
    const out = empty(x.shape, op, rt);
    rt.write(out.ptr, values);
    return out;
  }

  /** Scales flat row-major values in place (whole rows of the fitted feature count) and returns them. */
  transformValues(values: Float32Array, op = `${this.className}.transform`, features = this.features): Float32Array {
    this.requireFitted(op);
    if (features !== this.features || values.length % this.features !== 0) {
      throw new ShapeError(
        op,
        `fitted on ${this.features} features, got ${values.length} values of ${features} features`,
      );
    }
    const [scale, shift] = this.affine();
    const f = this.features;
    for (let i = 0; i < values.length; i++) {
      const j = i % f;
      values[i] = (values[i] as number) * (scale[j] as number) + (shift[j] as number);
    }
    return values;
  }

  /** Fits on `x`, then transforms it. */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** Undoes transform: a new tensor in the original units. */
  inverseTransform(x: Tensor): Tensor {
    const op = `${this.className}.inverseTransform`;
    this.requireFitted(op);
    const values = x.dataSync();
    if (x.shape[x.rank - 1] !== this.features)
      throw new ShapeError(op, `fitted on ${this.features} features, got shape ${fmtShape(x.shape)}`);
    const [scale, shift] = this.affine();
    for (let i = 0; i < values.length; i++) {
      const j = i % this.features;
      values[i] = ((values[i] as number) - (shift[j] as number)) / (scale[j] as number);
    }
    const rt = currentRuntime();
    const out = empty(x.shape, op, rt);
    rt.write(out.ptr, values);
    return out;
  }

  protected requireFitted(op: string): void {
    if (!this.fitted) throw new RuntimeStateError(op, 'the scaler is not fitted: call fit on the training data first');
  }

  protected reset(): void {
    this.count = 0;
    this.features = 0;
  }

  /** The serialized statistics. */
  abstract getConfig(): ScalerConfig;
  protected abstract init(features: number): void;
  protected abstract accumulate(values: ArrayLike<number>, features: number): void;
  /** Per-feature scale and shift: x' = x·scale + shift. */
  protected abstract affine(): [Float64Array, Float64Array];
}

/** Zero mean, unit variance per feature (population std; constant features are only centred). */
export class StandardScaler extends Scaler {
  readonly className = 'StandardScaler' as const;
  private mean = new Float64Array(0);
  private m2 = new Float64Array(0);

  protected init(features: number): void {
    this.mean = new Float64Array(features);
    this.m2 = new Float64Array(features);
  }

  // Chan et al.'s pairwise update: combine the batch's mean/M2 with the running ones (stable in f64).
  protected accumulate(values: ArrayLike<number>, f: number): void {
    const rows = values.length / f;
    const bMean = new Float64Array(f);
    const bM2 = new Float64Array(f);
    for (let i = 0; i < values.length; i++) bMean[i % f] = (bMean[i % f] as number) + (values[i] as number);
    for (let j = 0; j < f; j++) bMean[j] = (bMean[j] as number) / rows;
    for (let i = 0; i < values.length; i++)
      bM2[i % f] = (bM2[i % f] as number) + ((values[i] as number) - (bMean[i % f] as number)) ** 2;
    const n = this.count;
    const total = n + rows;
    for (let j = 0; j < f; j++) {
      const delta = (bMean[j] as number) - (this.mean[j] as number);
      this.mean[j] = (this.mean[j] as number) + (delta * rows) / total;
      this.m2[j] = (this.m2[j] as number) + (bM2[j] as number) + (delta * delta * n * rows) / total;
    }
  }

  /** Per-feature means of the training data. */
  get means(): number[] {
    this.requireFitted('StandardScaler.means');
    return Array.from(this.mean);
  }

  /** Per-feature population standard deviations of the training data. */
  get stds(): number[] {
    this.requireFitted('StandardScaler.stds');
    return Array.from(this.m2, (v) => Math.sqrt(v / this.count));
  }

  protected affine(): [Float64Array, Float64Array] {
    const std = this.stds;
    const scale = new Float64Array(std.map((s) => (s > 0 ? 1 / s : 1)));
    const shift = new Float64Array(this.features);
    for (let j = 0; j < this.features; j++) shift[j] = -(this.mean[j] as number) * (scale[j] as number);
    return [scale, shift];
  }

  getConfig(): ScalerConfig {
    this.requireFitted('StandardScaler.getConfig');
    return { className: 'StandardScaler', config: { count: this.count, mean: this.means, std: this.stds } };
  }

  /** @internal restores statistics from a config. */
  load(count: number, mean: number[], std: number[]): this {
    this.init(mean.length);
    this.features = mean.length;
    this.count = count;
    mean.forEach((m, j) => {
      this.mean[j] = m;
      this.m2[j] = (std[j] as number) ** 2 * count;
    });
    return this;
  }
}

/** Scales each feature to `featureRange` (default [0, 1]) using the training min and max. */
export class MinMaxScaler extends Scaler {
  readonly className = 'MinMaxScaler' as const;
  private lo = new Float64Array(0);
  private hi = new Float64Array(0);
  readonly featureRange: [number, number];

  constructor(args: { featureRange?: [number, number] } = {}) {
    super();
    const range = args.featureRange ?? [0, 1];
    if (!Array.isArray(range) || !(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
      throw new ValueError(
        'MinMaxScaler',
        `featureRange must be [min, max] with min < max, got ${JSON.stringify(range)}`,
      );
    }
    this.featureRange = [range[0], range[1]];
  }

  protected init(features: number): void {
    this.lo = new Float64Array(features).fill(Number.POSITIVE_INFINITY);
    this.hi = new Float64Array(features).fill(Number.NEGATIVE_INFINITY);
  }

  protected accumulate(values: ArrayLike<number>, f: number): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      const j = i % f;
      if (v < (this.lo[j] as number)) this.lo[j] = v;
      if (v > (this.hi[j] as number)) this.hi[j] = v;
    }
  }

  protected affine(): [Float64Array, Float64Array] {
    const [a, b] = this.featureRange;
    const scale = new Float64Array(this.features);
    const shift = new Float64Array(this.features);
    for (let j = 0; j < this.features; j++) {
      const span = (this.hi[j] as number) - (this.lo[j] as number);
      scale[j] = span > 0 ? (b - a) / span : 1;
      shift[j] = a - (this.lo[j] as number) * (scale[j] as number);
    }
    return [scale, shift];
  }

  getConfig(): ScalerConfig {
    this.requireFitted('MinMaxScaler.getConfig');
    return {
      className: 'MinMaxScaler',
      config: {
        count: this.count,
        dataMin: Array.from(this.lo),
        dataMax: Array.from(this.hi),
        featureRange: [...this.featureRange],
      },
    };
  }

  /** @internal restores statistics from a config. */
  load(count: number, lo: number[], hi: number[]): this {
    this.init(lo.length);
    this.features = lo.length;
    this.count = count;
    this.lo.set(lo);
    this.hi.set(hi);
    return this;
  }
}

/** A scaler to zero mean and unit variance (scikit-learn `StandardScaler`). */
export function standardScaler(): StandardScaler {
  return new StandardScaler();
}

/** A scaler to a fixed range, [0, 1] by default (scikit-learn `MinMaxScaler`). */
export function minMaxScaler(args: { featureRange?: [number, number] } = {}): MinMaxScaler {
  return new MinMaxScaler(args);
}

/** Restores a scaler saved with getConfig (validating every number). */
export function scalerFromConfig(cfg: ScalerConfig): StandardScaler | MinMaxScaler {
  const bad = (msg: string): never => {
    throw new ValueError('scalerFromConfig', msg);
  };
  const c = cfg?.config;
  if (!c || typeof c !== 'object') return bad('expected { className, config }');
  if (!Number.isSafeInteger(c.count) || c.count < 1) bad(`count must be a positive integer, got ${c.count}`);
  const nums = (name: string, v: unknown, n?: number): number[] => {
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      v.some((x) => typeof x !== 'number' || !Number.isFinite(x)) ||
      (n !== undefined && v.length !== n)
    ) {
      return bad(`${name} must be ${n ?? 'a non-empty list of'} finite numbers`);
    }
    return v as number[];
  };
  if (cfg.className === 'StandardScaler') {
    const mean = nums('mean', c.mean);
    const std = nums('std', c.std, mean.length);
    if (std.some((s) => s < 0)) bad('std must be ≥ 0');
    return new StandardScaler().load(c.count, mean, std);
  }
  if (cfg.className === 'MinMaxScaler') {
    const lo = nums('dataMin', c.dataMin);
    const hi = nums('dataMax', c.dataMax, lo.length);
    return new MinMaxScaler({ featureRange: c.featureRange }).load(c.count, lo, hi);
  }
  return bad(`unknown className ${JSON.stringify((cfg as { className?: unknown }).className)}`);
}

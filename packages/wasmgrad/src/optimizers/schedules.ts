/**
 * Learning-rate schedules (Keras `keras.optimizers.schedules`): pure functions of the optimizer's
 * iteration count, the number of updates applied before the current one (0 for the first update).
 * Pass one wherever a learning rate goes: `wg.optimizers.adam({ learningRate:
 * wg.schedules.cosineDecay({ initialLearningRate: 1e-3, decaySteps: 1000 }) })`. Each is serializable
 * as `{ className, config }` and rebuilt through a closed registry ({@link scheduleFromConfig}).
 * @module
 */
import { ValueError } from '../errors.js';

/** A learning rate as a function of the step (the number of updates already applied). */
export abstract class LearningRateSchedule {
  /** The Keras class name, the key of the registry. */
  abstract readonly className: string;
  /** The learning rate for the update that follows `step` applied updates (step ≥ 0). */
  abstract at(step: number): number;
  /** The options, with the names the factory takes. */
  abstract getConfig(): Record<string, unknown>;
  /** `{ className, config }`, the serialized form accepted wherever a learning rate is. */
  toJSON(): SerializedSchedule {
    return { className: this.className, config: this.getConfig() };
  }
}

/** A schedule as it is stored or crosses threads. */
export interface SerializedSchedule {
  className: string;
  config: Record<string, unknown>;
}

function check(op: string, name: string, v: unknown, ok: (v: number) => boolean, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) {
    throw new ValueError(op, `${name} must be ${what}, got ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  }
  return v;
}
const finiteNonNegative = (v: number) => Number.isFinite(v) && v >= 0;
const finitePositive = (v: number) => Number.isFinite(v) && v > 0;
const positive = 'a finite number > 0';
const nonNegative = 'a finite number ≥ 0';

function args<T>(op: string, a: T | undefined): Partial<T> {
  if (a !== undefined && (a === null || typeof a !== 'object')) {
    throw new ValueError(op, `expects an options object, got ${JSON.stringify(a)}`);
  }
  return (a ?? {}) as Partial<T>;
}

/** Options of {@link exponentialDecay}. */
export interface ExponentialDecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in discrete intervals: the exponent is floor(step / decaySteps) (default false). */
  staircase?: boolean;
}

/** lr = initialLearningRate · decayRate^(step / decaySteps), the exponent floored when `staircase`. */
export class ExponentialDecay extends LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  constructor(options: ExponentialDecayArgs) {
    super();
    const op = 'ExponentialDecay';
    const a = args(op, options);
    this.initialLearningRate = check(op, 'initialLearningRate', a.initialLearningRate, finiteNonNegative, nonNegative);
    this.decaySteps = check(op, 'decaySteps', a.decaySteps, finitePositive, positive);
    this.decayRate = check(op, 'decayRate', a.decayRate, finiteNonNegative, nonNegative);
    this.staircase = a.staircase ?? false;
  }
  at(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate * this.decayRate ** (this.staircase ? Math.floor(p) : p);
  }
  getConfig() {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      decayRate: this.decayRate,
      staircase: this.staircase,
    };
  }
}

/** Options of {@link inverseTimeDecay}. */
export interface InverseTimeDecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Use floor(step / decaySteps) (default false). */
  staircase?: boolean;
}

/** lr = initialLearningRate / (1 + decayRate · step / decaySteps), the ratio floored when `staircase`. */
export class InverseTimeDecay extends LearningRateSchedule {
  readonly className = 'InverseTimeDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  constructor(options: InverseTimeDecayArgs) {
    super();
    const op = 'InverseTimeDecay';
    const a = args(op, options);
    this.initialLearningRate = check(op, 'initialLearningRate', a.initialLearningRate, finiteNonNegative, nonNegative);
    this.decaySteps = check(op, 'decaySteps', a.decaySteps, finitePositive, positive);
    this.decayRate = check(op, 'decayRate', a.decayRate, finiteNonNegative, nonNegative);
    this.staircase = a.staircase ?? false;
  }
  at(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate / (1 + this.decayRate * (this.staircase ? Math.floor(p) : p));
  }
  getConfig() {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      decayRate: this.decayRate,
      staircase: this.staircase,
    };
  }
}

/** Options of {@link piecewiseConstant}. */
export interface PiecewiseConstantArgs {
  /** Strictly increasing steps at which the rate changes. */
  boundaries: number[];
  /** One more rate than boundaries. */
  values: number[];
}

/**
 * values[0] while step ≤ boundaries[0], values[i] while boundaries[i−1] < step ≤ boundaries[i],
 * and values[last] after the last boundary (Keras `PiecewiseConstantDecay`).
 */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  readonly boundaries: readonly number[];
  readonly values: readonly number[];
  constructor(options: PiecewiseConstantArgs) {
    super();
    const op = 'PiecewiseConstantDecay';
    const a = args(op, options);
    if (!Array.isArray(a.boundaries) || !Array.isArray(a.values)) {
      throw new ValueError(op, `boundaries and values must be arrays, got ${JSON.stringify(a)}`);
    }
    const boundaries = a.boundaries;
    boundaries.forEach((b, i) => {
      check(op, `boundaries[${i}]`, b, Number.isFinite, 'a finite number');
      if (i > 0 && !(b > (boundaries[i - 1] as number))) {
        throw new ValueError(op, `boundaries must be strictly increasing, got ${JSON.stringify(a.boundaries)}`);
      }
    });
    if (a.values.length !== a.boundaries.length + 1) {
      throw new ValueError(
        op,
        `values must have one more entry than boundaries (${a.boundaries.length + 1}), got ${a.values.length}`,
      );
    }
    a.values.forEach((v, i) => {
      check(op, `values[${i}]`, v, finiteNonNegative, nonNegative);
    });
    this.boundaries = [...a.boundaries];
    this.values = [...a.values];
  }
  at(step: number): number {
    let i = 0;
    while (i < this.boundaries.length && step > (this.boundaries[i] as number)) i++;
    return this.values[i] as number;
  }
  getConfig() {
    return { boundaries: [...this.boundaries], values: [...this.values] };
  }
}

/** Options of {@link polynomialDecay}. */
export interface PolynomialDecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  /** Default 1e-4 (Keras). */
  endLearningRate?: number;
  /** Default 1 (linear). */
  power?: number;
  /** Restart the decay every decaySteps (with the period growing to cover the step); default false. */
  cycle?: boolean;
}

/**
 * lr = (initial − end) · (1 − s / D)^power + end, with s = min(step, decaySteps) and D = decaySteps;
 * with `cycle`, s = step and D = decaySteps · ceil(step / decaySteps) (D = decaySteps at step 0).
 */
export class PolynomialDecay extends LearningRateSchedule {
  readonly className = 'PolynomialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;
  constructor(options: PolynomialDecayArgs) {
    super();
    const op = 'PolynomialDecay';
    const a = args(op, options);
    this.initialLearningRate = check(op, 'initialLearningRate', a.initialLearningRate, finiteNonNegative, nonNegative);
    this.decaySteps = check(op, 'decaySteps', a.decaySteps, finitePositive, positive);
    this.endLearningRate = check(op, 'endLearningRate', a.endLearningRate ?? 1e-4, finiteNonNegative, nonNegative);
    this.power = check(op, 'power', a.power ?? 1, finiteNonNegative, nonNegative);
    this.cycle = a.cycle ?? false;
  }
  at(step: number): number {
    let s = step;
    let d = this.decaySteps;
    if (this.cycle) d *= step === 0 ? 1 : Math.ceil(step / this.decaySteps);
    else s = Math.min(step, d);
    return (this.initialLearningRate - this.endLearningRate) * (1 - s / d) ** this.power + this.endLearningRate;
  }
  getConfig() {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      endLearningRate: this.endLearningRate,
      power: this.power,
      cycle: this.cycle,
    };
  }
}

/** Options of {@link cosineDecay}. */
export interface CosineDecayArgs {
  initialLearningRate: number;
  /** Steps of the cosine decay (after the warmup). */
  decaySteps: number;
  /** Floor of the decay as a fraction of the rate decayed from (default 0). */
  alpha?: number;
  /** Rate reached at the end of a linear warmup from initialLearningRate (default: no warmup). */
  warmupTarget?: number;
  /** Steps of the linear warmup (default 0). */
  warmupSteps?: number;
}

/**
 * Keras 3 `CosineDecay` (Loshchilov & Hutter 2017, without restarts). Without warmupTarget:
 * lr = initial · ((1 − alpha) · ½(1 + cos(π · min(step, D) / D)) + alpha), D = decaySteps. With
 * warmupTarget: for step < warmupSteps, lr rises linearly from initial to warmupTarget
 * (initial + (target − initial) · step / warmupSteps); afterwards it is the cosine decay of
 * warmupTarget at step − warmupSteps (capped at decaySteps).
 */
export class CosineDecay extends LearningRateSchedule {
  readonly className = 'CosineDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly warmupTarget: number | undefined;
  readonly warmupSteps: number;
  constructor(options: CosineDecayArgs) {
    super();
    const op = 'CosineDecay';
    const a = args(op, options);
    this.initialLearningRate = check(op, 'initialLearningRate', a.initialLearningRate, finiteNonNegative, nonNegative);
    this.decaySteps = check(op, 'decaySteps', a.decaySteps, finitePositive, positive);
    this.alpha = check(op, 'alpha', a.alpha ?? 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.warmupSteps = check(op, 'warmupSteps', a.warmupSteps ?? 0, finiteNonNegative, nonNegative);
    if (a.warmupTarget !== undefined && a.warmupTarget !== null) {
      check(op, 'warmupTarget', a.warmupTarget, finiteNonNegative, nonNegative);
    }
    this.warmupTarget = a.warmupTarget ?? undefined;
  }
  private decay(step: number, from: number): number {
    const cosine = 0.5 * (1 + Math.cos((Math.PI * step) / this.decaySteps));
    return from * ((1 - this.alpha) * cosine + this.alpha);
  }
  at(step: number): number {
    if (this.warmupTarget === undefined) return this.decay(Math.min(step, this.decaySteps), this.initialLearningRate);
    const s = Math.min(step, this.decaySteps + this.warmupSteps);
    if (s < this.warmupSteps) {
      return (this.warmupTarget - this.initialLearningRate) * (s / this.warmupSteps) + this.initialLearningRate;
    }
    return this.decay(s - this.warmupSteps, this.warmupTarget);
  }
  getConfig() {
    const c: Record<string, unknown> = {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      alpha: this.alpha,
      warmupSteps: this.warmupSteps,
    };
    if (this.warmupTarget !== undefined) c.warmupTarget = this.warmupTarget;
    return c;
  }
}

/** The closed registry of schedule classes: nothing outside it is ever constructed from a config. */
const SCHEDULE_CLASSES: Record<string, new (config: never) => LearningRateSchedule> = {
  ExponentialDecay,
  InverseTimeDecay,
  PiecewiseConstantDecay,
  PolynomialDecay,
  CosineDecay,
};

/** Rebuilds a schedule from `{ className, config }` (as from `toJSON`), through the closed registry. */
export function scheduleFromConfig(spec: unknown, op = 'scheduleFromConfig'): LearningRateSchedule {
  if (!spec || typeof spec !== 'object' || typeof (spec as SerializedSchedule).className !== 'string') {
    throw new ValueError(op, `expected a schedule { className, config }, got ${JSON.stringify(spec)}`);
  }
  const { className, config } = spec as SerializedSchedule;
  if (!Object.hasOwn(SCHEDULE_CLASSES, className)) {
    throw new ValueError(
      op,
      `unknown schedule class '${className}'; known: ${Object.keys(SCHEDULE_CLASSES).join(', ')}`,
    );
  }
  const Cls = SCHEDULE_CLASSES[className] as new (config: unknown) => LearningRateSchedule;
  return new Cls(config ?? {});
}

/** Schedule factories with Keras option names: `wg.schedules.exponentialDecay({ ... })`. */
export const schedules = {
  /** initialLearningRate · decayRate^(step / decaySteps). */
  exponentialDecay: (a: ExponentialDecayArgs) => new ExponentialDecay(a),
  /** initialLearningRate / (1 + decayRate · step / decaySteps). */
  inverseTimeDecay: (a: InverseTimeDecayArgs) => new InverseTimeDecay(a),
  /** Constant rates between step boundaries. */
  piecewiseConstant: (a: PiecewiseConstantArgs) => new PiecewiseConstantDecay(a),
  /** Alias of piecewiseConstant with the Keras class name. */
  piecewiseConstantDecay: (a: PiecewiseConstantArgs) => new PiecewiseConstantDecay(a),
  /** Polynomial decay from initialLearningRate to endLearningRate over decaySteps. */
  polynomialDecay: (a: PolynomialDecayArgs) => new PolynomialDecay(a),
  /** Cosine decay, optionally after a linear warmup. */
  cosineDecay: (a: CosineDecayArgs) => new CosineDecay(a),
  /** Rebuilds a schedule from its `{ className, config }`. */
  fromConfig: (spec: unknown) => scheduleFromConfig(spec),
};

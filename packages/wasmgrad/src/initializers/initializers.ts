import { ValueError } from '../errors.js';
import { nextSeed } from '../random.js';
import { randomNormal, randomUniform, truncatedNormal } from '../runtime/kernels/random.js';
import type { Runtime } from '../runtime/runtime.js';

/** Fan-in and fan-out of a weight shape, as Keras computes them (conv kernels: HWIO). */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0] as number, fanOut: shape[0] as number };
  if (shape.length === 2) return { fanIn: shape[0] as number, fanOut: shape[1] as number };
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i] as number;
  return {
    fanIn: (shape[shape.length - 2] as number) * receptive,
    fanOut: (shape[shape.length - 1] as number) * receptive,
  };
}

/** Fills a weight with its initial values. */
export interface Initializer {
  readonly className: string;
  getConfig(): Record<string, unknown>;
  /** Writes `shape`-many values at byte address `ptr`. */
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void;
}

type Distribution = 'uniform' | 'truncatedNormal' | 'untruncatedNormal';
type Mode = 'fanIn' | 'fanOut' | 'fanAvg';

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Keras' VarianceScaling: the family behind Glorot/Xavier, He and LeCun. */
class VarianceScaling implements Initializer {
  readonly seed: number;
  constructor(
    readonly className: string,
    readonly scale: number,
    readonly mode: Mode,
    readonly distribution: Distribution,
    seed?: number,
  ) {
    if (!(scale > 0)) throw new ValueError(className, `scale must be positive, got ${scale}`);
    this.seed = seed ?? nextSeed();
  }
  getConfig() {
    return { seed: this.seed };
  }
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void {
    const { fanIn, fanOut } = computeFans(shape);
    const n = Math.max(1, this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2);
    const variance = this.scale / n;
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      randomUniform(rt, count(shape), ptr, -limit, limit, { seed: this.seed }, this.className);
    } else if (this.distribution === 'truncatedNormal') {
      // Standard deviation of a unit normal truncated to [-2, 2], as in Keras.
      truncatedNormal(
        rt,
        count(shape),
        ptr,
        0,
        Math.sqrt(variance) / 0.8796256610342398,
        { seed: this.seed },
        this.className,
      );
    } else {
      randomNormal(rt, count(shape), ptr, 0, Math.sqrt(variance), { seed: this.seed }, this.className);
    }
  }
}

class Constant implements Initializer {
  constructor(
    readonly className: string,
    readonly value: number,
  ) {
    if (!Number.isFinite(value)) throw new ValueError(className, `value must be finite, got ${value}`);
  }
  getConfig() {
    return this.className === 'Constant' ? { value: this.value } : {};
  }
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void {
    rt.f32.fill(this.value, ptr >>> 2, (ptr >>> 2) + count(shape));
  }
}

class RandomDistribution implements Initializer {
  readonly seed: number;
  constructor(
    readonly className: 'RandomNormal' | 'RandomUniform' | 'TruncatedNormal',
    readonly a: number,
    readonly b: number,
    seed?: number,
  ) {
    if (!Number.isFinite(a) || !Number.isFinite(b))
      throw new ValueError(className, `parameters must be finite, got ${a}, ${b}`);
    if (className === 'RandomUniform' ? !(a < b) : !(b >= 0)) {
      throw new ValueError(className, `invalid parameters ${a}, ${b}`);
    }
    this.seed = seed ?? nextSeed();
  }
  getConfig() {
    return this.className === 'RandomUniform'
      ? { minval: this.a, maxval: this.b, seed: this.seed }
      : { mean: this.a, stddev: this.b, seed: this.seed };
  }
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void {
    const n = count(shape);
    const key = { seed: this.seed };
    if (this.className === 'RandomUniform') randomUniform(rt, n, ptr, this.a, this.b, key, this.className);
    else if (this.className === 'RandomNormal') randomNormal(rt, n, ptr, this.a, this.b, key, this.className);
    else truncatedNormal(rt, n, ptr, this.a, this.b, key, this.className);
  }
}

/** Orthogonal matrices (Saxe et al. 2014): QR of a Gaussian matrix, sign-corrected, times gain. */
class Orthogonal implements Initializer {
  readonly className = 'Orthogonal';
  readonly seed: number;
  constructor(
    readonly gain: number,
    seed?: number,
  ) {
    this.seed = seed ?? nextSeed();
  }
  getConfig() {
    return { gain: this.gain, seed: this.seed };
  }
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void {
    if (shape.length < 2)
      throw new ValueError('Orthogonal', `needs a weight of rank ≥ 2, got shape [${shape.join(',')}]`);
    const cols = shape[shape.length - 1] as number;
    const rows = count(shape) / cols;
    randomNormal(rt, rows * cols, ptr, 0, 1, { seed: this.seed }, 'Orthogonal');
    // Orthonormalize the longer side's vectors with modified Gram–Schmidt in f64 (a one-off cost).
    const tall = rows >= cols;
    const [p, q] = tall ? [rows, cols] : [cols, rows];
    const src = rt.read(ptr, rows * cols);
    const v: Float64Array[] = [];
    for (let j = 0; j < q; j++) {
      const col = new Float64Array(p);
      for (let i = 0; i < p; i++) col[i] = tall ? (src[i * cols + j] as number) : (src[j * cols + i] as number);
      for (const u of v) {
        let dot = 0;
        for (let i = 0; i < p; i++) dot += (col[i] as number) * (u[i] as number);
        for (let i = 0; i < p; i++) col[i] = (col[i] as number) - dot * (u[i] as number);
      }
      let norm = 0;
      for (let i = 0; i < p; i++) norm += (col[i] as number) ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < p; i++) col[i] = (col[i] as number) / norm;
      v.push(col);
    }
    const out = new Float32Array(rows * cols);
    for (let j = 0; j < q; j++) {
      const col = v[j] as Float64Array;
      for (let i = 0; i < p; i++) {
        if (tall) out[i * cols + j] = this.gain * (col[i] as number);
        else out[j * cols + i] = this.gain * (col[i] as number);
      }
    }
    rt.write(ptr, out);
  }
}

/** Initializer factories, named as in tfjs (`wg.initializers.glorotUniform({ seed })`). */
export const initializers = {
  glorotUniform: (o: { seed?: number } = {}) => new VarianceScaling('GlorotUniform', 1, 'fanAvg', 'uniform', o.seed),
  glorotNormal: (o: { seed?: number } = {}) =>
    new VarianceScaling('GlorotNormal', 1, 'fanAvg', 'truncatedNormal', o.seed),
  heUniform: (o: { seed?: number } = {}) => new VarianceScaling('HeUniform', 2, 'fanIn', 'uniform', o.seed),
  heNormal: (o: { seed?: number } = {}) => new VarianceScaling('HeNormal', 2, 'fanIn', 'truncatedNormal', o.seed),
  lecunUniform: (o: { seed?: number } = {}) => new VarianceScaling('LecunUniform', 1, 'fanIn', 'uniform', o.seed),
  lecunNormal: (o: { seed?: number } = {}) => new VarianceScaling('LecunNormal', 1, 'fanIn', 'truncatedNormal', o.seed),
  zeros: () => new Constant('Zeros', 0),
  ones: () => new Constant('Ones', 1),
  constant: (o: { value: number }) => new Constant('Constant', o.value),
  randomNormal: (o: { mean?: number; stddev?: number; seed?: number } = {}) =>
    new RandomDistribution('RandomNormal', o.mean ?? 0, o.stddev ?? 0.05, o.seed),
  randomUniform: (o: { minval?: number; maxval?: number; seed?: number } = {}) =>
    new RandomDistribution('RandomUniform', o.minval ?? -0.05, o.maxval ?? 0.05, o.seed),
  truncatedNormal: (o: { mean?: number; stddev?: number; seed?: number } = {}) =>
    new RandomDistribution('TruncatedNormal', o.mean ?? 0, o.stddev ?? 0.05, o.seed),
  orthogonal: (o: { gain?: number; seed?: number } = {}) => new Orthogonal(o.gain ?? 1, o.seed),
};

export type InitializerName = keyof typeof initializers;

const CLASS_TO_NAME: Record<string, InitializerName> = {
  GlorotUniform: 'glorotUniform',
  GlorotNormal: 'glorotNormal',
  HeUniform: 'heUniform',
  HeNormal: 'heNormal',
  LecunUniform: 'lecunUniform',
  LecunNormal: 'lecunNormal',
  Zeros: 'zeros',
  Ones: 'ones',
  Constant: 'constant',
  RandomNormal: 'randomNormal',
  RandomUniform: 'randomUniform',
  TruncatedNormal: 'truncatedNormal',
  Orthogonal: 'orthogonal',
};

/** Accepts an Initializer, a name ('heNormal', Keras' 'he_normal'), or a serialized config. */
export function getInitializer(
  id: Initializer | string | { className: string; config?: Record<string, unknown> } | undefined,
  fallback: InitializerName,
  op: string,
): Initializer {
  if (id === undefined) return (initializers[fallback] as (o: Record<string, unknown>) => Initializer)({});
  if (typeof id === 'object' && id !== null && 'apply' in id) return id;
  // Topologies come from files: anything but a name or { className, config } is a typed error, and
  // only own keys of the tables count (not 'constructor' or '__proto__' from Object.prototype).
  const raw: unknown = typeof id === 'string' ? id : typeof id === 'object' && id !== null ? id.className : undefined;
  if (typeof raw !== 'string') {
    throw new ValueError(
      op,
      `an initializer must be a name or { className, config }, got ${id === null ? 'null' : typeof id}`,
    );
  }
  const camel = raw.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const name = (
    Object.hasOwn(initializers, camel) ? camel : Object.hasOwn(CLASS_TO_NAME, raw) ? CLASS_TO_NAME[raw] : undefined
  ) as InitializerName | undefined;
  if (!name) throw new ValueError(op, `unknown initializer '${raw}'; known: ${Object.keys(initializers).join(', ')}`);
  const config: unknown = (typeof id === 'object' ? id.config : undefined) ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ValueError(op, `initializer '${raw}' config must be an object, got ${JSON.stringify(config)}`);
  }
  return (initializers[name] as (o: Record<string, unknown>) => Initializer)(config as Record<string, unknown>);
}

/** The serializable form of an initializer. */
export function initializerConfig(init: Initializer): { className: string; config: Record<string, unknown> } {
  return { className: init.className, config: init.getConfig() };
}

/**
 * Search spaces: `uniform`, `logUniform`, `int` and `choice` parameters, optionally active only
 * when an earlier parameter takes given values (`when`). A {@link Space} validates a space (naming
 * the parameter and the offending value), samples it, enumerates a grid, and maps parameters to and
 * from the unit cube the Gaussian process works in: continuous and integer parameters take one
 * dimension each (log-warped for log scales), a choice takes one one-hot dimension per value, and
 * an inactive parameter encodes as zeros.
 * @module
 */
import { ValueError } from '../errors.js';

/** A parameter value. */
export type Scalar = number | string | boolean;

/** Parameter values by name: what an objective or `build` receives. */
export type Params = Record<string, Scalar>;

/** Makes a parameter active only when the named earlier parameters take one of the given values. */
export type Condition = Record<string, Scalar | readonly Scalar[]>;

/** Options shared by every parameter. */
export interface ParamOptions {
  /** The parameter exists only when these earlier parameters take these values (`{ optimizer: 'sgd' }`). */
  when?: Condition;
}

/** A real parameter drawn uniformly from [low, high]. */
export interface UniformParam extends ParamOptions {
  readonly kind: 'uniform';
  readonly low: number;
  readonly high: number;
}

/** A real parameter whose logarithm is uniform over [log low, log high] (learning rates, decays). */
export interface LogUniformParam extends ParamOptions {
  readonly kind: 'logUniform';
  readonly low: number;
  readonly high: number;
}

/** An integer parameter in [low, high] (both included), optionally on a log scale. */
export interface IntParam extends ParamOptions {
  readonly kind: 'int';
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
}

/** One of a list of values (numbers, strings or booleans). */
export interface ChoiceParam extends ParamOptions {
  readonly kind: 'choice';
  readonly values: readonly Scalar[];
}

/** Any parameter. */
export type Param = UniformParam | LogUniformParam | IntParam | ChoiceParam;

/** A search space: parameters by name, in the order they are declared. */
export type SpaceSpec = Record<string, Param>;

/** A real parameter uniform over [low, high]. The space validates it (low < high, finite). */
export function uniform(low: number, high: number, options: ParamOptions = {}): UniformParam {
  return { kind: 'uniform', low, high, ...options };
}

/** A real parameter uniform in log scale over [low, high], 0 < low < high. */
export function logUniform(low: number, high: number, options: ParamOptions = {}): LogUniformParam {
  return { kind: 'logUniform', low, high, ...options };
}

/** An integer parameter in [low, high] (inclusive); `log: true` samples it in log scale (low ≥ 1). */
export function int(low: number, high: number, options: ParamOptions & { log?: boolean } = {}): IntParam {
  const { log = false, ...rest } = options;
  return { kind: 'int', low, high, log, ...rest };
}

/** One of `values` (at least one; numbers, strings or booleans, no duplicates). */
export function choice(values: readonly Scalar[], options: ParamOptions = {}): ChoiceParam {
  return { kind: 'choice', values: Array.isArray(values) ? [...values] : values, ...options };
}

const fmt = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Where a parameter sits in the unit-cube encoding. */
interface Slot {
  name: string;
  param: Param;
  /** First encoded dimension and how many it takes (1, or the number of choices). */
  offset: number;
  width: number;
  /** Condition with its allowed values as arrays. */
  when: [string, readonly Scalar[]][];
}

/** Bounds of the warped axis of a numeric parameter: the unit interval maps onto [a, b]. */
function axis(p: UniformParam | LogUniformParam | IntParam): [number, number] {
  switch (p.kind) {
    case 'uniform':
      return [p.low, p.high];
    case 'logUniform':
      return [Math.log(p.low), Math.log(p.high)];
    case 'int':
      // Each integer owns a bin of width 1 (in log scale, [k - ½, k + ½] warped) so all are equally likely.
      return p.log ? [Math.log(p.low - 0.5), Math.log(p.high + 0.5)] : [p.low - 0.5, p.high + 0.5];
  }
}

/** A validated search space. `op` names the API call in error messages. */
export class Space {
  /** Parameter names in declaration order. */
  readonly names: string[];
  /** Number of dimensions of the unit-cube encoding. */
  readonly dims: number;
  private readonly slots: Slot[];

  constructor(spec: SpaceSpec, op = 'tune') {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec))
      throw new ValueError(op, `space must be an object of parameters, got ${fmt(spec)}`);
    this.names = Object.keys(spec);
    if (this.names.length === 0) throw new ValueError(op, 'space has no parameters');
    this.slots = [];
    let offset = 0;
    for (const name of this.names) {
      const param = spec[name] as Param;
      const width = validateParam(op, name, param);
      const when = validateCondition(op, name, param.when, this.slots);
      this.slots.push({ name, param, offset, width, when });
      offset += width;
    }
    this.dims = offset;
  }

  /** The parameters of a choice (for the acquisition's category search): offset and width. */
  choiceSlots(): { offset: number; width: number }[] {
    return this.slots.filter((s) => s.param.kind === 'choice').map((s) => ({ offset: s.offset, width: s.width }));
  }

  /** Which encoded dimensions are continuous (numeric parameters), for local search moves. */
  numericDims(): number[] {
    return this.slots.filter((s) => s.param.kind !== 'choice').map((s) => s.offset);
  }

  /** A random point of the unit cube: numeric dims uniform, each choice a random one-hot. */
  sampleUnit(rand: () => number): Float64Array {
    const u = new Float64Array(this.dims);
    for (const s of this.slots) {
      if (s.param.kind === 'choice') u[s.offset + Math.min(s.width - 1, Math.floor(rand() * s.width))] = 1;
      else u[s.offset] = rand();
    }
    return u;
  }

  /** The parameters a unit-cube point stands for (inactive parameters are left out). */
  decode(u: ArrayLike<number>): Params {
    const out: Params = {};
    for (const s of this.slots) {
      if (!this.active(s, out)) continue;
      const p = s.param;
      if (p.kind === 'choice') {
        let best = 0;
        for (let j = 1; j < s.width; j++) if ((u[s.offset + j] as number) > (u[s.offset + best] as number)) best = j;
        out[s.name] = p.values[best] as Scalar;
        continue;
      }
      const t = Math.min(1, Math.max(0, u[s.offset] as number));
      const [a, b] = axis(p);
      const w = a + t * (b - a);
      if (p.kind === 'uniform') out[s.name] = Math.min(p.high, Math.max(p.low, w));
      else if (p.kind === 'logUniform') out[s.name] = Math.min(p.high, Math.max(p.low, Math.exp(w)));
      else out[s.name] = Math.min(p.high, Math.max(p.low, Math.round(p.log ? Math.exp(w) : w)));
    }
    return out;
  }

  /**
   * The unit-cube point of parameters: integers at the centre of their bin, choices one-hot,
   * inactive parameters zero. Throws a ValueError for a missing or out-of-range active parameter.
   */
  encode(params: Params, op = 'tune'): Float64Array {
    const u = new Float64Array(this.dims);
    for (const s of this.slots) {
      if (!this.active(s, params)) continue;
      const p = s.param;
      const v = params[s.name];
      if (p.kind === 'choice') {
        const j = p.values.indexOf(v as Scalar);
        if (j < 0) throw new ValueError(op, `parameter "${s.name}": ${fmt(v)} is not one of its choices`);
        u[s.offset + j] = 1;
        continue;
      }
      if (typeof v !== 'number' || !(v >= p.low && v <= p.high))
        throw new ValueError(op, `parameter "${s.name}": ${fmt(v)} is not a number in [${p.low}, ${p.high}]`);
      const [a, b] = axis(p);
      const w = p.kind === 'uniform' || (p.kind === 'int' && !p.log) ? v : Math.log(v);
      u[s.offset] = (w - a) / (b - a);
    }
    return u;
  }

  /** A point snapped onto the space: `encode(decode(u))` (rounded integers, exact one-hots). */
  canonical(u: ArrayLike<number>): Float64Array {
    return this.encode(this.decode(u));
  }

  /**
   * Every combination of `points` values per real parameter (evenly spaced in its warped scale),
   * every integer (or `points` of them when there are more) and every choice, without duplicates
   * that differ only in inactive parameters. Order: the last parameter varies fastest.
   */
  grid(points: number): Params[] {
    const axes = this.slots.map((s) => gridAxis(s.param, points));
    const out: Params[] = [];
    const seen = new Set<string>();
    const index = new Array<number>(axes.length).fill(0);
    for (;;) {
      const params: Params = {};
      for (let i = 0; i < this.slots.length; i++) {
        const s = this.slots[i] as Slot;
        if (this.active(s, params)) params[s.name] = (axes[i] as Scalar[])[index[i] as number] as Scalar;
      }
      const key = JSON.stringify(params);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(params);
      }
      let i = axes.length - 1;
      while (i >= 0 && (index[i] as number) + 1 >= (axes[i] as Scalar[]).length) index[i--] = 0;
      if (i < 0) return out;
      index[i] = (index[i] as number) + 1;
    }
  }

  private active(s: Slot, params: Params): boolean {
    for (const [parent, allowed] of s.when) {
      if (!Object.hasOwn(params, parent) || !allowed.includes(params[parent] as Scalar)) return false;
    }
    return true;
  }
}

function gridAxis(p: Param, points: number): Scalar[] {
  if (p.kind === 'choice') return [...p.values];
  if (p.kind === 'int' && p.high - p.low + 1 <= points) {
    return Array.from({ length: p.high - p.low + 1 }, (_, i) => p.low + i);
  }
  const values: Scalar[] = [];
  for (let i = 0; i < points; i++) {
    const t = points === 1 ? 0.5 : i / (points - 1);
    // The ends are the bounds exactly (no rounding through exp/log).
    if (p.kind !== 'int' && (t === 0 || t === 1)) values.push(t === 0 ? p.low : p.high);
    else if (p.kind === 'uniform') values.push(p.low + t * (p.high - p.low));
    else if (p.kind === 'logUniform') values.push(Math.exp(Math.log(p.low) + t * (Math.log(p.high) - Math.log(p.low))));
    else {
      const [a, b] = p.log ? [Math.log(p.low), Math.log(p.high)] : [p.low, p.high];
      const w = a + t * (b - a);
      const v = Math.round(p.log ? Math.exp(w) : w);
      if (!values.includes(v)) values.push(v);
    }
  }
  return values;
}

/** Validates one parameter; returns its encoded width. Errors name the parameter and the value. */
function validateParam(op: string, name: string, p: Param): number {
  const where = `parameter "${name}"`;
  if (!p || typeof p !== 'object' || typeof (p as { kind?: unknown }).kind !== 'string')
    throw new ValueError(op, `${where}: expected wg.tune.uniform/logUniform/int/choice, got ${fmt(p)}`);
  switch (p.kind) {
    case 'uniform':
    case 'logUniform':
    case 'int': {
      const { low, high } = p;
      if (typeof low !== 'number' || !Number.isFinite(low))
        throw new ValueError(op, `${where}: low must be a finite number, got ${fmt(low)}`);
      if (typeof high !== 'number' || !Number.isFinite(high))
        throw new ValueError(op, `${where}: high must be a finite number, got ${fmt(high)}`);
      if (p.kind === 'int' && !(Number.isSafeInteger(low) && Number.isSafeInteger(high)))
        throw new ValueError(op, `${where}: int bounds must be integers, got low ${low}, high ${high}`);
      if (p.kind === 'int' ? low > high : low >= high)
        throw new ValueError(op, `${where}: low (${low}) must be ${p.kind === 'int' ? '≤' : '<'} high (${high})`);
      if (p.kind === 'logUniform' && low <= 0)
        throw new ValueError(op, `${where}: logUniform bounds must be positive, got low ${low}`);
      if (p.kind === 'int' && p.log && low < 1)
        throw new ValueError(op, `${where}: a log-scale int needs low ≥ 1, got low ${low}`);
      return 1;
    }
    case 'choice': {
      const { values } = p;
      if (!Array.isArray(values) || values.length === 0)
        throw new ValueError(op, `${where}: choice needs at least one value, got ${fmt(JSON.stringify(values))}`);
      for (const v of values) {
        const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
        if (!ok)
          throw new ValueError(
            op,
            `${where}: choice values must be finite numbers, strings or booleans, got ${fmt(v)}`,
          );
      }
      if (new Set(values).size !== values.length)
        throw new ValueError(op, `${where}: choice values must be distinct, got ${JSON.stringify(values)}`);
      return values.length;
    }
    default:
      throw new ValueError(op, `${where}: unknown kind ${fmt((p as { kind: unknown }).kind)}`);
  }
}

/** Validates a condition against the parameters declared before; returns it as [parent, values] pairs. */
function validateCondition(
  op: string,
  name: string,
  when: Condition | undefined,
  earlier: Slot[],
): [string, readonly Scalar[]][] {
  if (when === undefined) return [];
  if (!when || typeof when !== 'object' || Array.isArray(when))
    throw new ValueError(op, `parameter "${name}": when must be an object like { optimizer: 'sgd' }, got ${fmt(when)}`);
  return Object.entries(when).map(([parent, value]) => {
    const slot = earlier.find((s) => s.name === parent);
    if (!slot)
      throw new ValueError(op, `parameter "${name}": its condition names "${parent}", which is not declared before it`);
    const allowed: readonly Scalar[] = Array.isArray(value) ? value : [value as Scalar];
    const p = slot.param;
    for (const v of allowed) {
      const possible = p.kind === 'choice' ? p.values.includes(v) : typeof v === 'number' && v >= p.low && v <= p.high;
      if (!possible)
        throw new ValueError(op, `parameter "${name}": condition value ${fmt(v)} is not a value of "${parent}"`);
    }
    return [parent, allowed];
  });
}

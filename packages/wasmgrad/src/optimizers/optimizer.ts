/**
 * The optimizer base class: learning rate (constant or scheduled), gradient clipping, decoupled
 * weight decay, the flat state buffers, and their export/import for checkpoints.
 * @module
 */
import { ValueError } from '../errors.js';
import * as k from '../runtime/kernels/optim.js';
import type { Runtime } from '../runtime/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { LearningRateSchedule, type SerializedSchedule, scheduleFromConfig } from './schedules.js';

/**
 * Gradient clipping options every optimizer takes (Keras names): clip each gradient value to
 * [−clipValue, clipValue]; rescale the whole gradient so its L2 norm is at most clipNorm (per model,
 * the weights being one flat buffer) or globalClipNorm (the same here).
 */
export interface OptimizerArgs {
  /**
   * A constant rate, or a schedule evaluated at the optimizer's iteration count before each update
   * (also accepted serialized, `{ className, config }`, as getConfig writes it).
   */
  learningRate?: number | LearningRateSchedule | SerializedSchedule;
  clipValue?: number;
  clipNorm?: number;
  globalClipNorm?: number;
  /** Decoupled weight decay (Keras 3 `weight_decay`): p ← p − lr·weightDecay·p before the update. */
  weightDecay?: number;
}

/**
 * An optimizer updates the model's flat parameter buffer from its flat gradient buffer in one fused
 * kernel call per step; its state (moments, accumulators) lives in flat buffers of the same layout.
 */
export abstract class Optimizer {
  abstract readonly className: string;
  /** The schedule the learning rate follows, if one was given. */
  readonly schedule: LearningRateSchedule | undefined;
  /**
   * Updates applied since the state was created (compile) or restored (setState): Keras
   * `iterations`. A schedule is evaluated at the count before each update, so the first uses step 0.
   */
  iterations = 0;
  private constantRate = 0;
  private rt: Runtime | undefined;
  readonly clipValue: number | undefined;
  readonly clipNorm: number | undefined;
  readonly globalClipNorm: number | undefined;
  readonly weightDecay: number;
  /** Byte addresses of the state buffers (after init). */
  protected state: number[] = [];
  protected n = 0;

  constructor(args: OptimizerArgs, defaultLr: number) {
    const lr = args.learningRate ?? defaultLr;
    if (lr instanceof LearningRateSchedule) this.schedule = lr;
    else if (typeof lr === 'object' && lr !== null) this.schedule = scheduleFromConfig(lr, 'optimizer');
    else this.learningRate = lr;
    this.clipValue = args.clipValue;
    this.clipNorm = args.clipNorm;
    this.globalClipNorm = args.globalClipNorm;
    this.weightDecay = args.weightDecay ?? 0;
    for (const [name, v] of [
      ['clipValue', this.clipValue],
      ['clipNorm', this.clipNorm],
      ['globalClipNorm', this.globalClipNorm],
    ] as const) {
      if (v !== undefined) checkPositive('optimizer', name, v, false);
    }
    checkPositive('optimizer', 'weightDecay', this.weightDecay, true);
  }

  /** The current learning rate: the constant, or the schedule at {@link iterations}. */
  get learningRate(): number {
    return this.schedule ? this.schedule.at(this.iterations) : this.constantRate;
  }

  /** Sets a constant learning rate; refused when the rate follows a schedule (as in Keras). */
  set learningRate(value: number) {
    if (this.schedule) {
      throw new ValueError(
        this.className ?? 'optimizer',
        `the learning rate follows a ${this.schedule.className} schedule and cannot be set (to ${value}); ` +
          'create the optimizer with a number as learningRate to change it during training',
      );
    }
    checkPositive(this.className ?? 'optimizer', 'learningRate', value, true);
    this.constantRate = value;
  }

  /** How many state buffers of the parameter layout the optimizer keeps. */
  protected abstract get stateCount(): number;
  /** Initial value of each state buffer (Adagrad starts its accumulator at 0.1). */
  protected initialState(_i: number): number {
    return 0;
  }

  /** Allocates and zeroes the state for `n` parameters. */
  init(rt: Runtime, n: number): void {
    this.dispose(rt);
    this.n = n;
    this.rt = rt;
    this.iterations = 0;
    for (let i = 0; i < this.stateCount; i++) {
      const p = rt.allocF32(Math.max(n, 1), this.className);
      rt.f32.fill(this.initialState(i), p >>> 2, (p >>> 2) + n);
      this.state.push(p);
    }
  }

  /** Frees the state buffers. */
  dispose(rt: Runtime): void {
    for (const p of this.state) rt.allocator.release(p);
    this.state = [];
  }

  /**
   * One update of `n` parameters: clipping, weight decay, then the rule, as update number `t`
   * (1-based; default: the optimizer's own count, {@link iterations} + 1, as Keras counts — a new or
   * recompiled optimizer starts at 1 whatever the model trained before).
   */
  apply(rt: Runtime, params: number, grads: number, n: number, t = this.iterations + 1): void {
    this.iterations = t - 1;
    if (this.clipValue !== undefined) k.clipByValue(rt, n, grads, -this.clipValue, this.clipValue);
    const norm = this.globalClipNorm ?? this.clipNorm;
    if (norm !== undefined) k.clipByNorm(rt, n, grads, norm);
    if (this.weightDecay > 0 && this.decoupledDecay) k.weightDecay(rt, n, params, this.learningRate * this.weightDecay);
    this.update(rt, params, grads, n, t);
    this.iterations = t;
  }

  /**
   * A copy of the optimizer's state: the iteration count and every state buffer (moments,
   * accumulators), in a fixed order. With {@link setState} it makes a resumed run continue exactly.
   */
  getState(): OptimizerState {
    const rt = this.rt;
    const slots = this.state.map((p) => (rt ? rt.f32.slice(p >>> 2, (p >>> 2) + this.n) : new Float32Array(0)));
    return { className: this.className, iterations: this.iterations, slots };
  }

  /**
   * The state as tensors, with tfjs names: `{ name: 'iter' }` (a scalar, exact up to 2^24 updates),
   * then `{ name: '<className>/<i>' }` per state buffer ([n] each). Copies: dispose them.
   */
  getWeights(): { name: string; tensor: Tensor }[] {
    const rt = this.rt;
    if (!rt)
      throw new ValueError(`${this.className}.getWeights`, 'the optimizer has no state yet: compile the model first');
    const state = this.getState();
    const make = (name: string, shape: number[], values: ArrayLike<number>) => {
      const t = empty(shape, `${this.className}.getWeights`, rt);
      rt.f32.set(values, t.ptr >>> 2);
      return { name, tensor: t };
    };
    return [
      make('iter', [], [state.iterations]),
      ...state.slots.map((slot, i) => make(`${this.className}/${i}`, [slot.length], slot)),
    ];
  }

  /** Restores tensors from {@link getWeights} (validated as {@link setState} does). */
  setWeights(weights: { name: string; tensor: Tensor }[]): void {
    const op = `${this.className}.setWeights`;
    if (!Array.isArray(weights) || weights.length === 0 || weights[0]?.name !== 'iter') {
      throw new ValueError(op, "expects [{ name: 'iter', tensor }, ...state buffers] as getWeights returns");
    }
    weights.forEach((w, i) => {
      if (typeof w?.tensor?.dataSync !== 'function') throw new ValueError(op, `entry ${i} has no tensor`);
    });
    const [iter, ...slots] = weights.map((w) => w.tensor.dataSync());
    const iterations = (iter as Float32Array)[0] as number;
    if ((iter as Float32Array).length !== 1)
      throw new ValueError(op, `'iter' must hold one value, got ${iter?.length}`);
    this.setState({ className: this.className, iterations, slots: slots.map((d) => Float32Array.from(d)) });
  }

  /** Restores a state from {@link getState}; sizes are checked before anything is written. */
  setState(state: OptimizerState): void {
    const op = `${this.className}.setState`;
    if (!state || typeof state !== 'object' || !Array.isArray(state.slots)) {
      throw new ValueError(op, 'expects { className, iterations, slots: Float32Array[] }');
    }
    if (state.className !== this.className) {
      throw new ValueError(
        op,
        `state of a ${String(state.className)} optimizer cannot be loaded into ${this.className}`,
      );
    }
    if (!Number.isSafeInteger(state.iterations) || state.iterations < 0) {
      throw new ValueError(op, `iterations must be an integer ≥ 0, got ${state.iterations}`);
    }
    const rt = this.rt;
    if (!rt) throw new ValueError(op, 'the optimizer has no state yet: compile the model first');
    if (state.slots.length !== this.state.length) {
      throw new ValueError(op, `expected ${this.state.length} state buffers, got ${state.slots.length}`);
    }
    state.slots.forEach((s, i) => {
      if (!(s instanceof Float32Array) || s.length !== this.n) {
        throw new ValueError(op, `state buffer ${i} must be a Float32Array of ${this.n} values, got ${s?.length}`);
      }
    });
    state.slots.forEach((s, i) => {
      rt.f32.set(s, this.s(i) >>> 2);
    });
    this.iterations = state.iterations;
  }

  /** Whether `weightDecay` is applied by {@link apply} (AdamW folds it into its own kernel). */
  protected get decoupledDecay(): boolean {
    return true;
  }

  protected abstract update(rt: Runtime, params: number, grads: number, n: number, t: number): void;

  /** Options, for serialization. */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { learningRate: this.schedule ? this.schedule.toJSON() : this.learningRate };
    if (this.clipValue !== undefined) c.clipValue = this.clipValue;
    if (this.clipNorm !== undefined) c.clipNorm = this.clipNorm;
    if (this.globalClipNorm !== undefined) c.globalClipNorm = this.globalClipNorm;
    if (this.weightDecay) c.weightDecay = this.weightDecay;
    return c;
  }

  protected s(i: number): number {
    return this.state[i] as number;
  }
}

/** An optimizer's state as {@link Optimizer.getState} returns it. */
export interface OptimizerState {
  className: string;
  iterations: number;
  /** The state buffers, one value per trainable parameter each. */
  slots: Float32Array[];
}

/** Throws a ValueError unless `v` is a finite number ≥ 0 (> 0 unless allowZero). */
export function checkPositive(op: string, name: string, v: number, allowZero: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new ValueError(op, `${name} must be a finite number ${allowZero ? '≥' : '>'} 0, got ${v}`);
  }
}

/** Throws a ValueError unless `v` is in [0, 1). */
export function checkUnit(op: string, name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new ValueError(op, `${name} must be in [0, 1), got ${v}`);
}

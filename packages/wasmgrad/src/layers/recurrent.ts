import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { getInitializer, type Initializer, initializerConfig } from '../initializers/initializers.js';
import { getRegularizer, type Regularizer } from '../regularizers/regularizers.js';
import { axpy } from '../runtime/kernels/elementwise.js';
import { gemm, gemmBiasAct } from '../runtime/kernels/gemm.js';
import { sumRows } from '../runtime/kernels/reduce.js';
import { copyRows3d } from '../runtime/kernels/rnn.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ActivationIdentifier } from './activations.js';
import { Layer, type LayerArgs, type LayerWeight, type StepContext } from './layer.js';

/** Options shared by simpleRNN, lstm and gru, as in tfjs-layers. */
export interface RNNArgs extends LayerArgs {
  /** Size of the hidden state (and of the output per timestep). */
  units: number;
  /** Output/candidate activation (default tanh). */
  activation?: ActivationIdentifier;
  /** Whether to add bias vectors (default true). */
  useBias?: boolean;
  /** Initializer of the input kernel [features, k·units] (default glorotUniform). */
  kernelInitializer?: Initializer | string;
  /** Initializer of the recurrent kernel [units, k·units] (default orthogonal). */
  recurrentInitializer?: Initializer | string;
  /** Default zeros. */
  biasInitializer?: Initializer | string;
  kernelRegularizer?: Regularizer;
  recurrentRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  /** Output the hidden state of every timestep ([time, units]) instead of the last one ([units]). */
  returnSequences?: boolean;
  /** Also output the final states (h; and c for LSTM) as extra outputs (functional API). */
  returnState?: boolean;
  /** Process the sequence from its end; the output sequence is in processing order (Keras). */
  goBackwards?: boolean;
  /** Input dropout: only 0 is supported. */
  dropout?: number;
  /** Recurrent-state dropout: only 0 is supported. */
  recurrentDropout?: number;
  /** Carrying states across batches: only false is supported. */
  stateful?: boolean;
}

/** What a cell's backward pass leaves: pre-activation gradients of the input and recurrent sides. */
export interface CellGradients {
  /** [time·batch, k·units], time-major, processing order: gradient of x·W + b. */
  dz: number;
  /** [time·batch, k·units]: gradient of h_prev·U (the same buffer as dz except for GRU). */
  drec: number;
}

/**
 * Base of the recurrent layers. Inputs are [batch, time, features]; the layer works time-major:
 * one copy puts x in [time, batch, features] order (reversed for goBackwards), ONE gemm projects
 * every timestep (x·W + b), then each step does one gemm with the recurrent kernel and one fused
 * gate kernel. Hidden states live in hs = [time + 1, batch, units] with hs[0] = 0, so that after
 * backpropagation through time the recurrent-kernel gradient is one gemm hs[0..T)ᵀ·dz and the input
 * kernel gradient one gemm xᵀ·dz.
 */
export abstract class RNN extends Layer {
  readonly units: number;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | undefined;
  readonly recurrentRegularizer: Regularizer | undefined;
  readonly biasRegularizer: Regularizer | undefined;
  /** Gates per unit: 1 (simple), 4 (LSTM), 3 (GRU). */
  protected abstract readonly gates: number;
  protected kernel!: LayerWeight;
  protected recurrentKernel!: LayerWeight;
  protected bias: LayerWeight | undefined;
  protected timesteps = 0;
  protected features = 0;
  /** Step buffers of the last forward (byte addresses in the step arena). */
  protected xt = 0;
  protected z = 0;
  protected hs = 0;

  constructor(args: RNNArgs, prefix: string) {
    super(args ?? ({} as RNNArgs), prefix);
    if (!Number.isSafeInteger(args?.units) || args.units <= 0) {
      throw new ValueError(this.name, `units must be a positive integer, got ${args?.units}`);
    }
    for (const key of ['dropout', 'recurrentDropout'] as const) {
      const v = args[key] ?? 0;
      if (v !== 0) throw new ValueError(this.name, `${key} is not supported (must be 0), got ${v}`);
    }
    if (args.stateful) throw new ValueError(this.name, 'stateful recurrent layers are not supported');
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.kernelInitializer = getInitializer(args.kernelInitializer, 'glorotUniform', this.name);
    this.recurrentInitializer = getInitializer(args.recurrentInitializer, 'orthogonal', this.name);
    this.biasInitializer = getInitializer(args.biasInitializer, 'zeros', this.name);
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.recurrentRegularizer = getRegularizer(args.recurrentRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  computeOutputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(
        this.name,
        `expects input [batch, time, features], got per-sample shape ${fmtShape(inputShape)} (batch shape [null,${inputShape.join(',')}])`,
      );
    }
    return this.returnSequences ? [inputShape[0] as number, this.units] : [this.units];
  }

  /** Shapes of the extra state outputs (h; LSTM adds c). */
  protected get stateCount(): number {
    return 1;
  }

  protected override declareWeights(inputShape: readonly number[]): void {
    [this.timesteps, this.features] = inputShape as [number, number];
    const k = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [this.features, k], this.kernelInitializer, this.kernelRegularizer);
    this.recurrentKernel = this.addWeight(
      'recurrent_kernel',
      [this.units, k],
      this.recurrentInitializer,
      this.recurrentRegularizer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', this.biasShape(), this.biasInit(), this.biasRegularizer);
  }

  /** Shape of the bias (Keras: [k·units]; GRU with resetAfter: [2, 3·units]). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  /** The initializer applied to the bias (LSTM wraps it for unitForgetBias). */
  protected biasInit(): Initializer {
    return this.biasInitializer;
  }

  override buildMulti(inputShapes: readonly (readonly number[])[]): void {
    super.buildMulti(inputShapes);
    this.outputShapes = [this.outputShape];
    if (this.returnState) for (let i = 0; i < this.stateCount; i++) this.outputShapes.push([this.units]);
  }

  /** Runs the cell over hs/z (set up by forwardMulti); returns the final states (h; LSTM c). */
  protected abstract runSteps(ctx: StepContext, batch: number): number[];

  /**
   * Backpropagation through time from dh = [time, batch, units] (time-major, processing order:
   * the gradient reaching each h from the outputs; steps add the recurrent part) and the final
   * states' gradients after h (LSTM: dc, or 0).
   */
  protected abstract backSteps(ctx: StepContext, batch: number, dh: number, dStates: readonly number[]): CellGradients;

  /** Byte address of timestep s of a time-major [time(+1), batch, width] buffer. */
  protected at(buf: number, s: number, batch: number, width: number): number {
    return buf + 4 * s * batch * width;
  }

  /** Fills `count` f32 values at `ptr` with zeros. */
  protected zero(rt: Runtime, ptr: number, count: number): void {
    rt.f32.fill(0, ptr >>> 2, (ptr >>> 2) + count);
  }

  forward(ctx: StepContext, x: number, batch: number): number {
    return this.forwardMulti(ctx, [x], batch)[0] as number;
  }

  backward(ctx: StepContext, dy: number, batch: number, needDx: boolean): number {
    return this.backwardMulti(ctx, [dy], batch, needDx)[0] as number;
  }

  override forwardMulti(ctx: StepContext, xs: readonly number[], batch: number): number[] {
    if (xs.length !== 1) throw new ShapeError(this.name, `takes 1 input, got ${xs.length}`);
    const { rt } = ctx;
    const [T, F, U, B] = [this.timesteps, this.features, this.units, batch];
    const k = this.gates * U;
    this.xt = ctx.alloc(T * B * F);
    copyRows3d(rt, B, T, F, this.timeView(xs[0] as number, F), { ptr: this.xt, s0: F, s1: B * F }, this.name);
    this.z = ctx.alloc(T * B * k);
    gemmBiasAct(
      rt,
      T * B,
      k,
      F,
      { ptr: this.xt, rowStride: F, colStride: 1 },
      { ptr: this.kernel.ptr, rowStride: k, colStride: 1 },
      this.bias ? this.bias.ptr : null,
      { ptr: this.z, rowStride: k, colStride: 1 },
      'linear',
      this.name,
    );
    this.hs = ctx.alloc((T + 1) * B * U);
    this.zero(rt, this.hs, B * U);
    const states = this.runSteps(ctx, B);
    let out = states[0] as number;
    if (this.returnSequences) {
      out = ctx.alloc(B * T * U);
      copyRows3d(
        rt,
        B,
        T,
        U,
        { ptr: this.at(this.hs, 1, B, U), s0: U, s1: B * U },
        { ptr: out, s0: T * U, s1: U },
        this.name,
      );
    }
    return this.returnState ? [out, ...states] : [out];
  }

  /** [batch, time, width] at `ptr` viewed in processing order (reversed time for goBackwards). */
  private timeView(ptr: number, width: number) {
    const T = this.timesteps;
    return this.goBackwards
      ? { ptr: ptr + 4 * (T - 1) * width, s0: T * width, s1: -width }
      : { ptr, s0: T * width, s1: width };
  }

  override backwardMulti(ctx: StepContext, dys: readonly number[], batch: number, needDx: boolean): number[] {
    const { rt } = ctx;
    const [T, F, U, B] = [this.timesteps, this.features, this.units, batch];
    const k = this.gates * U;
    const dOut = dys[0] ?? 0;
    const dh = ctx.alloc(T * B * U);
    const last = this.at(dh, T - 1, B, U);
    if (this.returnSequences && dOut !== 0) {
      copyRows3d(rt, B, T, U, { ptr: dOut, s0: T * U, s1: U }, { ptr: dh, s0: U, s1: B * U }, this.name);
    } else {
      this.zero(rt, dh, T * B * U);
      if (dOut !== 0) rt.f32.copyWithin(last >>> 2, dOut >>> 2, (dOut >>> 2) + B * U);
    }
    const dStates = this.returnState ? dys.slice(1) : [];
    if (dStates[0]) axpy(rt, B * U, 1, dStates[0], last, this.name);
    const { dz, drec } = this.backSteps(ctx, B, dh, dStates.slice(1));
    if (this.trainable) this.weightGradients(rt, B, dz, drec);
    if (!needDx) return [0];
    const dxt = ctx.alloc(T * B * F);
    gemm(
      rt,
      T * B,
      F,
      k,
      1,
      { ptr: dz, rowStride: k, colStride: 1 },
      { ptr: this.kernel.ptr, rowStride: 1, colStride: k },
      0,
      { ptr: dxt, rowStride: F, colStride: 1 },
      this.name,
    );
    const dx = ctx.alloc(B * T * F);
    copyRows3d(rt, B, T, F, { ptr: dxt, s0: F, s1: B * F }, this.timeView(dx, F), this.name);
    return [dx];
  }

  /** dW = xᵀ·dz, dU (see recurrentKernelGradient), db = column sums (overwriting the gradients). */
  private weightGradients(rt: Runtime, B: number, dz: number, drec: number): void {
    const [T, F, U] = [this.timesteps, this.features, this.units];
    const k = this.gates * U;
    const rows = T * B;
    if (this.kernel.trainable) {
      gemm(
        rt,
        F,
        k,
        rows,
        1,
        { ptr: this.xt, rowStride: 1, colStride: F },
        { ptr: dz, rowStride: k, colStride: 1 },
        0,
        { ptr: this.kernel.grad, rowStride: k, colStride: 1 },
        this.name,
      );
    }
    if (this.recurrentKernel.trainable) this.recurrentKernelGradient(rt, rows, drec);
    if (this.bias?.trainable) {
      sumRows(rt, rows, k, dz, this.bias.grad, {}, this.name);
      // GRU (resetAfter): the second bias row is the recurrent bias, whose gradient sums drec.
      if (this.bias.size === 2 * k) sumRows(rt, rows, k, drec, this.bias.grad + 4 * k, {}, this.name);
    }
  }

  /** dU = hs[0..T)ᵀ·drec over all `rows` = time·batch rows, overwriting the gradient. */
  protected recurrentKernelGradient(rt: Runtime, rows: number, drec: number): void {
    const [U, k] = [this.units, this.gates * this.units];
    gemm(
      rt,
      U,
      k,
      rows,
      1,
      { ptr: this.hs, rowStride: 1, colStride: U },
      { ptr: drec, rowStride: k, colStride: 1 },
      0,
      { ptr: this.recurrentKernel.grad, rowStride: k, colStride: 1 },
      this.name,
    );
  }

  /** Options common to every recurrent layer, for getConfig. */
  protected baseConfig(): Record<string, unknown> {
    const reg = (r: Regularizer | undefined) => (r ? { className: 'L1L2', config: { l1: r.l1, l2: r.l2 } } : null);
    return {
      units: this.units,
      useBias: this.useBias,
      kernelInitializer: initializerConfig(this.kernelInitializer),
      recurrentInitializer: initializerConfig(this.recurrentInitializer),
      biasInitializer: initializerConfig(this.biasInitializer),
      kernelRegularizer: reg(this.kernelRegularizer),
      recurrentRegularizer: reg(this.recurrentRegularizer),
      biasRegularizer: reg(this.biasRegularizer),
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      dropout: 0,
      recurrentDropout: 0,
    };
  }
}

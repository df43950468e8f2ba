import type { Initializer } from '../initializers/initializers.js';
import { type GateActivation, lstmBackwardStep, lstmForwardStep } from '../runtime/kernels/rnn.js';
import type { Runtime } from '../runtime/runtime.js';
import {
  type Activation,
  type ActivationIdentifier,
  activationBackward,
  activationConfig,
  activationForward,
  getActivation,
} from './activations.js';
import type { StepContext } from './layer.js';
import { type CellGradients, RNN, type RNNArgs } from './recurrent.js';
import { fusedActivations, recurrentBackprop, recurrentProduct } from './recurrent-ops.js';

export { GRU, type GRUArgs } from './recurrent-gru.js';

/** Options of {@link LSTM}. */
export interface LSTMArgs extends RNNArgs {
  /** Gate activation: 'sigmoid' (default, as Keras) or 'hardSigmoid' (tfjs-layers' default). */
  recurrentActivation?: ActivationIdentifier | 'hardSigmoid';
  /** Initialize the forget-gate bias to 1 (default true), as Keras. */
  unitForgetBias?: boolean;
}

/** Fully connected RNN: h_t = activation(x_t·W + h_{t−1}·U + b). */
export class SimpleRNN extends RNN {
  readonly className = 'SimpleRNN';
  protected readonly gates = 1;
  readonly activation: Activation;

  constructor(args: RNNArgs) {
    super(args, 'simple_rnn');
    this.activation = getActivation(args.activation ?? 'tanh', this.name);
  }

  protected runSteps(ctx: StepContext, B: number): number[] {
    const { rt } = ctx;
    const U = this.units;
    for (let s = 0; s < this.timesteps; s++) {
      const zs = this.at(this.z, s, B, U);
      if (s > 0) recurrentProduct(rt, B, U, U, this.at(this.hs, s, B, U), this.recurrentKernel.ptr, 1, zs, this.name);
      activationForward(rt, this.activation, B, U, zs, this.at(this.hs, s + 1, B, U));
    }
    return [this.at(this.hs, this.timesteps, B, U)];
  }

  protected backSteps(ctx: StepContext, B: number, dh: number): CellGradients {
    const { rt } = ctx;
    const U = this.units;
    for (let s = this.timesteps - 1; s >= 0; s--) {
      const ds = this.at(dh, s, B, U);
      // In place: dh_s becomes the pre-activation gradient dz_s.
      activationBackward(rt, this.activation, B, U, this.at(this.z, s, B, U), this.at(this.hs, s + 1, B, U), ds, ds);
      if (s > 0) recurrentBackprop(rt, B, U, U, ds, this.recurrentKernel.ptr, this.at(dh, s - 1, B, U), this.name);
    }
    return { dz: dh, drec: dh };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), activation: activationConfig(this.activation) };
  }
}

/** Bias initializer with Keras' unitForgetBias: the forget-gate block [units, 2·units) set to 1. */
class ForgetBiasOne implements Initializer {
  readonly className: string;
  constructor(
    readonly base: Initializer,
    readonly units: number,
  ) {
    this.className = base.className;
  }
  getConfig() {
    return this.base.getConfig();
  }
  apply(rt: Runtime, ptr: number, shape: readonly number[]): void {
    this.base.apply(rt, ptr, shape);
    rt.f32.fill(1, (ptr >>> 2) + this.units, (ptr >>> 2) + 2 * this.units);
  }
}

/**
 * Long short-term memory (Hochreiter & Schmidhuber 1997), Keras equations and weight layout:
 * gates i, f, c, o side by side in kernel [features, 4·units], recurrent_kernel [units, 4·units]
 * and bias [4·units]. With returnState the outputs are [output, h, c].
 */
export class LSTM extends RNN {
  readonly className = 'LSTM';
  protected readonly gates = 4;
  /** Gate activation of the i, f, o gates. */
  readonly recurrentActivation: GateActivation;
  readonly unitForgetBias: boolean;
  private cs = 0;

  constructor(args: LSTMArgs) {
    super(args, 'lstm');
    this.recurrentActivation = fusedActivations(this.name, args);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }

  protected override get stateCount(): number {
    return 2;
  }

  protected override biasInit(): Initializer {
    return this.unitForgetBias ? new ForgetBiasOne(this.biasInitializer, this.units) : this.biasInitializer;
  }

  protected runSteps(ctx: StepContext, B: number): number[] {
    const { rt } = ctx;
    const [T, U] = [this.timesteps, this.units];
    this.cs = ctx.alloc((T + 1) * B * U);
    this.zero(rt, this.cs, B * U);
    for (let s = 0; s < T; s++) {
      const zs = this.at(this.z, s, B, 4 * U);
      if (s > 0) {
        recurrentProduct(rt, B, U, 4 * U, this.at(this.hs, s, B, U), this.recurrentKernel.ptr, 1, zs, this.name);
      }
      const [cPrev, c, h] = [this.at(this.cs, s, B, U), this.at(this.cs, s + 1, B, U), this.at(this.hs, s + 1, B, U)];
      lstmForwardStep(rt, B, U, zs, cPrev, c, h, this.recurrentActivation, this.name);
    }
    return [this.at(this.hs, T, B, U), this.at(this.cs, T, B, U)];
  }

  protected backSteps(ctx: StepContext, B: number, dh: number, dStates: readonly number[]): CellGradients {
    const { rt } = ctx;
    const U = this.units;
    const dc = ctx.alloc(B * U);
    const dcT = dStates[0] ?? 0;
    if (dcT !== 0) rt.f32.copyWithin(dc >>> 2, dcT >>> 2, (dcT >>> 2) + B * U);
    else this.zero(rt, dc, B * U);
    for (let s = this.timesteps - 1; s >= 0; s--) {
      const zs = this.at(this.z, s, B, 4 * U);
      const [cPrev, c] = [this.at(this.cs, s, B, U), this.at(this.cs, s + 1, B, U)];
      lstmBackwardStep(rt, B, U, zs, cPrev, c, this.at(dh, s, B, U), dc, this.recurrentActivation, this.name);
      if (s > 0) recurrentBackprop(rt, B, U, 4 * U, zs, this.recurrentKernel.ptr, this.at(dh, s - 1, B, U), this.name);
    }
    return { dz: this.z, drec: this.z };
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      activation: 'tanh',
      recurrentActivation: this.recurrentActivation,
      unitForgetBias: this.unitForgetBias,
    };
  }
}

import { gemm } from '../runtime/kernels/gemm.js';
import {
  type GateActivation,
  gruBackwardStep,
  gruForwardStep,
  gruResetBeforeBackwardGates,
  gruResetBeforeBackwardOutput,
  gruResetBeforeGates,
  gruResetBeforeOutput,
} from '../runtime/kernels/rnn.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ActivationIdentifier } from './activations.js';
import type { StepContext } from './layer.js';
import { type CellGradients, RNN, type RNNArgs } from './recurrent.js';
import { blockGemm, fusedActivations, recurrentBackprop, recurrentProduct } from './recurrent-ops.js';

/** Options of {@link GRU}. */
export interface GRUArgs extends RNNArgs {
  /** Gate activation: 'sigmoid' (default, as Keras) or 'hardSigmoid' (tfjs-layers' default). */
  recurrentActivation?: ActivationIdentifier | 'hardSigmoid';
  /**
   * Apply the reset gate after the recurrent matrix product (default true as in Keras 2+,
   * cuDNN-compatible; bias [2, 3·units]); false: before it (bias [3·units]).
   */
  resetAfter?: boolean;
}

/**
 * Gated recurrent unit (Cho et al. 2014), Keras equations and weight layout: gates z, r, h in
 * kernel [features, 3·units] and recurrent_kernel [units, 3·units]. resetAfter (default true, as
 * Keras 2+): ĥ = tanh(x·W_h + b_h + r·(h·U_h + b'_h)) with bias [2, 3·units] (input bias, then
 * recurrent bias); resetAfter false: ĥ = tanh(x·W_h + b_h + (r·h)·U_h) with bias [3·units].
 * Both: h = z·h_prev + (1 − z)·ĥ.
 */
export class GRU extends RNN {
  readonly className = 'GRU';
  protected readonly gates = 3;
  /** Gate activation of the z, r gates. */
  readonly recurrentActivation: GateActivation;
  readonly resetAfter: boolean;
  private rec = 0;

  constructor(args: GRUArgs) {
    super(args, 'gru');
    this.recurrentActivation = fusedActivations(this.name, args);
    this.resetAfter = args.resetAfter ?? true;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  protected runSteps(ctx: StepContext, B: number): number[] {
    const { rt } = ctx;
    const [T, U] = [this.timesteps, this.units];
    this.rec = ctx.alloc(T * B * 3 * U);
    const uk = this.recurrentKernel.ptr;
    const brec = this.bias && this.resetAfter ? this.bias.ptr + 4 * 3 * U : null;
    for (let s = 0; s < T; s++) {
      const [zs, recs] = [this.at(this.z, s, B, 3 * U), this.at(this.rec, s, B, 3 * U)];
      const [hPrev, h] = [this.at(this.hs, s, B, U), this.at(this.hs, s + 1, B, U)];
      if (this.resetAfter) {
        if (s > 0) recurrentProduct(rt, B, U, 3 * U, hPrev, uk, 0, recs, this.name);
        else this.zero(rt, recs, B * 3 * U);
        gruForwardStep(rt, B, U, zs, recs, brec, hPrev, h, this.recurrentActivation, this.name);
        continue;
      }
      // z, r blocks of rec ← h_prev·U_{z,r}; then x_h += (r·h_prev)·U_h between the two kernels.
      if (s > 0)
        blockGemm(
          rt,
          B,
          2 * U,
          U,
          { ptr: hPrev, ld: U },
          { ptr: uk, ld: 3 * U },
          0,
          { ptr: recs, ld: 3 * U },
          this.name,
        );
      else this.zero(rt, recs, B * 3 * U);
      gruResetBeforeGates(rt, B, U, zs, recs, hPrev, this.recurrentActivation, this.name);
      const hBlock = 4 * 2 * U;
      if (s > 0) {
        const [rh, uh, xh] = [recs + hBlock, uk + hBlock, zs + hBlock];
        blockGemm(rt, B, U, U, { ptr: rh, ld: 3 * U }, { ptr: uh, ld: 3 * U }, 1, { ptr: xh, ld: 3 * U }, this.name);
      }
      gruResetBeforeOutput(rt, B, U, zs, hPrev, h, this.name);
    }
    return [this.at(this.hs, T, B, U)];
  }

  protected backSteps(ctx: StepContext, B: number, dh: number): CellGradients {
    const { rt } = ctx;
    const U = this.units;
    const uk = this.recurrentKernel.ptr;
    const drh = this.resetAfter ? 0 : ctx.alloc(B * U);
    const hBlock = 4 * 2 * U;
    for (let s = this.timesteps - 1; s >= 0; s--) {
      const [zs, recs] = [this.at(this.z, s, B, 3 * U), this.at(this.rec, s, B, 3 * U)];
      const [hPrev, dhs] = [this.at(this.hs, s, B, U), this.at(dh, s, B, U)];
      const dhPrev = s > 0 ? this.at(dh, s - 1, B, U) : null;
      if (this.resetAfter) {
        gruBackwardStep(rt, B, U, zs, recs, hPrev, dhs, dhPrev, this.recurrentActivation, this.name);
        if (dhPrev !== null) recurrentBackprop(rt, B, U, 3 * U, recs, uk, dhPrev, this.name);
        continue;
      }
      gruResetBeforeBackwardOutput(rt, B, U, zs, hPrev, dhs, dhPrev, this.recurrentActivation, this.name);
      // drh = da_h·U_hᵀ (U_h read transposed through its strides).
      this.gemmT(rt, B, U, U, { ptr: zs + hBlock, ld: 3 * U }, uk + hBlock, 0, drh);
      gruResetBeforeBackwardGates(rt, B, U, zs, hPrev, drh, dhPrev, this.recurrentActivation, this.name);
      // dh_{s−1} += [da_z, da_r]·U_{z,r}ᵀ.
      if (dhPrev !== null) this.gemmT(rt, B, U, 2 * U, { ptr: zs, ld: 3 * U }, uk, 1, dhPrev);
    }
    return { dz: this.z, drec: this.resetAfter ? this.rec : this.z };
  }

  /** C[m, n] ← A·Bᵀ + beta·C for a [m, k] block A and the [n, k] block of U at `b` (row stride 3·units). */
  private gemmT(
    rt: Runtime,
    m: number,
    n: number,
    k: number,
    a: { ptr: number; ld: number },
    b: number,
    beta: number,
    c: number,
  ): void {
    const ld = 3 * this.units;
    gemm(
      rt,
      m,
      n,
      k,
      1,
      { ptr: a.ptr, rowStride: a.ld, colStride: 1 },
      { ptr: b, rowStride: 1, colStride: ld },
      beta,
      { ptr: c, rowStride: n, colStride: 1 },
      this.name,
    );
  }

  protected override recurrentKernelGradient(rt: Runtime, rows: number, drec: number): void {
    if (this.resetAfter) {
      super.recurrentKernelGradient(rt, rows, drec);
      return;
    }
    // dU_{z,r} = hs[0..T)ᵀ·[da_z, da_r] and dU_h = (r·h_prev)ᵀ·da_h, each one gemm over all rows.
    const U = this.units;
    const ld = 3 * U;
    const g = this.recurrentKernel.grad;
    const hBlock = 4 * 2 * U;
    const hsT = { ptr: this.hs, rowStride: 1, colStride: U };
    gemm(
      rt,
      U,
      2 * U,
      rows,
      1,
      hsT,
      { ptr: drec, rowStride: ld, colStride: 1 },
      0,
      { ptr: g, rowStride: ld, colStride: 1 },
      this.name,
    );
    gemm(
      rt,
      U,
      U,
      rows,
      1,
      { ptr: this.rec + hBlock, rowStride: 1, colStride: ld },
      { ptr: drec + hBlock, rowStride: ld, colStride: 1 },
      0,
      { ptr: g + hBlock, rowStride: ld, colStride: 1 },
      this.name,
    );
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      activation: 'tanh',
      recurrentActivation: this.recurrentActivation,
      resetAfter: this.resetAfter,
    };
  }
}

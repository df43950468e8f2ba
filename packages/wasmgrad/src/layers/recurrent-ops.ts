/**
 * Helpers shared by the recurrent cells: the recurrent-kernel gemms of a timestep and the check
 * that LSTM/GRU options name the activations their fused kernels implement.
 * @module
 */
import { ValueError } from '../errors.js';
import { gemm } from '../runtime/kernels/gemm.js';
import type { GateActivation } from '../runtime/kernels/rnn.js';
import type { Runtime } from '../runtime/runtime.js';
import { type ActivationIdentifier, getActivation } from './activations.js';

/**
 * The fused LSTM/GRU kernels hard-wire tanh and a sigmoid gate (Keras' sigmoid, or tfjs' default
 * hardSigmoid): other choices are refused up front. Returns the gate activation.
 */
export function fusedActivations(
  name: string,
  args: { activation?: ActivationIdentifier; recurrentActivation?: ActivationIdentifier | 'hardSigmoid' },
): GateActivation {
  const act = getActivation(args.activation ?? 'tanh', name);
  if (act.name !== 'tanh') throw new ValueError(name, `activation must be 'tanh' (fused kernel), got '${act.name}'`);
  const id = args.recurrentActivation ?? 'sigmoid';
  const raw: string = typeof id === 'string' ? id : id.name;
  if (raw === 'hardSigmoid' || raw === 'hard_sigmoid') return 'hardSigmoid';
  const rec = getActivation(id as ActivationIdentifier, name);
  if (rec.name !== 'sigmoid') {
    throw new ValueError(
      name,
      `recurrentActivation must be 'sigmoid' or 'hardSigmoid' (fused kernel), got '${rec.name}'`,
    );
  }
  return 'sigmoid';
}

/** y_s + hs[s]·U (beta = 1) into the [batch, cols] block `c` (rows of the recurrent product). */
export function recurrentProduct(
  rt: Runtime,
  batch: number,
  units: number,
  cols: number,
  h: number,
  u: number,
  beta: number,
  c: number,
  op: string,
): void {
  gemm(
    rt,
    batch,
    cols,
    units,
    1,
    { ptr: h, rowStride: units, colStride: 1 },
    { ptr: u, rowStride: cols, colStride: 1 },
    beta,
    { ptr: c, rowStride: cols, colStride: 1 },
    op,
  );
}

/** dh_{s−1} += d·Uᵀ for a [batch, cols] pre-activation gradient block d. */
export function recurrentBackprop(
  rt: Runtime,
  batch: number,
  units: number,
  cols: number,
  d: number,
  u: number,
  dhPrev: number,
  op: string,
): void {
  gemm(
    rt,
    batch,
    units,
    cols,
    1,
    { ptr: d, rowStride: cols, colStride: 1 },
    { ptr: u, rowStride: 1, colStride: cols },
    1,
    { ptr: dhPrev, rowStride: units, colStride: 1 },
    op,
  );
}

/** C ← A·B + beta·C over row-major blocks with leading dimensions (sub-blocks of gate matrices). */
export function blockGemm(
  rt: Runtime,
  m: number,
  n: number,
  k: number,
  a: { ptr: number; ld: number },
  b: { ptr: number; ld: number },
  beta: number,
  c: { ptr: number; ld: number },
  op: string,
): void {
  gemm(
    rt,
    m,
    n,
    k,
    1,
    { ptr: a.ptr, rowStride: a.ld, colStride: 1 },
    { ptr: b.ptr, rowStride: b.ld, colStride: 1 },
    beta,
    { ptr: c.ptr, rowStride: c.ld, colStride: 1 },
    op,
  );
}

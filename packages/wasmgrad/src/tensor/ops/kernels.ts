/**
 * The one place where tensor ops meet the checked kernel wrappers of runtime/kernels/. Every
 * function takes byte pointers inside tensors and forwards to a wrapper, which validates sizes and
 * heap bounds before the wasm call. Keeping the mapping here means an op file never depends on a
 * wrapper's parameter order or naming.
 */
import { RuntimeStateError } from '../../errors.js';
import * as elementwiseK from '../../runtime/kernels/elementwise.js';
import * as randomK from '../../runtime/kernels/random.js';
import * as reduceK from '../../runtime/kernels/reduce.js';
import * as softmaxK from '../../runtime/kernels/softmax.js';
import type { Runtime } from '../../runtime/runtime.js';

/** Elementwise binary operations. */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

/** How the right operand of {@link binary} is laid out against the rows×cols left operand. */
export type BroadcastKind = 'full' | 'row' | 'column' | 'scalar';

const missing = (op: string, kernel: string): never => {
  throw new RuntimeStateError(op, `the ${kernel} kernel is not available in this build yet`);
};

/** out = a ⊕ b for a rows×cols row-major `a` and `b` laid out as `shape`; out may equal a. */
export function binary(
  rt: Runtime,
  op: string,
  kind: BinaryKind,
  rows: number,
  cols: number,
  a: number,
  b: number,
  shape: BroadcastKind,
  out: number,
): void {
  void op; // the wrapper names errors after the binary op itself
  elementwiseK.broadcastBinary(rt, kind, rows, cols, a, b, shape, out);
}

/** out = α·x + β over n values (out may equal x). */
export function scaleShift(
  rt: Runtime,
  op: string,
  n: number,
  alpha: number,
  beta: number,
  x: number,
  out: number,
): void {
  elementwiseK.scale(rt, n, x, alpha, beta, out, op);
}

/** y += α·x over n values. */
export function axpy(rt: Runtime, op: string, n: number, alpha: number, x: number, y: number): void {
  elementwiseK.axpy(rt, n, alpha, x, y, op);
}

/** out[j] = scale·Σ_i x[i, j] over a rows×cols matrix with row stride ldx. */
export function sumRows(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  x: number,
  ldx: number,
  out: number,
  scale: number,
  accumulate: boolean,
): void {
  reduceK.sumRows(rt, rows, cols, x, out, { ldx, scale, accumulate }, op);
}

/** out[i] = scale·Σ_j x[i, j] over a rows×cols matrix with row stride ldx. */
export function sumCols(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  x: number,
  ldx: number,
  out: number,
  scale: number,
  accumulate: boolean,
): void {
  reduceK.sumCols(rt, rows, cols, x, out, { ldx, scale, accumulate }, op);
}

/** out[i] = max_j x[i, j]. */
export function maxRows(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  x: number,
  ldx: number,
  out: number,
): void {
  reduceK.maxRows(rt, rows, cols, x, out, ldx, op);
}

/** out[i] (i32) = first argmax_j x[i, j]. */
export function argmaxRows(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  x: number,
  ldx: number,
  out: number,
): void {
  reduceK.argmaxRows(rt, rows, cols, x, out, ldx, op);
}

/** y = g(x) over n values for the math function `kind` (exp, log, sqrt, ...). */
export function mathForward(
  rt: Runtime,
  op: string,
  kind: elementwiseK.UnaryOpName,
  n: number,
  x: number,
  y: number,
): void {
  elementwiseK.unary(rt, kind, n, x, y, op);
}

/** The kernel's name for each elementwise function that has a fused kernel pair. */
const KERNEL_ACTIVATION: Readonly<Record<string, elementwiseK.ActivationName>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  leakyRelu: 'leakyRelu',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  swish: 'silu',
  gelu: 'gelu',
  geluSigmoid: 'geluSigmoid',
  geluTanh: 'geluTanh',
  mish: 'mish',
};

function activationName(op: string, kind: string): elementwiseK.ActivationName {
  const name = Object.hasOwn(KERNEL_ACTIVATION, kind) ? KERNEL_ACTIVATION[kind] : undefined;
  return name ?? missing(op, `elementwise ${kind}`);
}

/** y = f(x) over n values for the function `kind`. */
export function unaryForward(
  rt: Runtime,
  op: string,
  kind: string,
  alpha: number,
  n: number,
  x: number,
  y: number,
): void {
  elementwiseK.activationForward(rt, activationName(op, kind), n, x, y, alpha, op);
}

/** dx = f'(x)·dy (or dx += … when `accumulate`) over n values, from x, y = f(x) and dy. */
export function unaryBackward(
  rt: Runtime,
  op: string,
  kind: string,
  alpha: number,
  n: number,
  x: number,
  y: number,
  dy: number,
  dx: number,
  accumulate = false,
): void {
  elementwiseK.activationBackward(rt, activationName(op, kind), n, x, y, dy, dx, { alpha, accumulate }, op);
}

/** Row-wise softmax of a contiguous rows×cols matrix. */
export function softmaxRows(rt: Runtime, op: string, rows: number, cols: number, x: number, y: number): void {
  softmaxK.softmax(rt, rows, cols, x, y, op);
}

/** Row-wise log-softmax. */
export function logSoftmaxRows(rt: Runtime, op: string, rows: number, cols: number, x: number, y: number): void {
  softmaxK.logSoftmax(rt, rows, cols, x, y, op);
}

/** Softmax backward from y and dy. */
export function softmaxRowsBackward(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  y: number,
  dy: number,
  dx: number,
): void {
  softmaxK.softmaxBackward(rt, rows, cols, y, dy, dx, op);
}

/** Log-softmax backward from y and dy. */
export function logSoftmaxRowsBackward(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  y: number,
  dy: number,
  dx: number,
): void {
  softmaxK.logSoftmaxBackward(rt, rows, cols, y, dy, dx, op);
}

/** n values uniform in [lo, hi) for seed `seed` (stream 0, offset 0). */
export function randomUniformFill(
  rt: Runtime,
  op: string,
  n: number,
  out: number,
  lo: number,
  hi: number,
  seed: number,
): void {
  randomK.randomUniform(rt, n, out, lo, hi, { seed }, op);
}

/** n normal values. */
export function randomNormalFill(
  rt: Runtime,
  op: string,
  n: number,
  out: number,
  mean: number,
  std: number,
  seed: number,
): void {
  randomK.randomNormal(rt, n, out, mean, std, { seed }, op);
}

/** n truncated-normal values (within two standard deviations). */
export function truncatedNormalFill(
  rt: Runtime,
  op: string,
  n: number,
  out: number,
  mean: number,
  std: number,
  seed: number,
): void {
  randomK.truncatedNormal(rt, n, out, mean, std, { seed }, op);
}

/** y = x·mask/(1 − rate) over n values, the mask a pure function of (seed, element index). */
export function dropoutApply(
  rt: Runtime,
  op: string,
  n: number,
  x: number,
  y: number,
  rate: number,
  seed: number,
): void {
  randomK.dropout(rt, n, x, y, rate, { seed }, op);
}

/**
 * The one place where tensor ops meet the checked kernel wrappers of runtime/kernels/. Every
 * function takes tensors (or byte pointers inside them) and forwards to a wrapper, which validates
 * sizes and heap bounds before the wasm call. Keeping the mapping here means an op file never
 * depends on a wrapper's parameter order.
 */
import { RuntimeStateError } from '../../errors.js';
import { gemm, type MatrixRef } from '../../runtime/kernels/gemm.js';
import * as optimK from '../../runtime/kernels/optim.js';
import * as randomK from '../../runtime/kernels/random.js';
import * as reduceK from '../../runtime/kernels/reduce.js';
import * as softmaxK from '../../runtime/kernels/softmax.js';
import type { Runtime } from '../../runtime/runtime.js';

/** Elementwise binary operations. */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

const missing = (op: string, kernel: string): never => {
  throw new RuntimeStateError(op, `the ${kernel} kernel is not available in this build yet`);
};

// ---- interim arithmetic on gemm and the SGD update, until the elementwise wrappers land ----
// add/sub with row broadcasting and α·x + β are rank-1 gemm updates against a constant 1.0
// (C ← α·1·b + β·C with k = 1, the classic BLAS bias-add idiom): exact, one kernel call each.

const ONES = new WeakMap<Runtime, number>();

/** A 16-byte block holding 1.0, allocated once per runtime (the `1` of rank-1 updates). */
function one(rt: Runtime): MatrixRef {
  let ptr = ONES.get(rt);
  if (ptr === undefined) {
    ptr = rt.allocator.alloc(16, 'ones');
    rt.write(ptr, [1, 1, 1, 1]);
    ONES.set(rt, ptr);
  }
  return { ptr, rowStride: 0, colStride: 0 };
}

/** C (rows×cols, contiguous at `out`) += α·b broadcast: b a row of `cols` values (or one value when cols is 1 and bScalar). */
function addRows(rt: Runtime, op: string, rows: number, cols: number, alpha: number, b: MatrixRef, out: number): void {
  gemm(rt, rows, cols, 1, alpha, one(rt), b, 1, { ptr: out, rowStride: cols, colStride: 1 }, op);
}

/**
 * out[i, j] = a[i, j] ⊕ b[i, j] (`bRow` false) or a[i, j] ⊕ b[j] (`bRow` true) for a rows×cols
 * row-major a and out.
 */
export function binary(
  rt: Runtime,
  op: string,
  kind: BinaryKind,
  rows: number,
  cols: number,
  a: number,
  b: number,
  bRow: boolean,
  out: number,
): void {
  if (kind !== 'add' && kind !== 'sub') missing(op, `elementwise ${kind}`);
  const n = rows * cols;
  if (n === 0) return;
  const sign = kind === 'add' ? 1 : -1;
  rt.f32.copyWithin(out >>> 2, a >>> 2, (a >>> 2) + n);
  if (!bRow) axpy(rt, op, n, sign, b, out);
  else addRows(rt, op, rows, cols, sign, { ptr: b, rowStride: cols, colStride: 1 }, out);
}

/** out = α·x + β over n values. */
export function scaleShift(
  rt: Runtime,
  op: string,
  n: number,
  alpha: number,
  beta: number,
  x: number,
  out: number,
): void {
  if (n === 0) return;
  // out (as a 1×n row) ← α·1·x, then += β·1·1.
  gemm(
    rt,
    1,
    n,
    1,
    alpha,
    one(rt),
    { ptr: x, rowStride: n, colStride: 1 },
    0,
    { ptr: out, rowStride: n, colStride: 1 },
    op,
  );
  if (beta !== 0) addRows(rt, op, 1, n, beta, one(rt), out);
}

/**
 * y += α·x over n values. Until the elementwise group's axpy lands this runs the SGD update kernel,
 * which is the same arithmetic: p ← p − lr·g with p = y, g = x, lr = −α (negation is exact).
 */
export function axpy(rt: Runtime, op: string, n: number, alpha: number, x: number, y: number): void {
  optimK.sgd(rt, n, y, x, -alpha, op);
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
  void [rt, kind, alpha, n, x, y];
  missing(op, 'activation');
}

/** dx = f'(x)·dy over n values. */
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
): void {
  void [rt, kind, alpha, n, x, y, dy, dx];
  missing(op, 'activation backward');
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

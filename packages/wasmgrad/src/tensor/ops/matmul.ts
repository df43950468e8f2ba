/** Matrix product through the strided gemm kernel: transposes are stride swaps, never copies. */
import { fmtShape, ShapeError } from '../../errors.js';
import { gemm, type MatrixRef } from '../../runtime/kernels/gemm.js';
import { record } from '../engine.js';
import { empty, type Tensor } from '../tensor.js';
import { sameRuntime } from './util.js';

/**
 * The gemm operand for the rank-2 tensor `t` (stored [r, c], row-major) used as `t` or, when
 * `transposed`, as tᵀ.
 */
export function matrixRef(t: Tensor, transposed: boolean): MatrixRef {
  const cols = t.shape[1] as number;
  return transposed ? { ptr: t.ptr, rowStride: 1, colStride: cols } : { ptr: t.ptr, rowStride: cols, colStride: 1 };
}

/** Rows and columns of `t` as used (after the optional transpose). */
function dims(t: Tensor, transposed: boolean): [number, number] {
  const [r, c] = t.shape as [number, number];
  return transposed ? [c, r] : [r, c];
}

/**
 * C ← α·op(A)·op(B) + β·C written into the rank-2 tensor `c`, which is used transposed when
 * `cTransposed` (so a gradient of a transposed operand lands in place). Shapes must already agree.
 */
export function gemmInto(
  c: Tensor,
  cTransposed: boolean,
  a: Tensor,
  transposeA: boolean,
  b: Tensor,
  transposeB: boolean,
  alpha: number,
  beta: number,
  op: string,
): void {
  const [m, k] = dims(a, transposeA);
  const n = dims(b, transposeB)[1];
  gemm(
    a.runtime,
    m,
    n,
    k,
    alpha,
    matrixRef(a, transposeA),
    matrixRef(b, transposeB),
    beta,
    matrixRef(c, cTransposed),
    op,
  );
}

/**
 * Matrix product op(a)·op(b) of two rank-2 tensors, where op transposes when `transposeA` /
 * `transposeB` is set (as tfjs's `matMul(a, b, transposeA, transposeB)`).
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  const op = 'matMul';
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(op, `expects two rank-2 tensors, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [m, k] = dims(a, transposeA);
  const [k2, n] = dims(b, transposeB);
  if (k !== k2) {
    const ta = transposeA ? 'ᵀ' : '';
    const tb = transposeB ? 'ᵀ' : '';
    throw new ShapeError(
      op,
      `inner dimensions differ: ${fmtShape(a.shape)}${ta} × ${fmtShape(b.shape)}${tb} (${k} ≠ ${k2})`,
    );
  }
  sameRuntime(op, a, b);
  const c = empty([m, n], op, a.runtime);
  gemmInto(c, false, a, transposeA, b, transposeB, 1, 0, op);
  return record(op, [a, b], c, { transposeA, transposeB });
}

/** What matMul's backward rule needs to know about an input (see backward.ts GradSlot). */
interface Slot {
  readonly needed: boolean;
  existing(): Tensor | undefined;
}

/**
 * Gradients of C = op(A)·op(B): d op(A) = dy·op(B)ᵀ and d op(B) = op(A)ᵀ·dy, each written by one
 * gemm straight into the stored layout (transposed through C's strides when op transposes) and
 * added with β = 1 into an already accumulated gradient when the engine hands one over.
 */
export function matMulBackward(
  dy: Tensor,
  a: Tensor,
  b: Tensor,
  transposeA: boolean,
  transposeB: boolean,
  slots: readonly Slot[],
): [Tensor | null, Tensor | null] {
  const op = 'matMul (backward)';
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (slots[0]?.needed) {
    const into = slots[0].existing();
    ga = into ?? empty(a.shape, op, a.runtime);
    gemmInto(ga, transposeA, dy, false, b, !transposeB, 1, into ? 1 : 0, op);
  }
  if (slots[1]?.needed) {
    const into = slots[1].existing();
    gb = into ?? empty(b.shape, op, b.runtime);
    gemmInto(gb, transposeB, a, !transposeA, dy, false, 1, into ? 1 : 0, op);
  }
  return [ga, gb];
}

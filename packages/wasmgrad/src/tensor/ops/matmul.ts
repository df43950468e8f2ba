/**
 * Matrix product through the strided gemm kernel: transposes are stride swaps, never copies, and
 * gradients are written by gemm straight into their (possibly transposed) layout, accumulating
 * with β = 1 where a buffer already holds a gradient.
 *
 * Batched products: operands of rank > 2 are stacks of matrices over their leading (batch) axes;
 * both stacks have the same batch shape, or one operand is a plain matrix shared by every batch.
 */
import { fmtShape, ShapeError } from '../../errors.js';
import { type BatchRef, gemm, gemmBatched, type MatrixRef } from '../../runtime/kernels/gemm.js';
import { record } from '../engine.js';
import { empty, sizeOf, type Tensor } from '../tensor.js';
import { sameRuntime, sameShape } from './util.js';

/** One operand of a (batched) product: the tensor, whether it is used transposed, and its matrix sides. */
interface Operand {
  t: Tensor;
  transposed: boolean;
  /** Rows and columns as stored (the last two axes). */
  rows: number;
  cols: number;
  /** Matrices in the stack (1 for a plain matrix, shared by every batch). */
  count: number;
}

const operand = (t: Tensor, transposed: boolean): Operand => ({
  t,
  transposed,
  rows: t.shape[t.rank - 2] as number,
  cols: t.shape[t.rank - 1] as number,
  count: sizeOf(t.shape.slice(0, -2)),
});

/** Rows and columns as used (after the optional transpose). */
const used = (o: Operand): [number, number] => (o.transposed ? [o.cols, o.rows] : [o.rows, o.cols]);

/** The gemm view of matrix `i` of the stack (i ignored for a shared matrix). */
function ref(o: Operand, i: number): MatrixRef {
  const ptr = o.t.ptr + (o.count === 1 ? 0 : 4 * i * o.rows * o.cols);
  return o.transposed ? { ptr, rowStride: 1, colStride: o.cols } : { ptr, rowStride: o.cols, colStride: 1 };
}

/** {@link ref} with the batch stride of the stack (0 for a shared matrix). */
function batchRef(o: Operand): BatchRef {
  const ptr = o.t.ptr;
  const batchStride = o.count === 1 ? 0 : o.rows * o.cols;
  return o.transposed
    ? { ptr, rowStride: 1, colStride: o.cols, batchStride }
    : { ptr, rowStride: o.cols, colStride: 1, batchStride };
}

/**
 * C_i ← op(A_i)·op(B_i) + β·C_i for every batch i; C is `out` (used transposed when its operand
 * says so). Separate C items take one batched gemm call; a shared C (count 1) accumulates over
 * the batch: β = 1 after the first product.
 */
function gemmStack(out: Operand, a: Operand, b: Operand, batch: number, beta: number, op: string): void {
  const [m, k] = used(a);
  const n = used(b)[1];
  const rt = a.t.runtime;
  if (batch === 1) gemm(rt, m, n, k, 1, ref(a, 0), ref(b, 0), beta, ref(out, 0), op);
  else if (out.count === batch) {
    gemmBatched(rt, batch, m, n, k, 1, batchRef(a), batchRef(b), beta, batchRef(out), op);
  } else
    for (let i = 0; i < batch; i++) {
      gemm(rt, m, n, k, 1, ref(a, i), ref(b, i), i > 0 ? 1 : beta, ref(out, i), op);
    }
}

/**
 * Matrix product op(a)·op(b), where op transposes the last two axes when `transposeA` /
 * `transposeB` is set (tfjs's `matMul(a, b, transposeA, transposeB)`). Rank-2 operands give a
 * matrix; higher ranks are batches of matrices with equal batch shapes, or one side a shared matrix.
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  const op = 'matMul';
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(op, `expects tensors of rank ≥ 2, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const A = operand(a, transposeA);
  const B = operand(b, transposeB);
  const [m, k] = used(A);
  const [k2, n] = used(B);
  if (k !== k2) {
    const ta = transposeA ? 'ᵀ' : '';
    const tb = transposeB ? 'ᵀ' : '';
    throw new ShapeError(
      op,
      `inner dimensions differ: ${fmtShape(a.shape)}${ta} × ${fmtShape(b.shape)}${tb} (${k} ≠ ${k2})`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchA.length > 0 && batchB.length > 0 && !sameShape(batchA, batchB)) {
    throw new ShapeError(op, `batch dimensions differ: ${fmtShape(a.shape)} × ${fmtShape(b.shape)}`);
  }
  sameRuntime(op, a, b);
  const batchShape = batchA.length > 0 ? batchA : batchB;
  const c = empty([...batchShape, m, n], op, a.runtime);
  const batch = sizeOf(batchShape);
  if (batch > 0) {
    if (A.count > 1 && B.count === 1 && !transposeA) {
      // A stack of untransposed matrices is one tall [batch·m, k] matrix: a single gemm.
      gemm(
        a.runtime,
        batch * m,
        n,
        k,
        1,
        { ptr: a.ptr, rowStride: k, colStride: 1 },
        ref(B, 0),
        0,
        { ptr: c.ptr, rowStride: n, colStride: 1 },
        op,
      );
    } else gemmStack(operand(c, false), A, B, batch, 0, op);
  }
  return record(op, [a, b], c, { transposeA, transposeB });
}

/** What matMul's backward rule needs to know about an input (see backward.ts GradSlot). */
interface Slot {
  readonly needed: boolean;
  existing(): Tensor | undefined;
}

/**
 * Gradients of C = op(A)·op(B): d op(A) = dy·op(B)ᵀ and d op(B) = op(A)ᵀ·dy per batch, each written
 * by gemm straight into the stored layout (transposed through C's strides when op transposes),
 * summed over the batch for a shared matrix, and added with β = 1 into an already accumulated
 * gradient when the engine hands one over.
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
  const A = operand(a, transposeA);
  const B = operand(b, transposeB);
  const D = operand(dy, false);
  const batch = D.count;
  let ga: Tensor | null = null;
  let gb: Tensor | null = null;
  if (slots[0]?.needed) {
    const into = slots[0].existing();
    ga = into ?? empty(a.shape, op, a.runtime);
    if (batch === 0) ga.runtime.f32.fill(0, ga.ptr >>> 2, (ga.ptr >>> 2) + ga.size);
    else if (A.count > 1 && B.count === 1 && !transposeA) {
      // dA stacked [batch·m, k] = dy stacked [batch·m, n] · op(B)ᵀ: one gemm.
      const [m, k] = used(A);
      const n = D.cols;
      gemm(
        a.runtime,
        batch * m,
        k,
        n,
        1,
        { ptr: dy.ptr, rowStride: n, colStride: 1 },
        ref({ ...B, transposed: !transposeB }, 0),
        into ? 1 : 0,
        { ptr: ga.ptr, rowStride: k, colStride: 1 },
        op,
      );
    } else gemmStack(operand(ga, transposeA), D, { ...B, transposed: !transposeB }, batch, into ? 1 : 0, op);
  }
  if (slots[1]?.needed) {
    const into = slots[1].existing();
    gb = into ?? empty(b.shape, op, b.runtime);
    if (batch === 0) gb.runtime.f32.fill(0, gb.ptr >>> 2, (gb.ptr >>> 2) + gb.size);
    else if (A.count > 1 && B.count === 1 && !transposeA) {
      // d op(B) = Σ_i A_iᵀ·dy_i = (A stacked [batch·m, k])ᵀ · (dy stacked [batch·m, n]): one gemm.
      const [m, k] = used(A);
      const n = D.cols;
      const stackedAT = { ptr: a.ptr, rowStride: 1, colStride: k };
      gemm(
        a.runtime,
        k,
        n,
        batch * m,
        1,
        stackedAT,
        { ptr: dy.ptr, rowStride: n, colStride: 1 },
        into ? 1 : 0,
        ref(operand(gb, transposeB), 0),
        op,
      );
    } else gemmStack(operand(gb, transposeB), { ...A, transposed: !transposeA }, D, batch, into ? 1 : 0, op);
  }
  return [ga, gb];
}

import { fmtShape, ShapeError } from '../errors.js';
import { gemm } from '../runtime/kernels/gemm.js';
import { empty, type Tensor } from './tensor.js';

/** Matrix product of a [m, k] and a [k, n] tensor, as a new [m, n] tensor. */
export function matMul(a: Tensor, b: Tensor): Tensor {
  const op = 'matMul';
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(op, `expects two rank-2 tensors, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [m, k] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) {
    throw new ShapeError(op, `inner dimensions differ: ${fmtShape(a.shape)} × ${fmtShape(b.shape)} (${k} ≠ ${k2})`);
  }
  if (a.runtime !== b.runtime) throw new ShapeError(op, 'the two tensors live in different runtimes');
  const c = empty([m, n], op, a.runtime);
  gemm(
    a.runtime,
    m,
    n,
    k,
    1,
    { ptr: a.ptr, rowStride: k, colStride: 1 },
    { ptr: b.ptr, rowStride: n, colStride: 1 },
    0,
    { ptr: c.ptr, rowStride: n, colStride: 1 },
    op,
  );
  return c;
}

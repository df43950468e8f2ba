import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkSpan } from './check.js';

export const GEMM_SIGNATURES = {
  f32_gemm: ['m', 'n', 'k', 'alpha', 'a', 'rsa', 'csa', 'b', 'rsb', 'csb', 'beta', 'c', 'rsc', 'csc', 'work'],
  f32_gemm_workspace_len: [],
} as const;

/** A strided matrix operand: element (i, j) lives at byte `ptr + 4·(i·rowStride + j·colStride)`. */
export interface MatrixRef {
  ptr: number;
  rowStride: number;
  colStride: number;
}

/**
 * C ← α·A·B + β·C for an m×k A, k×n B and m×n C, each with arbitrary strides (a transpose is a
 * stride swap). Checks that every addressed element lies inside the heap before calling the kernel.
 */
export function gemm(
  rt: Runtime,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: MatrixRef,
  b: MatrixRef,
  beta: number,
  c: MatrixRef,
  op = 'gemm',
): void {
  for (const [name, v] of [
    ['m', m],
    ['n', n],
    ['k', k],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  checkSpan(rt, op, 'A', a, m, k);
  checkSpan(rt, op, 'B', b, k, n);
  checkSpan(rt, op, 'C', c, m, n);
  rt.kernels.f32_gemm(
    m,
    n,
    k,
    alpha,
    a.ptr,
    a.rowStride,
    a.colStride,
    b.ptr,
    b.rowStride,
    b.colStride,
    beta,
    c.ptr,
    c.rowStride,
    c.colStride,
    rt.gemmWorkspace,
  );
}

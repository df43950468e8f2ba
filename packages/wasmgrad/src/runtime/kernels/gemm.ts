import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes, checkSpan } from './check.js';

export const GEMM_SIGNATURES = {
  f32_gemm: ['m', 'n', 'k', 'alpha', 'a', 'rsa', 'csa', 'b', 'rsb', 'csb', 'beta', 'c', 'rsc', 'csc', 'work'],
  f32_gemm_workspace_len: [],
  f32_gemm_bias_act: ['m', 'n', 'k', 'a', 'rsa', 'csa', 'b', 'rsb', 'csb', 'bias', 'c', 'rsc', 'csc', 'act', 'work'],
  f32_gemm_batched: [
    'batch',
    'm',
    'n',
    'k',
    'alpha',
    'a',
    'rsa',
    'csa',
    'sa',
    'b',
    'rsb',
    'csb',
    'sb',
    'beta',
    'c',
    'rsc',
    'csc',
    'sc',
    'work',
  ],
} as const;

/** A strided matrix operand: element (i, j) lives at byte `ptr + 4·(i·rowStride + j·colStride)`. */
export interface MatrixRef {
  ptr: number;
  rowStride: number;
  colStride: number;
}

/** A batch of strided matrices: item t is the matrix at byte `ptr + 4·t·batchStride`. */
export interface BatchRef extends MatrixRef {
  batchStride: number;
}

/**
 * Activation codes of `f32_gemm_bias_act`, as documented in crates/kernels/src/gemm.rs
 * (`ACT_*`); a wasm test checks each code's effect against its reference.
 */
export const GEMM_ACTIVATIONS = { linear: 0, relu: 1, relu6: 2 } as const;
export type GemmActivation = keyof typeof GEMM_ACTIVATIONS;

const I32_MAX = 0x7fff_ffff;

/** Sizes must be non-negative integers that the kernel's 32-bit `usize` receives unchanged. */
function checkSizes(op: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(v) || v < 0 || v > I32_MAX) {
      throw new ValueError(op, `${name} must be a non-negative integer below 2^31, got ${v}`);
    }
  }
}

/** Strides reach the kernel as i32: larger magnitudes would wrap. */
function checkStrides(op: string, name: string, strides: number[]): void {
  for (const s of strides) {
    if (!Number.isSafeInteger(s) || Math.abs(s) > I32_MAX) {
      throw new ValueError(op, `${name} strides must be integers of magnitude below 2^31, got ${strides.join(', ')}`);
    }
  }
}

function checkMatrix(rt: Runtime, op: string, name: string, ref: MatrixRef, rows: number, cols: number): void {
  checkStrides(op, name, [ref.rowStride, ref.colStride]);
  checkSpan(rt, op, name, ref, rows, cols);
}

/** Every element of every item of a batch lies in the heap (the extent over the three strides). */
function checkBatch(
  rt: Runtime,
  op: string,
  name: string,
  ref: BatchRef,
  batch: number,
  rows: number,
  cols: number,
): void {
  checkStrides(op, name, [ref.rowStride, ref.colStride, ref.batchStride]);
  if (batch === 0 || rows === 0 || cols === 0) return;
  const reach = [
    [batch - 1, ref.batchStride],
    [rows - 1, ref.rowStride],
    [cols - 1, ref.colStride],
  ] as const;
  let lo = 0;
  let hi = 1;
  for (const [count, stride] of reach) {
    lo += Math.min(0, count * stride);
    hi += Math.max(0, count * stride);
  }
  checkBytes(rt, op, name, ref.ptr + 4 * lo, 4 * (hi - lo));
}

/**
 * C ← α·A·B + β·C for an m×k A, k×n B and m×n C, each with arbitrary strides (a transpose is a
 * stride swap). When β = 0, C is only written. Checks that every addressed element lies inside
 * the heap before calling the kernel.
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
  checkSizes(op, { m, n, k });
  checkMatrix(rt, op, 'A', a, m, k);
  checkMatrix(rt, op, 'B', b, k, n);
  checkMatrix(rt, op, 'C', c, m, n);
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

/**
 * Dense-layer forward in one kernel call: C ← act(A·B + bias), the bias (n contiguous f32 at
 * byte `bias`, or null for none) added to every row. C is only written.
 */
export function gemmBiasAct(
  rt: Runtime,
  m: number,
  n: number,
  k: number,
  a: MatrixRef,
  b: MatrixRef,
  bias: number | null,
  c: MatrixRef,
  activation: GemmActivation = 'linear',
  op = 'gemmBiasAct',
): void {
  checkSizes(op, { m, n, k });
  const act = Object.hasOwn(GEMM_ACTIVATIONS, activation) ? GEMM_ACTIVATIONS[activation] : undefined;
  if (act === undefined) {
    throw new ValueError(
      op,
      `activation must be one of ${Object.keys(GEMM_ACTIVATIONS).join(', ')}, got ${String(activation)}`,
    );
  }
  checkMatrix(rt, op, 'A', a, m, k);
  checkMatrix(rt, op, 'B', b, k, n);
  checkMatrix(rt, op, 'C', c, m, n);
  if (bias !== null && n > 0) checkBytes(rt, op, 'bias', bias, 4 * n);
  rt.kernels.f32_gemm_bias_act(
    m,
    n,
    k,
    a.ptr,
    a.rowStride,
    a.colStride,
    b.ptr,
    b.rowStride,
    b.colStride,
    bias ?? 0,
    c.ptr,
    c.rowStride,
    c.colStride,
    act,
    rt.gemmWorkspace,
  );
}

/**
 * `batch` independent products C_t ← α·A_t·B_t + β·C_t, item t of each operand at its
 * `batchStride` (in elements; 0 shares one A or B across the batch). C items must not overlap.
 */
export function gemmBatched(
  rt: Runtime,
  batch: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: BatchRef,
  b: BatchRef,
  beta: number,
  c: BatchRef,
  op = 'gemmBatched',
): void {
  checkSizes(op, { batch, m, n, k });
  checkBatch(rt, op, 'A', a, batch, m, k);
  checkBatch(rt, op, 'B', b, batch, k, n);
  checkBatch(rt, op, 'C', c, batch, m, n);
  if (batch > 1 && m > 0 && n > 0 && c.batchStride === 0) {
    throw new ValueError(op, 'C items overlap: a batch stride of 0 is allowed for A and B only');
  }
  rt.kernels.f32_gemm_batched(
    batch,
    m,
    n,
    k,
    alpha,
    a.ptr,
    a.rowStride,
    a.colStride,
    a.batchStride,
    b.ptr,
    b.rowStride,
    b.colStride,
    b.batchStride,
    beta,
    c.ptr,
    c.rowStride,
    c.colStride,
    c.batchStride,
    rt.gemmWorkspace,
  );
}

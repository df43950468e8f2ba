import { ShapeError, ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';

export const REDUCE_SIGNATURES = {
  f32_sum_rows: ['rows', 'cols', 'x', 'ldx', 'out', 'scale', 'accumulate'],
  f32_sum_cols: ['rows', 'cols', 'x', 'ldx', 'out', 'scale', 'accumulate'],
  f32_sum: ['n', 'x'],
  f32_mean: ['n', 'x'],
  f32_sum_squares: ['n', 'x'],
  f32_l2_norm: ['n', 'x'],
  f32_max_rows: ['rows', 'cols', 'x', 'ldx', 'out'],
  f32_argmax_rows: ['rows', 'cols', 'x', 'ldx', 'out'],
  f32_count_argmax_equal: ['rows', 'cols', 'x', 'ldx', 'labels'],
  f32_count_argmax_match: ['rows', 'cols', 'x', 'ldx', 'y', 'ldy'],
} as const;

/** Throws a ValueError unless every named value is a non-negative safe integer. */
export function checkCounts(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
  }
}

/** Checks that `count` 4-byte values at `ptr` lie in the heap (nothing to check when count is 0). */
export function checkValues(rt: Runtime, op: string, name: string, ptr: number, count: number): void {
  if (count > 0) checkBytes(rt, op, name, ptr, 4 * count);
}

/** Like {@link checkValues} for an optional buffer: null/undefined/0 means absent and maps to 0. */
export function optionalValues(
  rt: Runtime,
  op: string,
  name: string,
  ptr: number | null | undefined,
  count: number,
): number {
  if (ptr === null || ptr === undefined || ptr === 0) return 0;
  checkValues(rt, op, name, ptr, count);
  return ptr;
}

/**
 * Checks a row-major rows×cols matrix with row stride `ld` (elements): `ld ≥ cols` unless the
 * matrix is empty, and its last element lies in the heap.
 */
export function checkMatrix(
  rt: Runtime,
  op: string,
  name: string,
  ptr: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  checkCounts(op, { [`${name} row stride`]: ld });
  if (rows > 0 && cols > 0 && ld < cols) {
    throw new ShapeError(op, `${name} row stride ${ld} is smaller than its ${cols} columns`);
  }
  if (rows > 0 && cols > 0) checkBytes(rt, op, name, ptr, 4 * ((rows - 1) * ld + cols));
}

/** Throws a ValueError unless `v` is a finite number (a NaN scale would poison every result). */
export function checkFinite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(op, `${name} must be a finite number, got ${v}`);
}

/** Options of {@link sumRows} and {@link sumCols}. */
export interface SumOptions {
  /** Row stride of x in elements (default: cols). */
  ldx?: number;
  /** Multiplies the sums (1/rows gives the mean over rows). Default 1. */
  scale?: number;
  /** Add into `out` instead of overwriting it (gradient accumulation). Default false. */
  accumulate?: boolean;
}

function sumAxis(
  kind: 'rows' | 'cols',
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  out: number,
  o: SumOptions,
  op: string,
): void {
  const { ldx = cols, scale = 1, accumulate = false } = o;
  checkCounts(op, { rows, cols });
  checkFinite(op, 'scale', scale);
  checkMatrix(rt, op, 'x', x, rows, cols, ldx);
  checkValues(rt, op, 'out', out, kind === 'rows' ? cols : rows);
  const f = kind === 'rows' ? rt.kernels.f32_sum_rows : rt.kernels.f32_sum_cols;
  f(rows, cols, x, ldx, out, scale, accumulate ? 1 : 0);
}

/** out[j] (+)= scale·Σ_i x[i, j]: the sum over rows of a rows×cols matrix (the bias gradient). */
export function sumRows(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  out: number,
  options: SumOptions = {},
  op = 'sumRows',
): void {
  sumAxis('rows', rt, rows, cols, x, out, options, op);
}

/** out[i] (+)= scale·Σ_j x[i, j]: the sum over columns (per row). */
export function sumCols(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  out: number,
  options: SumOptions = {},
  op = 'sumCols',
): void {
  sumAxis('cols', rt, rows, cols, x, out, options, op);
}

function flat(rt: Runtime, n: number, x: number, op: string, f: (n: number, x: number) => number): number {
  checkCounts(op, { n });
  checkValues(rt, op, 'x', x, n);
  return f(n, x);
}

/** Σ x over n contiguous values (pairwise summation). */
export function sum(rt: Runtime, n: number, x: number, op = 'sum'): number {
  return flat(rt, n, x, op, rt.kernels.f32_sum);
}

/** Mean of n contiguous values (NaN when n = 0). */
export function mean(rt: Runtime, n: number, x: number, op = 'mean'): number {
  return flat(rt, n, x, op, rt.kernels.f32_mean);
}

/** Σ x² over n contiguous values. */
export function sumSquares(rt: Runtime, n: number, x: number, op = 'sumSquares'): number {
  return flat(rt, n, x, op, rt.kernels.f32_sum_squares);
}

/** √(Σ x²) over n contiguous values, scaled internally so that it neither overflows nor underflows. */
export function l2Norm(rt: Runtime, n: number, x: number, op = 'l2Norm'): number {
  return flat(rt, n, x, op, rt.kernels.f32_l2_norm);
}

function perRow(rt: Runtime, rows: number, cols: number, x: number, out: number, ldx: number, op: string): void {
  checkCounts(op, { rows, cols });
  if (rows > 0 && cols === 0)
    throw new ShapeError(op, `rows of 0 columns have no ${op === 'maxRows' ? 'maximum' : 'argmax'}`);
  checkMatrix(rt, op, 'x', x, rows, cols, ldx);
  checkValues(rt, op, 'out', out, rows);
}

/** out[i] = max_j x[i, j] (NaN in a row gives NaN). */
export function maxRows(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  out: number,
  ldx = cols,
  op = 'maxRows',
): void {
  perRow(rt, rows, cols, x, out, ldx, op);
  rt.kernels.f32_max_rows(rows, cols, x, ldx, out);
}

/** outI32[i] = first index of the maximum of row i (the first NaN counts as the maximum). */
export function argmaxRows(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  outI32: number,
  ldx = cols,
  op = 'argmaxRows',
): void {
  perRow(rt, rows, cols, x, outI32, ldx, op);
  rt.kernels.f32_argmax_rows(rows, cols, x, ldx, outI32);
}

/** Number of rows whose argmax equals the i32 label at `labelsI32` (accuracy in one call). */
export function countArgmaxEqual(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  labelsI32: number,
  ldx = cols,
  op = 'countArgmaxEqual',
): number {
  perRow(rt, rows, cols, x, labelsI32, ldx, op);
  return rt.kernels.f32_count_argmax_equal(rows, cols, x, ldx, labelsI32);
}

/** Number of rows where argmax of x equals argmax of y (categorical accuracy on one-hot targets). */
export function countArgmaxMatch(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  y: number,
  ldx = cols,
  ldy = cols,
  op = 'countArgmaxMatch',
): number {
  perRow(rt, rows, cols, x, x, ldx, op);
  checkMatrix(rt, op, 'y', y, rows, cols, ldy);
  return rt.kernels.f32_count_argmax_match(rows, cols, x, ldx, y, ldy);
}

import { ShapeError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkCounts, checkValues } from './reduce.js';

export const SOFTMAX_SIGNATURES = {
  f32_softmax: ['rows', 'cols', 'x', 'y'],
  f32_log_softmax: ['rows', 'cols', 'x', 'y'],
  f32_softmax_backward: ['rows', 'cols', 'y', 'dy', 'dx'],
  f32_log_softmax_backward: ['rows', 'cols', 'y', 'dy', 'dx'],
} as const;

/** Checks rows×cols (cols ≥ 1 when rows ≥ 1) and that each named contiguous matrix lies in the heap. */
export function checkRowsCols(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  buffers: Record<string, number>,
): void {
  checkCounts(op, { rows, cols });
  if (rows > 0 && cols === 0) throw new ShapeError(op, `a row of 0 classes has no ${op}: shape [${rows},0]`);
  for (const [name, ptr] of Object.entries(buffers)) checkValues(rt, op, name, ptr, rows * cols);
}

/** y = softmax(x) per row of a contiguous rows×cols matrix (y may be x). */
export function softmax(rt: Runtime, rows: number, cols: number, x: number, y: number, op = 'softmax'): void {
  checkRowsCols(rt, op, rows, cols, { x, y });
  rt.kernels.f32_softmax(rows, cols, x, y);
}

/** y = logSoftmax(x) per row (y may be x). */
export function logSoftmax(rt: Runtime, rows: number, cols: number, x: number, y: number, op = 'logSoftmax'): void {
  checkRowsCols(rt, op, rows, cols, { x, y });
  rt.kernels.f32_log_softmax(rows, cols, x, y);
}

/** dx = y ⊙ (dy − Σ dy⊙y) per row, from the softmax output y (dx may be dy). */
export function softmaxBackward(
  rt: Runtime,
  rows: number,
  cols: number,
  y: number,
  dy: number,
  dx: number,
  op = 'softmaxBackward',
): void {
  checkRowsCols(rt, op, rows, cols, { y, dy, dx });
  rt.kernels.f32_softmax_backward(rows, cols, y, dy, dx);
}

/** dx = dy − exp(y)·Σ dy per row, from the log-softmax output y (dx may be dy). */
export function logSoftmaxBackward(
  rt: Runtime,
  rows: number,
  cols: number,
  y: number,
  dy: number,
  dx: number,
  op = 'logSoftmaxBackward',
): void {
  checkRowsCols(rt, op, rows, cols, { y, dy, dx });
  rt.kernels.f32_log_softmax_backward(rows, cols, y, dy, dx);
}

/** softmax and logSoftmax over the last axis (fused, max-shifted kernels). */
import { ValueError } from '../../errors.js';
import { record } from '../engine.js';
import { empty, type Tensor } from '../tensor.js';
import { logSoftmaxRows, logSoftmaxRowsBackward, softmaxRows, softmaxRowsBackward } from './kernels.js';
import { normAxis } from './util.js';

function rowsCols(op: string, x: Tensor, axis: number): [number, number] {
  if (x.rank === 0) throw new ValueError(op, 'expects a tensor of rank ≥ 1, got a scalar');
  if (normAxis(op, axis, x.rank) !== x.rank - 1)
    throw new ValueError(op, `only the last axis is supported, got axis ${axis}`);
  const cols = x.shape[x.rank - 1] as number;
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** exp(x − max) / Σ exp(x − max) along the last axis. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const [rows, cols] = rowsCols('softmax', x, axis);
  const y = empty(x.shape, 'softmax', x.runtime);
  softmaxRows(x.runtime, 'softmax', rows, cols, x.ptr, y.ptr);
  return record('softmax', [x], y);
}

/** x − max − log Σ exp(x − max) along the last axis. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [rows, cols] = rowsCols('logSoftmax', x, axis);
  const y = empty(x.shape, 'logSoftmax', x.runtime);
  logSoftmaxRows(x.runtime, 'logSoftmax', rows, cols, x.ptr, y.ptr);
  return record('logSoftmax', [x], y);
}

/** dx = y ⊙ (dy − Σ dy⊙y) per row, from the softmax output y. */
export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  const [rows, cols] = rowsCols('softmax (backward)', y, -1);
  const dx = empty(y.shape, 'softmax (backward)', y.runtime);
  softmaxRowsBackward(y.runtime, 'softmax (backward)', rows, cols, y.ptr, dy.ptr, dx.ptr);
  return dx;
}

/** dx = dy − exp(y)·Σ dy per row, from the logSoftmax output y. */
export function logSoftmaxBackward(y: Tensor, dy: Tensor): Tensor {
  const [rows, cols] = rowsCols('logSoftmax (backward)', y, -1);
  const dx = empty(y.shape, 'logSoftmax (backward)', y.runtime);
  logSoftmaxRowsBackward(y.runtime, 'logSoftmax (backward)', rows, cols, y.ptr, dy.ptr, dx.ptr);
  return dx;
}

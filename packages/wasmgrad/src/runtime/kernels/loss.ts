import { ShapeError, ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkCounts, checkFinite, checkValues, optionalValues } from './reduce.js';

export const LOSS_SIGNATURES = {
  f32_softmax_cross_entropy: ['rows', 'cols', 'x', 't', 'dx', 'scale'],
  f32_sparse_softmax_cross_entropy: ['rows', 'cols', 'x', 'labels', 'dx', 'scale'],
  f32_sigmoid_cross_entropy: ['rows', 'cols', 'x', 'y', 'dx', 'scale'],
  f32_cross_entropy_probs: ['rows', 'cols', 'p', 't', 'dp', 'scale', 'eps'],
  f32_mse: ['rows', 'cols', 'a', 'b', 'da', 'scale'],
  f32_mae: ['rows', 'cols', 'a', 'b', 'da', 'scale'],
  f32_huber: ['rows', 'cols', 'a', 'b', 'da', 'scale', 'delta'],
} as const;

/**
 * Every loss kernel reads a contiguous [rows, cols] batch, returns the loss averaged over the rows
 * and, when `grad` is given (not null/0), writes `scale·∂(row loss)/∂input` there, so that
 * `scale = 1/rows` gives the gradient of the returned mean. `grad` may be the prediction buffer.
 */
function checkLoss(
  rt: Runtime,
  op: string,
  rows: number,
  cols: number,
  pred: number,
  target: number,
  grad: number | null,
  scale: number,
): number {
  checkCounts(op, { rows, cols });
  if (rows === 0 || cols === 0) throw new ShapeError(op, `the batch is empty: shape [${rows},${cols}]`);
  checkFinite(op, 'scale', scale);
  checkValues(rt, op, 'predictions', pred, rows * cols);
  checkValues(rt, op, 'targets', target, rows * cols);
  return optionalValues(rt, op, 'gradient', grad, rows * cols);
}

/** Throws a ValueError naming the first label that is not an integer in [0, classes), and its index. */
export function checkLabelValues(op: string, labels: ArrayLike<number>, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ValueError(op, `label ${v} at index ${i} is not an integer class in [0, ${classes})`);
    }
  }
}

/**
 * Converts `count` labels stored as f32 (tensors hold f32) at `srcF32` into i32 class ids at
 * `dstI32`, after checking that each is an integer in [0, classes) (ValueError naming the label and
 * its index; nothing is written then).
 */
export function labelsToInt32(
  rt: Runtime,
  count: number,
  classes: number,
  srcF32: number,
  dstI32: number,
  op = 'labels',
): void {
  checkCounts(op, { count, classes });
  checkValues(rt, op, 'labels', srcF32, count);
  checkValues(rt, op, 'class ids', dstI32, count);
  const src = new Float32Array(rt.memory.buffer, srcF32, count);
  checkLabelValues(op, src, classes);
  new Int32Array(rt.memory.buffer, dstI32, count).set(src);
}

/** Fused softmax + categorical cross-entropy from logits with one-hot/probability targets. */
export function softmaxCrossEntropy(
  rt: Runtime,
  rows: number,
  cols: number,
  logits: number,
  targets: number,
  dlogits: number | null,
  scale = 1 / rows,
  op = 'softmaxCrossEntropy',
): number {
  const g = checkLoss(rt, op, rows, cols, logits, targets, dlogits, scale);
  return rt.kernels.f32_softmax_cross_entropy(rows, cols, logits, targets, g, scale);
}

/**
 * Fused softmax + cross-entropy from logits with i32 class ids at `labelsI32` (one per row);
 * each is checked to lie in [0, classes) first (ValueError naming the label and its index).
 */
export function sparseSoftmaxCrossEntropy(
  rt: Runtime,
  rows: number,
  cols: number,
  logits: number,
  labelsI32: number,
  dlogits: number | null,
  scale = 1 / rows,
  op = 'sparseSoftmaxCrossEntropy',
): number {
  checkCounts(op, { rows, cols });
  if (rows === 0 || cols === 0) throw new ShapeError(op, `the batch is empty: shape [${rows},${cols}]`);
  checkValues(rt, op, 'labels', labelsI32, rows);
  checkLabelValues(op, new Int32Array(rt.memory.buffer, labelsI32, rows), cols);
  checkFinite(op, 'scale', scale);
  checkValues(rt, op, 'logits', logits, rows * cols);
  const g = optionalValues(rt, op, 'gradient', dlogits, rows * cols);
  return rt.kernels.f32_sparse_softmax_cross_entropy(rows, cols, logits, labelsI32, g, scale);
}

/** Binary cross-entropy from logits (stable form), averaged over the columns of each row. */
export function sigmoidCrossEntropy(
  rt: Runtime,
  rows: number,
  cols: number,
  logits: number,
  targets: number,
  dlogits: number | null,
  scale = 1 / rows,
  op = 'sigmoidCrossEntropy',
): number {
  const g = checkLoss(rt, op, rows, cols, logits, targets, dlogits, scale);
  return rt.kernels.f32_sigmoid_cross_entropy(rows, cols, logits, targets, g, scale);
}

/** Categorical cross-entropy on probabilities, normalized and clipped to [eps, 1 − eps] as in Keras. */
export function crossEntropyProbs(
  rt: Runtime,
  rows: number,
  cols: number,
  probs: number,
  targets: number,
  dprobs: number | null,
  scale = 1 / rows,
  eps = 1e-7,
  op = 'crossEntropyProbs',
): number {
  const g = checkLoss(rt, op, rows, cols, probs, targets, dprobs, scale);
  if (!(eps > 0 && eps < 0.5)) throw new ValueError(op, `epsilon must lie in (0, 0.5), got ${eps}`);
  return rt.kernels.f32_cross_entropy_probs(rows, cols, probs, targets, g, scale, eps);
}

/** Mean squared error (mean over columns, then rows). */
export function mse(
  rt: Runtime,
  rows: number,
  cols: number,
  pred: number,
  target: number,
  dpred: number | null,
  scale = 1 / rows,
  op = 'meanSquaredError',
): number {
  const g = checkLoss(rt, op, rows, cols, pred, target, dpred, scale);
  return rt.kernels.f32_mse(rows, cols, pred, target, g, scale);
}

/** Mean absolute error (gradient sign(pred − target), 0 at 0). */
export function mae(
  rt: Runtime,
  rows: number,
  cols: number,
  pred: number,
  target: number,
  dpred: number | null,
  scale = 1 / rows,
  op = 'meanAbsoluteError',
): number {
  const g = checkLoss(rt, op, rows, cols, pred, target, dpred, scale);
  return rt.kernels.f32_mae(rows, cols, pred, target, g, scale);
}

/** Huber loss with threshold delta > 0 (Keras default 1). */
export function huber(
  rt: Runtime,
  rows: number,
  cols: number,
  pred: number,
  target: number,
  dpred: number | null,
  scale = 1 / rows,
  delta = 1,
  op = 'huber',
): number {
  const g = checkLoss(rt, op, rows, cols, pred, target, dpred, scale);
  if (!(delta > 0 && Number.isFinite(delta)))
    throw new ValueError(op, `delta must be a positive finite number, got ${delta}`);
  return rt.kernels.f32_huber(rows, cols, pred, target, g, scale, delta);
}

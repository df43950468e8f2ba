import { ShapeError, ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkCounts, checkValues, optionalValues } from './reduce.js';

export const NORM_SIGNATURES = {
  f32_batch_norm_train: [
    'n',
    'c',
    'x',
    'gamma',
    'beta',
    'eps',
    'momentum',
    'y',
    'mean',
    'invstd',
    'movingMean',
    'movingVar',
  ],
  f32_batch_norm_inference: ['n', 'c', 'x', 'gamma', 'beta', 'movingMean', 'movingVar', 'eps', 'y'],
  f32_batch_norm_backward: ['n', 'c', 'x', 'dy', 'gamma', 'mean', 'invstd', 'dx', 'dgamma', 'dbeta'],
  f32_layer_norm: ['rows', 'cols', 'x', 'gamma', 'beta', 'eps', 'y', 'mean', 'rstd'],
  f32_layer_norm_backward: ['rows', 'cols', 'x', 'dy', 'gamma', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta'],
} as const;

type Opt = number | null | undefined;

function checkEps(op: string, eps: number): void {
  if (!(eps > 0 && Number.isFinite(eps)))
    throw new ValueError(op, `epsilon must be a positive finite number, got ${eps}`);
}

function checkShape(op: string, rows: number, cols: number, what: string): void {
  checkCounts(op, { [what]: rows, channels: cols });
  if (rows === 0) throw new ShapeError(op, `statistics over 0 ${what} are undefined: shape [${rows},${cols}]`);
}

/** Buffers of {@link batchNormTrain}; per-channel ones hold `c` values; absent ones are skipped. */
export interface BatchNormTrainBuffers {
  gamma?: Opt;
  beta?: Opt;
  /** Outputs kept for the backward pass. */
  mean?: Opt;
  invstd?: Opt;
  /** Updated in place: moving ← momentum·moving + (1 − momentum)·batch (unbiased variance). */
  movingMean?: Opt;
  movingVar?: Opt;
}

/**
 * Batch normalization forward in training mode over the channels of an [n, c] matrix (NHWC
 * activations flatten to [N·H·W, C]); updates the moving statistics in the same call.
 */
export function batchNormTrain(
  rt: Runtime,
  n: number,
  c: number,
  x: number,
  y: number,
  b: BatchNormTrainBuffers,
  eps = 1e-3,
  momentum = 0.99,
  op = 'batchNormalization',
): void {
  checkShape(op, n, c, 'rows');
  checkEps(op, eps);
  if (!(momentum >= 0 && momentum <= 1)) throw new ValueError(op, `momentum must lie in [0, 1], got ${momentum}`);
  checkValues(rt, op, 'x', x, n * c);
  checkValues(rt, op, 'y', y, n * c);
  const [gamma, beta, mean, invstd, mm, mv] = (
    ['gamma', 'beta', 'mean', 'invstd', 'movingMean', 'movingVar'] as const
  ).map((k) => optionalValues(rt, op, k, b[k], c)) as [number, number, number, number, number, number];
  rt.kernels.f32_batch_norm_train(n, c, x, gamma, beta, eps, momentum, y, mean, invstd, mm, mv);
}

/** Batch normalization forward in inference mode, from the moving statistics. */
export function batchNormInference(
  rt: Runtime,
  n: number,
  c: number,
  x: number,
  y: number,
  b: { gamma?: Opt; beta?: Opt; movingMean: number; movingVar: number },
  eps = 1e-3,
  op = 'batchNormalization',
): void {
  checkCounts(op, { rows: n, channels: c });
  checkEps(op, eps);
  checkValues(rt, op, 'x', x, n * c);
  checkValues(rt, op, 'y', y, n * c);
  checkValues(rt, op, 'movingMean', b.movingMean, c);
  checkValues(rt, op, 'movingVar', b.movingVar, c);
  const gamma = optionalValues(rt, op, 'gamma', b.gamma, c);
  const beta = optionalValues(rt, op, 'beta', b.beta, c);
  rt.kernels.f32_batch_norm_inference(n, c, x, gamma, beta, b.movingMean, b.movingVar, eps, y);
}

/** Batch normalization backward (training mode) from the forward's mean and invstd. */
export function batchNormBackward(
  rt: Runtime,
  n: number,
  c: number,
  x: number,
  dy: number,
  dx: number,
  b: { gamma?: Opt; mean: number; invstd: number; dgamma?: Opt; dbeta?: Opt },
  op = 'batchNormalizationBackward',
): void {
  checkShape(op, n, c, 'rows');
  for (const [name, ptr] of [
    ['x', x],
    ['dy', dy],
    ['dx', dx],
  ] as const) {
    checkValues(rt, op, name, ptr, n * c);
  }
  checkValues(rt, op, 'mean', b.mean, c);
  checkValues(rt, op, 'invstd', b.invstd, c);
  const gamma = optionalValues(rt, op, 'gamma', b.gamma, c);
  const dgamma = optionalValues(rt, op, 'dgamma', b.dgamma, c);
  const dbeta = optionalValues(rt, op, 'dbeta', b.dbeta, c);
  rt.kernels.f32_batch_norm_backward(n, c, x, dy, gamma, b.mean, b.invstd, dx, dgamma, dbeta);
}

/** Layer normalization over the last axis of a [rows, cols] matrix; gamma/beta hold `cols` values. */
export function layerNorm(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  y: number,
  b: { gamma?: Opt; beta?: Opt; mean?: Opt; rstd?: Opt },
  eps = 1e-3,
  op = 'layerNormalization',
): void {
  checkCounts(op, { rows, cols });
  if (rows > 0 && cols === 0) throw new ShapeError(op, `statistics over 0 columns are undefined: shape [${rows},0]`);
  checkEps(op, eps);
  checkValues(rt, op, 'x', x, rows * cols);
  checkValues(rt, op, 'y', y, rows * cols);
  const gamma = optionalValues(rt, op, 'gamma', b.gamma, cols);
  const beta = optionalValues(rt, op, 'beta', b.beta, cols);
  const mean = optionalValues(rt, op, 'mean', b.mean, rows);
  const rstd = optionalValues(rt, op, 'rstd', b.rstd, rows);
  rt.kernels.f32_layer_norm(rows, cols, x, gamma, beta, eps, y, mean, rstd);
}

/** Layer normalization backward from the forward's per-row mean and rstd. */
export function layerNormBackward(
  rt: Runtime,
  rows: number,
  cols: number,
  x: number,
  dy: number,
  dx: number,
  b: { gamma?: Opt; mean: number; rstd: number; dgamma?: Opt; dbeta?: Opt },
  op = 'layerNormalizationBackward',
): void {
  checkCounts(op, { rows, cols });
  if (rows > 0 && cols === 0) throw new ShapeError(op, `statistics over 0 columns are undefined: shape [${rows},0]`);
  for (const [name, ptr] of [
    ['x', x],
    ['dy', dy],
    ['dx', dx],
  ] as const) {
    checkValues(rt, op, name, ptr, rows * cols);
  }
  checkValues(rt, op, 'mean', b.mean, rows);
  checkValues(rt, op, 'rstd', b.rstd, rows);
  const gamma = optionalValues(rt, op, 'gamma', b.gamma, cols);
  const dgamma = optionalValues(rt, op, 'dgamma', b.dgamma, cols);
  const dbeta = optionalValues(rt, op, 'dbeta', b.dbeta, cols);
  rt.kernels.f32_layer_norm_backward(rows, cols, x, dy, gamma, b.mean, b.rstd, dx, dgamma, dbeta);
}

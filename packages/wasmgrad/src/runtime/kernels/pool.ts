import { fmtShape, ShapeError, ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Conv2dGeometry, checkSpans, type Padding, windowGeometry } from './conv.js';

const POOL = ['n', 'h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'pt', 'pl', 'pb', 'pr'] as const;

export const POOL_SIGNATURES = {
  f32_max_pool2d_forward: [...POOL, 'x', 'y', 'argmax'],
  f32_max_pool2d_backward: ['dy', 'argmax', 'yLen', 'dx', 'xLen'],
  f32_avg_pool2d_forward: [...POOL, 'x', 'y'],
  f32_avg_pool2d_backward: [...POOL, 'dy', 'dx'],
  f32_global_avg_pool2d_forward: ['x', 'batch', 'pixels', 'c', 'y'],
  f32_global_avg_pool2d_backward: ['dy', 'batch', 'pixels', 'c', 'dx'],
} as const;

/** Options of a 2-D pooling, as in tfjs: `strides` defaults to `poolSize`. */
export interface Pool2dOptions {
  poolSize: number | readonly [number, number];
  strides?: number | readonly [number, number];
  padding?: Padding;
}

/**
 * Geometry of a max/average pooling of x = [batch, h, w, c]. Windows never lie wholly in the
 * padding: 'same' guarantees it, explicit paddings must be smaller than the window (ShapeError).
 */
export function pool2dGeometry(xShape: readonly number[], options: Pool2dOptions, op = 'pool2d'): Conv2dGeometry {
  const size = options.poolSize;
  const [kh, kw] = typeof size === 'number' ? [size, size] : (size ?? []);
  for (const k of [kh, kw]) {
    if (!Number.isSafeInteger(k) || (k as number) < 1 || (k as number) > 2 ** 31 - 1) {
      throw new ValueError(op, `poolSize must be positive integers, got ${JSON.stringify(size)}`);
    }
  }
  const g = windowGeometry(op, xShape, kh as number, kw as number, xShape[3] as number, {
    strides: options.strides ?? [kh as number, kw as number],
    padding: options.padding,
  });
  if (
    g.padTop >= g.filterHeight ||
    g.padBottom >= g.filterHeight ||
    g.padLeft >= g.filterWidth ||
    g.padRight >= g.filterWidth
  ) {
    throw new ShapeError(
      op,
      `padding ${JSON.stringify(options.padding)} is not smaller than the pool window ${kh}x${kw} of x ${fmtShape(xShape)}: some windows would be empty`,
    );
  }
  return g;
}

function args(g: Conv2dGeometry): Twelve {
  return [
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
    g.padBottom,
    g.padRight,
  ];
}

function sizes(g: Conv2dGeometry): { x: number; y: number } {
  return {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    y: g.batch * g.outHeight * g.outWidth * g.inChannels,
  };
}

/**
 * y ← max over each window. When `argmax` is not 0 it receives (as i32) the flat index into x of
 * each winner — the first maximum in window order, a NaN over numbers — which
 * {@link maxPool2dBackward} needs: the gradient is not recomputed from x.
 */
export function maxPool2dForward(
  rt: Runtime,
  g: Conv2dGeometry,
  x: number,
  y: number,
  argmax: number,
  op = 'maxPool2d',
): void {
  const s = sizes(g);
  const writes: [string, number, number][] = [['y', y, s.y]];
  if (argmax !== 0) writes.push(['argmax', argmax, s.y]);
  checkSpans(rt, op, [['x', x, s.x]], writes);
  if (s.y === 0) return;
  rt.kernels.f32_max_pool2d_forward(...args(g), x, y, argmax);
}

/** dx ← 0, then dx[argmax[i]] += dy[i]: the gradient of max pooling from its forward argmax. */
export function maxPool2dBackward(
  rt: Runtime,
  g: Conv2dGeometry,
  dy: number,
  argmax: number,
  dx: number,
  op = 'maxPool2dBackward',
): void {
  const s = sizes(g);
  checkSpans(
    rt,
    op,
    [
      ['dy', dy, s.y],
      ['argmax', argmax, s.y],
    ],
    [['dx', dx, s.x]],
  );
  rt.kernels.f32_max_pool2d_backward(dy, argmax, s.y, dx, s.x);
}

/** y ← mean of each window over its cells inside the image (padding not counted, as in TF). */
export function avgPool2dForward(rt: Runtime, g: Conv2dGeometry, x: number, y: number, op = 'avgPool2d'): void {
  const s = sizes(g);
  checkSpans(rt, op, [['x', x, s.x]], [['y', y, s.y]]);
  if (s.y === 0) return;
  rt.kernels.f32_avg_pool2d_forward(...args(g), x, y);
}

/** dx ← ∂⟨avgPool2d(x), dy⟩/∂x. */
export function avgPool2dBackward(
  rt: Runtime,
  g: Conv2dGeometry,
  dy: number,
  dx: number,
  op = 'avgPool2dBackward',
): void {
  const s = sizes(g);
  checkSpans(rt, op, [['dy', dy, s.y]], [['dx', dx, s.x]]);
  if (s.x === 0) return;
  rt.kernels.f32_avg_pool2d_backward(...args(g), dy, dx);
}

function globalShape(op: string, xShape: readonly number[]): [number, number, number] {
  if (xShape.length !== 4) throw new ShapeError(op, `x must have rank 4, got shape ${fmtShape(xShape)}`);
  for (const d of xShape) {
    if (!Number.isSafeInteger(d) || d < 0 || d > 2 ** 31 - 1) {
      throw new ValueError(op, `x shape ${fmtShape(xShape)} has a size that is not a non-negative integer`);
    }
  }
  const [n, h, w, c] = xShape as [number, number, number, number];
  if (h * w === 0 && n * c > 0) throw new ShapeError(op, `x ${fmtShape(xShape)} has no pixels to average`);
  return [n, h * w, c];
}

/** y[n, c] ← mean over the pixels of x[n, ·, ·, c], for x of shape `xShape` = [batch, h, w, c]. */
export function globalAvgPool2dForward(
  rt: Runtime,
  xShape: readonly number[],
  x: number,
  y: number,
  op = 'globalAvgPool2d',
): void {
  const [n, pixels, c] = globalShape(op, xShape);
  checkSpans(rt, op, [['x', x, n * pixels * c]], [['y', y, n * c]]);
  rt.kernels.f32_global_avg_pool2d_forward(x, n, pixels, c, y);
}

/** dx[n, h, w, c] ← dy[n, c] / (h·w). */
export function globalAvgPool2dBackward(
  rt: Runtime,
  xShape: readonly number[],
  dy: number,
  dx: number,
  op = 'globalAvgPool2dBackward',
): void {
  const [n, pixels, c] = globalShape(op, xShape);
  checkSpans(rt, op, [['dy', dy, n * c]], [['dx', dx, n * pixels * c]]);
  rt.kernels.f32_global_avg_pool2d_backward(dy, n, pixels, c, dx);
}

type Twelve = [number, number, number, number, number, number, number, number, number, number, number, number];

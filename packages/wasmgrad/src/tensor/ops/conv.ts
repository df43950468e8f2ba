/**
 * Convolution and pooling ops over NHWC tensors (filters HWIO), through the conv/pool kernels:
 * conv2d (im2col + gemm), depthwiseConv2d, maxPool2d (the forward argmax is kept for the
 * gradient), avgPool2d. Geometry (padding 'valid' | 'same' | explicit, strides, dilations) follows
 * TensorFlow exactly and is validated by the kernel wrappers.
 */

import type { Conv2dGeometry, Padding } from '../../runtime/kernels/conv.js';
import * as convK from '../../runtime/kernels/conv.js';
import * as poolK from '../../runtime/kernels/pool.js';
import type { Runtime } from '../../runtime/runtime.js';
import { type Attrs, activeTape, record } from '../engine.js';
import { empty, type Tensor } from '../tensor.js';
import { sameRuntime } from './util.js';

type Pair = number | readonly [number, number];

/** Attributes that reproduce a geometry in the backward pass (explicit paddings). */
function geometryAttrs(g: Conv2dGeometry): Attrs {
  return {
    strides: [g.strideHeight, g.strideWidth],
    dilations: [g.dilationHeight, g.dilationWidth],
    pads: [g.padTop, g.padBottom, g.padLeft, g.padRight],
    window: [g.filterHeight, g.filterWidth],
  };
}

const explicit = (attrs: Attrs): Padding => {
  const [top, bottom, left, right] = attrs.pads as [number, number, number, number];
  return { top, bottom, left, right };
};
const pairOf = (attrs: Attrs, key: string): [number, number] => attrs[key] as [number, number];

/** Runs `fn` with a workspace of `length` f32 values, freed afterwards. */
function withWorkspace<T>(rt: Runtime, length: number, op: string, fn: (work: number) => T): T {
  const work = rt.allocator.alloc(4 * Math.max(length, 1), op);
  try {
    return fn(work);
  } finally {
    rt.allocator.release(work);
  }
}

/**
 * 2-D convolution of x = [batch, h, w, inC] with filter = [kh, kw, inC, outC] (tfjs argument order;
 * NHWC only), as the cross-correlation TensorFlow computes.
 */
export function conv2d(
  x: Tensor,
  filter: Tensor,
  strides: Pair = 1,
  padding: Padding = 'valid',
  dilations: Pair = 1,
): Tensor {
  const op = 'conv2d';
  sameRuntime(op, x, filter);
  const g = convK.conv2dGeometry(x.shape, filter.shape, { strides, padding, dilations }, op);
  const rt = x.runtime;
  const y = empty([g.batch, g.outHeight, g.outWidth, g.outChannels], op, rt);
  withWorkspace(rt, convK.conv2dWorkspaceLength(rt, g), op, (work) =>
    convK.conv2dForward(rt, g, x.ptr, filter.ptr, 0, y.ptr, work, op),
  );
  return record(op, [x, filter], y, geometryAttrs(g));
}

/** Gradients of conv2d with respect to x and the filter. */
export function conv2dBackward(
  dy: Tensor,
  x: Tensor,
  filter: Tensor,
  attrs: Attrs,
  need: readonly boolean[],
): [Tensor | null, Tensor | null] {
  const rt = x.runtime;
  const op = 'conv2d (backward)';
  const g = convK.conv2dGeometry(
    x.shape,
    filter.shape,
    { strides: pairOf(attrs, 'strides'), padding: explicit(attrs), dilations: pairOf(attrs, 'dilations') },
    op,
  );
  const dx = need[0] ? empty(x.shape, op, rt) : null;
  const df = need[1] ? empty(filter.shape, op, rt) : null;
  withWorkspace(rt, convK.conv2dWorkspaceLength(rt, g), op, (work) => {
    if (dx) convK.conv2dBackwardInput(rt, g, dy.ptr, filter.ptr, dx.ptr, work, op);
    if (df) convK.conv2dBackwardFilter(rt, g, x.ptr, dy.ptr, df.ptr, work, op);
  });
  return [dx, df];
}

/** Depthwise 2-D convolution: filter = [kh, kw, C, multiplier], output C·multiplier channels. */
export function depthwiseConv2d(
  x: Tensor,
  filter: Tensor,
  strides: Pair = 1,
  padding: Padding = 'valid',
  dilations: Pair = 1,
): Tensor {
  const op = 'depthwiseConv2d';
  sameRuntime(op, x, filter);
  const g = convK.depthwiseConv2dGeometry(x.shape, filter.shape, { strides, padding, dilations }, op);
  const y = empty([g.batch, g.outHeight, g.outWidth, g.outChannels], op, x.runtime);
  convK.depthwiseConv2dForward(x.runtime, g, x.ptr, filter.ptr, 0, y.ptr, op);
  return record(op, [x, filter], y, geometryAttrs(g));
}

/** Gradients of depthwiseConv2d with respect to x and the filter. */
export function depthwiseConv2dBackward(
  dy: Tensor,
  x: Tensor,
  filter: Tensor,
  attrs: Attrs,
  need: readonly boolean[],
): [Tensor | null, Tensor | null] {
  const rt = x.runtime;
  const op = 'depthwiseConv2d (backward)';
  const g = convK.depthwiseConv2dGeometry(
    x.shape,
    filter.shape,
    { strides: pairOf(attrs, 'strides'), padding: explicit(attrs), dilations: pairOf(attrs, 'dilations') },
    op,
  );
  const dx = need[0] ? empty(x.shape, op, rt) : null;
  const df = need[1] ? empty(filter.shape, op, rt) : null;
  if (dx) convK.depthwiseConv2dBackwardInput(rt, g, dy.ptr, filter.ptr, dx.ptr, op);
  if (df) convK.depthwiseConv2dBackwardFilter(rt, g, x.ptr, dy.ptr, df.ptr, op);
  return [dx, df];
}

function poolGeometry(
  op: string,
  x: Tensor,
  poolSize: Pair,
  strides: Pair | undefined,
  padding: Padding,
): Conv2dGeometry {
  return poolK.pool2dGeometry(x.shape, { poolSize, strides: strides ?? poolSize, padding }, op);
}

function poolGeometryFromAttrs(op: string, x: Tensor, attrs: Attrs): Conv2dGeometry {
  return poolK.pool2dGeometry(
    x.shape,
    { poolSize: pairOf(attrs, 'window'), strides: pairOf(attrs, 'strides'), padding: explicit(attrs) },
    op,
  );
}

/**
 * Max pooling of x = [batch, h, w, c] (strides default to the pool size). While a gradient is
 * being recorded the forward argmax is kept (as a hidden input of the node) for the backward pass.
 */
export function maxPool2d(x: Tensor, poolSize: Pair, strides?: Pair, padding: Padding = 'valid'): Tensor {
  const op = 'maxPool2d';
  const g = poolGeometry(op, x, poolSize, strides, padding);
  const rt = x.runtime;
  const y = empty([g.batch, g.outHeight, g.outWidth, g.inChannels], op, rt);
  // The argmax (i32 indices stored in an f32-sized tensor) is only needed when recording.
  const argmax = activeTape() !== null ? empty(y.shape, op, rt) : null;
  poolK.maxPool2dForward(rt, g, x.ptr, y.ptr, argmax ? argmax.ptr : 0, op);
  if (!argmax) return y;
  return record(op, [x, argmax], y, geometryAttrs(g));
}

/** Gradient of maxPool2d: dy scattered to the recorded argmax positions. */
export function maxPool2dBackward(dy: Tensor, x: Tensor, argmax: Tensor, attrs: Attrs): Tensor {
  const op = 'maxPool2d (backward)';
  const g = poolGeometryFromAttrs(op, x, attrs);
  const dx = empty(x.shape, op, x.runtime);
  poolK.maxPool2dBackward(x.runtime, g, dy.ptr, argmax.ptr, dx.ptr, op);
  return dx;
}

/** Average pooling of x = [batch, h, w, c]; padded cells are not counted (as TensorFlow). */
export function avgPool2d(x: Tensor, poolSize: Pair, strides?: Pair, padding: Padding = 'valid'): Tensor {
  const op = 'avgPool2d';
  const g = poolGeometry(op, x, poolSize, strides, padding);
  const y = empty([g.batch, g.outHeight, g.outWidth, g.inChannels], op, x.runtime);
  poolK.avgPool2dForward(x.runtime, g, x.ptr, y.ptr, op);
  return record(op, [x], y, geometryAttrs(g));
}

/** Gradient of avgPool2d. */
export function avgPool2dBackward(dy: Tensor, x: Tensor, attrs: Attrs): Tensor {
  const op = 'avgPool2d (backward)';
  const g = poolGeometryFromAttrs(op, x, attrs);
  const dx = empty(x.shape, op, x.runtime);
  poolK.avgPool2dBackward(x.runtime, g, dy.ptr, dx.ptr, op);
  return dx;
}

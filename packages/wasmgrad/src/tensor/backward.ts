/**
 * THE table of backward rules: one entry per differentiable primitive (in the manner of tinygrad's
 * gradient table and micrograd's closures). Composite ops (e.g. `squaredDifference`, `mean` of a
 * `sub`) are built from primitives and need no rule of their own.
 *
 * A rule receives the gradient `dy` of the node's output, the node (inputs, output, attributes) and
 * one slot per input, and returns the gradient of each input (null where not needed). The engine
 * adds the results into the accumulated gradients (gradients.ts); `slot.existing()` hands a rule the
 * accumulated buffer when it may write into it in place (matMul uses it as gemm's β = 1 output).
 *
 * Rules run with recording paused, so they may use any op; gradients are first order only.
 */

import type { TapeNode } from './engine.js';
import { type ActivationKind, activationBackward } from './ops/activation.js';
import { div, mul, neg, scale, sumTo } from './ops/binary.js';
import { avgPool2dBackward, conv2dBackward, depthwiseConv2dBackward, maxPool2dBackward } from './ops/conv.js';
import { matMulBackward } from './ops/matmul.js';
import { broadcastTo, maxBackward, scaledCopy } from './ops/reduce.js';
import { copyBox, reshape, slice, transpose } from './ops/shape.js';
import { logSoftmaxBackward, softmaxBackward } from './ops/softmax.js';
import { applyDropout } from './random.js';
import { filled, type Tensor } from './tensor.js';

/** What a rule knows about one input. */
export interface GradSlot {
  /** False when no gradient of this input is wanted (the rule may skip computing it). */
  readonly needed: boolean;
  /** The accumulated gradient buffer of this input if the rule may add into it in place. */
  existing(): Tensor | undefined;
}

/** A backward rule: the input gradients of `node` given the output gradient `dy`. */
export type BackwardRule = (
  dy: Tensor,
  node: TapeNode,
  slots: readonly GradSlot[],
) => readonly (Tensor | null | undefined)[];

const num = (node: TapeNode, key: string): number => node.attrs[key] as number;
const axes = (node: TapeNode, key: string): readonly number[] => node.attrs[key] as readonly number[];
const needed = (slots: readonly GradSlot[]): boolean[] => slots.map((q) => q.needed);
const x0 = (node: TapeNode): Tensor => node.inputs[0] as Tensor;
const x1 = (node: TapeNode): Tensor => node.inputs[1] as Tensor;

/** The gradient of a sum/mean over `axes` (keepDims or not) broadcast back to the input's shape. */
function unreduce(dy: Tensor, node: TapeNode, factor: number): Tensor {
  const x = x0(node);
  const kept = x.shape.map((d, i) => (axes(node, 'axes').includes(i) ? 1 : d));
  // Scale the (small) reduced gradient before broadcasting it back.
  const d = factor === 1 ? dy : scaledCopy(dy, factor);
  return broadcastTo(reshape(d, kept), x.shape);
}

/** Gradient of concat: the slice of dy belonging to each input. */
function unconcat(dy: Tensor, node: TapeNode): Tensor[] {
  const axis = num(node, 'axis');
  let at = 0;
  return node.inputs.map((x) => {
    const begin = dy.shape.map((_, i) => (i === axis ? at : 0));
    at += x.shape[axis] as number;
    return slice(dy, begin, x.shape);
  });
}

/** Gradient of slice: dy placed in a zero tensor of the input's shape. */
function unslice(dy: Tensor, node: TapeNode): Tensor {
  const g = filled(x0(node).shape, 0, 'slice (backward)', dy.runtime);
  copyBox(g, dy, axes(node, 'begin'), true);
  return g;
}

/** Inverse of a permutation. */
const inverse = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
};

export const BACKWARD: Readonly<Record<string, BackwardRule>> = {
  // d(a ± b) = dy, ±dy; reduced over the axes that were broadcast.
  add: (dy, n) => [sumTo(dy, x0(n).shape), sumTo(dy, x1(n).shape)],
  sub: (dy, n, s) => [sumTo(dy, x0(n).shape), s[1]?.needed ? sumTo(neg(dy), x1(n).shape) : null],
  // d(a·b) = dy·b, dy·a.
  mul: (dy, n, s) => [
    s[0]?.needed ? sumTo(mul(dy, x1(n)), x0(n).shape) : null,
    s[1]?.needed ? sumTo(mul(dy, x0(n)), x1(n).shape) : null,
  ],
  // d(a/b) = dy/b, −dy·(a/b)/b.
  div: (dy, n, s) => [
    s[0]?.needed ? sumTo(div(dy, x1(n)), x0(n).shape) : null,
    s[1]?.needed ? sumTo(neg(div(mul(dy, n.output), x1(n))), x1(n).shape) : null,
  ],
  // y = α·x + β.
  scale: (dy, n) => [scale(dy, num(n, 'alpha'))],
  // Elementwise unary functions and activations: one fused backward kernel per kind.
  unary: (dy, n, s) => [
    activationBackward(n.attrs.kind as ActivationKind, x0(n), n.output, dy, num(n, 'alpha'), s[0]?.existing()),
  ],
  // Math functions: forward kernels, composite gradients.
  exp: (dy, n) => [mul(dy, n.output)],
  expm1: (dy, n) => [mul(dy, scale(n.output, 1, 1))],
  log: (dy, n) => [div(dy, x0(n))],
  log1p: (dy, n) => [div(dy, scale(x0(n), 1, 1))],
  sqrt: (dy, n) => [scale(div(dy, n.output), 0.5)],
  reciprocal: (dy, n) => [scale(mul(mul(dy, n.output), n.output), -1)],
  matMul: (dy, n, s) => matMulBackward(dy, x0(n), x1(n), n.attrs.transposeA === true, n.attrs.transposeB === true, s),
  sum: (dy, n) => [unreduce(dy, n, 1)],
  mean: (dy, n) => [unreduce(dy, n, num(n, 'factor'))],
  max: (dy, n) => [maxBackward(dy, x0(n), n.output)],
  softmax: (dy, n) => [softmaxBackward(n.output, dy)],
  logSoftmax: (dy, n) => [logSoftmaxBackward(n.output, dy)],
  reshape: (dy, n) => [reshape(dy, x0(n).shape)],
  clone: (dy) => [dy],
  broadcastTo: (dy, n) => [sumTo(dy, x0(n).shape)],
  transpose: (dy, n) => [transpose(dy, inverse(axes(n, 'perm')))],
  concat: (dy, n) => unconcat(dy, n),
  slice: (dy, n) => [unslice(dy, n)],
  conv2d: (dy, n, s) => conv2dBackward(dy, x0(n), x1(n), n.attrs, needed(s)),
  depthwiseConv2d: (dy, n, s) => depthwiseConv2dBackward(dy, x0(n), x1(n), n.attrs, needed(s)),
  // The second input is the forward argmax (never differentiated).
  maxPool2d: (dy, n) => [maxPool2dBackward(dy, x0(n), x1(n), n.attrs), null],
  avgPool2d: (dy, n) => [avgPool2dBackward(dy, x0(n), n.attrs)],
  // The same counter-based mask (seed, element index) applied to dy.
  dropout: (dy, n) => [applyDropout(dy, num(n, 'rate'), num(n, 'seed'), 'dropout (backward)')],
};

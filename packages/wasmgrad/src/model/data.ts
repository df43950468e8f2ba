import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Loss } from '../losses/losses.js';
import { labelsToInt32 } from '../runtime/kernels/loss.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

/** Inputs and targets of fit/evaluate, validated and laid out for the step loop. */
export interface PreparedData {
  /** Number of samples. */
  n: number;
  x: number;
  xRowLen: number;
  /** f32 target rows, or i32 labels (rowLen 1) for sparse losses. */
  target: number;
  targetRowLen: number;
  /** Targets are i32 class labels (sparse losses). */
  sparse: boolean;
  /** Blocks allocated here, freed by {@link releasePrepared}. */
  owned: number[];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Validates x against the model's input shape and y against its output and loss, and prepares
 * targets: sparse labels become an i32 buffer after checking they are integers in range; one-hot
 * and one-hot targets are used in place.
 */
export function prepareData(
  rt: Runtime,
  op: string,
  x: Tensor,
  y: Tensor,
  inputShape: readonly number[],
  outputShape: readonly number[],
  loss: Loss,
): PreparedData {
  if (!x || typeof x !== 'object' || !('shape' in x)) throw new ValueError(op, 'x must be a Tensor');
  if (!y || typeof y !== 'object' || !('shape' in y)) throw new ValueError(op, 'y must be a Tensor');
  if (x.runtime !== rt || y.runtime !== rt) throw new ValueError(op, 'x and y must live in the model runtime');
  const n = x.shape[0] ?? 0;
  if (fmtShape(x.shape.slice(1)) !== fmtShape(inputShape)) {
    throw new ShapeError(op, `expected x of shape [n,${inputShape.join(',')}], got ${fmtShape(x.shape)}`);
  }
  if (n === 0) throw new ValueError(op, 'x holds no samples');
  if (y.shape[0] !== n)
    throw new ShapeError(op, `x has ${n} samples but y has ${y.shape[0]} (y shape ${fmtShape(y.shape)})`);
  const owned: number[] = [];
  const classes = outputShape[outputShape.length - 1] as number;
  if (loss.sparse) {
    const perSample = prod(y.shape.slice(1));
    if (perSample !== prod(outputShape.slice(0, -1))) {
      throw new ShapeError(op, `sparse labels need shape [n] or [n,1], got ${fmtShape(y.shape)}`);
    }
    const labels = rt.allocator.alloc(4 * y.size, op);
    try {
      labelsToInt32(rt, y.size, classes, y.ptr, labels, op);
    } catch (err) {
      rt.allocator.release(labels);
      throw err;
    }
    owned.push(labels);
    return { n, x: x.ptr, xRowLen: prod(inputShape), target: labels, targetRowLen: perSample, sparse: true, owned };
  }
  if (fmtShape(y.shape.slice(1)) !== fmtShape(outputShape)) {
    throw new ShapeError(
      op,
      `expected y of shape [n,${outputShape.join(',')}] for this model, got ${fmtShape(y.shape)}`,
    );
  }
  return {
    n,
    x: x.ptr,
    xRowLen: prod(inputShape),
    target: y.ptr,
    targetRowLen: prod(outputShape),
    sparse: false,
    owned,
  };
}

/** Frees what {@link prepareData} allocated. */
export function releasePrepared(rt: Runtime, data: PreparedData): void {
  for (const p of data.owned) rt.allocator.release(p);
  data.owned.length = 0;
}

/** Validates predict's input against the model's input shape. */
export function prepareInputOnly(x: Tensor, inputShape: readonly number[], rt: Runtime): void {
  if (!x || typeof x !== 'object' || !('shape' in x)) throw new ValueError('predict', 'x must be a Tensor');
  if (x.runtime !== rt) throw new ValueError('predict', 'x must live in the model runtime');
  if (x.shape.slice(1).join(',') !== inputShape.join(',')) {
    throw new ValueError('predict', `expected x of shape [n,${inputShape.join(',')}], got [${x.shape.join(',')}]`);
  }
}

/** The last `count` samples of prepared data, sharing its buffers. */
export function sliceData(d: PreparedData, start: number, count: number): PreparedData {
  return {
    n: count,
    x: d.x + 4 * start * d.xRowLen,
    xRowLen: d.xRowLen,
    target: d.target + 4 * start * d.targetRowLen,
    targetRowLen: d.targetRowLen,
    sparse: d.sparse,
    owned: d.owned,
  };
}

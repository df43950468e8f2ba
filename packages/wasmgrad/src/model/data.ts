import { fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Loss } from '../losses/losses.js';
import { labelsToInt32 } from '../runtime/kernels/loss.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';

/** Inputs and targets of fit/evaluate, validated and laid out for the step loop. */
export interface PreparedData {
  /** Number of samples. */
  n: number;
  /** One buffer per model input, and the values per sample of each. */
  xs: number[];
  xRowLens: number[];
  /** f32 target rows, or i32 labels (rowLen 1) for sparse losses. */
  target: number;
  targetRowLen: number;
  /** Targets are i32 class labels (sparse losses). */
  sparse: boolean;
  /** Blocks allocated here, freed by {@link releasePrepared}. */
  owned: number[];
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** What fit, evaluate and predict take as x: one tensor, or one per model input (in order). */
export type ModelInputs = Tensor | Tensor[];

const isTensor = (t: unknown): t is Tensor => !!t && typeof t === 'object' && 'shape' in t;

/**
 * Checks x against the model's per-sample input shapes (a tensor, or an array of one tensor per
 * input, all with the same number of samples); returns the tensors and the sample count.
 */
export function checkInputs(
  rt: Runtime,
  op: string,
  x: ModelInputs,
  inputShapes: readonly (readonly number[])[],
): { list: Tensor[]; n: number } {
  const k = inputShapes.length;
  const list = Array.isArray(x) ? x : [x];
  if (list.length !== k || (k > 1 && !Array.isArray(x))) {
    throw new ValueError(
      op,
      k === 1
        ? `x must be a Tensor, got an array of ${list.length}`
        : `the model has ${k} inputs: x must be an array of ${k} tensors, got ${Array.isArray(x) ? `an array of ${list.length}` : 'one'}`,
    );
  }
  const n = (list[0] as Tensor | undefined)?.shape?.[0] ?? 0;
  list.forEach((t, i) => {
    const which = k === 1 ? 'x' : `x[${i}]`;
    if (!isTensor(t)) throw new ValueError(op, `${which} must be a Tensor`);
    if (t.runtime !== rt) throw new ValueError(op, `${which} must live in the model runtime`);
    const shape = inputShapes[i] as readonly number[];
    if (fmtShape(t.shape.slice(1)) !== fmtShape(shape)) {
      throw new ShapeError(op, `expected ${which} of shape [n,${shape.join(',')}], got ${fmtShape(t.shape)}`);
    }
    if (t.shape[0] !== n) throw new ShapeError(op, `x[0] has ${n} samples but ${which} has ${t.shape[0]}`);
  });
  return { list, n };
}

/**
 * Validates x against the model's input shapes and y against its output and loss, and prepares
 * targets: sparse labels become an i32 buffer after checking they are integers in range; one-hot
 * and one-hot targets are used in place.
 */
export function prepareData(
  rt: Runtime,
  op: string,
  x: ModelInputs,
  y: Tensor,
  inputShapes: readonly (readonly number[])[],
  outputShape: readonly number[],
  loss: Loss,
): PreparedData {
  if (!isTensor(y)) throw new ValueError(op, 'y must be a Tensor');
  const { list, n } = checkInputs(rt, op, x, inputShapes);
  if (y.runtime !== rt) throw new ValueError(op, 'x and y must live in the model runtime');
  const xs = list.map((t) => t.ptr);
  const xRowLens = inputShapes.map(prod);
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
    return { n, xs, xRowLens, target: labels, targetRowLen: perSample, sparse: true, owned };
  }
  if (fmtShape(y.shape.slice(1)) !== fmtShape(outputShape)) {
    throw new ShapeError(
      op,
      `expected y of shape [n,${outputShape.join(',')}] for this model, got ${fmtShape(y.shape)}`,
    );
  }
  return {
    n,
    xs,
    xRowLens,
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

/** The last `count` samples of prepared data, sharing its buffers. */
export function sliceData(d: PreparedData, start: number, count: number): PreparedData {
  return {
    n: count,
    xs: d.xs.map((x, i) => x + 4 * start * (d.xRowLens[i] as number)),
    xRowLens: d.xRowLens,
    target: d.target + 4 * start * d.targetRowLen,
    targetRowLen: d.targetRowLen,
    sparse: d.sparse,
    owned: d.owned,
  };
}

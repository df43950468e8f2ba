/** Tensor creation: from values, constants, and the `*Like` variants. */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { checkShape, empty, type NestedArray, sizeOf, type Tensor } from './tensor.js';

/** What `tensor()` accepts: a number, nested arrays of numbers, or flat values with a shape. */
export type TensorLike = number | ArrayLike<number> | NestedArray[];

/** Shape implied by nested arrays; throws ShapeError for ragged input. */
function inferShape(op: string, values: unknown): number[] {
  const shape: number[] = [];
  let v = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  const check = (x: unknown, axis: number, where: string): void => {
    if (axis === shape.length) {
      if (Array.isArray(x))
        throw new ShapeError(op, `element ${where} is an array, expected a number at depth ${axis}`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      const got = Array.isArray(x) ? `${x.length} values` : 'a number';
      throw new ShapeError(
        op,
        `ragged nested array: ${where} has ${got}, expected ${shape[axis]} (shape ${fmtShape(shape)})`,
      );
    }
    for (let i = 0; i < x.length; i++) check(x[i], axis + 1, `${where}[${i}]`);
  };
  check(values, 0, 'values');
  return shape;
}

function flatten(values: unknown, size: number): ArrayLike<number> {
  if (!Array.isArray(values)) return values as ArrayLike<number>;
  if (!values.some(Array.isArray)) return values as number[];
  const out = new Float32Array(size);
  let i = 0;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) walk(y);
    else out[i++] = x as number;
  };
  walk(values);
  return out;
}

/**
 * A tensor from values: a number (rank 0), nested arrays (shape inferred), or flat row-major values
 * (array or typed array) with a `shape`. Values are stored as f32.
 */
export function tensor(values: TensorLike, shape?: readonly number[], op = 'tensor'): Tensor {
  let dims: readonly number[];
  let flat: ArrayLike<number>;
  if (typeof values === 'number') {
    dims = shape ?? [];
    flat = [values];
  } else if (Array.isArray(values) && values.some(Array.isArray)) {
    const inferred = inferShape(op, values);
    dims = shape ?? inferred;
    flat = flatten(values, sizeOf(inferred));
  } else if (
    values !== null &&
    typeof values === 'object' &&
    typeof (values as ArrayLike<number>).length === 'number'
  ) {
    flat = values as ArrayLike<number>;
    dims = shape ?? [flat.length];
  } else {
    throw new ValueError(op, `values must be a number, nested arrays or a typed array, got ${typeof values}`);
  }
  checkShape(op, dims);
  const size = sizeOf(dims);
  if (typeof values === 'number' && size !== 1) {
    const t = empty(dims, op);
    t.runtime.f32.fill(values, t.ptr >>> 2, (t.ptr >>> 2) + size);
    return t;
  }
  if (flat.length !== size) {
    throw new ShapeError(op, `${flat.length} values do not fill shape ${fmtShape(dims)} (${size} values)`);
  }
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') throw new ValueError(op, `value ${i} is not a number (${String(flat[i])})`);
  }
  const t = empty(dims, op);
  t.runtime.write(t.ptr, flat);
  return t;
}

function ranked(op: string, rank: number, values: TensorLike, shape?: readonly number[]): Tensor {
  if (shape !== undefined && shape.length !== rank) {
    throw new ShapeError(op, `shape must have ${rank} dimensions, got ${fmtShape(shape)}`);
  }
  if (shape === undefined && !(Array.isArray(values) && (rank === 1 || values.some(Array.isArray)))) {
    if (rank !== 1) throw new ShapeError(op, `flat values need a shape with ${rank} dimensions`);
  }
  const t = tensor(values, shape, op);
  if (t.rank !== rank) {
    const got = fmtShape(t.shape);
    t.dispose();
    throw new ShapeError(op, `expected rank ${rank}, the values have shape ${got}`);
  }
  return t;
}

/** A rank-0 tensor. */
export function scalar(value: number): Tensor {
  return tensor(value, [], 'scalar');
}
/** A rank-1 tensor. */
export function tensor1d(values: ArrayLike<number>): Tensor {
  return ranked('tensor1d', 1, values);
}
/** A rank-2 tensor from nested rows, or flat values and a shape `[rows, cols]`. */
export function tensor2d(values: TensorLike, shape?: readonly [number, number]): Tensor {
  return ranked('tensor2d', 2, values, shape);
}
/** A rank-3 tensor from nested arrays, or flat values and a shape. */
export function tensor3d(values: TensorLike, shape?: readonly [number, number, number]): Tensor {
  return ranked('tensor3d', 3, values, shape);
}
/** A rank-4 tensor from nested arrays, or flat values and a shape. */
export function tensor4d(values: TensorLike, shape?: readonly [number, number, number, number]): Tensor {
  return ranked('tensor4d', 4, values, shape);
}

/** A tensor of `shape` with every element `value`. */
export function fill(shape: readonly number[], value: number, op = 'fill'): Tensor {
  if (typeof value !== 'number') throw new ValueError(op, `value must be a number, got ${typeof value}`);
  const t = empty(shape, op);
  const base = t.ptr >>> 2;
  t.runtime.f32.fill(value, base, base + t.size);
  return t;
}
/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return fill(shape, 0, 'zeros');
}
/** A tensor of ones. */
export function ones(shape: readonly number[]): Tensor {
  return fill(shape, 1, 'ones');
}
/** Zeros with the shape of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return fill(t.shape, 0, 'zerosLike');
}
/** Ones with the shape of `t`. */
export function onesLike(t: Tensor): Tensor {
  return fill(t.shape, 1, 'onesLike');
}

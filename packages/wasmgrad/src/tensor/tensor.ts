import { DisposedError, fmtShape, ShapeError, ValueError } from '../errors.js';
import { type Runtime, runtime } from '../runtime/runtime.js';

/** Element count of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless every dimension is a non-negative safe integer. */
export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape)) throw new ValueError(op, `shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ValueError(op, `shape ${fmtShape(shape)} has a dimension that is not a non-negative integer (${d})`);
    }
  }
  if (!Number.isSafeInteger(sizeOf(shape))) throw new ValueError(op, `shape ${fmtShape(shape)} has too many elements`);
}

/**
 * An f32 tensor whose values live in wasm memory. Shapes are row-major (the last axis is
 * contiguous), like tfjs.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype = 'float32' as const;
  private _ptr: number;
  private readonly rt: Runtime;

  /** Wraps `size` f32 values at byte address `ptr`, owned by this tensor from now on. */
  constructor(rt: Runtime, ptr: number, shape: readonly number[]) {
    this.rt = rt;
    this._ptr = ptr;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
  }

  /** Rank (number of axes). */
  get rank(): number {
    return this.shape.length;
  }

  /** Byte address of the first value; throws after dispose(). */
  get ptr(): number {
    if (this._ptr < 0) throw new DisposedError('tensor', `tensor of shape ${fmtShape(this.shape)} was disposed`);
    return this._ptr;
  }

  /** The runtime whose memory holds the values. */
  get runtime(): Runtime {
    return this.rt;
  }

  /** True after dispose(). */
  get isDisposed(): boolean {
    return this._ptr < 0;
  }

  /** A copy of the values, synchronously. */
  dataSync(): Float32Array {
    return this.rt.read(this.ptr, this.size);
  }

  /** A copy of the values. */
  async data(): Promise<Float32Array> {
    return this.dataSync();
  }

  /** Frees the memory; later use throws {@link DisposedError}. Disposing twice is harmless. */
  dispose(): void {
    if (this._ptr < 0) return;
    this.rt.allocator.release(this._ptr);
    this._ptr = -1;
  }

  toString(): string {
    return `Tensor(float32, ${fmtShape(this.shape)})`;
  }
}

/** Allocates an uninitialized tensor in the default runtime (or `rt`). */
export function empty(shape: readonly number[], op = 'tensor', rt: Runtime = runtime()): Tensor {
  checkShape(op, shape);
  return new Tensor(rt, rt.allocF32(sizeOf(shape), op), shape);
}

/** A 2-D tensor from flat row-major values (or nested rows) and a shape `[rows, cols]`. */
export function tensor2d(values: ArrayLike<number> | readonly (readonly number[])[], shape?: [number, number]): Tensor {
  const op = 'tensor2d';
  let flat: ArrayLike<number>;
  let dims: [number, number];
  if (Array.isArray(values) && values.length > 0 && Array.isArray(values[0])) {
    const rows = values as readonly (readonly number[])[];
    const cols = (rows[0] as readonly number[]).length;
    for (const [i, r] of rows.entries()) {
      if (!Array.isArray(r) || r.length !== cols) {
        throw new ShapeError(op, `row ${i} has ${Array.isArray(r) ? r.length : 'no'} values, row 0 has ${cols}`);
      }
    }
    dims = shape ?? [rows.length, cols];
    flat = rows.flat();
  } else {
    if (!shape) throw new ShapeError(op, 'a flat values array needs a shape [rows, cols]');
    dims = shape;
    flat = values as ArrayLike<number>;
  }
  if (!Array.isArray(dims) || dims.length !== 2) {
    throw new ShapeError(
      op,
      `shape must have 2 dimensions, got ${Array.isArray(dims) ? fmtShape(dims) : String(dims)}`,
    );
  }
  checkShape(op, dims);
  if (flat.length !== sizeOf(dims)) {
    throw new ShapeError(op, `${flat.length} values do not fill shape ${fmtShape(dims)} (${sizeOf(dims)} values)`);
  }
  const t = empty(dims, op);
  t.runtime.write(t.ptr, flat);
  return t;
}

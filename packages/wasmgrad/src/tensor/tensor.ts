import { DisposedError, fmtShape, ValueError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { currentRuntime, trackCreated, trackDisposed } from './engine.js';
// Op modules import this one; the cycle is safe because these are only used inside methods.
import * as unaryOps from './ops/activation.js';
import * as binaryOps from './ops/binary.js';
import * as matMulOps from './ops/matmul.js';
import * as reduceOps from './ops/reduce.js';
import * as shapeOps from './ops/shape.js';
import * as softmaxOps from './ops/softmax.js';

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
 * A block of wasm memory shared by a tensor and its reshaped views. It is freed when the last
 * tensor that references it is disposed.
 */
export class Storage {
  refs = 1;
  constructor(
    readonly rt: Runtime,
    public ptr: number,
    readonly bytes: number,
  ) {}
}

/** A nested array of numbers, as `arraySync()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

let nextId = 1;

/** @internal the id the next tensor will get (ids only grow). */
export function nextTensorId(): number {
  return nextId;
}

/**
 * An f32 tensor whose values live in wasm memory. Shapes are row-major (the last axis is
 * contiguous), like tfjs. Tensors are immutable except {@link Variable}s; `reshape` returns a view
 * sharing the memory (freed when the last view is disposed).
 */
export class Tensor {
  /** Unique id, in creation order. */
  readonly id: number;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype = 'float32' as const;
  /** @internal the memory block; shared with reshaped views. */
  readonly storage: Storage;
  private disposed = false;

  /** Wraps `storage` (taking one reference to it) with a shape of the same element count. */
  constructor(storage: Storage, shape: readonly number[]) {
    this.id = nextId++;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    trackCreated(this);
  }

  /** Rank (number of axes). */
  get rank(): number {
    return this.shape.length;
  }

  /** Byte address of the first value; throws {@link DisposedError} after dispose(). */
  get ptr(): number {
    if (this.disposed) throw new DisposedError('tensor', `tensor of shape ${fmtShape(this.shape)} was disposed`);
    return this.storage.ptr;
  }

  /** The runtime whose memory holds the values. */
  get runtime(): Runtime {
    return this.storage.rt;
  }

  /** True after dispose(). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A copy of the values, synchronously. */
  dataSync(): Float32Array {
    return this.runtime.read(this.ptr, this.size);
  }

  /** A copy of the values. */
  async data(): Promise<Float32Array> {
    return this.dataSync();
  }

  /** The values as nested arrays (a plain number for rank 0). */
  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape);
  }

  /** The values as nested arrays. */
  async array(): Promise<NestedArray> {
    return this.arraySync();
  }

  /** Logs the shape and values to the console (tfjs `print`). */
  print(): void {
    console.log(`${this.toString()}\n${JSON.stringify(this.arraySync())}`);
  }

  /** Frees the memory (once no reshaped view shares it); later use throws. Disposing twice is harmless. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.storage;
    s.refs--;
    if (s.refs === 0) {
      s.rt.allocator.release(s.ptr);
      s.ptr = -1;
    }
    trackDisposed(this, s.refs === 0 ? s.bytes : 0);
  }

  // ---- chainable ops (tfjs style: x.add(y).relu()) ----
  /** {@link reshape}: the same values under another shape (a view). */
  reshape(shape: readonly number[]): Tensor {
    return shapeOps.reshape(this, shape);
  }
  /** {@link clone}: a copy with its own memory. */
  clone(): Tensor {
    return shapeOps.clone(this);
  }
  /** {@link transpose}. */
  transpose(perm?: readonly number[]): Tensor {
    return shapeOps.transpose(this, perm);
  }
  /** {@link expandDims}. */
  expandDims(axis = 0): Tensor {
    return shapeOps.expandDims(this, axis);
  }
  /** {@link squeeze}. */
  squeeze(axes?: readonly number[]): Tensor {
    return shapeOps.squeeze(this, axes);
  }
  /** {@link add}. */
  add(b: Tensor | number): Tensor {
    return binaryOps.add(this, b);
  }
  /** {@link sub}. */
  sub(b: Tensor | number): Tensor {
    return binaryOps.sub(this, b);
  }
  /** {@link mul}. */
  mul(b: Tensor | number): Tensor {
    return binaryOps.mul(this, b);
  }
  /** {@link div}. */
  div(b: Tensor | number): Tensor {
    return binaryOps.div(this, b);
  }
  /** {@link neg}. */
  neg(): Tensor {
    return binaryOps.neg(this);
  }
  /** {@link matMul}. */
  matMul(b: Tensor, transposeA = false, transposeB = false): Tensor {
    return matMulOps.matMul(this, b, transposeA, transposeB);
  }
  /** {@link sum}. */
  sum(axis?: number | readonly number[] | null, keepDims = false): Tensor {
    return reduceOps.sum(this, axis, keepDims);
  }
  /** {@link mean}. */
  mean(axis?: number | readonly number[] | null, keepDims = false): Tensor {
    return reduceOps.mean(this, axis, keepDims);
  }
  /** {@link max}. */
  max(axis = -1, keepDims = false): Tensor {
    return reduceOps.max(this, axis, keepDims);
  }
  /** {@link square}. */
  square(): Tensor {
    return unaryOps.square(this);
  }
  /** {@link sqrt}. */
  sqrt(): Tensor {
    return unaryOps.sqrt(this);
  }
  /** {@link exp}. */
  exp(): Tensor {
    return unaryOps.exp(this);
  }
  /** {@link log}. */
  log(): Tensor {
    return unaryOps.log(this);
  }
  /** {@link relu}. */
  relu(): Tensor {
    return unaryOps.relu(this);
  }
  /** {@link sigmoid}. */
  sigmoid(): Tensor {
    return unaryOps.sigmoid(this);
  }
  /** {@link tanh}. */
  tanh(): Tensor {
    return unaryOps.tanh(this);
  }
  /** {@link softmax} over the last axis. */
  softmax(): Tensor {
    return softmaxOps.softmax(this);
  }
  /** {@link logSoftmax} over the last axis. */
  logSoftmax(): Tensor {
    return softmaxOps.logSoftmax(this);
  }

  toString(): string {
    return `Tensor(float32, ${fmtShape(this.shape)})`;
  }
}

/** Nested arrays of `values` laid out row-major in `shape`. */
export function toNested(values: ArrayLike<number>, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0] as number;
  const build = (axis: number, offset: number): NestedArray[] => {
    const n = shape[axis] as number;
    const out: NestedArray[] = new Array(n);
    if (axis === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = values[offset + i] as number;
      return out;
    }
    const stride = sizeOf(shape.slice(axis + 1));
    for (let i = 0; i < n; i++) out[i] = build(axis + 1, offset + i * stride);
    return out;
  };
  return build(0, 0);
}

/** Allocates an uninitialized tensor in the current runtime (or `rt`). */
export function empty(shape: readonly number[], op = 'tensor', rt: Runtime = currentRuntime()): Tensor {
  checkShape(op, shape);
  const bytes = sizeOf(shape) * 4;
  const ptr = rt.allocF32(sizeOf(shape), op);
  return new Tensor(new Storage(rt, ptr, bytes), shape);
}

/** A tensor of `shape` filled with `value` in runtime `rt` (typed-array fill of the wasm memory). */
export function filled(shape: readonly number[], value: number, op: string, rt: Runtime): Tensor {
  const t = empty(shape, op, rt);
  const base = t.ptr >>> 2;
  rt.f32.fill(value, base, base + t.size);
  return t;
}

/** A new tensor sharing `t`'s memory under another shape of the same size (no copy, no tape). */
export function view(t: Tensor, shape: readonly number[]): Tensor {
  const storage = t.storage;
  void t.ptr; // throws when disposed
  storage.refs++;
  return new Tensor(storage, shape);
}

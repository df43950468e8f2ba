/**
 * How data crosses to a worker: tensors and arrays become {@link TensorData} whose buffer is
 * transferred (or shared, for SharedArrayBuffer memory), and {@link WorkerTensor}s name data the
 * worker already keeps, so a dataset used by many fits crosses once.
 * @module
 */
import { fmtShape, RuntimeStateError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DataRef, TensorData } from './entry.js';

/**
 * Data for a trainer call: a tensor, or values with a shape. Values are copied once and the copy
 * transferred; a Float32Array over a SharedArrayBuffer is shared with the worker instead (no copy).
 */
export type TensorInput = Tensor | { values: ArrayLike<number>; shape: readonly number[] };

/**
 * A tensor kept in a worker's wasm memory (made by `trainer.upload`). Pass it to that trainer's
 * fit, evaluate or predict in place of data: nothing is sent or copied again.
 */
export class WorkerTensor {
  private released = false;

  /** @internal Made by `Trainer.upload`. */
  constructor(
    /** The worker's id of this tensor. */
    readonly id: number,
    /** Its shape. */
    readonly shape: readonly number[],
    /** The trainer whose worker keeps it. */
    readonly owner: object,
    private readonly release: (id: number) => Promise<void>,
  ) {}

  /** True once {@link WorkerTensor.dispose} was called. */
  get isDisposed(): boolean {
    return this.released;
  }

  /** Frees the worker's copy; later calls that name this tensor reject. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.release(this.id);
  }
}

/** Trainer inputs: data to send, or a tensor the worker keeps. */
export type TrainerInput = TensorInput | WorkerTensor;

const isShared = (buffer: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;

/** The buffer to transfer for `data`: none when it lives in a SharedArrayBuffer (shared, not moved). */
export const moved = (data: TensorData): ArrayBuffer[] =>
  isShared(data.values.buffer) ? [] : [data.values.buffer as ArrayBuffer];

/**
 * Reusable shared buffers that values are copied into on their way to the worker, where shared
 * memory can cross to it. Allocating a fresh 80 MB array for every call costs more than the copy
 * (the engine zero-fills it and the OS maps every page: ~350 ms of CPU for Fashion-MNIST's
 * training images here), so each trainer keeps its staging buffers and reuses them. A buffer is
 * taken for one call and given back when the call settles; the worker copies the values into its
 * wasm memory as the call starts, so a buffer is never rewritten while it is read.
 */
export class Staging {
  private readonly free: SharedArrayBuffer[] = [];

  /** At most this many idle buffers are kept (x, y and validation data of one fit, and spare). */
  static readonly KEEP = 6;

  /** A view of `length` floats over an idle buffer (or a new one) for one call. */
  take(length: number): Float32Array<SharedArrayBuffer> {
    const bytes = 4 * length;
    let best = -1;
    this.free.forEach((b, i) => {
      if (b.byteLength >= bytes && (best < 0 || b.byteLength < (this.free[best] as SharedArrayBuffer).byteLength))
        best = i;
    });
    const buffer = best >= 0 ? (this.free.splice(best, 1)[0] as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
    return new Float32Array(buffer, 0, length);
  }

  /** Gives the buffers of views back once the call that used them settled. */
  give(views: Float32Array[]): void {
    for (const v of views) {
      if (!(v.buffer instanceof SharedArrayBuffer)) continue;
      this.free.push(v.buffer);
      // Keep the largest idle buffers: they serve any smaller request too.
      if (this.free.length > Staging.KEEP) {
        this.free.sort((a, b) => b.byteLength - a.byteLength);
        this.free.length = Staging.KEEP;
      }
    }
  }
}

/**
 * Values of an input and its shape. A Float32Array over a SharedArrayBuffer is passed as it is:
 * the worker reads the same memory, nothing is copied here. With `adopt`, a Float32Array that
 * spans its whole buffer is passed as it is too, to be transferred (the caller's array is then
 * detached). Anything else is copied: into a buffer of `staging` when given (shared, reused; the
 * view is pushed onto `staged` for the caller to give back), else into a fresh Float32Array that
 * is transferred to the worker.
 */
export function toData(
  input: TensorInput,
  op: string,
  adopt = false,
  staging?: Staging,
  staged?: Float32Array[],
): TensorData {
  if (!input || typeof input !== 'object' || !Array.isArray(input.shape)) {
    throw new ValueError(op, 'expected a tensor or { values, shape }');
  }
  if ('dataSync' in input && typeof input.dataSync === 'function') {
    return { values: input.dataSync(), shape: [...input.shape] };
  }
  const { values } = input as { values: ArrayLike<number> };
  if (!values || typeof values.length !== 'number') throw new ValueError(op, 'values must be an array or typed array');
  if (values instanceof Float32Array) {
    if (isShared(values.buffer)) return { values, shape: [...input.shape] };
    if (adopt && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength) {
      return { values, shape: [...input.shape] };
    }
  }
  if (staging && staged) {
    const view = staging.take(values.length);
    // set() copies typed arrays with a memcpy.
    view.set(values as ArrayLike<number>);
    staged.push(view);
    return { values: view as unknown as Float32Array, shape: [...input.shape] };
  }
  // new Float32Array(...) copies typed arrays with a memcpy; Float32Array.from walks an iterator.
  return { values: new Float32Array(values), shape: [...input.shape] };
}

/**
 * An input as the worker receives it, and the buffers to transfer with it (values copied into
 * `staging` when given; see {@link toData}).
 */
export function toRef(
  input: TrainerInput,
  op: string,
  owner: object,
  staging?: Staging,
  staged?: Float32Array[],
): { ref: DataRef; transfer: ArrayBuffer[] } {
  if (input instanceof WorkerTensor) {
    if (input.owner !== owner)
      throw new ValueError(op, `tensor ${input.id} ${fmtShape(input.shape)} was uploaded to another trainer`);
    if (input.isDisposed) throw new RuntimeStateError(op, `tensor ${input.id} ${fmtShape(input.shape)} was disposed`);
    return { ref: { stored: input.id }, transfer: [] };
  }
  const data = toData(input, op, false, staging, staged);
  return { ref: data, transfer: moved(data) };
}

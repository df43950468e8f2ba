/** Explicit memory management for low-level users: tidy, dispose, memory. */
import { ValueError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { beginScope, currentRuntime, endScope, liveCounts } from './engine.js';
import { Tensor } from './tensor.js';

/** Anything that may hold tensors: a tensor, arrays of them, or plain objects of them. */
export type TensorContainer =
  | Tensor
  | null
  | undefined
  | number
  | string
  | boolean
  | TensorContainer[]
  | { [key: string]: TensorContainer };

/** Collects every tensor inside arrays and plain objects. */
export function collectTensors(x: unknown, out: Set<Tensor> = new Set(), depth = 0): Set<Tensor> {
  if (x instanceof Tensor) out.add(x);
  else if (depth < 16 && Array.isArray(x)) for (const y of x) collectTensors(y, out, depth + 1);
  else if (depth < 16 && x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const y of Object.values(x)) collectTensors(y, out, depth + 1);
  }
  return out;
}

/**
 * Runs `fn` and disposes every tensor created inside it, except the tensors it returns (directly or
 * inside arrays/plain objects), tensors marked with `keep()`, and variables. Nested tidies hand their
 * survivors to the enclosing one. `fn` must be synchronous (a Promise result is refused).
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(nameOrFn: string | (() => T), maybeFn?: () => T): T {
  const fn = typeof nameOrFn === 'function' ? nameOrFn : maybeFn;
  if (typeof fn !== 'function') throw new ValueError('tidy', 'expects a function');
  beginScope();
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise)
      throw new ValueError('tidy', 'the function returned a Promise; tidy needs a synchronous function');
  } finally {
    endScope(collectTensors(result));
  }
  return result;
}

/** Disposes a tensor, or every tensor inside arrays/plain objects. */
export function dispose(container: TensorContainer): void {
  for (const t of collectTensors(container)) t.dispose();
}

/** Live-memory figures, as tfjs's `tf.memory()`. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed (views and variables included). */
  numTensors: number;
  /** Bytes held by those tensors' storage (a memory block shared by views counts once). */
  numBytes: number;
  /** Size of the wasm memory of the runtime (it never shrinks; flat across steps = no growth). */
  wasmBytes: number;
  /** Bytes in live allocator blocks of the runtime (tensors, parameters, workspaces). */
  heapLiveBytes: number;
}

/** Live tensors and bytes, and the wasm memory size of the current (or given) runtime. */
export function memory(rt: Runtime = currentRuntime()): MemoryInfo {
  const { numTensors, numBytes } = liveCounts();
  const stats = rt.allocator.stats();
  return { numTensors, numBytes, wasmBytes: stats.wasmBytes, heapLiveBytes: stats.liveBytes };
}

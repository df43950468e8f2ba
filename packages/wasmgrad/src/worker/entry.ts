/**
 * The worker side of wasmgrad: a module that, loaded as a worker, exposes {@link WorkerApi} with
 * comlink. The same file serves every runtime:
 *
 * - browsers and Deno: `new Worker(new URL('wasmgrad/worker', import.meta.url), { type: 'module' })`,
 *   then `Comlink.wrap(worker)`; the API is exposed on `self`.
 * - Node: `new Worker(fileURLToPath(import.meta.resolve('wasmgrad/worker')))` from
 *   `node:worker_threads`, then `Comlink.wrap(nodeEndpoint(worker))`; the API is exposed on
 *   `parentPort` through comlink's Node adapter.
 *
 * In a Web Worker the API is exposed synchronously, before any await, so that the first messages
 * are not missed; the wasm module loads lazily on `ready()` (or on the first kernel call).
 * @module
 */
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import { fmtShape, ShapeError } from '../errors.js';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { matMul as matMulTensors } from '../tensor/matmul.js';
import { checkShape, empty, sizeOf, type Tensor } from '../tensor/tensor.js';

/**
 * Options of {@link WorkerApi.ready}: those of `wg.ready()` that survive structured cloning (a
 * `URL` object does not; pass its `href`).
 */
export interface WorkerReadyOptions {
  /** The wasm module as a URL string, bytes, or a compiled module. Default: the packaged one. */
  wasm?: string | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
  /** Force the SIMD128 (true) or scalar (false) build. Default: SIMD128 when the engine has it. */
  simd?: boolean;
  /** Upper bound of the wasm memory in bytes. */
  maxMemoryBytes?: number;
}

/** What the worker exposes. Seen through `Comlink.wrap`, every method returns a promise. */
export interface WorkerApi {
  /** Loads a fresh wasm runtime in the worker (replacing any earlier one); says which build runs. */
  ready(options?: WorkerReadyOptions): Promise<{ simd: boolean }>;
  /** True when the worker's runtime runs the SIMD128 build; loads the default runtime if needed. */
  simd(): Promise<boolean>;
  /** Row-major [m,k] × [k,n] product in the worker; the result buffer is transferred back. */
  matMul(
    aValues: ArrayLike<number>,
    aShape: readonly number[],
    bValues: ArrayLike<number>,
    bShape: readonly number[],
  ): Promise<Float32Array>;
}

let loading: Promise<Runtime> | undefined;

function currentRuntime(): Promise<Runtime> {
  loading ??= createRuntime();
  return loading;
}

/** Copies values into a new tensor of `shape` in `rt`, checking that they fill the shape. */
function tensorFrom(rt: Runtime, values: ArrayLike<number>, shape: readonly number[], op: string): Tensor {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new ShapeError(op, `values must be an array or typed array, got ${String(values)}`);
  }
  checkShape(op, shape);
  if (values.length !== sizeOf(shape)) {
    throw new ShapeError(op, `${values.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} values)`);
  }
  const t = empty(shape, op, rt);
  rt.write(t.ptr, values);
  return t;
}

/** The API object exposed to the spawning thread. */
export const workerApi: WorkerApi = {
  async ready(options = {}) {
    const next = createRuntime(options);
    loading = next;
    try {
      const rt = await next;
      return { simd: rt.simd };
    } catch (err) {
      if (loading === next) loading = undefined;
      throw err;
    }
  },

  async simd() {
    return (await currentRuntime()).simd;
  },

  async matMul(aValues, aShape, bValues, bShape) {
    const op = 'matMul';
    const rt = await currentRuntime();
    const made: Tensor[] = [];
    try {
      const a = tensorFrom(rt, aValues, aShape, op);
      made.push(a);
      const b = tensorFrom(rt, bValues, bShape, op);
      made.push(b);
      const c = matMulTensors(a, b);
      made.push(c);
      const out = c.dataSync();
      return Comlink.transfer(out, [out.buffer]);
    } finally {
      for (const t of made) t.dispose();
    }
  },
};

interface NodeGlobals {
  Deno?: unknown;
  process?: { versions?: { node?: string } };
  WorkerGlobalScope?: abstract new () => unknown;
}

const g = globalThis as typeof globalThis & NodeGlobals;

/** A dedicated or shared Web Worker (browsers, Deno). */
const inWebWorker = typeof g.WorkerGlobalScope === 'function' && globalThis instanceof g.WorkerGlobalScope;
const inNode = typeof g.Deno === 'undefined' && typeof g.process?.versions?.node === 'string';

/**
 * Exposes the API on `parentPort` when this module runs in a Node worker thread; does nothing on
 * Node's main thread. Specifiers are computed so browser bundlers leave the Node built-in alone.
 */
async function exposeOnParentPort(): Promise<void> {
  const threadsName = 'node:worker_threads';
  const adapterName = 'comlink/dist/esm/node-adapter.mjs';
  const { parentPort } = (await import(/* @vite-ignore */ threadsName)) as { parentPort: unknown };
  if (!parentPort) return;
  const adapter = (await import(/* @vite-ignore */ adapterName)) as { default: (port: unknown) => Comlink.Endpoint };
  Comlink.expose(workerApi, adapter.default(parentPort));
}

if (inWebWorker) {
  Comlink.expose(workerApi, globalThis as unknown as Comlink.Endpoint);
} else if (inNode) {
  void exposeOnParentPort();
}

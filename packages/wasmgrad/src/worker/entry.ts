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
 * Besides kernel calls (matMul), the worker trains one model (init, fit, evaluate, predict,
 * getWeights, stop; see ./host.ts); `wg.worker.spawn` (./spawn.ts) is the client that drives it.
 *
 * In a Web Worker the API is exposed synchronously, before any await, so that the first messages
 * are not missed; the wasm module loads lazily on `ready()` (or on the first kernel call).
 * @module
 */
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import { createRuntime, type Runtime } from '../runtime/runtime.js';
import { matMul as matMulTensors } from '../tensor/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensorFrom, trainerMethods } from './host.js';
import { canonicalName } from './link.js';

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
  /** Threads running the large kernels in the worker (its own helper threads). Default: 1. */
  threads?: number;
}

/** A tensor as it crosses threads: its values (transferred, not copied) and its shape. */
export interface TensorData {
  values: Float32Array;
  shape: number[];
}

/** A tensor kept in the worker's memory by {@link WorkerApi.store}, named by its id. */
export interface StoredRef {
  stored: number;
}

/** Data of a worker call: values sent with the call, or a tensor the worker already keeps. */
export type DataRef = TensorData | StoredRef;

/** An optimizer as it crosses threads: a name ('adam') or `{ className: 'Adam', config }`. */
export type OptimizerSpec = string | { className: string; config?: Record<string, unknown> };

/** compile options that survive structured cloning (optimizer objects travel as specs). */
export interface WorkerCompileArgs {
  optimizer: OptimizerSpec;
  loss: string | { name: string; fromLogits?: boolean; delta?: number };
  metrics?: string[] | string;
}

/** fit options of the worker: those of `model.fit` without callbacks, plus the progress throttle. */
export interface WorkerFitArgs {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validationSplit?: number;
  validationData?: [DataRef, DataRef];
  initialEpoch?: number;
  seed?: number;
  /** Least time between two progress events in ms (default 100); the last epoch is always sent. */
  progressIntervalMs?: number;
}

/** A progress event: the logs of an epoch that just ended. */
export interface ProgressEvent {
  epoch: number;
  logs: Record<string, number>;
}

/** What fit in a worker returns: the History values, and whether stop() ended it early. */
export interface WorkerHistory {
  epoch: number[];
  history: Record<string, number[]>;
  stopped: boolean;
  /** Batches this fit trained (over all its epochs). */
  batches: number;
}

/** What the worker exposes. Seen through `Comlink.wrap`, every method returns a promise. */
export interface WorkerApi {
  /**
   * Loads a fresh wasm runtime in the worker (replacing any earlier one); says which build runs
   * and on how many threads.
   */
  ready(options?: WorkerReadyOptions): Promise<{ simd: boolean; threads: number }>;
  /** True when the worker's runtime runs the SIMD128 build; loads the default runtime if needed. */
  simd(): Promise<boolean>;
  /** Row-major [m,k] × [k,n] product in the worker; the result buffer is transferred back. */
  matMul(
    aValues: ArrayLike<number>,
    aShape: readonly number[],
    bValues: ArrayLike<number>,
    bShape: readonly number[],
  ): Promise<Float32Array>;
  /**
   * Builds the worker's model from its JSON topology and weights (in getWeights order) and
   * compiles it when `compile` is given. Replaces any earlier model of this worker.
   */
  init(
    modelJSON: unknown,
    weights: Float32Array[],
    compile?: WorkerCompileArgs,
    control?: Int32Array,
  ): Promise<{ params: number }>;
  /** (Re)compiles the worker's model. */
  compile(args: WorkerCompileArgs): Promise<void>;
  /**
   * Copies a tensor into the worker's wasm memory once and keeps it there; later calls name it as
   * `{ stored: id }` instead of sending its values again. Resolves with the id.
   */
  store(data: TensorData): Promise<number>;
  /** Frees a tensor kept by {@link WorkerApi.store} (unknown ids are ignored). */
  release(id: number): Promise<void>;
  /** Trains the worker's model; `progress` (a Comlink.proxy) receives throttled epoch events. */
  fit(x: DataRef, y: DataRef, args?: WorkerFitArgs, progress?: (event: ProgressEvent) => void): Promise<WorkerHistory>;
  /** Loss and metrics over a dataset. */
  evaluate(x: DataRef, y: DataRef, args?: { batchSize?: number }): Promise<Record<string, number>>;
  /** Outputs for a batch of inputs; the values are transferred back. */
  predict(x: DataRef, args?: { batchSize?: number }): Promise<TensorData>;
  /** Copies of the weights in layer order; the values are transferred back. */
  getWeights(): Promise<TensorData[]>;
  /**
   * Ends a running fit after its current batch. This message is heard when fit yields (every
   * ~50 ms); a trainer with a control block (see ./control.ts) is heard after the current
   * batch. Resolves with the number of batches the fit had finished.
   */
  stop(): Promise<{ batches: number }>;
  /** Holds a running fit after its current batch until resume() (or stop()). */
  pause(): Promise<void>;
  /** Lets a paused fit go on. */
  resume(): Promise<void>;
}

let loading: Promise<Runtime> | undefined;

function currentRuntime(): Promise<Runtime> {
  loading ??= createRuntime();
  return loading;
}

/** The API object exposed to the spawning thread. */
export const workerApi: WorkerApi = {
  async ready(options = {}) {
    const next = createRuntime(options);
    loading = next;
    try {
      const rt = await next;
      return { simd: rt.simd, threads: rt.threads };
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

  ...trainerMethods(currentRuntime),
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

// Errors thrown back to the caller carry their class's real name even in minified bundles.
const comlinkThrow = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, unknown>;
Comlink.transferHandlers.set('throw', {
  ...comlinkThrow,
  serialize(thrown: { value: unknown }) {
    canonicalName(thrown.value);
    return comlinkThrow.serialize(thrown);
  },
} as Comlink.TransferHandler<unknown, unknown>);

if (inWebWorker) {
  Comlink.expose(workerApi, globalThis as unknown as Comlink.Endpoint);
} else if (inNode) {
  void exposeOnParentPort();
}

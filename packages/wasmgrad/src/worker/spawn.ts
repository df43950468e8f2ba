/**
 * The calling side of worker training: `wg.worker.spawn(model)` starts a worker (worker_threads in
 * Node, a module Web Worker in browsers and Deno), sends it the model as JSON topology + weights,
 * and returns a {@link Trainer} whose calls run there. A worker that dies rejects every pending and
 * later call with a {@link WorkerError} (comlink alone would leave them pending forever).
 * @module
 */
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import {
  DisposedError,
  OutOfMemoryError,
  RuntimeStateError,
  ShapeError,
  ValueError,
  WasmgradError,
  WorkerError,
} from '../errors.js';
import { type CompileArgs, NonFiniteLossError, type Sequential } from '../model/model.js';
import { type ModelJSON, SequentialBase } from '../model/sequential.js';
import { modelFromJSON } from '../model/serialize.js';
import { Optimizer } from '../optimizers/optimizers.js';
import { isNode } from '../runtime/platform.js';
import { ready, runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import type {
  ProgressEvent,
  TensorData,
  WorkerApi,
  WorkerCompileArgs,
  WorkerFitArgs,
  WorkerHistory,
  WorkerReadyOptions,
} from './entry.js';
import { resolveOptimizer, tensorFrom } from './host.js';

/**
 * Data for a trainer call: a tensor, or values with a shape. Values are copied once and the copy
 * transferred; a Float32Array over a SharedArrayBuffer is shared with the worker instead (no copy).
 */
export type TensorInput = Tensor | { values: ArrayLike<number>; shape: readonly number[] };

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /**
   * compile arguments for the worker's model (and for models made by {@link Trainer.pull}).
   * Default: those of the model's last `compile`, if any.
   */
  compile?: CompileArgs;
  /** Force the SIMD128 or scalar build in the worker. Default: the build of the calling thread. */
  simd?: boolean;
  /** The wasm module for the worker, as a URL (string or URL) or bytes. Default: the packaged one. */
  wasm?: string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
  /** The worker module. Default: this package's `worker/entry.js`, next to this file. */
  entry?: string | URL;
  /** A name for the worker (shown by browser devtools). */
  name?: string;
}

/** Options of {@link Trainer.fit}: those of `model.fit`, with progress events instead of callbacks. */
export interface TrainerFitArgs extends Omit<WorkerFitArgs, 'validationData'> {
  validationData?: [TensorInput, TensorInput];
  /** Receives `{ epoch, logs }` after epochs, at most every `progressIntervalMs` (and the last). */
  onProgress?: (event: ProgressEvent) => void;
}

/** A model training in a worker. Every method runs there; results come back as plain data. */
export interface Trainer {
  /** Trains the worker's model; resolves with the History values and whether stop() ended it. */
  fit(x: TensorInput, y: TensorInput, args?: TrainerFitArgs): Promise<WorkerHistory>;
  /** Loss and metrics over a dataset. */
  evaluate(x: TensorInput, y: TensorInput, args?: { batchSize?: number }): Promise<Record<string, number>>;
  /** Outputs for a batch of inputs. */
  predict(x: TensorInput, args?: { batchSize?: number }): Promise<TensorData>;
  /** Copies of the worker's weights, in layer order. */
  getWeights(): Promise<TensorData[]>;
  /** A new model on the calling thread with the worker's current weights (compiled if spawned so). */
  pull(): Promise<Sequential>;
  /** (Re)compiles the worker's model. */
  compile(args: CompileArgs): Promise<void>;
  /** Ends a running fit after its current batch; the fit resolves with `stopped: true`. */
  stop(): Promise<void>;
  /**
   * Holds a running fit after its current batch until {@link Trainer.resume} (stop() also ends a
   * paused fit). getWeights works while paused; predict and evaluate reject until the fit ends.
   */
  pause(): Promise<void>;
  /** Lets a paused fit go on. */
  resume(): Promise<void>;
  /** Ends the worker; pending and later calls reject with a {@link WorkerError}. */
  terminate(): Promise<void>;
}

/** A started worker: its comlink endpoint, a way to hear of its death, and a way to end it. */
interface Link {
  endpoint: Comlink.Endpoint;
  onDeath(listener: (reason: string) => void): void;
  terminate(): Promise<void>;
}

const inNode = isNode();

/** A Node worker thread; specifiers are computed so that browser bundlers leave them alone. */
async function nodeLink(entry: string | URL | undefined, name: string | undefined): Promise<Link> {
  const threadsName = 'node:worker_threads';
  const adapterName = 'comlink/dist/esm/node-adapter.mjs';
  type NodeWorker = {
    on(type: string, listener: (value: unknown) => void): void;
    terminate(): Promise<number>;
  };
  const { Worker } = (await import(/* @vite-ignore */ threadsName)) as {
    Worker: new (file: string | URL, options?: { name?: string }) => NodeWorker;
  };
  const adapter = (await import(/* @vite-ignore */ adapterName)) as { default: (port: unknown) => Comlink.Endpoint };
  const worker = new Worker(entry ?? new URL('./entry.js', import.meta.url), { name });
  return {
    endpoint: adapter.default(worker),
    onDeath(listener) {
      worker.on('error', (err) => listener(`the worker failed: ${(err as Error)?.stack ?? String(err)}`));
      worker.on('messageerror', (err) => listener(`a message from the worker could not be read: ${String(err)}`));
      worker.on('exit', (code) => listener(`the worker exited with code ${String(code)}`));
    },
    async terminate() {
      await worker.terminate();
    },
  };
}

/** A module Web Worker (browsers, Deno). The literal `new URL` lets bundlers find the entry. */
function webLink(entry: string | URL | undefined, name: string | undefined): Link {
  const worker = entry
    ? new Worker(entry, { type: 'module', name })
    : new Worker(new URL('./entry.js', import.meta.url), { type: 'module', name });
  const listeners: ((reason: string) => void)[] = [];
  const die = (reason: string) => {
    for (const l of listeners) l(reason);
  };
  // preventDefault keeps an error in the worker from also failing the page (or the Deno process).
  worker.onerror = (event) => {
    event.preventDefault();
    die(`the worker failed: ${event.message || 'it could not be loaded or threw'}`);
  };
  worker.onmessageerror = () => die('a message from the worker could not be read');
  return {
    endpoint: worker as unknown as Comlink.Endpoint,
    onDeath(listener) {
      listeners.push(listener);
    },
    async terminate() {
      worker.terminate();
    },
  };
}

/** Typed errors that keep their class when they cross from the worker. */
const TYPED_ERRORS: Record<string, new (op: string, message: string) => WasmgradError> = {
  DisposedError,
  NonFiniteLossError,
  RuntimeStateError,
  ShapeError,
  ValueError,
  WasmgradError,
};

/**
 * comlink rebuilds a thrown error as a plain Error carrying its name; this gives a wasmgrad error
 * its class back so that `instanceof wg.ShapeError` works across threads.
 */
function retype(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const op = err.message.split(': ', 1)[0] ?? 'worker';
  let typed: WasmgradError | undefined;
  if (err.name === 'OutOfMemoryError') typed = new OutOfMemoryError(op, 0, '');
  else if (Object.hasOwn(TYPED_ERRORS, err.name)) typed = new (TYPED_ERRORS[err.name] as typeof WasmgradError)(op, '');
  if (!typed) return err;
  typed.message = err.message;
  typed.stack = err.stack;
  return typed;
}

const isShared = (buffer: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;

/** The buffer to transfer for `data`: none when it lives in a SharedArrayBuffer (shared, not moved). */
const moved = (data: TensorData): ArrayBuffer[] =>
  isShared(data.values.buffer) ? [] : [data.values.buffer as ArrayBuffer];

/**
 * Values of an input and its shape. A Float32Array over a SharedArrayBuffer is passed as it is:
 * the worker reads the same memory, nothing is copied here. Anything else becomes a fresh
 * Float32Array, transferred to the worker.
 */
function toData(input: TensorInput, op: string): TensorData {
  if (!input || typeof input !== 'object' || !Array.isArray(input.shape)) {
    throw new ValueError(op, 'expected a tensor or { values, shape }');
  }
  if ('dataSync' in input && typeof input.dataSync === 'function') {
    return { values: input.dataSync(), shape: [...input.shape] };
  }
  const { values } = input as { values: ArrayLike<number> };
  if (!values || typeof values.length !== 'number') throw new ValueError(op, 'values must be an array or typed array');
  if (values instanceof Float32Array && isShared(values.buffer)) return { values, shape: [...input.shape] };
  // new Float32Array(...) copies typed arrays with a memcpy; Float32Array.from walks an iterator.
  return { values: new Float32Array(values), shape: [...input.shape] };
}

/** compile arguments that can be cloned: optimizer objects become `{ className, config }`. */
function toWorkerCompile(args: CompileArgs): WorkerCompileArgs {
  const { optimizer } = args;
  return {
    optimizer:
      optimizer instanceof Optimizer ? { className: optimizer.className, config: optimizer.getConfig() } : optimizer,
    loss: args.loss,
    metrics: args.metrics,
  };
}

class WorkerTrainer implements Trainer {
  private dead: string | undefined;
  private readonly pending = new Set<(reason: string) => void>();
  private compileArgs: WorkerCompileArgs | undefined;

  constructor(
    private readonly api: Comlink.Remote<WorkerApi>,
    private readonly link: Link,
    private readonly json: ModelJSON,
  ) {
    link.onDeath((reason) => this.kill(reason));
  }

  /** Runs a call that rejects with a WorkerError as soon as the worker dies. */
  call<T>(op: string, send: () => Promise<T>): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(new WorkerError(op, this.dead));
    return new Promise<T>((resolve, reject) => {
      const fail = (reason: string) => reject(new WorkerError(op, reason));
      this.pending.add(fail);
      let sent: Promise<T>;
      try {
        sent = send();
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(resolve, (err: unknown) => reject(retype(err))).finally(() => this.pending.delete(fail));
    });
  }

  kill(reason: string): void {
    if (this.dead !== undefined) return;
    this.dead = reason;
    for (const fail of this.pending) fail(reason);
    this.pending.clear();
  }

  async init(weights: Float32Array[], ready: WorkerReadyOptions, compile: CompileArgs | undefined): Promise<void> {
    await this.call('worker.ready', () => this.api.ready(ready));
    this.compileArgs = compile && toWorkerCompile(compile);
    const sent = Comlink.transfer(
      weights,
      weights.map((w) => w.buffer),
    );
    await this.call('worker.init', () => this.api.init(this.json, sent, this.compileArgs));
  }

  fit(x: TensorInput, y: TensorInput, args: TrainerFitArgs = {}): Promise<WorkerHistory> {
    const op = 'worker.fit';
    const { onProgress, validationData, ...rest } = args;
    return this.call(op, () => {
      const xd = toData(x, op);
      const yd = toData(y, op);
      const fitArgs: WorkerFitArgs = { ...rest };
      const extra: ArrayBuffer[] = [];
      if (validationData) {
        const vx = toData(validationData[0], op);
        const vy = toData(validationData[1], op);
        fitArgs.validationData = [vx, vy];
        extra.push(...moved(vx), ...moved(vy));
      }
      return this.api.fit(
        Comlink.transfer(xd, moved(xd)),
        Comlink.transfer(yd, moved(yd)),
        Comlink.transfer(fitArgs, extra),
        onProgress ? Comlink.proxy(onProgress) : undefined,
      );
    });
  }

  evaluate(x: TensorInput, y: TensorInput, args: { batchSize?: number } = {}): Promise<Record<string, number>> {
    const op = 'worker.evaluate';
    return this.call(op, () => {
      const xd = toData(x, op);
      const yd = toData(y, op);
      return this.api.evaluate(Comlink.transfer(xd, moved(xd)), Comlink.transfer(yd, moved(yd)), args);
    });
  }

  predict(x: TensorInput, args: { batchSize?: number } = {}): Promise<TensorData> {
    const op = 'worker.predict';
    return this.call(op, () => {
      const xd = toData(x, op);
      return this.api.predict(Comlink.transfer(xd, moved(xd)), args);
    });
  }

  getWeights(): Promise<TensorData[]> {
    return this.call('worker.getWeights', () => this.api.getWeights());
  }

  async pull(): Promise<Sequential> {
    const weights = await this.getWeights();
    const rt = await ready();
    const model = modelFromJSON(this.json);
    try {
      model.build(rt);
      const tensors = weights.map((w) => tensorFrom(rt, w.values, w.shape, 'worker.pull'));
      try {
        model.setWeights(tensors);
      } finally {
        for (const t of tensors) t.dispose();
      }
      const c = this.compileArgs;
      if (c)
        model.compile({
          optimizer: resolveOptimizer(c.optimizer),
          loss: c.loss as CompileArgs['loss'],
          metrics: c.metrics,
        });
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  async compile(args: CompileArgs): Promise<void> {
    const spec = toWorkerCompile(args);
    await this.call('worker.compile', () => this.api.compile(spec));
    this.compileArgs = spec;
  }

  stop(): Promise<void> {
    return this.call('worker.stop', () => this.api.stop());
  }

  pause(): Promise<void> {
    return this.call('worker.pause', () => this.api.pause());
  }

  resume(): Promise<void> {
    return this.call('worker.resume', () => this.api.resume());
  }

  async terminate(): Promise<void> {
    this.kill('the worker was terminated');
    await this.link.terminate();
  }
}

/**
 * Starts a worker that trains a copy of `model` (its topology and current weights). The calling
 * thread's runtime is loaded if needed (weights are read from it, and {@link Trainer.pull} builds
 * there). Several trainers may run at once, each in its own worker with its own wasm memory.
 */
export async function spawn(model: Sequential, options: SpawnOptions = {}): Promise<Trainer> {
  const op = 'worker.spawn';
  if (!(model instanceof SequentialBase)) throw new ValueError(op, 'expects a model made by wg.sequential');
  await ready();
  const json = model.toJSON();
  const weights = model.getWeights().map((t) => {
    try {
      return t.dataSync();
    } finally {
      t.dispose();
    }
  });
  const { wasm } = options;
  const readyOptions: WorkerReadyOptions = {
    simd: options.simd ?? runtime().simd,
    ...(wasm === undefined ? {} : { wasm: wasm instanceof URL ? wasm.href : wasm }),
  };
  const link = inNode ? await nodeLink(options.entry, options.name) : webLink(options.entry, options.name);
  const trainer = new WorkerTrainer(Comlink.wrap<WorkerApi>(link.endpoint), link, json);
  try {
    await trainer.init(weights, readyOptions, options.compile ?? model.compileArgs);
  } catch (err) {
    await trainer.terminate();
    throw err;
  }
  return trainer;
}

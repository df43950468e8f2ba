/**
 * The calling side of worker training: `wg.worker.spawn(model)` starts a worker (worker_threads in
 * Node, a module Web Worker in browsers and Deno), sends it the model as JSON topology + weights,
 * and returns a {@link Trainer} whose calls run there. A worker that dies rejects every pending and
 * later call with a {@link WorkerError} (comlink alone would leave them pending forever).
 * @module
 */
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import { ValueError, WorkerError } from '../errors.js';
import type { LayersModelJSON } from '../model/base.js';
import type { CompileArgs, LayersModel } from '../model/model.js';
import { SequentialBase } from '../model/sequential.js';
import { modelFromJSON } from '../model/serialize.js';
import { Optimizer } from '../optimizers/optimizers.js';
import { isNode } from '../runtime/platform.js';
import { getThreads, ready, runtime } from '../runtime/runtime.js';
import { CONTROL_STOP, createControl } from './control.js';
import type {
  DataRef,
  ProgressEvent,
  TensorData,
  WorkerApi,
  WorkerCompileArgs,
  WorkerFitArgs,
  WorkerHistory,
  WorkerReadyOptions,
} from './entry.js';
import { resolveOptimizer, tensorFrom } from './host.js';
import { moved, Staging, type TensorInput, type TrainerInput, toData, toRef, WorkerTensor } from './inputs.js';
import { type Link, nodeLink, retype, webLink } from './link.js';

export type { TensorInput, TrainerInput } from './inputs.js';
export { WorkerTensor } from './inputs.js';

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /**
   * compile arguments for the worker's model (and for models made by {@link Trainer.pull}).
   * Default: those of the model's last `compile`, if any.
   */
  compile?: CompileArgs;
  /** Force the SIMD128 or scalar build in the worker. Default: the build of the calling thread. */
  simd?: boolean;
  /**
   * Threads running the worker's large kernels (the worker included; see `wg.setThreads`), so a
   * fit in the worker computes like one on the calling thread. Default: the calling thread's count.
   */
  threads?: number;
  /** The wasm module for the worker, as a URL (string or URL) or bytes. Default: the packaged one. */
  wasm?: string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module;
  /** The worker module. Default: this package's `worker/entry.js`, next to this file. */
  entry?: string | URL;
  /** A name for the worker (shown by browser devtools). */
  name?: string;
  /**
   * Share memory with the worker (SharedArrayBuffer): a stop flag, so stop() is heard after the
   * current batch, and reused staging buffers that data is copied into on its way (instead of a
   * fresh array per call). Default: true where shared memory can cross to a worker (Node, Deno,
   * cross-origin-isolated pages). false: messages only (stop heard when fit next yields, ~50 ms)
   * and a fresh transferred copy per call.
   */
  sharedMemory?: boolean;
}

/** Options of {@link Trainer.fit}: those of `model.fit`, with progress events instead of callbacks. */
export interface TrainerFitArgs extends Omit<WorkerFitArgs, 'validationData'> {
  validationData?: [TrainerInput, TrainerInput];
  /** Receives `{ epoch, logs }` after epochs, at most every `progressIntervalMs` (and the last). */
  onProgress?: (event: ProgressEvent) => void;
}

/** What {@link Trainer.stop} resolves with. */
export interface StopResult {
  /**
   * Batches the running fit had finished when the stop request was made (read atomically from
   * the shared control word; without shared memory, when the worker received the request). The
   * fit's `WorkerHistory.batches` minus this is how many batches ran after the request.
   */
  batches: number;
}

/** A model training in a worker. Every method runs there; results come back as plain data. */
export interface Trainer {
  /**
   * Trains the worker's model; resolves with the History values and whether stop() ended it.
   * Data is sent with every call unless it is a {@link WorkerTensor} from {@link Trainer.upload}.
   */
  fit(x: TrainerInput, y: TrainerInput, args?: TrainerFitArgs): Promise<WorkerHistory>;
  /** Loss and metrics over a dataset. */
  evaluate(x: TrainerInput, y: TrainerInput, args?: { batchSize?: number }): Promise<Record<string, number>>;
  /** Outputs for a batch of inputs. */
  predict(x: TrainerInput, args?: { batchSize?: number }): Promise<TensorData>;
  /**
   * Copies data into the worker's wasm memory once and keeps it there: the returned
   * {@link WorkerTensor} stands for it in later fit/evaluate/predict calls of this trainer, which
   * then send nothing. With `transfer: true`, a Float32Array that spans its whole buffer is
   * transferred as it is (no copy on this thread; the caller's array is detached).
   */
  upload(x: TensorInput, options?: { transfer?: boolean }): Promise<WorkerTensor>;
  /** Copies of the worker's weights, in layer order. */
  getWeights(): Promise<TensorData[]>;
  /** A new model on the calling thread with the worker's current weights (compiled if spawned so). */
  pull(): Promise<LayersModel>;
  /** (Re)compiles the worker's model. */
  compile(args: CompileArgs): Promise<void>;
  /**
   * Ends a running fit after its current batch; the fit resolves with `stopped: true`. With shared
   * memory (see {@link SpawnOptions.sharedMemory}) the worker sees the request after the batch it is
   * running; without, when its fit next yields.
   */
  stop(): Promise<StopResult>;
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

const inNode = isNode();

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
  /** fit calls sent and not yet settled (the worker runs one; others are rejected there). */
  private fits = 0;
  /** Reused shared buffers for values sent with calls, where memory can be shared. */
  private readonly staging: Staging | undefined;

  constructor(
    private readonly api: Comlink.Remote<WorkerApi>,
    private readonly link: Link,
    private readonly json: LayersModelJSON,
    /** The control word shared with the worker (./control.ts), when memory can be shared. */
    private readonly control: Int32Array | undefined,
  ) {
    link.onDeath((reason) => this.kill(reason));
    this.staging = control ? new Staging() : undefined;
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
    await this.call('worker.init', () => this.api.init(this.json, sent, this.compileArgs, this.control));
  }

  /**
   * Refs for inputs, every buffer to transfer with them, and the staging views they use (to give
   * back with {@link WorkerTrainer.settle} once the call settled).
   */
  private refs(
    op: string,
    inputs: TrainerInput[],
  ): { refs: DataRef[]; transfer: ArrayBuffer[]; staged: Float32Array[] } {
    const refs: DataRef[] = [];
    const transfer: ArrayBuffer[] = [];
    const staged: Float32Array[] = [];
    try {
      for (const input of inputs) {
        const r = toRef(input, op, this, this.staging, staged);
        refs.push(r.ref);
        transfer.push(...r.transfer);
      }
    } catch (err) {
      this.staging?.give(staged);
      throw err;
    }
    return { refs, transfer, staged };
  }

  /** `sent`, giving the staging views back when it settles (the worker has read them by then). */
  private settle<T>(sent: Promise<T>, staged: Float32Array[]): Promise<T> {
    if (staged.length === 0) return sent;
    return sent.finally(() => this.staging?.give(staged));
  }

  async fit(x: TrainerInput, y: TrainerInput, args: TrainerFitArgs = {}): Promise<WorkerHistory> {
    const op = 'worker.fit';
    const { onProgress, validationData, ...rest } = args;
    return this.call(op, () => {
      const inputs = validationData ? [x, y, validationData[0], validationData[1]] : [x, y];
      const { refs, transfer, staged } = this.refs(op, inputs);
      const fitArgs: WorkerFitArgs = { ...rest };
      if (validationData) fitArgs.validationData = [refs[2] as DataRef, refs[3] as DataRef];
      // A new fit starts with a clear stop bit and batch count; a fit sent while another runs is
      // rejected by the worker and must not clear the running one's stop request.
      if (this.control && this.fits === 0) Atomics.store(this.control, 0, 0);
      this.fits++;
      const sent = this.api.fit(
        refs[0] as DataRef,
        refs[1] as DataRef,
        Comlink.transfer(fitArgs, transfer),
        onProgress ? Comlink.proxy(onProgress) : undefined,
      );
      return this.settle(sent, staged).finally(() => {
        this.fits--;
      });
    });
  }

  evaluate(x: TrainerInput, y: TrainerInput, args: { batchSize?: number } = {}): Promise<Record<string, number>> {
    const op = 'worker.evaluate';
    return this.call(op, () => {
      const { refs, transfer, staged } = this.refs(op, [x, y]);
      return this.settle(
        this.api.evaluate(refs[0] as DataRef, refs[1] as DataRef, Comlink.transfer(args, transfer)),
        staged,
      );
    });
  }

  predict(x: TrainerInput, args: { batchSize?: number } = {}): Promise<TensorData> {
    const op = 'worker.predict';
    return this.call(op, () => {
      const { refs, transfer, staged } = this.refs(op, [x]);
      return this.settle(this.api.predict(refs[0] as DataRef, Comlink.transfer(args, transfer)), staged);
    });
  }

  async upload(x: TensorInput, options: { transfer?: boolean } = {}): Promise<WorkerTensor> {
    const op = 'worker.upload';
    const data = toData(x, op, options.transfer === true);
    const id = await this.call(op, () => this.api.store(Comlink.transfer(data, moved(data))));
    return new WorkerTensor(id, data.shape, this, (stored) =>
      this.dead === undefined ? this.call('worker.release', () => this.api.release(stored)) : Promise.resolve(),
    );
  }

  getWeights(): Promise<TensorData[]> {
    return this.call('worker.getWeights', () => this.api.getWeights());
  }

  async pull(): Promise<LayersModel> {
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

  async stop(): Promise<StopResult> {
    // The stop bit is set here, at once; the old word says how many batches had ended before it.
    const counted = this.control && this.fits > 0 ? Atomics.or(this.control, 0, CONTROL_STOP) >>> 1 : undefined;
    // The message still goes: it opens a paused fit and is the whole path without shared memory.
    const reply = await this.call('worker.stop', () => this.api.stop());
    return { batches: counted ?? reply.batches };
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
export async function spawn(model: LayersModel, options: SpawnOptions = {}): Promise<Trainer> {
  const op = 'worker.spawn';
  if (!(model instanceof SequentialBase)) throw new ValueError(op, 'expects a model made by wg.sequential or wg.model');
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
    threads: options.threads ?? getThreads(),
    ...(wasm === undefined ? {} : { wasm: wasm instanceof URL ? wasm.href : wasm }),
  };
  const link = inNode ? await nodeLink(options.entry, options.name) : webLink(options.entry, options.name);
  const control = options.sharedMemory === false ? undefined : createControl();
  const trainer = new WorkerTrainer(Comlink.wrap<WorkerApi>(link.endpoint), link, json, control);
  try {
    await trainer.init(weights, readyOptions, options.compile ?? model.compileArgs);
  } catch (err) {
    await trainer.terminate();
    throw err;
  }
  return trainer;
}

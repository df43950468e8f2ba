/**
 * The trainer half of the worker API: one model per worker, built from its JSON topology and
 * weights, trained, evaluated and queried on the worker's own runtime. Data arrives as
 * {@link TensorData} whose buffers the caller transferred; results go back transferred too.
 * @module
 */
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import type { Callback } from '../callbacks/callback.js';
import { fmtShape, RuntimeStateError, ShapeError, ValueError } from '../errors.js';
import type { LossIdentifier } from '../losses/losses.js';
import type { LayersModelJSON } from '../model/base.js';
import type { CompileArgs, LayersModel } from '../model/model.js';
import { modelFromJSON } from '../model/serialize.js';
import { getOptimizer, type Optimizer, optimizers } from '../optimizers/optimizers.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkShape, empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { CONTROL_BATCH, CONTROL_STOP } from './control.js';
import type { DataRef, OptimizerSpec, ProgressEvent, TensorData, WorkerApi, WorkerCompileArgs } from './entry.js';

/** Copies values into a new tensor of `shape` in `rt`, checking that they fill the shape. */
export function tensorFrom(rt: Runtime, values: ArrayLike<number>, shape: readonly number[], op: string): Tensor {
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

/** Resolves an optimizer spec: a name, or `{ className, config }` as from `optimizer.getConfig()`. */
export function resolveOptimizer(spec: OptimizerSpec, op = 'worker.compile'): Optimizer {
  if (typeof spec === 'string') return getOptimizer(spec, op);
  if (spec && typeof spec === 'object' && typeof spec.className === 'string') {
    const key = spec.className.toLowerCase();
    if (!Object.hasOwn(optimizers, key)) {
      throw new ValueError(
        op,
        `unknown optimizer class '${spec.className}'; known: ${Object.keys(optimizers).join(', ')}`,
      );
    }
    return optimizers[key as keyof typeof optimizers]((spec.config ?? {}) as never);
  }
  throw new ValueError(op, `optimizer must be a name or { className, config }, got ${JSON.stringify(spec)}`);
}

function toCompileArgs(args: WorkerCompileArgs): CompileArgs {
  if (!args || typeof args !== 'object') throw new ValueError('worker.compile', 'expects { optimizer, loss, metrics }');
  return {
    optimizer: resolveOptimizer(args.optimizer),
    loss: args.loss as LossIdentifier,
    metrics: args.metrics,
  };
}

function toTensorData(t: Tensor): TensorData {
  try {
    return { values: t.dataSync(), shape: [...t.shape] };
  } finally {
    t.dispose();
  }
}

type TrainerMethods = Omit<WorkerApi, 'ready' | 'simd' | 'matMul'>;

/** The trainer methods over the worker's runtime, given by `getRuntime`. */
export function trainerMethods(getRuntime: () => Promise<Runtime>): TrainerMethods {
  let state: { model: LayersModel; rt: Runtime } | undefined;
  /** The control word shared with the calling thread (see ./control.ts), if any. */
  let control: Int32Array | undefined;
  let fitting = false;
  let stopRequested = false;
  /** Batches of the running (or last) fit. */
  let batches = 0;
  /** Tensors kept by store(), by id. */
  const stored = new Map<number, Tensor>();
  let nextId = 1;
  /** Set while paused: the fit waits on it after each batch. */
  let gate: { paused: Promise<void>; resume: () => void } | undefined;
  const openGate = () => {
    gate?.resume();
    gate = undefined;
  };

  /** The model, when one is loaded and no fit runs (a fit shares the model's step buffers). */
  const idleModel = (op: string) => {
    if (!state) throw new RuntimeStateError(op, 'no model in this worker: call init first');
    if (fitting) throw new RuntimeStateError(op, 'a fit is running in this worker: stop it or wait for it');
    return state;
  };

  /**
   * Runs `fn` on tensors for `data`: stored tensors as they are, sent values copied into new
   * tensors that are disposed whatever happens.
   */
  const withTensors = async <T>(
    rt: Runtime,
    op: string,
    data: DataRef[],
    fn: (tensors: Tensor[]) => T | Promise<T>,
  ): Promise<T> => {
    const made: Tensor[] = [];
    const tensors: Tensor[] = [];
    try {
      for (const d of data) {
        if (d && typeof d === 'object' && 'stored' in d) {
          const t = stored.get(d.stored);
          if (!t) throw new ValueError(op, `no stored tensor ${String(d.stored)} in this worker (released?)`);
          if (t.runtime !== rt)
            throw new RuntimeStateError(op, `stored tensor ${d.stored} belongs to an older runtime`);
          tensors.push(t);
        } else {
          const t = tensorFrom(rt, (d as TensorData)?.values, (d as TensorData)?.shape, op);
          made.push(t);
          tensors.push(t);
        }
      }
      return await fn(tensors);
    } finally {
      for (const t of made) t.dispose();
    }
  };

  /** Ends the running fit after its current batch. */
  const requestStop = () => {
    if (!fitting || !state) return;
    stopRequested = true;
    state.model.stopTraining = true;
    openGate();
  };

  return {
    async init(modelJSON, weights, compile, sharedControl) {
      const op = 'worker.init';
      if (fitting) throw new RuntimeStateError(op, 'a fit is running in this worker: stop it or wait for it');
      if (sharedControl !== undefined && !(sharedControl instanceof Int32Array && sharedControl.length >= 1)) {
        throw new ValueError(op, 'the control block must be an Int32Array over a SharedArrayBuffer');
      }
      const rt = await getRuntime();
      const model = modelFromJSON(modelJSON as LayersModelJSON);
      try {
        model.build(rt);
        const slots = model.weights;
        if (!Array.isArray(weights) || weights.length !== slots.length) {
          throw new ValueError(
            op,
            `expected ${slots.length} weight arrays, got ${Array.isArray(weights) ? weights.length : weights}`,
          );
        }
        await withTensors(
          rt,
          op,
          slots.map((w, i) => ({ values: weights[i] as Float32Array, shape: [...w.shape] })),
          (tensors) => model.setWeights(tensors),
        );
        if (compile) model.compile(toCompileArgs(compile));
      } catch (err) {
        model.dispose();
        throw err;
      }
      state?.model.dispose();
      state = { model, rt };
      control = sharedControl;
      return { params: model.countParams() };
    },

    async compile(args) {
      idleModel('worker.compile').model.compile(toCompileArgs(args));
    },

    async store(data) {
      const t = tensorFrom(await getRuntime(), data?.values, data?.shape, 'worker.store');
      const id = nextId++;
      stored.set(id, t);
      return id;
    },

    async release(id) {
      stored.get(id)?.dispose();
      stored.delete(id);
    },

    async fit(x, y, args = {}, progress) {
      const op = 'worker.fit';
      const { model, rt } = idleModel(op);
      const validation = args.validationData ? [args.validationData[0], args.validationData[1]] : [];
      const epochs = args.epochs ?? 1;
      const interval = args.progressIntervalMs ?? 100;
      let lastSent = Number.NEGATIVE_INFINITY;
      let lastEvent: Promise<unknown> = Promise.resolve();
      const shared = control;
      // Progress is sent without waiting for the caller, so messaging never holds training up;
      // the last event is awaited before fit returns so that it arrives before fit's result.
      const callback: Callback = {
        onBatchEnd: () => {
          batches++;
          // One atomic add counts the batch and reads the stop bit the calling thread may have set.
          if (shared && (Atomics.add(shared, 0, CONTROL_BATCH) & CONTROL_STOP) !== 0) requestStop();
          return gate?.paused;
        },
        onEpochEnd(epoch, logs = {}) {
          const now = performance.now();
          if (progress && (now - lastSent >= interval || epoch === epochs - 1 || stopRequested)) {
            lastSent = now;
            const event: ProgressEvent = { epoch, logs: { ...logs } };
            lastEvent = Promise.resolve(progress(event)).catch(() => {});
          }
        },
      };
      fitting = true;
      stopRequested = false;
      batches = 0;
      try {
        return await withTensors(rt, op, [x, y, ...validation], async ([tx, ty, vx, vy]) => {
          const history = await model.fit(tx as Tensor, ty as Tensor, {
            epochs,
            batchSize: args.batchSize,
            shuffle: args.shuffle,
            validationSplit: args.validationSplit,
            validationData: vx && vy ? [vx, vy] : undefined,
            initialEpoch: args.initialEpoch,
            seed: args.seed,
            callbacks: [callback],
          });
          await lastEvent;
          return { epoch: history.epoch, history: history.history, stopped: stopRequested, batches };
        });
      } finally {
        fitting = false;
        openGate();
        (progress as Partial<Comlink.Remote<unknown>> | undefined)?.[Comlink.releaseProxy]?.();
      }
    },

    async evaluate(x, y, args = {}) {
      const op = 'worker.evaluate';
      const { model, rt } = idleModel(op);
      return withTensors(rt, op, [x, y], ([tx, ty]) => model.evaluate(tx as Tensor, ty as Tensor, args));
    },

    async predict(x, args = {}) {
      const op = 'worker.predict';
      const { model, rt } = idleModel(op);
      const out = await withTensors(rt, op, [x], ([tx]) => toTensorData(model.predict(tx as Tensor, args)));
      return Comlink.transfer(out, [out.values.buffer]);
    },

    async getWeights() {
      if (!state) throw new RuntimeStateError('worker.getWeights', 'no model in this worker: call init first');
      // Allowed during fit: it copies the weights between two batches.
      const out = state.model.getWeights().map(toTensorData);
      return Comlink.transfer(
        out,
        out.map((t) => t.values.buffer),
      );
    },

    async stop() {
      requestStop();
      return { batches };
    },

    async pause() {
      if (!fitting || gate) return;
      let resume: () => void = () => {};
      const paused = new Promise<void>((resolve) => {
        resume = resolve;
      });
      gate = { paused, resume };
    },

    async resume() {
      openGate();
    },
  };
}

/**
 * `wg.tune.search`: tunes a model's hyperparameters (Keras Tuner's `tuner.search`). Each trial
 * builds a compiled model from its parameters, trains it in its own worker (`wg.worker.spawn`, so
 * `parallel: 2` trains two models at once on two cores) and scores it by a logged metric such as
 * `val_accuracy`, taking its best epoch. The data are copied once into SharedArrayBuffers where
 * available, which every worker then reads without another copy.
 * @module
 */
import { ValueError, WasmgradError } from '../errors.js';
import { type LayersModel, NonFiniteLossError } from '../model/model.js';
import { SequentialBase } from '../model/sequential.js';
import { setSeed } from '../random.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { type SpawnOptions, spawn, type TensorInput } from '../worker/spawn.js';
import { type Objective, type OptimizeArgs, optimize, type TrialContext } from './optimize.js';
import { trialRandom } from './sampler.js';
import type { Params, SpaceSpec } from './space.js';
import { type Direction, Study } from './study.js';

/** Training data of a search: inputs, targets, and validation data or a validation split. */
export interface SearchData {
  x: TensorInput;
  y: TensorInput;
  validationData?: [TensorInput, TensorInput];
  /** Fraction of the samples (the last ones) held out for validation, as in fit. */
  validationSplit?: number;
}

/** Options of {@link search}: those of `optimize` (less the objective function) and of fit. */
export interface SearchArgs extends Omit<OptimizeArgs, 'objective' | 'direction'> {
  /** Builds a compiled model for a parameter set (e.g. units from `hp.units`). */
  build: (hp: Params) => LayersModel | Promise<LayersModel>;
  data: SearchData;
  /** The logged value to optimize (default 'val_loss'). */
  objective?: 'val_accuracy' | 'val_loss' | (string & {});
  /** Default: 'maximize' for names ending in accuracy, otherwise 'minimize'. */
  direction?: Direction;
  epochs?: number;
  batchSize?: number;
  /** Seed of shuffling and dropout in every trial's fit (default: the study's seed). */
  fitSeed?: number;
  /** Train in workers (default true); false trains on the calling thread (no speed-up from `parallel`). */
  workers?: boolean;
  /** Options for `wg.worker.spawn` (e.g. the worker `entry`). */
  spawnOptions?: SpawnOptions;
}

const isTensor = (v: unknown): v is Tensor =>
  typeof v === 'object' && v !== null && 'dataSync' in v && typeof (v as Tensor).dataSync === 'function';

/** Values and shape of an input, the values in a SharedArrayBuffer when the platform has one. */
function shared(input: TensorInput, op: string, what: string): { values: Float32Array; shape: number[] } {
  if (!input || typeof input !== 'object' || !Array.isArray(input.shape))
    throw new ValueError(op, `${what} must be a tensor or { values, shape }`);
  const values = isTensor(input) ? input.dataSync() : (input as { values: ArrayLike<number> }).values;
  if (!values || typeof values.length !== 'number')
    throw new ValueError(op, `${what}.values must be an array or typed array`);
  if (typeof SharedArrayBuffer !== 'function') return { values: Float32Array.from(values), shape: [...input.shape] };
  const out = new Float32Array(new SharedArrayBuffer(values.length * 4));
  out.set(values);
  return { values: out, shape: [...input.shape] };
}

/** The best of a metric's per-epoch values in the direction (undefined when none is finite). */
function bestEpoch(values: number[] | undefined, direction: Direction): number | undefined {
  let best: number | undefined;
  for (const v of values ?? []) {
    if (!Number.isFinite(v)) continue;
    if (best === undefined || (direction === 'minimize' ? v < best : v > best)) best = v;
  }
  return best;
}

/**
 * Searches hyperparameters of a model: `build(hp)` must return a compiled model (with the metric
 * behind `objective`, e.g. `metrics: ['accuracy']` for 'val_accuracy'). Resolves with the study.
 * A trial whose training diverges (non-finite loss) is recorded as failed.
 */
export async function search(args: SearchArgs): Promise<Study> {
  const op = 'tune.search';
  if (!args || typeof args !== 'object') throw new ValueError(op, 'expects { space, build, data, ... }');
  const { build, data, epochs = 1, batchSize = 32, workers = true } = args;
  if (typeof build !== 'function') throw new ValueError(op, 'build must be a function (hp) => compiled model');
  if (!data || typeof data !== 'object')
    throw new ValueError(op, 'data must be { x, y, validationData | validationSplit }');
  const metric = args.objective ?? 'val_loss';
  if (typeof metric !== 'string' || metric.length === 0)
    throw new ValueError(op, `objective must be a logged metric name, got ${String(metric)}`);
  const direction: Direction = args.direction ?? (/acc(uracy)?$/.test(metric) ? 'maximize' : 'minimize');
  const study =
    args.study instanceof Study
      ? args.study
      : args.study !== undefined
        ? Study.fromJSON(args.study, op)
        : new Study(
            {
              space: args.space as SpaceSpec,
              direction,
              method: args.method,
              seed: args.seed,
              initialTrials: args.initialTrials,
              gridPoints: args.gridPoints,
            },
            op,
          );
  if (metric.startsWith('val_') && !data.validationData && !data.validationSplit)
    throw new ValueError(op, `objective '${metric}' needs data.validationData or data.validationSplit`);
  if (!Number.isSafeInteger(epochs) || epochs < 1)
    throw new ValueError(op, `epochs must be a positive integer, got ${epochs}`);
  const x = shared(data.x, op, 'data.x');
  const y = shared(data.y, op, 'data.y');
  const validationData =
    data.validationData &&
    ([
      shared(data.validationData[0], op, 'data.validationData[0]'),
      shared(data.validationData[1], op, 'data.validationData[1]'),
    ] as [TensorInput, TensorInput]);
  const fitSeed = args.fitSeed ?? study.seed;

  const makeModel = async (hp: Params, trial: TrialContext): Promise<LayersModel> => {
    // Each trial's weights come from its own seed, so a study is repeatable whatever ran before it.
    setSeed((trialRandom(study.seed, trial.number, 2)() * 2 ** 32) >>> 0);
    const model = await build(hp);
    if (!(model instanceof SequentialBase))
      throw new ValueError(op, 'build must return a model made by wg.sequential or wg.model');
    if (!model.compileArgs) throw new ValueError(op, 'build must return a compiled model (call model.compile)');
    return model;
  };

  /** The trial's value from its history; a diverged fit counts as failed (NaN). */
  const score = (history: Record<string, number[]>, trial: TrialContext): number => {
    const values = history[metric];
    if (!values) {
      throw new ValueError(
        op,
        `trial ${trial.number}: fit logged no '${metric}' (logged: ${Object.keys(history).join(', ')})`,
      );
    }
    return bestEpoch(values, direction) ?? Number.NaN;
  };
  const diverged = (err: unknown) =>
    err instanceof NonFiniteLossError || (err instanceof WasmgradError && err.name === 'NonFiniteLossError');

  const inWorker: Objective = async (hp, trial) => {
    const model = await makeModel(hp, trial);
    let trainer: Awaited<ReturnType<typeof spawn>>;
    try {
      trainer = await spawn(model, args.spawnOptions);
    } finally {
      model.dispose();
    }
    try {
      const result = await trainer.fit(x, y, {
        epochs,
        batchSize,
        seed: fitSeed,
        ...(validationData ? { validationData } : { validationSplit: data.validationSplit }),
        progressIntervalMs: 0,
        onProgress: ({ epoch, logs }) => {
          const v = logs[metric];
          if (v !== undefined && trial.report(epoch, v)) void trainer.stop().catch(() => {});
        },
      });
      return score(result.history, trial);
    } catch (err) {
      if (diverged(err)) return Number.NaN;
      throw err;
    } finally {
      await trainer.terminate();
    }
  };

  const local: Objective = async (hp, trial) => {
    const model = await makeModel(hp, trial);
    const tensors: Tensor[] = [];
    const t = (d: { values: Float32Array; shape: number[] }) => {
      const made = tensor(d.values, d.shape, op);
      tensors.push(made);
      return made;
    };
    try {
      const vd = validationData as
        | [{ values: Float32Array; shape: number[] }, { values: Float32Array; shape: number[] }]
        | undefined;
      const history = await model.fit(t(x), t(y), {
        epochs,
        batchSize,
        seed: fitSeed,
        ...(vd
          ? { validationData: [t(vd[0]), t(vd[1])] as [Tensor, Tensor] }
          : { validationSplit: data.validationSplit }),
        callbacks: {
          onEpochEnd: (epoch, logs) => {
            const v = logs?.[metric];
            if (v !== undefined && trial.report(epoch, v)) model.stopTraining = true;
          },
        },
      });
      return score(history.history, trial);
    } catch (err) {
      if (diverged(err)) return Number.NaN;
      throw err;
    } finally {
      for (const d of tensors) d.dispose();
      model.dispose();
    }
  };

  const {
    build: _b,
    data: _d,
    objective: _o,
    epochs: _e,
    batchSize: _bs,
    fitSeed: _f,
    workers: _w,
    spawnOptions: _s,
    ...rest
  } = args;
  return optimize({ ...rest, study, direction, objective: workers ? inWorker : local });
}

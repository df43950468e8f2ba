/**
 * Training from a dataset of batches (tfjs `model.fitDataset`): for data that arrives as a stream
 * (a CSV larger than memory, a generator) rather than as one tensor. Every batch goes through the
 * model's own training step (`trainOnBatch`: forward, loss, backward, optimizer) and is disposed
 * right after it, so memory stays bounded by one batch plus the dataset's buffers.
 */
import { type Callback, CallbackList, History, type Logs } from '../callbacks/callback.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';

/** The model methods fitDataset uses (a compiled Sequential or graph model). */
export interface DatasetTrainable {
  trainOnBatch(x: Tensor, y: Tensor): number;
  /** The batch's loss and metrics (wasmgrad models have it; used for the per-epoch metric logs). */
  trainOnBatchLogs?(x: Tensor, y: Tensor): Logs;
  evaluate(x: Tensor, y: Tensor, args?: { batchSize?: number }): Logs;
  stopTraining: boolean;
}

/**
 * A batch as fitDataset accepts it: `{xs, ys}` (what `.batch(n)` makes of `{xs, ys}` rows) or
 * `[xs, ys]`. `ys` is optional in the type only so that batched CSV rows (whose `ys` exists when the
 * file has a label column) type-check; a batch without it is a ValueError.
 */
export type TrainingBatch = { xs: Tensor; ys?: Tensor } | [Tensor, Tensor];

/** Options of {@link fitDataset} (tfjs `ModelFitDatasetArgs`). */
export interface FitDatasetArgs {
  /** Passes over the data (default 1). */
  epochs?: number;
  /**
   * Batches per epoch. When set, one iterator runs across epochs (an endless or repeated dataset
   * is then fine) and training ends early if it runs dry; when unset every epoch is a full pass.
   */
  batchesPerEpoch?: number;
  /** Epoch to start counting from (resuming). */
  initialEpoch?: number;
  /** Evaluated after every epoch into `val_*` logs: tensors [x, y] or a dataset of batches. */
  validationData?: [Tensor, Tensor] | Dataset<TrainingBatch>;
  /** With a validation dataset, evaluate only this many batches (default: all). */
  validationBatches?: number;
  callbacks?: Callback[] | Callback;
  /** 0 silent, 1 a line per epoch (default 0). */
  verbose?: 0 | 1;
}

const YIELD_MS = 50;
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function unpack(batch: unknown, index: number): [Tensor, Tensor] {
  const [xs, ys] = Array.isArray(batch)
    ? batch
    : batch && typeof batch === 'object'
      ? [(batch as { xs?: unknown }).xs, (batch as { ys?: unknown }).ys]
      : [undefined, undefined];
  if (!(xs instanceof Tensor) || !(ys instanceof Tensor)) {
    throw new ValueError(
      'fitDataset',
      `batch ${index} is not {xs, ys} tensors (got ${Object.prototype.toString.call(batch)}); batch the dataset with .batch(n)`,
    );
  }
  return [xs, ys];
}

function disposeBatch(batch: unknown): void {
  const parts = Array.isArray(batch) ? batch : batch && typeof batch === 'object' ? Object.values(batch) : [];
  for (const t of parts) if (t instanceof Tensor) t.dispose();
}

/** Loss and metrics over a validation dataset, weighted by batch rows. */
async function evaluateDataset(model: DatasetTrainable, data: Dataset<TrainingBatch>, limit: number): Promise<Logs> {
  const sums: Record<string, number> = Object.create(null);
  let rows = 0;
  let b = 0;
  const it = data.iterator();
  try {
    while (b < limit) {
      const r = await it.next();
      if (r.done) break;
      try {
        const [xs, ys] = unpack(r.value, b);
        const n = xs.shape[0] as number;
        const logs = model.evaluate(xs, ys, { batchSize: n });
        for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v * n;
        rows += n;
      } finally {
        disposeBatch(r.value);
      }
      b++;
    }
  } finally {
    await it.return?.();
  }
  if (rows === 0) throw new ValueError('fitDataset', 'the validation dataset is empty');
  const out: Logs = {};
  for (const k of Object.keys(sums)) out[k] = (sums[k] as number) / rows;
  return out;
}

/**
 * Trains `model` on a dataset of `{xs, ys}` batches for `epochs` epochs and returns the History
 * (per-epoch `loss` and compiled metrics, sample-weighted means over the batches, and `val_*` values). Callbacks
 * get the same hooks as in fit; `model.stopTraining = true` ends training after the current batch.
 * A non-finite loss throws NonFiniteLossError unless a callback handles it (terminateOnNaN).
 */
export async function fitDataset(
  model: DatasetTrainable,
  dataset: Dataset<TrainingBatch>,
  args: FitDatasetArgs = {},
): Promise<History> {
  if (!model || typeof model.trainOnBatch !== 'function')
    throw new ValueError('fitDataset', 'expects a compiled model');
  if (!dataset || typeof (dataset as Dataset<TrainingBatch>).iterator !== 'function') {
    throw new ValueError('fitDataset', 'expects a Dataset of {xs, ys} batches');
  }
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isSafeInteger(epochs) || epochs < 0)
    throw new ValueError('fitDataset', `epochs must be an integer ≥ 0, got ${epochs}`);
  if (!Number.isSafeInteger(initialEpoch) || initialEpoch < 0) {
    throw new ValueError('fitDataset', `initialEpoch must be an integer ≥ 0, got ${initialEpoch}`);
  }
  const perEpoch = args.batchesPerEpoch;
  if (perEpoch !== undefined && !(Number.isSafeInteger(perEpoch) && perEpoch > 0)) {
    throw new ValueError('fitDataset', `batchesPerEpoch must be a positive integer, got ${perEpoch}`);
  }
  const valLimit = args.validationBatches ?? Number.POSITIVE_INFINITY;
  const val = args.validationData;
  if (val !== undefined && !Array.isArray(val) && typeof (val as Dataset<TrainingBatch>).iterator !== 'function') {
    throw new ValueError('fitDataset', 'validationData must be [x, y] tensors or a Dataset of batches');
  }
  const history = new History();
  const callbacks = new CallbackList(args.callbacks ? ([] as Callback[]).concat(args.callbacks) : []);
  model.stopTraining = false;
  callbacks.setModel(model);
  // A stream has no position to return to: refuse a restore callback's request (backupAndRestore
  // sets resumeFrom at train begin) rather than silently retraining from the first epoch.
  const resumable = model as { resumeFrom?: unknown };
  if ('resumeFrom' in resumable) resumable.resumeFrom = undefined;
  await callbacks.trainBegin();
  if (resumable.resumeFrom !== undefined) {
    resumable.resumeFrom = undefined;
    throw new ValueError(
      'fitDataset',
      'cannot resume from a checkpoint: a dataset stream has no saved position (resume with fit, or restart with initialEpoch)',
    );
  }
  let shared: AsyncIterator<TrainingBatch> | undefined = perEpoch ? dataset.iterator() : undefined;
  let exhausted = false;
  let lastYield = performance.now();
  try {
    for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining && !exhausted; epoch++) {
      await callbacks.epochBegin(epoch);
      const it = shared ?? dataset.iterator();
      let lossSum = 0;
      let seen = 0;
      const metricSums = new Map<string, number>();
      let b = 0;
      try {
        while (!model.stopTraining && (perEpoch === undefined || b < perEpoch)) {
          const r = await it.next();
          if (r.done) {
            if (perEpoch !== undefined) exhausted = true;
            break;
          }
          if (callbacks.wantsBatchBegin) await callbacks.batchBegin(b, { batch: b });
          let loss: number;
          let rows: number;
          try {
            const [xs, ys] = unpack(r.value, b);
            rows = xs.shape[0] as number;
            if (model.trainOnBatchLogs) {
              const batchLogs = model.trainOnBatchLogs(xs, ys);
              loss = batchLogs.loss as number;
              for (const [k, v] of Object.entries(batchLogs)) {
                if (k !== 'loss') metricSums.set(k, (metricSums.get(k) ?? 0) + v * rows);
              }
            } else {
              loss = model.trainOnBatch(xs, ys);
            }
          } catch (err) {
            const e = err as { name?: string; loss?: number };
            if (!(e?.name === 'NonFiniteLossError' && callbacks.stopsOnNonFiniteLoss)) throw err;
            await callbacks.batchEnd(b, { batch: b, loss: e.loss ?? Number.NaN });
            model.stopTraining = true;
            break;
          } finally {
            disposeBatch(r.value);
          }
          lossSum += loss * rows;
          seen += rows;
          if (callbacks.wantsBatchEnd) await callbacks.batchEnd(b, { batch: b, size: rows, loss });
          b++;
          if (performance.now() - lastYield > YIELD_MS) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
        }
      } finally {
        if (!shared) await it.return?.();
      }
      if (seen === 0 && !model.stopTraining) {
        // Ran dry exactly at an epoch boundary (batchesPerEpoch): training is over.
        if (exhausted && epoch > initialEpoch) break;
        throw new ValueError('fitDataset', `epoch ${epoch} got no batches: the dataset is empty`);
      }
      const logs: Logs = { loss: seen > 0 ? lossSum / seen : Number.NaN };
      for (const [k, v] of metricSums) logs[k] = v / Math.max(seen, 1);
      if (val !== undefined && !model.stopTraining) {
        const v = Array.isArray(val) ? model.evaluate(val[0], val[1]) : await evaluateDataset(model, val, valLimit);
        for (const [k, x] of Object.entries(v)) logs[`val_${k}`] = x;
      }
      history.record(epoch, logs);
      if (args.verbose === 1) {
        const line = Object.entries(logs)
          .map(([k, x]) => `${k}=${x.toFixed(4)}`)
          .join(' ');
        console.log(`Epoch ${epoch + 1}/${epochs} ${line}`);
      }
      await callbacks.epochEnd(epoch, logs);
    }
    await callbacks.trainEnd();
  } finally {
    await shared?.return?.();
    shared = undefined;
  }
  return history;
}

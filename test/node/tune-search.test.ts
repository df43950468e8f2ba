/**
 * wg.tune.search on a Fashion-MNIST subset: an MLP's learning rate, units and dropout, each trial
 * trained in its own worker (two at a time), scored by its best val_accuracy. The same search on
 * the calling thread gives the same trials bit for bit (each trial's weights and shuffling come from
 * seeds of the study), median early stopping stops trials through the worker's stop(), and bad
 * builds or objectives are typed errors. The wall-time comparison of one and two workers and the
 * Bayesian-vs-random comparison over seeds are in `node bench/tune.mjs` (too slow and
 * load-dependent for a test).
 * Node 20 cannot run .ts in worker_threads, so the workers run the compiled entry
 * (packages/wasmgrad/dist: `tsc -p packages/wasmgrad` first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

const entry = fileURLToPath(new URL('../../packages/wasmgrad/dist/worker/entry.js', import.meta.url));
const { tune } = wg;

const TRAIN = 1500;
const VAL = 500;
let data: wg.tune.SearchData;

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the package first (tsc -p packages/wasmgrad)`);
  await wg.ready();
  const { train } = await wg.data.fashionMnist({ flatten: true, limit: TRAIN + VAL });
  const xs = train.x.dataSync();
  const ys = train.y.dataSync();
  data = {
    x: { values: xs.subarray(0, TRAIN * 784), shape: [TRAIN, 784] },
    y: { values: ys.subarray(0, TRAIN * 10), shape: [TRAIN, 10] },
    validationData: [
      { values: xs.subarray(TRAIN * 784), shape: [VAL, 784] },
      { values: ys.subarray(TRAIN * 10), shape: [VAL, 10] },
    ],
  };
  train.x.dispose();
  train.y.dispose();
});

const space = {
  learningRate: tune.logUniform(1e-4, 3e-2),
  units: tune.int(16, 128, { log: true }),
  dropout: tune.uniform(0, 0.5),
};

function build(hp: wg.tune.Params): wg.Sequential {
  const model = wg.sequential([
    wg.layers.dense({ units: hp.units as number, activation: 'relu', inputShape: [784] }),
    // An explicit seed: a Dropout without one draws it anew where it is rebuilt (in the worker).
    wg.layers.dropout({ rate: hp.dropout as number, seed: 7 }),
    wg.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: hp.learningRate as number }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

const strip = (s: wg.tune.Study) => s.trials.map(({ durationMs: _, ...t }) => t);

describe('tune.search', () => {
  it('tunes lr, units and dropout in two workers; the same study as on the calling thread', async () => {
    const args: wg.tune.SearchArgs = {
      space,
      build,
      data,
      objective: 'val_accuracy',
      epochs: 2,
      batchSize: 64,
      maxTrials: 7,
      method: 'bayesian',
      initialTrials: 4,
      seed: 3,
    };
    const inWorkers = await tune.search({ ...args, parallel: 2, spawnOptions: { entry } });
    expect(inWorkers.direction).toBe('maximize');
    expect(inWorkers.trials.length).toBe(7);
    for (const t of inWorkers.trials) {
      expect(t.state).toBe('complete');
      expect(t.value as number).toBeGreaterThan(0);
      expect(t.value as number).toBeLessThanOrEqual(1);
      // The value is the best epoch's val_accuracy, and every epoch was reported.
      expect(t.intermediate.map(([s]) => s)).toEqual([0, 1]);
      expect(t.value).toBe(Math.max(...t.intermediate.map(([, v]) => v)));
    }
    expect(inWorkers.best?.value as number).toBeGreaterThan(0.6);
    console.log(inWorkers.format());
    const local = await tune.search({ ...args, parallel: 2, workers: false });
    expect(strip(local)).toEqual(strip(inWorkers));
  });

  it('a saved search resumes into the study an uninterrupted search makes', async () => {
    const args: wg.tune.SearchArgs = {
      space,
      build,
      data,
      objective: 'val_accuracy',
      epochs: 1,
      batchSize: 64,
      method: 'bayesian',
      initialTrials: 2,
      seed: 8,
      workers: false,
    };
    const full = await tune.search({ ...args, maxTrials: 5 });
    const first = await tune.search({ ...args, maxTrials: 3 });
    const saved = JSON.stringify(first);
    const resumed = await tune.search({ ...args, study: saved, maxTrials: 5 });
    expect(resumed.trials.length).toBe(5);
    expect(strip(resumed)).toEqual(strip(full));
  });

  it('median early stopping stops poor trials in their workers', async () => {
    const study = await tune.search({
      space: { learningRate: tune.logUniform(1e-6, 1e-2) },
      build: (hp) => build({ ...hp, units: 32, dropout: 0 }),
      data,
      objective: 'val_loss',
      epochs: 8,
      batchSize: 64,
      maxTrials: 8,
      method: 'random',
      seed: 1,
      earlyStopping: { rule: 'median', warmupSteps: 1, minTrials: 2 },
      spawnOptions: { entry },
    });
    const pruned = study.trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    // stop() reaches the worker while it trains on, so a stopped fit ends a batch or epochs later,
    // but before its 8 epochs.
    expect(Math.min(...pruned.map((t) => t.intermediate.length))).toBeLessThan(8);
    for (const t of study.trials) expect(t.state === 'pruned').toBe(t.intermediate.length < 8);
    expect(study.best?.state).toBe('complete');
  });

  it('bad builds, metrics and data are typed errors', async () => {
    const base = { space, data, maxTrials: 1, epochs: 1, spawnOptions: { entry } };
    await expect(
      tune.search({
        ...base,
        build: () => wg.sequential([wg.layers.dense({ units: 10, inputShape: [784] })]),
      }),
    ).rejects.toThrow(/build must return a compiled model/);
    await expect(tune.search({ ...base, build: () => ({}) as wg.Sequential })).rejects.toThrow(wg.ValueError);
    const noMetric = (hp: wg.tune.Params) => {
      const m = build(hp);
      m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      return m;
    };
    await expect(tune.search({ ...base, build: noMetric, objective: 'val_accuracy' })).rejects.toThrow(
      /fit logged no 'val_accuracy'/,
    );
    await expect(
      tune.search({ ...base, build, data: { x: data.x, y: data.y }, objective: 'val_accuracy' }),
    ).rejects.toThrow(/needs data.validationData or data.validationSplit/);
    await expect(tune.search({ ...base, build, epochs: 0 })).rejects.toThrow(/epochs must be/);
  });
});

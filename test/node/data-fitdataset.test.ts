/**
 * fitDataset: training from a dataset of batches. The same step as fit (identical weights on the
 * same batches), epochs/batchesPerEpoch/validation/callbacks semantics of tfjs, and a 200k-row CSV
 * streamed from disk into a classifier in bounded memory.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

beforeAll(async () => {
  await wg.ready();
});

function classifier(seed: number, inputs: number, classes: number) {
  wg.setSeed(seed);
  const model = wg.sequential([
    wg.layers.dense({ units: 16, activation: 'relu', inputShape: [inputs] }),
    wg.layers.dense({ units: classes, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: 0.01 }),
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['acc'],
  });
  return model;
}

/** Three classes from two features: a learnable rule with a margin. */
function blobs(n: number, seed: number) {
  const rand = seededRandom(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    xs.push(Math.cos((2 * Math.PI * c) / 3) + rand(-0.4, 0.4), Math.sin((2 * Math.PI * c) / 3) + rand(-0.4, 0.4));
    ys.push(c);
  }
  return { x: wg.tensor(xs, [n, 2]), y: wg.tensor(ys, [n, 1]) };
}

const gcFn = () => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
};

describe('fitDataset', () => {
  it('takes the same steps as fit on the same batches (bit-identical weights)', async () => {
    const { x, y } = blobs(96, 1);
    const a = classifier(7, 2, 3);
    const b = classifier(7, 2, 3);
    const fitted = await a.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false });
    const streamed = await b.fitDataset(wg.data.fromTensors({ xs: x, ys: y }).batch(16), { epochs: 3 });
    expect(streamed.epoch).toEqual([0, 1, 2]);
    const wa = a.getWeights().map((t) => Array.from(t.dataSync()));
    const wb = b.getWeights().map((t) => Array.from(t.dataSync()));
    expect(wb).toEqual(wa);
    // The per-epoch loss and metrics are sample-weighted means over the batches, as fit reports them.
    const metricKeys = Object.keys(fitted.history).filter((k) => k !== 'loss');
    expect(metricKeys.length).toBeGreaterThan(0);
    expect(Object.keys(streamed.history).sort()).toEqual(Object.keys(fitted.history).sort());
    for (const key of ['loss', ...metricKeys]) {
      for (let e = 0; e < 3; e++) {
        expect(Math.abs((streamed.history[key]?.[e] as number) - (fitted.history[key]?.[e] as number))).toBeLessThan(
          1e-6,
        );
      }
    }
    x.dispose();
    y.dispose();
  });

  it('batchesPerEpoch runs one iterator across epochs; validation, callbacks and stopTraining', async () => {
    const { x, y } = blobs(90, 2);
    const model = classifier(3, 2, 3);
    const seen: string[] = [];
    const before = wg.memory().numTensors;
    const history = await wg.data.fitDataset(
      model,
      wg.data.fromTensors({ xs: x, ys: y }).shuffle('full', 5).batch(10).repeat(),
      {
        epochs: 4,
        batchesPerEpoch: 4,
        validationData: [x, y],
        callbacks: [
          {
            onEpochBegin: (e) => {
              seen.push(`e${e}`);
            },
            onBatchEnd: (b, logs) => {
              seen.push(`b${b}:${logs?.size}`);
            },
          },
        ],
      },
    );
    expect(history.epoch).toEqual([0, 1, 2, 3]);
    expect(Object.keys(history.history).sort()).toEqual(['acc', 'loss', 'val_acc', 'val_loss'].sort());
    expect(seen.slice(0, 6)).toEqual(['e0', 'b0:10', 'b1:10', 'b2:10', 'b3:10', 'e1']);
    expect(wg.memory().numTensors).toBe(before); // every batch was disposed

    // A finite dataset that runs dry under batchesPerEpoch ends training (tfjs semantics).
    const short = await wg.data.fitDataset(model, wg.data.fromTensors({ xs: x, ys: y }).batch(30), {
      epochs: 5,
      batchesPerEpoch: 2,
    });
    expect(short.epoch).toEqual([0, 1]);
    // Running dry exactly at an epoch boundary ends training too (no empty epoch, no error).
    const exact = await wg.data.fitDataset(model, wg.data.fromTensors({ xs: x, ys: y }).batch(45), {
      epochs: 5,
      batchesPerEpoch: 1,
    });
    expect(exact.epoch).toEqual([0, 1]);

    // A validation dataset; earlyStopping ends training through model.stopTraining.
    const val = wg.data.fromTensors({ xs: x, ys: y }).batch(32);
    const stopped = await wg.data.fitDataset(model, wg.data.fromTensors({ xs: x, ys: y }).batch(10), {
      epochs: 50,
      validationData: val,
      callbacks: wg.callbacks.earlyStopping({ monitor: 'val_loss', patience: 0, minDelta: 10 }),
    });
    expect(stopped.epoch.length).toBeLessThan(50);
    expect(stopped.history.val_loss?.length).toBe(stopped.epoch.length);
    expect(wg.memory().numTensors).toBe(before);
    x.dispose();
    y.dispose();
  });

  it('accepts a batched CSV dataset directly', async () => {
    const rows = Array.from(
      { length: 60 },
      (_, i) => `${Math.cos((2 * Math.PI * (i % 3)) / 3)},${Math.sin((2 * Math.PI * (i % 3)) / 3)},c${i % 3}`,
    );
    const ds = wg.data.csv(`a,b,label\n${rows.join('\n')}\n`, { columnConfigs: { label: { isLabel: true } } });
    const model = classifier(5, 2, 3);
    const before = wg.memory().numTensors;
    const h = await model.fitDataset(ds.batch(20), { epochs: 30 });
    expect(h.history.loss?.[29]).toBeLessThan((h.history.loss?.[0] as number) / 2);
    expect(wg.memory().numTensors).toBe(before);
    const noLabel = wg.data.csv('a,b\n1,2\n');
    await expect(model.fitDataset(noLabel.batch(1))).rejects.toThrow(/batch 0 is not \{xs, ys\} tensors/);
    expect(wg.memory().numTensors).toBe(before);
  });

  it('bad datasets give typed errors and free their batches', async () => {
    const model = classifier(1, 2, 3);
    const before = wg.memory().numTensors;
    await expect(wg.data.fitDataset(model, wg.data.array([{ xs: [1, 2], ys: 0 }]) as never)).rejects.toThrow(
      /batch 0 is not \{xs, ys\} tensors.*\.batch\(n\)/,
    );
    await expect(wg.data.fitDataset(model, wg.data.array([]) as never)).rejects.toThrow(/dataset is empty/);
    await expect(wg.data.fitDataset(model, wg.data.array([{ xs: [1, 2, 3], ys: 0 }]).batch(1))).rejects.toThrow(
      wg.ShapeError,
    );
    await expect(wg.data.fitDataset(model, wg.data.array([{ xs: [1, 2], ys: 7 }]).batch(1))).rejects.toThrow(/label|7/);
    await expect(wg.data.fitDataset(model, wg.data.array([]).batch(1), { batchesPerEpoch: 0 })).rejects.toThrow(
      /batchesPerEpoch/,
    );
    expect(wg.memory().numTensors).toBe(before);
    // A restore callback asking to resume (as backupAndRestore does) is refused, not ignored.
    const resume: wg.Callback = {
      onTrainBegin: () => {
        Object.assign(model, { resumeFrom: { epoch: 1, batch: 0, step: 3, seed: 0 } });
      },
    };
    await expect(
      wg.data.fitDataset(model, wg.data.array([{ xs: [1, 2], ys: 0 }]).batch(1), { callbacks: resume }),
    ).rejects.toThrow(/cannot resume from a checkpoint/);
    // terminateOnNaN: a non-finite batch ends training without throwing.
    const nan = wg.data
      .array([{ xs: [Number.NaN, 1], ys: 0 }])
      .batch(1)
      .repeat(3);
    const h = await wg.data.fitDataset(model, nan, { epochs: 2, callbacks: wg.callbacks.terminateOnNaN() });
    expect(h.epoch).toEqual([0]);
    await expect(wg.data.fitDataset(model, nan)).rejects.toThrow(wg.NonFiniteLossError);
    expect(wg.memory().numTensors).toBe(before);
  });

  it('trains on a 200k-row CSV streamed from disk in bounded memory, to ≥ 95% test accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wg-fitds-'));
    const colors = ['red', 'green', 'blue'];
    // label = 0 when a + (color is red ? 0.6 : 0) > 0.3, else 1 when b > 0, else 2.
    const write = (path: string, rows: number, seed: number) => {
      const rand = seededRandom(seed);
      const parts = ['a,b,noise,color,label\n'];
      for (let i = 0; i < rows; i++) {
        const a = rand();
        const b = rand();
        const color = colors[Math.floor(rand(0, 3))] as string;
        const label = a + (color === 'red' ? 0.6 : 0) > 0.3 ? 'zero' : b > 0 ? 'one' : 'two';
        parts.push(`${a.toFixed(4)},${b.toFixed(4)},${rand().toFixed(3)},${color},${label}\n`);
      }
      writeFileSync(path, parts.join(''));
    };
    const trainPath = join(dir, 'train.csv');
    const testPath = join(dir, 'test.csv');
    write(trainPath, 200_000, 1);
    write(testPath, 5000, 2);
    const config = { columnConfigs: { label: { isLabel: true } } };
    const train = wg.data.csv(trainPath, config);
    const schema = await train.schema();
    expect(await train.columnNames()).toEqual(['a', 'b', 'noise', 'color=blue', 'color=green', 'color=red']);
    // Scaler statistics from the training stream only, applied row by row.
    const scaler = await wg.data.standardScaler().fitDataset(train, 'xs');
    const batches = train
      .map((r) => ({ xs: scaler.transformValues(r.xs), ys: r.ys as Float32Array }))
      .shuffle(2048, 9)
      .batch(256);
    const test = await wg.data.readCsv(testPath, { schema });
    const testX = scaler.transform(test.x);
    const model = classifier(11, 6, 3);
    const gc = gcFn();
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const wasm0 = wg.memory().numTensors;
    let peak = 0;
    let batchesSeen = 0;
    const t0 = performance.now();
    const history = await model.fitDataset(batches, {
      epochs: 1,
      validationData: [testX, test.y as wg.Tensor],
      callbacks: {
        onBatchEnd: () => {
          if (++batchesSeen % 100 === 0) {
            gc();
            peak = Math.max(peak, process.memoryUsage().heapUsed - heap0);
          }
        },
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const acc = history.history.val_acc?.[0] as number;
    console.log(
      `fitDataset: 200,000 CSV rows (${batchesSeen} batches of 256) in ${seconds.toFixed(2)} s = ${Math.round(200_000 / seconds)} rows/s; test accuracy ${(acc * 100).toFixed(2)}%; JS heap growth ${(peak / 1e6).toFixed(2)} MB`,
    );
    expect(batchesSeen).toBe(Math.ceil(200_000 / 256));
    expect(acc).toBeGreaterThanOrEqual(0.95);
    expect(peak).toBeLessThan(8e6); // the file is ~6 MB; holding its rows would take far more
    expect(wg.memory().numTensors).toBe(wasm0);
    for (const t of [test.x, test.y, testX]) t?.dispose();
  }, 180_000);
});

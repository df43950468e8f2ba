/**
 * Built-in callbacks with Keras semantics: hooks driven by scripted logs (deterministic) on a real
 * model, and small fits showing that fit honours what they set (stopTraining, the learning rate,
 * restored weights, a clean stop on a non-finite loss); bad options throw ValueError.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

async function tinyModel(lr = 0.1) {
  await wg.ready();
  wg.setSeed(7);
  const model = wg.sequential([wg.layers.dense({ units: 2, inputShape: [3] })]);
  model.compile({ optimizer: wg.optimizers.sgd({ learningRate: lr }), loss: 'meanSquaredError' });
  return model;
}

const weightsOf = (m: wg.Sequential) => m.getWeights().map((t) => Array.from(t.dataSync()));
/** Sets every weight of the model to the constant `v` (marks which epoch's weights are current). */
const fill = (m: wg.Sequential, v: number) => m.setWeights(m.getWeights().map((t) => wg.fill(t.shape, v)));

/** Drives a callback through epochs with scripted logs, as fit would; returns the epoch it stopped at. */
async function drive(cb: wg.callbacks.Callback, model: wg.Sequential, logs: wg.Logs[], each?: (e: number) => void) {
  cb.setModel?.(model);
  model.stopTraining = false;
  await cb.onTrainBegin?.();
  let epoch = 0;
  for (; epoch < logs.length; epoch++) {
    await cb.onEpochBegin?.(epoch);
    each?.(epoch);
    await cb.onEpochEnd?.(epoch, logs[epoch]);
    if (model.stopTraining) break;
  }
  await cb.onTrainEnd?.();
  return epoch;
}

const xy = () => ({
  x: wg.tensor([0.5, -1, 2, 1, 0.3, -0.2, -0.7, 0.1, 0.9, 0.2, -0.4, 1.5], [4, 3]),
  y: wg.tensor([1, 0, 0, 1, 0.5, 0.5, -1, 1], [4, 2]),
});

describe('earlyStopping', () => {
  it('stops once `patience` epochs pass without an improvement larger than minDelta, and restores the best weights', async () => {
    const model = await tinyModel();
    const cb = wg.callbacks.earlyStopping({ patience: 2, minDelta: 0.05, restoreBestWeights: true });
    // Epoch 2 improves by less than minDelta: it does not count. Best: epoch 1 (0.8).
    const losses = [1, 0.8, 0.78, 0.9, 0.1, 0.1];
    const stopped = await drive(
      cb,
      model,
      losses.map((v) => ({ loss: 0, val_loss: v })),
      (e) => fill(model, e + 10),
    );
    expect(stopped).toBe(3);
    expect(cb.stoppedEpoch).toBe(3);
    expect([cb.best, cb.bestEpoch]).toEqual([0.8, 1]);
    expect(
      weightsOf(model)
        .flat()
        .every((v) => v === 11),
    ).toBe(true);
    model.dispose();
  });

  it("mode 'max' (and 'auto' for accuracy), baseline, patience 0 never stops on the first epoch", async () => {
    const model = await tinyModel();
    const acc = wg.callbacks.earlyStopping({ monitor: 'val_acc', patience: 1 });
    expect(acc.mode).toBe('max');
    expect(
      await drive(
        acc,
        model,
        [0.5, 0.6, 0.55, 0.7].map((v) => ({ val_acc: v })),
      ),
    ).toBe(2);
    // Baseline 0.5: improvements that do not beat it do not reset the patience counter (Keras).
    const flat = [0.9, 0.8, 0.85, 0.7].map((v) => ({ loss: v }));
    const base = wg.callbacks.earlyStopping({ monitor: 'loss', patience: 2, baseline: 0.5 });
    expect(await drive(base, model, flat)).toBe(2);
    expect(await drive(wg.callbacks.earlyStopping({ monitor: 'loss', patience: 2 }), model, flat)).toBe(4);
    const zero = wg.callbacks.earlyStopping({ monitor: 'loss', mode: 'min' });
    expect(
      await drive(
        zero,
        model,
        [1, 2, 3].map((v) => ({ loss: v })),
      ),
    ).toBe(1);
    model.dispose();
  });

  it('inside fit: a loss that keeps decreasing watched in max mode stops after patience + 1 epochs, restoring epoch 0', async () => {
    const model = await tinyModel();
    const { x, y } = xy();
    const start = weightsOf(model);
    const cb = wg.callbacks.earlyStopping({ monitor: 'loss', mode: 'max', patience: 1, restoreBestWeights: true });
    let epochOneWeights: number[][] = [];
    const spy: wg.Callback = {
      onEpochEnd: (e) => {
        if (e === 0) epochOneWeights = weightsOf(model);
      },
    };
    const history = await model.fit(x, y, { epochs: 20, batchSize: 4, callbacks: [spy, cb], seed: 1 });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.history.loss?.[1]).toBeLessThan(history.history.loss?.[0] as number);
    expect(weightsOf(model)).toEqual(epochOneWeights);
    expect(weightsOf(model)).not.toEqual(start);
    model.dispose();
  });
});

describe('reduceLROnPlateau', () => {
  it('multiplies the rate by factor after patience flat epochs, waits cooldown, never goes below minLr', async () => {
    const model = await tinyModel(1);
    const cb = wg.callbacks.reduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 2, cooldown: 1, minLr: 0.1 });
    const lrs: number[] = [];
    // Keras trace: reduce at epochs 2, 4, 6, 8 (each cooldown epoch resets the counter to 0 and
    // then counts as a flat epoch); 0.125 · 0.5 is clamped to minLr, after which nothing changes.
    await drive(
      {
        setModel: (m) => cb.setModel(m),
        onTrainBegin: () => cb.onTrainBegin(),
        onEpochEnd: (e, l) => {
          cb.onEpochEnd(e, l);
          lrs.push(model.optimizer.learningRate);
        },
      },
      model,
      Array.from({ length: 11 }, () => ({ loss: 1 })),
    );
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1, 0.1]);
    model.dispose();
  });

  it('an improvement larger than minDelta resets the count', async () => {
    const model = await tinyModel(1);
    const cb = wg.callbacks.reduceLROnPlateau({ monitor: 'val_loss', patience: 2, minDelta: 0.1 });
    // 0.95 is within minDelta of 1 (flat); 0.5 improves; then two flat epochs (0.45, 0.41) reduce.
    await drive(
      cb,
      model,
      [1, 0.95, 0.5, 0.45, 0.41].map((v) => ({ val_loss: v })),
    );
    expect(model.optimizer.learningRate).toBeCloseTo(0.1, 12);
    await drive(
      cb,
      model,
      [1, 0.95, 0.5, 0.45].map((v) => ({ val_loss: v })),
    );
    expect(model.optimizer.learningRate).toBeCloseTo(0.1, 12);
    model.dispose();
  });

  it('inside fit: the lowered rate is the one the optimizer uses', async () => {
    const model = await tinyModel(0.1);
    const { x, y } = xy();
    const cb = wg.callbacks.reduceLROnPlateau({ monitor: 'loss', mode: 'max', factor: 0.5, patience: 0 });
    await model.fit(x, y, { epochs: 3, batchSize: 4, callbacks: cb, shuffle: false });
    expect(model.optimizer.learningRate).toBeCloseTo(0.025, 12);
    model.dispose();
  });
});

describe('learningRateScheduler', () => {
  it('sets the rate at the start of every epoch from (epoch, lr), and fit trains with it', async () => {
    const model = await tinyModel(0.1);
    const { x, y } = xy();
    const seen: [number, number][] = [];
    const scheduler = wg.callbacks.learningRateScheduler((epoch, lr) => {
      seen.push([epoch, lr]);
      return epoch === 0 ? 0 : lr + 0.5;
    });
    const rates: number[] = [];
    const spy: wg.Callback = { onEpochBegin: () => void rates.push(model.optimizer.learningRate) };
    const before = weightsOf(model);
    await model.fit(x, y, { epochs: 1, batchSize: 2, callbacks: [scheduler, spy] });
    // Rate 0 in epoch 0: no weight moved.
    expect(weightsOf(model)).toEqual(before);
    await model.fit(x, y, { epochs: 3, initialEpoch: 1, batchSize: 2, callbacks: [scheduler, spy] });
    expect(seen).toEqual([
      [0, 0.1],
      [1, 0],
      [2, 0.5],
    ]);
    expect(rates).toEqual([0, 0.5, 1]);
    expect(weightsOf(model)).not.toEqual(before);
    model.dispose();
  });

  it('a schedule that returns a non-number or a negative rate stops fit with ValueError', async () => {
    const model = await tinyModel();
    const { x, y } = xy();
    const bad = wg.callbacks.learningRateScheduler(() => Number.NaN);
    await expect(model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: bad })).rejects.toThrow(wg.ValueError);
    const negative = wg.callbacks.learningRateScheduler(() => -1);
    await expect(model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: negative })).rejects.toThrow(/finite rate/);
    model.dispose();
  });
});

describe('terminateOnNaN', () => {
  it('ends fit cleanly at the first non-finite batch loss; the weights keep their last finite values', async () => {
    const model = await tinyModel();
    // Batch 1 (samples 2, 3 without shuffling) holds a NaN input.
    const x = wg.tensor([0.5, -1, 2, 1, 0.3, -0.2, -0.7, Number.NaN, 0.9, 0.2, -0.4, 1.5], [4, 3]);
    const y = wg.tensor([1, 0, 0, 1, 0.5, 0.5, -1, 1], [4, 2]);
    const cb = wg.callbacks.terminateOnNaN();
    const batchLosses: number[] = [];
    let afterFirst: number[][] = [];
    const spy: wg.Callback = {
      onBatchEnd: (b, logs) => {
        batchLosses.push(logs?.loss as number);
        if (b === 0) afterFirst = weightsOf(model);
      },
    };
    const history = await model.fit(x, y, { epochs: 5, batchSize: 2, shuffle: false, callbacks: [cb, spy] });
    expect(history.epoch).toEqual([0]);
    expect(cb.terminatedAt).toEqual({ epoch: 0, batch: 1 });
    expect(batchLosses.length).toBe(2);
    expect(Number.isNaN(batchLosses[1])).toBe(true);
    // The epoch loss averages the applied batch only.
    expect(history.history.loss?.[0]).toBeCloseTo(batchLosses[0] as number, 6);
    expect(weightsOf(model)).toEqual(afterFirst);
    // Without the callback, the same data makes fit throw.
    await expect(model.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false })).rejects.toThrow(wg.NonFiniteLossError);
    model.dispose();
  });
});

describe('bad options', () => {
  it('throw ValueError naming the callback', () => {
    const cbs = wg.callbacks;
    expect(() => cbs.earlyStopping({ patience: -1 })).toThrow(wg.ValueError);
    expect(() => cbs.earlyStopping({ patience: 1.5 })).toThrow(/earlyStopping: patience/);
    expect(() => cbs.earlyStopping({ mode: 'sideways' as never })).toThrow(/mode/);
    expect(() => cbs.earlyStopping({ minDelta: Number.NaN })).toThrow(/minDelta/);
    expect(() => cbs.earlyStopping({ monitor: '' })).toThrow(/monitor/);
    expect(() => cbs.earlyStopping({ baseline: Number.POSITIVE_INFINITY })).toThrow(/baseline/);
    expect(() => cbs.reduceLROnPlateau({ factor: 1 })).toThrow(/reduceLROnPlateau: factor/);
    expect(() => cbs.reduceLROnPlateau({ factor: 0 })).toThrow(wg.ValueError);
    expect(() => cbs.reduceLROnPlateau({ cooldown: -2 })).toThrow(/cooldown/);
    expect(() => cbs.reduceLROnPlateau({ minLr: -1 })).toThrow(/minLr/);
    expect(() => cbs.learningRateScheduler(0.1 as never)).toThrow(/learningRateScheduler: schedule/);
    // Used outside fit (no model set).
    expect(() => cbs.earlyStopping().onEpochEnd(1, { val_loss: 1 })).not.toThrow();
    expect(() => cbs.learningRateScheduler(() => 1).onEpochBegin(0)).toThrow(/must be passed to fit/);
  });
});

describe('progressLogger', () => {
  it('prints a line per epoch with every logged value, and the batch loss every batchInterval batches', async () => {
    const model = await tinyModel();
    const { x, y } = xy();
    const lines: string[] = [];
    const logger = wg.callbacks.progressLogger({ printFn: (l) => lines.push(l), batchInterval: 2, digits: 3 });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 1, shuffle: false, callbacks: logger });
    expect(lines.length).toBe(2 * (2 + 1));
    expect(lines[0]).toMatch(/^epoch 1 batch 2: loss=\d+\.\d{3}$/);
    expect(lines[2]).toMatch(new RegExp(`^epoch 1: loss=${history.history.loss?.[0]?.toFixed(3)} \\(\\d+ ms\\)$`));
    expect(lines[5]).toMatch(/^epoch 2: loss=/);
    expect(() => wg.callbacks.progressLogger({ batchInterval: -1 })).toThrow(wg.ValueError);
    model.dispose();
  });
});

/** Bad input to the model API: typed errors that name what was expected and what came. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

function mlp() {
  const model = wg.sequential([
    wg.layers.dense({ units: 4, activation: 'relu', inputShape: [3] }),
    wg.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  return model;
}

describe('model API bad input', () => {
  beforeAll(async () => {
    await wg.ready();
  });

  it('unknown activation, loss, optimizer and metric names', () => {
    expect(() => wg.layers.dense({ units: 2, activation: 'relux' as never })).toThrow(/unknown activation 'relux'/);
    const model = mlp();
    expect(() => model.compile({ optimizer: 'adam', loss: 'crossEntropyy' as never })).toThrow(
      /unknown loss 'crossEntropyy'/,
    );
    expect(() => model.compile({ optimizer: 'adamm' as never, loss: 'meanSquaredError' })).toThrow(
      /unknown optimizer 'adamm'/,
    );
    expect(() => model.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: ['acuracy'] })).toThrow(
      /unknown metric 'acuracy'/,
    );
  });

  it('fit before compile', async () => {
    const model = mlp();
    await expect(model.fit(wg.zeros([2, 3]), wg.zeros([2, 3]))).rejects.toThrow(/must be compiled first/);
  });

  it('wrong input shape, x/y length mismatch, wrong target shape', async () => {
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await expect(model.fit(wg.zeros([2, 4]), wg.zeros([2, 3]))).rejects.toThrow(
      /expected x of shape \[n,3\], got \[2,4\]/,
    );
    await expect(model.fit(wg.zeros([2, 3]), wg.zeros([3, 3]))).rejects.toThrow(/x has 2 samples but y has 3/);
    await expect(model.fit(wg.zeros([2, 3]), wg.zeros([2, 5]))).rejects.toThrow(/expected y of shape \[n,3\]/);
    expect(() => model.predict(wg.zeros([2, 2]))).toThrow(/expected x of shape \[n,3\]/);
  });

  it('sparse labels out of range, negative or not integers', async () => {
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const x = wg.zeros([3, 3]);
    await expect(model.fit(x, wg.tensor([0, 3, 1], [3]))).rejects.toThrow(
      /label 3 at index 1 is not an integer class in \[0, 3\)/,
    );
    await expect(model.fit(x, wg.tensor([0, -1, 1], [3]))).rejects.toThrow(/label -1 at index 1/);
    await expect(model.fit(x, wg.tensor([0.5, 1, 1], [3]))).rejects.toThrow(/label 0.5 at index 0/);
    expect(() => model.evaluate(x, wg.tensor([0, 1, 7], [3]))).toThrow(wg.ValueError);
    // Still usable after the errors.
    const h = await model.fit(x, wg.tensor([0, 1, 2], [3]), { epochs: 2, batchSize: 3 });
    expect(h.history.loss).toHaveLength(2);
  });

  it('batchSize ≤ 0, non-integer or larger than the data; epochs < 0; bad validationSplit', async () => {
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const [x, y] = [wg.zeros([4, 3]), wg.zeros([4, 3])];
    await expect(model.fit(x, y, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 0/);
    await expect(model.fit(x, y, { batchSize: -2 })).rejects.toThrow(wg.ValueError);
    await expect(model.fit(x, y, { batchSize: 1.5 })).rejects.toThrow(wg.ValueError);
    await expect(model.fit(x, y, { batchSize: 5 })).rejects.toThrow(/batchSize 5 exceeds the 4 training samples/);
    await expect(model.fit(x, y, { epochs: -1 })).rejects.toThrow(/epochs must be an integer/);
    await expect(model.fit(x, y, { validationSplit: 1 })).rejects.toThrow(/validationSplit/);
  });

  it('a first layer without inputShape, dense units ≤ 0, empty datasets', async () => {
    expect(() => wg.sequential([wg.layers.dense({ units: 2 })])).toThrow(/needs an inputShape/);
    expect(() => wg.layers.dense({ units: 0 })).toThrow(/units must be a positive integer, got 0/);
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await expect(model.fit(wg.zeros([0, 3]), wg.zeros([0, 3]))).rejects.toThrow(/x holds no samples/);
  });

  it('a NaN loss stops training with a typed error and keeps the last finite weights', async () => {
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const before = model.getWeights().map((t) => Array.from(t.dataSync()));
    const x = wg.tensor([1, 2, Number.NaN, 0, 0, 0], [2, 3]);
    await expect(model.fit(x, wg.zeros([2, 3]), { batchSize: 2 })).rejects.toThrow(wg.NonFiniteLossError);
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
  });
});

/**
 * Training end to end: XOR and two spirals learnt with every optimizer; batch, stochastic and
 * mini-batch gradient descent; callbacks and History; flat memory over 10,000 steps.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

function xor() {
  return {
    x: wg.tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]),
    y: wg.tensor([0, 1, 1, 0], [4, 1]),
  };
}

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
function spirals(n: number, seed: number) {
  const rand = seededRandom(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 1.0 + 0.05;
      const t = (i / n) * 2.5 * Math.PI + c * Math.PI;
      xs.push(r * Math.cos(t) + rand(-0.02, 0.02), r * Math.sin(t) + rand(-0.02, 0.02));
      ys.push(c === 0 ? 1 : 0, c === 0 ? 0 : 1);
    }
  }
  return { x: wg.tensor(xs, [2 * n, 2]), y: wg.tensor(ys, [2 * n, 2]) };
}

const OPTIMIZERS: [string, () => wg.Optimizer, number][] = [
  ['sgd', () => wg.optimizers.sgd({ learningRate: 0.5 }), 600],
  ['sgd momentum', () => wg.optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), 300],
  ['sgd nesterov', () => wg.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }), 300],
  ['adam', () => wg.optimizers.adam({ learningRate: 0.05 }), 300],
  ['adamw', () => wg.optimizers.adamw({ learningRate: 0.05, weightDecay: 1e-4 }), 300],
  ['rmsprop', () => wg.optimizers.rmsprop({ learningRate: 0.01 }), 300],
  [
    'rmsprop centered momentum',
    () => wg.optimizers.rmsprop({ learningRate: 0.005, momentum: 0.5, centered: true }),
    300,
  ],
  ['adagrad', () => wg.optimizers.adagrad({ learningRate: 0.3 }), 400],
  ['adadelta', () => wg.optimizers.adadelta({ learningRate: 30 }), 400],
  ['adamax', () => wg.optimizers.adamax({ learningRate: 0.05 }), 300],
  ['nadam', () => wg.optimizers.nadam({ learningRate: 0.05 }), 300],
];

describe('XOR is learnt with every optimizer', () => {
  it.each(OPTIMIZERS)('%s', async (_name, make, epochs) => {
    await wg.ready();
    wg.setSeed(3);
    const model = wg.sequential([
      wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }),
      wg.layers.dense({ units: 1, activation: 'sigmoid' }),
    ]);
    model.compile({ optimizer: make(), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const { x, y } = xor();
    const history = await model.fit(x, y, { epochs, batchSize: 4, shuffle: false });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(0.2);
    expect(history.history.acc ?? history.history.accuracy).toBeDefined();
    const p = model.predict(x).dataSync();
    expect(Array.from(p, (v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    model.dispose();
  });
});

/** Learning rates for the spirals (a harder, 200-point problem) per optimizer. */
const SPIRAL_OPTIMIZERS: [string, () => wg.Optimizer][] = [
  ['sgd', () => wg.optimizers.sgd({ learningRate: 0.3 })],
  ['sgd momentum', () => wg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 })],
  ['sgd nesterov', () => wg.optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
  ['adam', () => wg.optimizers.adam({ learningRate: 0.01 })],
  ['adamw', () => wg.optimizers.adamw({ learningRate: 0.01, weightDecay: 1e-4 })],
  ['rmsprop', () => wg.optimizers.rmsprop({ learningRate: 0.005 })],
  ['rmsprop centered momentum', () => wg.optimizers.rmsprop({ learningRate: 0.002, momentum: 0.5, centered: true })],
  ['adagrad', () => wg.optimizers.adagrad({ learningRate: 0.1 })],
  ['adadelta', () => wg.optimizers.adadelta({ learningRate: 10 })],
  ['adamax', () => wg.optimizers.adamax({ learningRate: 0.02 })],
  ['nadam', () => wg.optimizers.nadam({ learningRate: 0.01 })],
];

describe('two spirals are separated by a small MLP with every optimizer', () => {
  it.each(SPIRAL_OPTIMIZERS)('%s', async (_name, make) => {
    await wg.ready();
    wg.setSeed(5);
    const { x, y } = spirals(100, 1);
    const model = wg.sequential([
      wg.layers.dense({ units: 32, activation: 'relu', inputShape: [2] }),
      wg.layers.dense({ units: 32, activation: 'relu' }),
      wg.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: make(), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(x, y, { epochs: 300, batchSize: 32 });
    expect(model.evaluate(x, y).accuracy).toBeGreaterThan(0.97);
    model.dispose();
  });
});

describe('batch, stochastic and mini-batch gradient descent', () => {
  it.each([
    ['batch (batchSize = N)', 64, 400],
    ['stochastic (batchSize = 1)', 1, 15],
    ['mini-batch (batchSize = 16)', 16, 60],
  ])('%s converges on a linear regression', async (_name, batchSize, epochs) => {
    await wg.ready();
    wg.setSeed(9);
    const rand = seededRandom(2);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 64; i++) {
      const a = rand();
      const b = rand();
      xs.push(a, b);
      ys.push(3 * a - 2 * b + 0.5);
    }
    const model = wg.sequential([wg.layers.dense({ units: 1, inputShape: [2] })]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError', metrics: ['mae'] });
    const h = await model.fit(wg.tensor(xs, [64, 2]), wg.tensor(ys, [64, 1]), { epochs, batchSize });
    expect((h.history.loss as number[]).at(-1)).toBeLessThan(1e-3);
    const [w, b] = model.getWeights().map((t) => Array.from(t.dataSync()));
    expect(w?.[0]).toBeCloseTo(3, 1);
    expect(w?.[1]).toBeCloseTo(-2, 1);
    expect(b?.[0]).toBeCloseTo(0.5, 1);
  });
});

describe('callbacks, History and stopping', () => {
  it('calls every hook in order and stops when asked', async () => {
    await wg.ready();
    const { x, y } = xor();
    const model = wg.sequential([wg.layers.dense({ units: 1, activation: 'sigmoid', inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });
    const events: string[] = [];
    const h = await model.fit(x, y, {
      epochs: 10,
      batchSize: 2,
      callbacks: {
        onTrainBegin: () => void events.push('trainBegin'),
        onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
        onBatchBegin: (b) => void events.push(`batchBegin ${b}`),
        onBatchEnd: (b, logs) => void events.push(`batchEnd ${b} ${typeof logs?.loss}`),
        onEpochEnd: (e) => {
          events.push(`epochEnd ${e}`);
          if (e === 1) model.stopTraining = true;
        },
        onTrainEnd: () => void events.push('trainEnd'),
      },
    });
    expect(events).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 0',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 1',
      'trainEnd',
    ]);
    expect(h.epoch).toEqual([0, 1]);
  });

  it('a fixed seed gives bitwise identical training runs', async () => {
    await wg.ready();
    const run = async () => {
      wg.setSeed(42);
      const { x, y } = spirals(40, 3);
      const model = wg.sequential([
        wg.layers.dense({ units: 16, activation: 'relu', inputShape: [2] }),
        wg.layers.dense({ units: 2, activation: 'softmax' }),
      ]);
      model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      await model.fit(x, y, { epochs: 5, batchSize: 8 });
      return model.getWeights().flatMap((t) => Array.from(t.dataSync()));
    };
    expect(await run()).toEqual(await run());
  });
});

describe('memory', () => {
  it('stays flat across 10,000 training steps (no dispose calls needed)', async () => {
    await wg.ready();
    const { x, y } = spirals(8, 4);
    const model = wg.sequential([
      wg.layers.dense({ units: 8, activation: 'relu', inputShape: [2] }),
      wg.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(x, y, { epochs: 5, batchSize: 4 });
    const before = wg.memory();
    await model.fit(x, y, { epochs: 2500, batchSize: 4 }); // 4 steps per epoch
    const after = wg.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.wasmBytes).toBe(before.wasmBytes);
  });
});

/**
 * Recurrent layers inside Sequential models: the loss gradient of a stacked lstm → gru → dense
 * model against finite differences of the f64 reference; JSON round trips; typed errors for
 * sequences of the wrong length; and fixed-seed learning runs, each a few seconds of CPU:
 * - LSTM and GRU classify noisy sine vs square waves (≥ 95% test accuracy asserted);
 * - (interop) the same weights give the same predictions in tfjs-layers (Keras weight layout);
 * - embedding → LSTM learns whether token A comes before token B (an order task that a bag of
 *   words cannot solve; ≥ 90% test accuracy asserted).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { rnnReference } from '../shared/rnn-reference.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

describe('recurrent layers in a Sequential model', () => {
  it('lstm (sequences) → gru → dense: loss gradients of every weight match finite differences', async () => {
    await wg.ready();
    wg.setSeed(77);
    const [N, T, F, U1, U2] = [3, 5, 2, 4, 3];
    const model = wg.sequential([
      wg.layers.lstm({ units: U1, returnSequences: true, inputShape: [T, F], biasInitializer: 'randomNormal' }),
      wg.layers.gru({ units: U2, goBackwards: true, biasInitializer: 'randomNormal' }),
      wg.layers.dense({ units: 2 }),
    ]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const rand = seededRandom(77);
    const xv = Array.from({ length: N * T * F }, () => Math.fround(rand(-1, 1)));
    const tv = Array.from({ length: N * 2 }, () => rand(-1, 1));
    const { loss, grads } = model.lossAndGradients(wg.tensor(xv, [N, T, F]), wg.tensor(tv, [N, 2]));
    const w = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const ref = () => {
      const h1 = rnnReference(
        { kind: 'lstm', units: U1, batch: N, time: T, features: F, returnSequences: true },
        xv,
        w[0] as Float64Array,
        w[1] as Float64Array,
        w[2] as Float64Array,
      ).out;
      const h2 = rnnReference(
        { kind: 'gru', units: U2, batch: N, time: T, features: U1, goBackwards: true },
        h1,
        w[3] as Float64Array,
        w[4] as Float64Array,
        w[5] as Float64Array,
      ).out;
      const [k, b] = [w[6] as Float64Array, w[7] as Float64Array];
      let s = 0;
      for (let n = 0; n < N; n++)
        for (let j = 0; j < 2; j++) {
          let a = b[j] as number;
          for (let q = 0; q < U2; q++) a += (h2[n * U2 + q] as number) * (k[q * 2 + j] as number);
          s += (a - (tv[n * 2 + j] as number)) ** 2 / 2;
        }
      return s / N;
    };
    expect(loss).toBeCloseTo(ref(), 5);
    w.forEach((wt, i) => {
      const got = (grads[i] as wg.Tensor).dataSync();
      for (let j = 0; j < wt.length; j++) {
        const keep = wt[j] as number;
        wt[j] = keep + 1e-6;
        const hi = ref();
        wt[j] = keep - 1e-6;
        const lo = ref();
        wt[j] = keep;
        const fd = (hi - lo) / 2e-6;
        const g = got[j] as number;
        if (Math.abs(g - fd) > Math.max(1e-5, 2e-3 * Math.abs(fd))) {
          throw new Error(`weight ${i} (${model.weights[i]?.name}) [${j}]: got ${g}, want ${fd}`);
        }
      }
    });
    model.dispose();
  });

  it('JSON round trip of simpleRNN, lstm and gru models predicts identically; wrong sequence length is a ShapeError', async () => {
    await wg.ready();
    wg.setSeed(5);
    const model = wg.sequential([
      wg.layers.simpleRNN({ units: 3, returnSequences: true, inputShape: [6, 2], activation: 'relu' }),
      wg.layers.lstm({ units: 4, returnSequences: true, goBackwards: true, unitForgetBias: false }),
      wg.layers.gru({ units: 3, returnSequences: true, resetAfter: false }),
      wg.layers.gru({ units: 2, kernelRegularizer: wg.regularizers.l2(0.01) }),
    ]);
    const x = wg.randomNormal([3, 6, 2]);
    const y = model.predict(x).dataSync();
    const json = JSON.stringify(model.toJSON());
    const copy = wg.modelFromJSON(json);
    expect(copy.layers.map((l) => l.className)).toEqual(['SimpleRNN', 'LSTM', 'GRU', 'GRU']);
    copy.layers.forEach((l, i) => {
      expect(l.getConfig()).toEqual(model.layers[i]?.getConfig());
    });
    copy.setWeights(model.getWeights());
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(y));
    // The model checks x against its input shape (a ValueError naming predict and both shapes).
    expect(() => model.predict(wg.zeros([3, 7, 2]))).toThrow(/predict.*\[n,6,2\].*\[3,7,2\]/);
    expect(() => model.predict(wg.zeros([3, 6]))).toThrow(/predict.*\[n,6,2\].*\[3,6\]/);
    expect(() => wg.sequential([wg.layers.lstm({ units: 2, inputShape: [6] })]).build()).toThrow(wg.ShapeError);
    model.dispose();
    copy.dispose();
  });
});

describe('returnState in a functional model', () => {
  it('x → lstm (sequences + states h, c) → gru(seq) ⧺ h ⧺ c → dense: gradients match finite differences; JSON round trip', async () => {
    await wg.ready();
    wg.setSeed(12);
    const [N, T, F, U, U2] = [3, 5, 2, 3, 2];
    const x = wg.input({ shape: [T, F] });
    const lstm = wg.layers.lstm({
      units: U,
      returnSequences: true,
      returnState: true,
      biasInitializer: 'randomNormal',
    });
    const [seq, h, c] = lstm.apply(x) as wg.SymbolicTensor[];
    const gru = wg.layers.gru({ units: U2, biasInitializer: 'randomNormal' });
    const g = gru.apply(seq as wg.SymbolicTensor) as wg.SymbolicTensor;
    const cat = wg.layers.concatenate().apply([g, h, c] as wg.SymbolicTensor[]) as wg.SymbolicTensor;
    const head = wg.layers.dense({ units: 2 });
    const model = wg.model({ inputs: x, outputs: head.apply(cat) as wg.SymbolicTensor });
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const rand = seededRandom(12);
    const xv = Array.from({ length: N * T * F }, () => Math.fround(rand(-1, 1)));
    const tv = Array.from({ length: N * 2 }, () => rand(-1, 1));
    const { loss, grads } = model.lossAndGradients(wg.tensor(xv, [N, T, F]), wg.tensor(tv, [N, 2]));
    const all = model.weights;
    const values = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const of = (layer: wg.layers.Layer) => layer.weights.map((w) => values[all.indexOf(w)] as Float64Array);
    const [lw, gw, dw] = [of(lstm), of(gru), of(head)] as Float64Array[][];
    const ref = () => {
      const l = rnnReference(
        { kind: 'lstm', units: U, batch: N, time: T, features: F, returnSequences: true },
        xv,
        ...(lw as [Float64Array, Float64Array, Float64Array]),
      );
      const gOut = rnnReference(
        { kind: 'gru', units: U2, batch: N, time: T, features: U },
        l.out,
        ...(gw as [Float64Array, Float64Array, Float64Array]),
      ).out;
      const [k, b] = dw as [Float64Array, Float64Array];
      const width = U2 + 2 * U;
      let s = 0;
      for (let n = 0; n < N; n++) {
        const v = [
          ...gOut.subarray(n * U2, n * U2 + U2),
          ...l.h.subarray(n * U, n * U + U),
          ...l.c.subarray(n * U, n * U + U),
        ];
        for (let j = 0; j < 2; j++) {
          let a = b[j] as number;
          for (let q = 0; q < width; q++) a += (v[q] as number) * (k[q * 2 + j] as number);
          s += (a - (tv[n * 2 + j] as number)) ** 2 / 2;
        }
      }
      return s / N;
    };
    expect(loss).toBeCloseTo(ref(), 5);
    values.forEach((wt, i) => {
      const got = (grads[i] as wg.Tensor).dataSync();
      for (let j = 0; j < wt.length; j++) {
        const keep = wt[j] as number;
        wt[j] = keep + 1e-6;
        const hi = ref();
        wt[j] = keep - 1e-6;
        const lo = ref();
        wt[j] = keep;
        const fd = (hi - lo) / 2e-6;
        if (Math.abs((got[j] as number) - fd) > Math.max(1e-5, 2e-3 * Math.abs(fd))) {
          throw new Error(`weight ${all[i]?.name} [${j}]: got ${got[j]}, want ${fd}`);
        }
      }
    });
    const xt = wg.tensor(xv, [N, T, F]);
    const copy = wg.modelFromJSON(JSON.stringify(model.toJSON()));
    copy.setWeights(model.getWeights());
    expect(Array.from(copy.predict(xt).dataSync())).toEqual(Array.from(model.predict(xt).dataSync()));
    model.dispose();
    copy.dispose();
  });
});

describe('memory', () => {
  it('embedding → lstm → gru → dense stays flat over 200 training steps and predicts', async () => {
    await wg.ready();
    wg.setSeed(4);
    const model = wg.sequential([
      wg.layers.embedding({ inputDim: 5, outputDim: 3, inputLength: 6 }),
      wg.layers.lstm({ units: 4, returnSequences: true }),
      wg.layers.gru({ units: 3, goBackwards: true }),
      wg.layers.dense({ units: 1 }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const x = wg.tensor(
      Array.from({ length: 8 * 6 }, (_, i) => (i * 7) % 5),
      [8, 6],
    );
    const y = wg.tensor(
      Array.from({ length: 8 }, (_, i) => i / 8),
      [8, 1],
    );
    await model.fit(x, y, { epochs: 5, batchSize: 4 });
    const before = wg.memory();
    await model.fit(x, y, { epochs: 100, batchSize: 4 });
    model.predict(x).dispose();
    const after = wg.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.wasmBytes).toBe(before.wasmBytes);
    model.dispose();
  });
});

describe('weights interoperate with tfjs-layers', () => {
  it('simpleRNN, lstm and gru (resetAfter false, the form tfjs implements) predict as tfjs-layers with the same weights', async () => {
    await wg.ready();
    await tf.setBackend('cpu');
    wg.setSeed(9);
    const [N, T, F] = [3, 7, 4];
    const rand = seededRandom(9);
    const xv = Array.from({ length: N * T * F }, () => rand(-1, 1));
    const cases = [
      {
        ours: wg.layers.simpleRNN({ units: 5, inputShape: [T, F], returnSequences: true }),
        theirs: tfl.layers.simpleRNN({
          recurrentInitializer: 'glorotUniform', // tfjs 4.22's orthogonal fails (rMat.flatten)
          units: 5,
          inputShape: [T, F],
          returnSequences: true,
        }),
      },
      {
        // tfjs' default gate activation, hardSigmoid.
        ours: wg.layers.lstm({
          units: 6,
          inputShape: [T, F],
          goBackwards: true,
          biasInitializer: 'randomNormal',
          recurrentActivation: 'hardSigmoid',
        }),
        theirs: tfl.layers.lstm({
          recurrentInitializer: 'glorotUniform',
          units: 6,
          inputShape: [T, F],
          goBackwards: true,
        }),
      },
      {
        ours: wg.layers.gru({
          units: 4,
          inputShape: [T, F],
          resetAfter: false,
          returnSequences: true,
          biasInitializer: 'randomNormal',
        }),
        theirs: tfl.layers.gru({
          recurrentInitializer: 'glorotUniform',
          units: 4,
          inputShape: [T, F],
          returnSequences: true,
          recurrentActivation: 'sigmoid',
        }),
      },
    ];
    for (const { ours, theirs } of cases) {
      const model = wg.sequential([ours]);
      const want = tf.tidy(() => {
        const m = tfl.sequential({ layers: [theirs] });
        m.setWeights(model.getWeights().map((t) => tf.tensor(t.dataSync(), t.shape as number[])));
        return (m.predict(tf.tensor3d(xv, [N, T, F])) as tf.Tensor).dataSync();
      });
      const got = model.predict(wg.tensor(xv, [N, T, F])).dataSync();
      assertClose(got, want, { atol: 2e-6, rtol: 1e-5 }, `${ours.className} vs tfjs-layers`);
      model.dispose();
    }
  });
});

/** Noisy sine (label 0) or square (label 1) waves of random frequency, phase and amplitude. */
function waves(n: number, T: number, seed: number): { x: wg.Tensor; y: wg.Tensor } {
  const rand = seededRandom(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const square = i % 2;
    const freq = rand(1, 3) / T;
    const phase = rand(0, 2 * Math.PI);
    const amp = rand(0.5, 1.5);
    for (let t = 0; t < T; t++) {
      const s = Math.sin(2 * Math.PI * freq * t + phase);
      xs.push(amp * (square ? Math.sign(s) : s) + rand(-0.3, 0.3));
    }
    ys.push(square);
  }
  return { x: wg.tensor(xs, [n, T, 1]), y: wg.tensor(ys, [n, 1]) };
}

async function trainWaves(layer: wg.layers.Layer, seed: number): Promise<number> {
  const T = 24;
  const train = waves(512, T, seed);
  const test = waves(256, T, seed + 1);
  const model = wg.sequential([layer, wg.layers.dense({ units: 1, activation: 'sigmoid' })]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: 0.01 }),
    loss: 'binaryCrossentropy',
    metrics: ['accuracy'],
  });
  await model.fit(train.x, train.y, { epochs: 30, batchSize: 32 });
  const acc = model.evaluate(test.x, test.y).accuracy as number;
  model.dispose();
  return acc;
}

describe('recurrent layers learn (fixed seeds)', () => {
  it('LSTM classifies noisy sine vs square waves at ≥ 95% test accuracy', async () => {
    await wg.ready();
    wg.setSeed(1);
    const acc = await trainWaves(wg.layers.lstm({ units: 8, inputShape: [24, 1] }), 100);
    console.log(`LSTM sine vs square test accuracy ${acc.toFixed(3)}`);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });

  it('GRU classifies noisy sine vs square waves at ≥ 95% test accuracy', async () => {
    await wg.ready();
    wg.setSeed(2);
    const acc = await trainWaves(wg.layers.gru({ units: 8, inputShape: [24, 1] }), 200);
    console.log(`GRU sine vs square test accuracy ${acc.toFixed(3)}`);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });

  it('embedding → LSTM learns whether token A comes before token B at ≥ 90% test accuracy', async () => {
    await wg.ready();
    wg.setSeed(3);
    const [V, S] = [10, 10];
    const make = (n: number, seed: number) => {
      const rand = seededRandom(seed);
      const xs: number[] = [];
      const ys: number[] = [];
      for (let i = 0; i < n; i++) {
        const seq = Array.from({ length: S }, () => 3 + Math.floor(rand(0, V - 3)));
        const a = Math.floor(rand(0, S));
        let b = Math.floor(rand(0, S - 1));
        if (b >= a) b++;
        seq[a] = 1;
        seq[b] = 2;
        xs.push(...seq);
        ys.push(a < b ? 1 : 0);
      }
      return { x: wg.tensor(xs, [n, S]), y: wg.tensor(ys, [n, 1]) };
    };
    const train = make(1024, 31);
    const test = make(256, 32);
    const model = wg.sequential([
      wg.layers.embedding({ inputDim: V, outputDim: 8, inputLength: S }),
      wg.layers.lstm({ units: 16 }),
      wg.layers.dense({ units: 1, activation: 'sigmoid' }),
    ]);
    model.compile({
      optimizer: wg.optimizers.adam({ learningRate: 0.01 }),
      loss: 'binaryCrossentropy',
      metrics: ['accuracy'],
    });
    const t0 = performance.now();
    await model.fit(train.x, train.y, { epochs: 15, batchSize: 32 });
    const seconds = (performance.now() - t0) / 1000;
    const acc = model.evaluate(test.x, test.y).accuracy as number;
    console.log(
      `embedding+LSTM order task: test accuracy ${acc.toFixed(3)}, ${((15 * 1024) / seconds).toFixed(0)} samples/s`,
    );
    expect(acc).toBeGreaterThanOrEqual(0.9);
    model.dispose();
  });
});

/**
 * The embedding layer: lookups equal the table rows; the loss gradient w.r.t. the table (rows hit
 * several times accumulate) and the layers after it against central finite differences of an f64
 * reference; bad indices are typed errors naming the layer and the value, raised before anything
 * is written; options, inputLength and the JSON round trip.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

describe('embedding', () => {
  it('predict returns the table rows of the indices, for [batch, seq] and [batch, a, b] inputs', async () => {
    await wg.ready();
    wg.setSeed(3);
    for (const shape of [[4], [2, 3]]) {
      const model = wg.sequential([wg.layers.embedding({ inputDim: 7, outputDim: 5, inputShape: shape })]);
      expect(model.outputShape).toEqual([...shape, 5]);
      const table = (model.getWeights()[0] as wg.Tensor).dataSync();
      const n = 3 * shape.reduce((a, b) => a * b, 1);
      const idx = Array.from({ length: n }, (_, i) => (i * 5 + 2) % 7);
      const y = model.predict(wg.tensor(idx, [3, ...shape])).dataSync();
      const want = idx.flatMap((i) => Array.from(table.subarray(i * 5, i * 5 + 5)));
      expect(Array.from(y)).toEqual(want);
      model.dispose();
    }
  });

  it('loss gradient w.r.t. the table (duplicates summed) and the dense layer after it matches finite differences', async () => {
    await wg.ready();
    wg.setSeed(11);
    const [V, D, S, N] = [6, 3, 5, 4];
    const model = wg.sequential([
      wg.layers.embedding({
        inputDim: V,
        outputDim: D,
        inputLength: S,
        embeddingsInitializer: wg.initializers.randomNormal({ stddev: 0.5 }),
      }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 2, activation: 'tanh', biasInitializer: 'randomNormal' }),
    ]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const rand = seededRandom(11);
    // Index 1 appears often, index 5 never (its gradient must be exactly 0).
    const idx = Array.from({ length: N * S }, (_, i) => (i % 3 === 0 ? 1 : Math.floor(rand(0, 5))));
    const target = Array.from({ length: N * 2 }, () => rand(-1, 1));
    const { loss, grads } = model.lossAndGradients(wg.tensor(idx, [N, S]), wg.tensor(target, [N, 2]));
    const weights = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const ref = () => {
      const [table, k, b] = weights as [Float64Array, Float64Array, Float64Array];
      let s = 0;
      for (let n = 0; n < N; n++)
        for (let j = 0; j < 2; j++) {
          let a = b[j] as number;
          for (let p = 0; p < S; p++)
            for (let d = 0; d < D; d++)
              a += (table[(idx[n * S + p] as number) * D + d] as number) * (k[(p * D + d) * 2 + j] as number);
          s += (Math.tanh(a) - (target[n * 2 + j] as number)) ** 2 / 2;
        }
      return s / N;
    };
    expect(loss).toBeCloseTo(ref(), 5);
    weights.forEach((w, i) => {
      const fd = new Float64Array(w.length);
      for (let j = 0; j < w.length; j++) {
        const keep = w[j] as number;
        w[j] = keep + 1e-6;
        const hi = ref();
        w[j] = keep - 1e-6;
        const lo = ref();
        w[j] = keep;
        fd[j] = (hi - lo) / 2e-6;
      }
      assertClose((grads[i] as wg.Tensor).dataSync(), fd, { atol: 1e-5, rtol: 2e-3 }, `grad ${i}`);
    });
    const g0 = (grads[0] as wg.Tensor).dataSync();
    expect(Array.from(g0.subarray(5 * D, 6 * D))).toEqual([0, 0, 0]);
    expect(Math.abs(g0[1 * D] as number)).toBeGreaterThan(0);
    model.dispose();
  });

  it('bad indices are typed errors naming the layer and the value; nothing is updated', async () => {
    await wg.ready();
    const model = wg.sequential([
      wg.layers.embedding({ name: 'tokens', inputDim: 4, outputDim: 2, inputShape: [3] }),
      wg.layers.flatten(),
      wg.layers.dense({ units: 1 }),
    ]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
    const before = model.getWeights().map((t) => Array.from(t.dataSync()));
    for (const [bad, re] of [
      [4, /tokens.*index 4 .*\[0, 4\)/],
      [-1, /tokens.*index -1/],
      [1.5, /tokens.*index 1.5/],
      [Number.NaN, /tokens.*index NaN/],
    ] as const) {
      const x = wg.tensor([0, 1, 2, 3, bad, 0], [2, 3]);
      expect(() => model.trainOnBatch(x, wg.zeros([2, 1]))).toThrow(wg.ValueError);
      expect(() => model.predict(x)).toThrow(re);
    }
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
    // Valid indices still train.
    model.trainOnBatch(wg.tensor([0, 1, 2, 3, 3, 0], [2, 3]), wg.ones([2, 1]));
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).not.toEqual(before);
    model.dispose();
  });

  it('options: typed errors, inputLength, and the JSON round trip', async () => {
    await wg.ready();
    for (const bad of [0, -3, 2.5, undefined]) {
      expect(() => wg.layers.embedding({ inputDim: bad as number, outputDim: 2 })).toThrow(/inputDim/);
      expect(() => wg.layers.embedding({ inputDim: 2, outputDim: bad as number })).toThrow(/outputDim/);
    }
    expect(() => wg.layers.embedding({ inputDim: 2, outputDim: 2, maskZero: true })).toThrow(/maskZero/);
    expect(() =>
      wg.layers.embedding({ inputDim: 2, outputDim: 2, inputLength: 3, inputShape: [4] }).build([4]),
    ).toThrow(wg.ShapeError);
    wg.setSeed(21);
    const model = wg.sequential([wg.layers.embedding({ inputDim: 9, outputDim: 4, inputLength: 5 })]);
    expect(model.inputShape).toEqual([5]);
    const x = wg.tensor([0, 8, 3, 3, 1, 2, 2, 7, 6, 5], [2, 5]);
    const y = model.predict(x).dataSync();
    const copy = wg.modelFromJSON(JSON.stringify(model.toJSON()));
    expect(copy.layers[0]?.getConfig()).toEqual(model.layers[0]?.getConfig());
    copy.setWeights(model.getWeights());
    expect(Array.from(copy.predict(x).dataSync())).toEqual(Array.from(y));
    model.dispose();
    copy.dispose();
  });
});

/**
 * BatchNormalization and LayerNormalization inside models: the training-mode loss gradient w.r.t.
 * gamma, beta and the weights of the layers around them against central finite differences of a
 * plain f64 reference; the moving statistics after a step against the f64 momentum update; predict
 * and evaluate from the moving statistics; toJSON/modelFromJSON; typed errors for bad options.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

type Spec =
  | { type: 'dense'; units: number; act: 'linear' | 'tanh' }
  | { type: 'conv'; filters: number; k: number }
  | { type: 'bn'; center?: boolean; scale?: boolean }
  | { type: 'ln'; center?: boolean; scale?: boolean }
  | { type: 'flatten' };

const EPS = 1e-3;

/**
 * f64 normalization of [rows, c] data. `perRow` (layer norm) normalizes each row, otherwise each
 * column over the rows (batch norm, biased batch variance); `stats` replaces the batch statistics
 * (inference: moving mean and variance).
 */
function normalize(
  x: Float64Array,
  c: number,
  perRow: boolean,
  gamma: Float64Array | undefined,
  beta: Float64Array | undefined,
  stats?: { mean: Float64Array; variance: Float64Array },
): Float64Array {
  const rows = x.length / c;
  const out = new Float64Array(x.length);
  const [groups, len] = perRow ? [rows, c] : [c, rows];
  const at = (g: number, i: number) => (perRow ? g * c + i : i * c + g);
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    let variance = 0;
    if (stats) {
      mean = stats.mean[g] as number;
      variance = stats.variance[g] as number;
    } else {
      for (let i = 0; i < len; i++) mean += (x[at(g, i)] as number) / len;
      for (let i = 0; i < len; i++) variance += ((x[at(g, i)] as number) - mean) ** 2 / len;
    }
    for (let i = 0; i < len; i++) {
      const ch = perRow ? i : g;
      const xhat = ((x[at(g, i)] as number) - mean) / Math.sqrt(variance + EPS);
      out[at(g, i)] = xhat * (gamma ? (gamma[ch] as number) : 1) + (beta ? (beta[ch] as number) : 0);
    }
  }
  return out;
}

/** f64 forward (training mode unless `inference`), consuming weights in getWeights order. */
function refForward(
  specs: Spec[],
  weights: Float64Array[],
  x: Float64Array,
  inShape: number[],
  n: number,
  inference = false,
): Float64Array {
  let h = x;
  let shape = [...inShape];
  let wi = 0;
  for (const s of specs) {
    const c = shape[shape.length - 1] as number;
    if (s.type === 'dense') {
      const [w, b] = [weights[wi++] as Float64Array, weights[wi++] as Float64Array];
      const rows = h.length / c;
      const out = new Float64Array(rows * s.units);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < s.units; j++) {
          let acc = b[j] as number;
          for (let p = 0; p < c; p++) acc += (h[r * c + p] as number) * (w[p * s.units + j] as number);
          out[r * s.units + j] = s.act === 'tanh' ? Math.tanh(acc) : acc;
        }
      h = out;
      shape = [...shape.slice(0, -1), s.units];
    } else if (s.type === 'conv') {
      // 'valid', stride 1, linear, NHWC with an HWIO kernel.
      const [H, W] = shape as [number, number, number];
      const [k, b] = [weights[wi++] as Float64Array, weights[wi++] as Float64Array];
      const [oh, ow, F] = [H - s.k + 1, W - s.k + 1, s.filters];
      const out = new Float64Array(n * oh * ow * F);
      for (let b0 = 0; b0 < n; b0++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++)
            for (let f = 0; f < F; f++) {
              let acc = b[f] as number;
              for (let i = 0; i < s.k; i++)
                for (let j = 0; j < s.k; j++)
                  for (let ci = 0; ci < c; ci++)
                    acc +=
                      (h[((b0 * H + oy + i) * W + ox + j) * c + ci] as number) *
                      (k[((i * s.k + j) * c + ci) * F + f] as number);
              out[((b0 * oh + oy) * ow + ox) * F + f] = acc;
            }
      h = out;
      shape = [oh, ow, F];
    } else if (s.type === 'bn' || s.type === 'ln') {
      const gamma = s.scale === false ? undefined : (weights[wi++] as Float64Array);
      const beta = s.center === false ? undefined : (weights[wi++] as Float64Array);
      let stats: { mean: Float64Array; variance: Float64Array } | undefined;
      if (s.type === 'bn') {
        stats = { mean: weights[wi++] as Float64Array, variance: weights[wi++] as Float64Array };
        if (!inference) stats = undefined;
      }
      h = normalize(h, c, s.type === 'ln', gamma, beta, stats);
    } else {
      shape = [shape.reduce((a, b) => a * b, 1)];
    }
  }
  return h;
}

function makeLayer(s: Spec, inputShape?: number[]): wg.layers.Layer {
  const first = inputShape ? { inputShape } : {};
  const params = {
    gammaInitializer: wg.initializers.randomNormal({ mean: 1, stddev: 0.3 }),
    betaInitializer: wg.initializers.randomNormal({ stddev: 0.3 }),
    center: s.type === 'bn' || s.type === 'ln' ? s.center : undefined,
    scale: s.type === 'bn' || s.type === 'ln' ? s.scale : undefined,
    ...first,
  };
  switch (s.type) {
    case 'dense':
      return wg.layers.dense({ units: s.units, activation: s.act, biasInitializer: 'randomNormal', ...first });
    case 'conv':
      return wg.layers.conv2d({ filters: s.filters, kernelSize: s.k, biasInitializer: 'randomNormal', ...first });
    case 'bn':
      return wg.layers.batchNormalization({ momentum: 0.9, ...params });
    case 'ln':
      return wg.layers.layerNormalization(params);
    default:
      return wg.layers.flatten(first);
  }
}

/** Loss and gradients of the model of `specs` on a random batch against the f64 reference and FD. */
async function gradCheck(specs: Spec[], inShape: number[], seed: number, n = 4) {
  await wg.ready();
  wg.setSeed(seed);
  const rand = seededRandom(seed);
  const model = wg.sequential(specs.map((s, i) => makeLayer(s, i === 0 ? inShape : undefined)));
  model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
  const xv = Float64Array.from({ length: n * inShape.reduce((a, b) => a * b, 1) }, () => Math.fround(rand(-1.5, 1.5)));
  const outShape = model.outputShape;
  const outLen = outShape.reduce((a, b) => a * b, 1);
  const tv = Float64Array.from({ length: n * outLen }, () => rand(-1, 1));
  const x = wg.tensor(Array.from(xv), [n, ...inShape]);
  const y = wg.tensor(Array.from(tv), [n, ...outShape]);
  const { loss: got, grads } = model.lossAndGradients(x, y);
  const weights = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
  const ref = () => {
    const pred = refForward(specs, weights, xv, inShape, n);
    let s = 0;
    for (let i = 0; i < pred.length; i++) s += ((pred[i] as number) - (tv[i] as number)) ** 2 / outLen;
    return s / n;
  };
  expect(got).toBeCloseTo(ref(), 4);
  expect(grads.length).toBe(weights.length);
  weights.forEach((w, k) => {
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
    // Moving statistics do not enter the training-mode loss: their FD (and gradient) is 0.
    assertClose((grads[k] as wg.Tensor).dataSync(), fd, { atol: 2e-4, rtol: 2e-3 }, `grad of weight ${k}`);
  });
  for (const t of [x, y, ...grads]) t.dispose();
  model.dispose();
}

describe('normalization layers: training-mode loss gradients against f64 finite differences', () => {
  it('dense (tanh) → batchNormalization → dense', async () => {
    await gradCheck(
      [{ type: 'dense', units: 5, act: 'tanh' }, { type: 'bn' }, { type: 'dense', units: 2, act: 'linear' }],
      [3],
      31,
    );
  });
  it('conv 2x2 → batchNormalization over NHWC channels (rows = batch·H·W) → flatten → dense', async () => {
    await gradCheck(
      [
        { type: 'conv', filters: 3, k: 2 },
        { type: 'bn' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [4, 3, 2],
      32,
      3,
    );
  });
  it('batchNormalization without center or without scale', async () => {
    await gradCheck(
      [
        { type: 'dense', units: 6, act: 'linear' },
        { type: 'bn', center: false },
        { type: 'dense', units: 2, act: 'tanh' },
      ],
      [4],
      33,
    );
    await gradCheck(
      [
        { type: 'dense', units: 3, act: 'tanh' },
        { type: 'bn', scale: false },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [2],
      34,
    );
  });
  it('dense → layerNormalization → dense, and conv → layerNormalization (per pixel) → dense', async () => {
    await gradCheck(
      [{ type: 'dense', units: 7, act: 'tanh' }, { type: 'ln' }, { type: 'dense', units: 2, act: 'linear' }],
      [3],
      35,
    );
    await gradCheck(
      [
        { type: 'conv', filters: 4, k: 2 },
        { type: 'ln' },
        { type: 'flatten' },
        { type: 'dense', units: 2, act: 'linear' },
      ],
      [3, 3, 2],
      36,
      2,
    );
  });
});

describe('BatchNormalization moving statistics', () => {
  it('one training step moves them by momentum towards the batch mean and unbiased variance; predict and evaluate use them', async () => {
    await wg.ready();
    wg.setSeed(41);
    const [n, c] = [5, 3];
    const momentum = 0.8;
    const model = wg.sequential([
      wg.layers.batchNormalization({
        inputShape: [2, c],
        momentum,
        gammaInitializer: wg.initializers.randomNormal({ mean: 1, stddev: 0.3 }),
        betaInitializer: wg.initializers.randomNormal({ stddev: 0.3 }),
        movingMeanInitializer: wg.initializers.constant({ value: 0.5 }),
        movingVarianceInitializer: wg.initializers.constant({ value: 2 }),
      }),
    ]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
    const rand = seededRandom(41);
    const xv = Float64Array.from({ length: n * 2 * c }, () => Math.fround(rand(-2, 3)));
    const x = wg.tensor(Array.from(xv), [n, 2, c]);
    const y = wg.zeros([n, 2, c]);
    expect(model.trainOnBatch(x, y)).toBeGreaterThan(0);
    const [gamma, beta, mm, mv] = model.getWeights().map((t) => Float64Array.from(t.dataSync())) as Float64Array[];
    const rows = n * 2;
    const wantMean = new Float64Array(c);
    const wantVar = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += (xv[r * c + ch] as number) / rows;
      let ss = 0;
      for (let r = 0; r < rows; r++) ss += ((xv[r * c + ch] as number) - mean) ** 2;
      wantMean[ch] = momentum * 0.5 + (1 - momentum) * mean;
      wantVar[ch] = momentum * 2 + (1 - momentum) * (ss / (rows - 1));
    }
    assertClose(mm as Float64Array, wantMean, { atol: 1e-6, rtol: 1e-5 }, 'movingMean');
    assertClose(mv as Float64Array, wantVar, { atol: 1e-6, rtol: 1e-5 }, 'movingVariance');
    // Inference: (x − movingMean)/√(movingVariance + ε)·gamma + beta.
    const want = normalize(xv, c, false, gamma, beta, { mean: wantMean, variance: wantVar });
    assertClose(model.predict(x).dataSync(), want, { atol: 1e-5, rtol: 1e-5 }, 'predict');
    const mse = want.reduce((s, v) => s + v * v, 0) / want.length;
    expect(model.evaluate(x, y).loss).toBeCloseTo(mse, 5);
    // The training-mode output differs (batch statistics): predict really is inference mode.
    const train = normalize(xv, c, false, gamma, beta);
    expect(Math.abs((train[0] as number) - (want[0] as number))).toBeGreaterThan(1e-3);
    expect(model.weights.filter((w) => w.trainable).map((w) => w.name.split('/')[1])).toEqual(['gamma', 'beta']);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });

  it('fit updates the moving statistics from the batch (momentum 0: equal to it), not through the optimizer', async () => {
    await wg.ready();
    wg.setSeed(42);
    const model = wg.sequential([
      wg.layers.dense({ units: 4, inputShape: [3] }),
      wg.layers.batchNormalization({ momentum: 0 }),
      wg.layers.dense({ units: 1 }),
    ]);
    model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0.5 }), loss: 'meanSquaredError' });
    const rand = seededRandom(42);
    const xv = Array.from({ length: 8 * 3 }, () => rand(-1, 1));
    const x = wg.tensor(xv, [8, 3]);
    const before = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    await model.fit(
      x,
      wg.tensor(
        Array.from({ length: 8 }, () => rand(-1, 1)),
        [8, 1],
      ),
      {
        epochs: 1,
        batchSize: 8,
        shuffle: false,
      },
    );
    // momentum 0: the moving statistics equal the batch's, taken with the pre-update dense weights.
    const w = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    expect(w.length).toBe(8);
    const [k0, b0] = before as [Float64Array, Float64Array];
    const z = refForward([{ type: 'dense', units: 4, act: 'linear' }], [k0, b0], Float64Array.from(xv), [3], 8);
    const mean = new Float64Array(4);
    const variance = new Float64Array(4);
    for (let ch = 0; ch < 4; ch++) {
      for (let r = 0; r < 8; r++) mean[ch] = (mean[ch] as number) + (z[r * 4 + ch] as number) / 8;
      for (let r = 0; r < 8; r++)
        variance[ch] = (variance[ch] as number) + ((z[r * 4 + ch] as number) - (mean[ch] as number)) ** 2 / 7;
    }
    assertClose(w[4] as Float64Array, mean, { atol: 1e-5, rtol: 1e-5 }, 'movingMean');
    assertClose(w[5] as Float64Array, variance, { atol: 1e-5, rtol: 1e-5 }, 'movingVariance');
    // The optimizer did move the trainable kernel.
    expect(Array.from(w[0] as Float64Array)).not.toEqual(Array.from(k0));
    model.dispose();
  });
});

describe('normalization layers: serialization and errors', () => {
  it('toJSON/modelFromJSON round trip keeps the options and, with the weights, the predictions', async () => {
    await wg.ready();
    wg.setSeed(51);
    const model = wg.sequential([
      wg.layers.conv2d({ filters: 2, kernelSize: 2, inputShape: [3, 3, 1] }),
      wg.layers.batchNormalization({ momentum: 0.7, epsilon: 1e-2, center: false }),
      wg.layers.flatten(),
      wg.layers.layerNormalization({ epsilon: 1e-4, scale: false }),
      wg.layers.dense({ units: 2 }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const json = JSON.stringify(model.toJSON());
    const copy = wg.modelFromJSON(json);
    expect(JSON.stringify(copy.toJSON())).toBe(json);
    const [bn, ln] = [copy.layers[1], copy.layers[3]] as [wg.layers.BatchNormalization, wg.layers.LayerNormalization];
    expect([bn.momentum, bn.epsilon, bn.center, bn.scale]).toEqual([0.7, 1e-2, false, true]);
    expect([ln.epsilon, ln.center, ln.scale]).toEqual([1e-4, true, false]);
    copy.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    copy.setWeights(model.getWeights());
    const x = wg.tensor(
      Array.from({ length: 18 }, (_, i) => Math.sin(i)),
      [2, 3, 3, 1],
    );
    assertClose(copy.predict(x).dataSync(), model.predict(x).dataSync(), { atol: 0, rtol: 0 }, 'predict');
    model.dispose();
    copy.dispose();
  });

  it('bad options and unsupported axes throw ValueError naming the layer', async () => {
    await wg.ready();
    expect(() => wg.layers.batchNormalization({ momentum: 1.5 })).toThrow(wg.ValueError);
    expect(() => wg.layers.batchNormalization({ epsilon: 0 })).toThrow(/epsilon/);
    expect(() => wg.layers.layerNormalization({ epsilon: Number.NaN })).toThrow(wg.ValueError);
    expect(() => wg.layers.layerNormalization({ axis: 0 })).toThrow(wg.ValueError);
    const ok = wg.layers.batchNormalization({ axis: 3, inputShape: [2, 2, 3] });
    expect(wg.sequential([ok]).outputShape).toEqual([2, 2, 3]);
    const bad = wg.layers.batchNormalization({ name: 'bn_axis', axis: 1, inputShape: [2, 2, 3] });
    expect(() => wg.sequential([bad]).outputShape).toThrow(/bn_axis.*last axis/);
  });
});

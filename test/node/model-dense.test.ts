/**
 * Dense layers and the training step against an f64 reference: forward values, and the gradient
 * of the loss w.r.t. every weight against central finite differences of the f64 reference model.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

// f64 activations and the model's loss, the reference for forward and finite differences.
const erf = (x: number): number => {
  // Abramowitz–Stegun 7.1.26 is too coarse for a reference; use the series/continued fraction.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 80; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
};
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const ACT: Record<string, (x: number) => number> = {
  linear: (x) => x,
  sigmoid: sig,
  tanh: Math.tanh,
  relu: (x) => Math.max(0, x),
  relu6: (x) => Math.min(6, Math.max(0, x)),
  leakyRelu: (x) => (x > 0 ? x : 0.2 * x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)),
  softplus: (x) => Math.log1p(Math.exp(x)),
  swish: (x) => x * sig(x),
  mish: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluSigmoid: (x) => x * sig(1.702 * x),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
};

interface RefLayer {
  w: Float64Array;
  b: Float64Array;
  inF: number;
  units: number;
  act: string;
}

/** Forward of a dense stack in f64; the last layer's softmax is applied when act is 'softmax'. */
function refForward(layers: RefLayer[], x: Float64Array, rows: number): Float64Array {
  let h = x;
  for (const l of layers) {
    const out = new Float64Array(rows * l.units);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < l.units; j++) {
        let s = l.b[j] as number;
        for (let p = 0; p < l.inF; p++) s += (h[r * l.inF + p] as number) * (l.w[p * l.units + j] as number);
        out[r * l.units + j] = s;
      }
      if (l.act === 'softmax') {
        const row = out.subarray(r * l.units, (r + 1) * l.units);
        const m = Math.max(...row);
        let z = 0;
        for (let j = 0; j < row.length; j++) z += Math.exp((row[j] as number) - m);
        for (let j = 0; j < row.length; j++) row[j] = Math.exp((row[j] as number) - m) / z;
      } else {
        const f = ACT[l.act] as (x: number) => number;
        for (let j = 0; j < l.units; j++) out[r * l.units + j] = f(out[r * l.units + j] as number);
      }
    }
    h = out;
  }
  return h;
}

function refLoss(loss: string, pred: Float64Array, target: Float64Array, rows: number, cols: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const p = pred[r * cols + j] as number;
      const t = target[r * cols + j] as number;
      if (loss === 'categoricalCrossentropy') s -= t * Math.log(p);
      else if (loss === 'meanSquaredError') s += (p - t) ** 2 / cols;
      else if (loss === 'binaryCrossentropy') s -= (t * Math.log(p) + (1 - t) * Math.log(1 - p)) / cols;
    }
  }
  return s / rows;
}

async function gradCheck(acts: string[], loss: string, seed: number) {
  await wg.ready();
  wg.setSeed(seed);
  const rand = seededRandom(seed);
  const rows = 5;
  const dims = [3, 6, 4];
  const model = wg.sequential(
    acts.map((act, i) =>
      wg.layers.dense({
        units: dims[i + 1] as number,
        activation: act as wg.ActivationName,
        ...(i === 0 ? { inputShape: [dims[0] as number] } : {}),
        biasInitializer: 'randomNormal',
      }),
    ),
  );
  model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: loss as wg.LossName });
  const xv = Float64Array.from({ length: rows * (dims[0] as number) }, () => Math.fround(rand(-1.5, 1.5)));
  const outDim = dims[acts.length] as number;
  const tv = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    if (loss === 'categoricalCrossentropy') tv[r * outDim + Math.floor(rand(0, outDim))] = 1;
    else
      for (let j = 0; j < outDim; j++)
        tv[r * outDim + j] = loss === 'binaryCrossentropy' ? Math.round(rand(0, 1)) : rand();
  }
  const x = wg.tensor(Array.from(xv), [rows, dims[0] as number]);
  const y = wg.tensor(Array.from(tv), [rows, outDim]);
  const { loss: got, grads } = model.lossAndGradients(x, y);
  const weights = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
  const ref = () =>
    refLoss(
      loss,
      refForward(
        acts.map((act, i) => ({
          w: weights[2 * i] as Float64Array,
          b: weights[2 * i + 1] as Float64Array,
          inF: dims[i] as number,
          units: dims[i + 1] as number,
          act,
        })),
        xv,
        rows,
      ),
      tv,
      rows,
      outDim,
    );
  expect(got).toBeCloseTo(ref(), 4);
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
    assertClose(
      (grads[k] as wg.Tensor).dataSync(),
      fd,
      { atol: 2e-4, rtol: 2e-3 },
      `${acts.join('→')} ${loss} grad of weight ${k}`,
    );
  });
  model.dispose();
}

describe('Dense layers: loss and gradients against f64 finite differences', () => {
  const hidden = Object.keys(ACT);
  it.each(hidden)('hidden activation %s with MSE', async (act) => {
    await gradCheck([act, 'linear'], 'meanSquaredError', 7);
  });
  it('softmax output with categorical cross-entropy (fused from logits)', async () => {
    await gradCheck(['tanh', 'softmax'], 'categoricalCrossentropy', 11);
  });
  it('sigmoid output with binary cross-entropy (fused from logits)', async () => {
    await gradCheck(['relu', 'sigmoid'], 'binaryCrossentropy', 13);
  });
  it('predict applies the final softmax and matches the reference forward', async () => {
    await wg.ready();
    const model = wg.sequential([
      wg.layers.dense({ units: 4, activation: 'gelu', inputShape: [3] }),
      wg.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const xv = [0.5, -1, 2, 0.1, 0.2, -0.3];
    const out = model.predict(wg.tensor(xv, [2, 3])).dataSync();
    const w = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
    const want = refForward(
      [
        { w: w[0] as Float64Array, b: w[1] as Float64Array, inF: 3, units: 4, act: 'gelu' },
        { w: w[2] as Float64Array, b: w[3] as Float64Array, inF: 4, units: 3, act: 'softmax' },
      ],
      Float64Array.from(xv),
      2,
    );
    assertClose(out, want, { atol: 1e-6, rtol: 1e-5 }, 'predict');
  });
});

/**
 * f64 references for functional-model tests: dense, cross and merge layers over [rows, cols]
 * row-major Float64Arrays, the mean squared error, and a finite-difference check of a model's
 * `lossAndGradients` against such a reference.
 */
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, closeEnough, seededRandom } from './tolerance.js';

export type F64 = Float64Array;

/** act(x·W + b) for x [rows, inF], W [inF, units]. */
export function dense(
  x: F64,
  w: F64,
  b: F64 | undefined,
  inF: number,
  act: 'linear' | 'tanh' | 'relu' = 'linear',
): F64 {
  const units = w.length / inF;
  const rows = x.length / inF;
  const y = new Float64Array(rows * units);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < units; j++) {
      let acc = b ? (b[j] as number) : 0;
      for (let p = 0; p < inF; p++) acc += (x[r * inF + p] as number) * (w[p * units + j] as number);
      y[r * units + j] = act === 'tanh' ? Math.tanh(acc) : act === 'relu' ? Math.max(0, acc) : acc;
    }
  return y;
}

/** x0 ⊙ (xl·W + b) + xl, with W given whole (full rank) or as U·V (low rank). */
export function cross(x0: F64, xl: F64, d: number, kernel: F64 | [F64, F64], b: F64 | undefined): F64 {
  const p = Array.isArray(kernel)
    ? dense(dense(xl, kernel[0], undefined, d), kernel[1], b, kernel[0].length / d)
    : dense(xl, kernel, b, d);
  return x0.map((v, i) => v * (p[i] as number) + (xl[i] as number));
}

/** Elementwise merges of one-shape inputs. */
export function merge(kind: 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum', xs: F64[]): F64 {
  const first = xs[0] as F64;
  return first.map((_, i) => {
    const v = xs.map((x) => x[i] as number);
    if (kind === 'add') return v.reduce((a, c) => a + c, 0);
    if (kind === 'subtract') return (v[0] as number) - (v[1] as number);
    if (kind === 'multiply') return v.reduce((a, c) => a * c, 1);
    if (kind === 'average') return v.reduce((a, c) => a + c, 0) / v.length;
    if (kind === 'maximum') return Math.max(...v);
    return Math.min(...v);
  });
}

/** Concatenation along the last axis of [rows, c_k] inputs. */
export function concatLast(xs: F64[], widths: number[]): F64 {
  const rows = (xs[0] as F64).length / (widths[0] as number);
  const total = widths.reduce((a, b) => a + b, 0);
  const y = new Float64Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let o = 0;
    xs.forEach((x, k) => {
      const w = widths[k] as number;
      for (let j = 0; j < w; j++) y[r * total + o + j] = x[r * w + j] as number;
      o += w;
    });
  }
  return y;
}

/** Mean over every element of (pred − target)². */
export function mse(pred: F64, target: F64): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += ((pred[i] as number) - (target[i] as number)) ** 2;
  return s / pred.length;
}

/**
 * Sets seeded weights (uniform in ±`scale`), then compares the model's MSE loss and its
 * `lossAndGradients` with the f64 reference `forward(weights, ...inputs)` and central finite differences
 * of it over every weight value. Returns the number of gradient values checked.
 */
export function checkModelGradients(
  model: wg.LayersModel,
  forward: (w: F64[], ...xs: F64[]) => F64,
  rows: number,
  seed: number,
  scale = 0.8,
): number {
  const rand = seededRandom(seed);
  model.compile({ optimizer: wg.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
  const shapes = model.weights.map((w) => [...w.shape]);
  const weights = shapes.map((s) =>
    Float64Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => Math.fround(rand(-scale, scale))),
  );
  model.setWeights(weights.map((w, i) => wg.tensor(Array.from(w), shapes[i] as number[])));
  const xvs = model.inputShapes.map((shape) =>
    Float64Array.from({ length: rows * shape.reduce((p, q) => p * q, 1) }, () => Math.fround(rand(-1.5, 1.5))),
  );
  const outLen = model.outputShape.reduce((a, b) => a * b, 1);
  const tv = Float64Array.from({ length: rows * outLen }, () => Math.fround(rand(-1, 1)));
  const xs = xvs.map((xv, i) => wg.tensor(Array.from(xv), [rows, ...(model.inputShapes[i] as number[])]));
  const x = xs.length === 1 ? (xs[0] as wg.Tensor) : xs;
  const y = wg.tensor(Array.from(tv), [rows, ...model.outputShape]);
  const { loss, grads } = model.lossAndGradients(x, y);
  const refLoss = () => mse(forward(weights, ...xvs), tv);
  if (!closeEnough(loss, refLoss(), { atol: 1e-6, rtol: 1e-4 })) {
    throw new Error(`loss ${loss}, reference ${refLoss()}`);
  }
  let checked = 0;
  const eps = 1e-6;
  weights.forEach((w, i) => {
    const fd = new Float64Array(w.length);
    for (let j = 0; j < w.length; j++) {
      const keep = w[j] as number;
      w[j] = keep + eps;
      const hi = refLoss();
      w[j] = keep - eps;
      const lo = refLoss();
      w[j] = keep;
      fd[j] = (hi - lo) / (2 * eps);
    }
    assertClose((grads[i] as wg.Tensor).dataSync(), fd, { atol: 1e-4, rtol: 2e-3 }, model.weights[i]?.name);
    checked += w.length;
  });
  for (const t of [...xs, y, ...grads]) t.dispose();
  return checked;
}

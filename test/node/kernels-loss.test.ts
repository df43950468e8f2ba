import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  crossEntropyProbs,
  huber,
  labelsToInt32,
  mae,
  mse,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
} from '../../packages/wasmgrad/src/runtime/kernels/loss.js';
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { nanBuf, numericGrad, put, putI32, randArray } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

// ---- f64 references: each returns the loss averaged over rows (the kernels' contract) ----

/** Σ_j t_j·(logsumexp(x) − x_j) per row (terms with t_j = 0 are 0). */
function softmaxXentRef(x: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[i * cols + j] as number);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp((x[i * cols + j] as number) - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < cols; j++) {
      const tj = t[i * cols + j] as number;
      if (tj !== 0) total += tj * (lse - (x[i * cols + j] as number));
    }
  }
  return total / rows;
}

/** Mean over all elements of f(a, b) (= mean over columns, then rows). */
const elementwiseRef = (f: (a: number, b: number) => number) => (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += f(a[k] as number, b[k] as number);
  return s / a.length;
};
const bce = (x: number, y: number) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
const huberRef = (delta: number) => (a: number, b: number) => {
  const e = Math.abs(a - b);
  return e <= delta ? 0.5 * e * e : delta * (e - 0.5 * delta);
};

/** Keras categorical cross-entropy on probabilities: normalize, clip to [eps, 1 − eps], −Σ t log. */
function probsXentRef(p: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number, eps: number): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += p[i * cols + j] as number;
    for (let j = 0; j < cols; j++) {
      const q = Math.min(Math.max((p[i * cols + j] as number) / s, eps), 1 - eps);
      total -= (t[i * cols + j] as number) * Math.log(q);
    }
  }
  return total / rows;
}

const runtimes = { simd: wg.createRuntime({ simd: true }), scalar: wg.createRuntime({ simd: false }) };
const SHAPES = [
  [1, 1],
  [1, 2],
  [3, 4],
  [2, 5],
  [4, 10],
  [3, 17],
] as const;
// f32 kernels against f64: value and gradient tolerances; finite differences of f64 references.
const VALUE = { atol: 1e-6, rtol: 2e-5 };
const GRAD = { atol: 2e-6, rtol: 1e-3 };

describe.each([
  ['simd', true],
  ['scalar', false],
] as const)('loss kernels on the %s build', (name, simd) => {
  const get = () => runtimes[name];

  it('softmax cross-entropy (one-hot, soft and integer targets): value vs f64, gradient vs finite differences', async () => {
    const rt = await get();
    expect(rt.simd).toBe(simd);
    const rand = seededRandom(11);
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const x = randArray(rand, n, -4, 4);
      const labels = Array.from({ length: rows }, () => Math.floor(rand(0, cols)));
      const onehot = new Array(n).fill(0);
      labels.forEach((l, i) => {
        onehot[i * cols + l] = 1;
      });
      const raw = randArray(rand, n, 0.05, 1);
      const soft = raw.map((v, k) => {
        const i = Math.floor(k / cols);
        return v / raw.slice(i * cols, (i + 1) * cols).reduce((a, b) => a + b, 0);
      });
      const what = `${rows}x${cols}`;
      for (const [kind, t] of [
        ['one-hot', onehot],
        ['soft', soft],
      ] as const) {
        const [px, pt, pg] = [put(rt, x), put(rt, t), nanBuf(rt, n)];
        const loss = softmaxCrossEntropy(rt, rows, cols, px, pt, pg);
        const tf = Float32Array.from(t);
        assertClose([loss], [softmaxXentRef(x, tf, rows, cols)], VALUE, `${kind} loss ${what}`);
        const fd = numericGrad((v) => softmaxXentRef(v, tf, rows, cols), x);
        assertClose(rt.read(pg, n), fd, GRAD, `${kind} gradient ${what}`);
        expect(softmaxCrossEntropy(rt, rows, cols, px, pt, null)).toBe(loss);
      }
      const [px, pl, pg] = [put(rt, x), putI32(rt, labels), nanBuf(rt, n)];
      const loss = sparseSoftmaxCrossEntropy(rt, rows, cols, px, pl, pg, 2 / rows);
      assertClose([loss], [softmaxXentRef(x, onehot, rows, cols)], VALUE, `sparse loss ${what}`);
      const fd = numericGrad((v) => softmaxXentRef(v, onehot, rows, cols), x).map((g) => 2 * g);
      assertClose(rt.read(pg, n), fd, GRAD, `sparse gradient (scale 2/rows) ${what}`);
      // In place: the gradient may overwrite the logits.
      sparseSoftmaxCrossEntropy(rt, rows, cols, px, pl, px, 2 / rows);
      expect(rt.read(px, n)).toEqual(rt.read(pg, n));
    }
  });

  it('binary cross-entropy from logits, MSE, MAE and Huber: value vs f64, gradient vs finite differences', async () => {
    const rt = await get();
    const rand = seededRandom(12);
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      const what = `${rows}x${cols}`;
      const x = randArray(rand, n, -6, 6);
      const y = randArray(rand, n, 0, 1);
      const cases = [
        ['sigmoidCrossEntropy', sigmoidCrossEntropy, elementwiseRef(bce)],
        ['mse', mse, elementwiseRef((a, b) => (a - b) ** 2)],
        ['mae', mae, elementwiseRef((a, b) => Math.abs(a - b))],
        [
          'huber',
          (r: Runtime, rows: number, cols: number, p: number, t: number, g: number | null, scale: number) =>
            huber(r, rows, cols, p, t, g, scale, 1.5),
          elementwiseRef(huberRef(1.5)),
        ],
      ] as const;
      for (const [label, kernel, ref] of cases) {
        const [px, py, pg] = [put(rt, x), put(rt, y), nanBuf(rt, n)];
        const loss = kernel(rt, rows, cols, px, py, pg, 1 / rows);
        assertClose([loss], [ref(x, y)], VALUE, `${label} loss ${what}`);
        assertClose(
          rt.read(pg, n),
          numericGrad((v) => ref(v, y), x),
          GRAD,
          `${label} gradient ${what}`,
        );
        expect(kernel(rt, rows, cols, px, py, null, 1 / rows)).toBe(loss);
      }
    }
  });

  it('cross-entropy on probabilities clips like Keras; gradient vs finite differences', async () => {
    const rt = await get();
    const rand = seededRandom(13);
    const eps = 1e-7;
    for (const [rows, cols] of SHAPES) {
      if (cols === 1) continue; // a single class always clips to 1 − ε: the gradient is zero
      const n = rows * cols;
      const p = randArray(rand, n, 0.05, 1);
      const t = randArray(rand, n, 0, 1);
      const [pp, pt, pg] = [put(rt, p), put(rt, t), nanBuf(rt, n)];
      const loss = crossEntropyProbs(rt, rows, cols, pp, pt, pg, 1 / rows, eps);
      assertClose([loss], [probsXentRef(p, t, rows, cols, eps)], VALUE, `loss ${rows}x${cols}`);
      const fd = numericGrad((v) => probsXentRef(v, t, rows, cols, eps), p);
      assertClose(rt.read(pg, n), fd, GRAD, `gradient ${rows}x${cols}`);
    }
    // A zero probability of the target class clips to ε instead of giving Inf.
    const loss = crossEntropyProbs(rt, 1, 3, put(rt, [0, 0.5, 0.5]), put(rt, [1, 0, 0]), null, 1, 1e-7);
    assertClose([loss], [-Math.log(1e-7)], { rtol: 1e-5 }, 'clipped');
  });

  it('extreme logits stay finite where the math is finite; -Inf and NaN behave as IEEE says', async () => {
    const rt = await get();
    const inf = Number.POSITIVE_INFINITY;
    const x = [1e4, -1e4, -inf, 0, -inf, 2, -inf, 1];
    const onehot = [1, 0, 0, 0, 0, 1, 0, 0];
    const want = Math.log(1 + Math.exp(-1)) / 2;
    const [px, pg] = [put(rt, x), nanBuf(rt, 8)];
    assertClose([sparseSoftmaxCrossEntropy(rt, 2, 4, px, putI32(rt, [0, 1]), pg)], [want], { rtol: 1e-6 }, 'sparse');
    expect(Array.from(rt.read(pg, 8)).every(Number.isFinite)).toBe(true);
    assertClose([softmaxCrossEntropy(rt, 2, 4, px, put(rt, onehot), pg)], [want], { rtol: 1e-6 }, 'dense');
    expect(Array.from(rt.read(pg, 8)).every(Number.isFinite)).toBe(true);
    // The target class at −Inf: the loss is +Inf, as the math says.
    expect(sparseSoftmaxCrossEntropy(rt, 2, 4, px, putI32(rt, [0, 0]), null)).toBe(inf);
    // BCE: saturated logits with matching targets give loss 0 and gradient 0.
    const bx = put(rt, [1e4, -1e4, inf, -inf]);
    expect(sigmoidCrossEntropy(rt, 1, 4, bx, put(rt, [1, 0, 1, 0]), pg, 1)).toBe(0);
    expect(Array.from(rt.read(pg, 4))).toEqual([0, 0, 0, 0]);
    assertClose([sigmoidCrossEntropy(rt, 1, 2, bx, put(rt, [0, 1]), null, 1)], [1e4], { rtol: 1e-7 }, 'bce wrong side');
    // NaN in any input propagates to the loss and its row's gradient.
    const nx = put(rt, [1, Number.NaN, 0, 0, 1, 2]);
    expect(sparseSoftmaxCrossEntropy(rt, 2, 3, nx, putI32(rt, [0, 1]), pg)).toBeNaN();
    const g = rt.read(pg, 6);
    expect(Array.from(g.slice(0, 3)).every(Number.isNaN)).toBe(true);
    expect(Array.from(g.slice(3)).every(Number.isFinite)).toBe(true);
    for (const kernel of [mse, mae, huber, sigmoidCrossEntropy, crossEntropyProbs]) {
      expect(kernel(rt, 2, 3, nx, put(rt, [0, 0, 0, 0, 0, 0]), null, 1)).toBeNaN();
    }
  });

  it('large shapes: random-direction VJP checks of the fused cross-entropies and BCE', async () => {
    const rt = await get();
    const rand = seededRandom(15);
    const [rows, cols] = [256, 100];
    const n = rows * cols;
    const x = randArray(rand, n, -6, 6);
    const v = randArray(rand, n);
    const labels = Array.from({ length: rows }, () => Math.floor(rand(0, cols)));
    const onehot = new Array(n).fill(0);
    labels.forEach((l, i) => {
      onehot[i * cols + l] = 1;
    });
    const y = randArray(rand, n, 0, 1);
    const h = 1e-4;
    const along = (f: (x: ArrayLike<number>) => number) =>
      (f(x.map((xi, k) => xi + h * (v[k] as number))) - f(x.map((xi, k) => xi - h * (v[k] as number)))) / (2 * h);
    const pg = nanBuf(rt, n);
    sparseSoftmaxCrossEntropy(rt, rows, cols, put(rt, x), putI32(rt, labels), pg);
    const vjp = (p: number) => rt.read(p, n).reduce((a, g, k) => a + g * (v[k] as number), 0);
    assertClose(
      [vjp(pg)],
      [along((z) => softmaxXentRef(z, onehot, rows, cols))],
      { atol: 1e-5, rtol: 1e-3 },
      'sparse xent VJP',
    );
    sigmoidCrossEntropy(rt, rows, cols, put(rt, x), put(rt, y), pg);
    assertClose([vjp(pg)], [along((z) => elementwiseRef(bce)(z, y))], { atol: 1e-6, rtol: 1e-3 }, 'BCE VJP');
  });

  it('rejects bad labels and shapes with typed errors naming the value, and writes nothing', async () => {
    const rt = await get();
    const px = put(rt, [1, 2, 3, 4, 5, 6]);
    const pg = put(rt, [7, 7, 7, 7, 7, 7]);
    for (const [labels, bad, index] of [
      [[0, 3], 3, 1],
      [[-1, 0], -1, 0],
    ] as const) {
      const call = () => sparseSoftmaxCrossEntropy(rt, 2, 3, px, putI32(rt, labels), pg);
      expect(call).toThrow(wg.ValueError);
      expect(call).toThrow(
        new RegExp(`sparseSoftmaxCrossEntropy: label ${bad} at index ${index} is not an integer class in \\[0, 3\\)`),
      );
    }
    expect(Array.from(rt.read(pg, 6))).toEqual([7, 7, 7, 7, 7, 7]);
    const ids = putI32(rt, [9, 9, 9]);
    expect(() => labelsToInt32(rt, 3, 3, put(rt, [0, 1.5, 2]), ids)).toThrow(/label 1.5 at index 1 is not an integer/);
    expect(() => labelsToInt32(rt, 3, 3, put(rt, [0, 1, Number.NaN]), ids)).toThrow(/label NaN at index 2/);
    expect(Array.from(new Int32Array(rt.memory.buffer, ids, 3))).toEqual([9, 9, 9]);
    labelsToInt32(rt, 3, 3, put(rt, [2, 0, 1]), ids);
    expect(Array.from(new Int32Array(rt.memory.buffer, ids, 3))).toEqual([2, 0, 1]);
    expect(() => softmaxCrossEntropy(rt, 0, 3, px, px, null)).toThrow(wg.ShapeError);
    expect(() => mse(rt, 2, 0, px, px, null)).toThrow(/meanSquaredError: the batch is empty: shape \[2,0\]/);
    expect(() => mse(rt, 2, 3, px, rt.memory.buffer.byteLength - 4, null)).toThrow(/targets spans bytes/);
    expect(() => mse(rt, 2, 3, px, px, null, Number.NaN)).toThrow(wg.ValueError);
    expect(() => huber(rt, 2, 3, px, px, null, 1, 0)).toThrow(/delta must be a positive finite number, got 0/);
    expect(() => crossEntropyProbs(rt, 2, 3, px, px, null, 1, 0)).toThrow(/epsilon/);
    expect(() => sigmoidCrossEntropy(rt, 2.5, 3, px, px, null)).toThrow(/rows must be a non-negative integer, got 2.5/);
  });
});

describe('SIMD and scalar builds', () => {
  it('give bitwise identical losses and gradients', async () => {
    const [a, b] = [await runtimes.simd, await runtimes.scalar];
    const rand = seededRandom(14);
    const [rows, cols] = [9, 13];
    const n = rows * cols;
    const x = randArray(rand, n, -8, 8);
    const y = randArray(rand, n, 0, 1);
    const labels = Array.from({ length: rows }, (_, i) => (i * 5) % cols);
    const results = [a, b].map((rt) => {
      const [px, py, pl] = [put(rt, x), put(rt, y), putI32(rt, labels)];
      const out: unknown[] = [];
      for (const f of [softmaxCrossEntropy, sigmoidCrossEntropy, crossEntropyProbs, mse, mae, huber]) {
        const pg = nanBuf(rt, n);
        out.push(f(rt, rows, cols, f === crossEntropyProbs ? py : px, py, pg), rt.read(pg, n));
      }
      const pg = nanBuf(rt, n);
      out.push(sparseSoftmaxCrossEntropy(rt, rows, cols, px, pl, pg), rt.read(pg, n));
      return out;
    });
    expect(results[0]).toEqual(results[1]);
  });
});

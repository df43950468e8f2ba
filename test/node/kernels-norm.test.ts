import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  batchNormBackward,
  batchNormInference,
  batchNormTrain,
  layerNorm,
  layerNormBackward,
} from '../../packages/wasmgrad/src/runtime/kernels/norm.js';
import { nanBuf, put, randArray } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const v = Float64Array.from(x);
  const g = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const old = v[k] as number;
    v[k] = old + h;
    const up = f(v);
    v[k] = old - h;
    const down = f(v);
    v[k] = old;
    g[k] = (up - down) / (2 * h);
  }
  return g;
}

/**
 * f64 normalization of groups: `group(i, j)` names the statistics group of element (i, j) of an
 * [rows, cols] matrix and `param(i, j)` the index into gamma/beta. Batch norm groups by column,
 * layer norm by row. Returns y and the per-group mean and biased variance.
 */
function normalizeRef(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
  byRow: boolean,
) {
  const groups = byRow ? rows : cols;
  const size = byRow ? cols : rows;
  const at = (g: number, k: number) => (byRow ? g * cols + k : k * cols + g);
  const param = (g: number, k: number) => (byRow ? k : g);
  const y = new Float64Array(rows * cols);
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let s = 0;
    for (let k = 0; k < size; k++) s += x[at(g, k)] as number;
    const m = s / size;
    let q = 0;
    for (let k = 0; k < size; k++) q += ((x[at(g, k)] as number) - m) ** 2;
    const v = q / size;
    mean[g] = m;
    variance[g] = v;
    for (let k = 0; k < size; k++) {
      const p = param(g, k);
      y[at(g, k)] = (((x[at(g, k)] as number) - m) / Math.sqrt(v + eps)) * (gamma[p] as number) + (beta[p] as number);
    }
  }
  return { y, mean, variance };
}

const runtimes = { simd: wg.createRuntime({ simd: true }), scalar: wg.createRuntime({ simd: false }) };
const VALUE = { atol: 2e-5, rtol: 1e-4 };
const GRAD = { atol: 5e-5, rtol: 2e-3 };

describe.each([
  ['simd', true],
  ['scalar', false],
] as const)('normalization kernels on the %s build', (name, simd) => {
  const get = () => runtimes[name];

  it('batch norm in training mode: outputs, statistics and moving averages vs f64; backward vs finite differences', async () => {
    const rt = await get();
    expect(rt.simd).toBe(simd);
    const rand = seededRandom(21);
    const eps = 1e-3;
    const momentum = 0.9;
    for (const [n, c] of [
      [2, 1],
      [5, 3],
      [8, 4],
      [6, 17],
      [33, 20],
    ] as const) {
      const what = `[${n},${c}]`;
      const x = randArray(rand, n * c, -2, 3);
      const gamma = randArray(rand, c, 0.5, 1.5);
      const beta = randArray(rand, c);
      const dy = randArray(rand, n * c);
      const mm0 = randArray(rand, c);
      const mv0 = randArray(rand, c, 0.5, 2);
      const [px, py, pg, pb] = [put(rt, x), nanBuf(rt, n * c), put(rt, gamma), put(rt, beta)];
      const [pmean, pinv, pmm, pmv] = [nanBuf(rt, c), nanBuf(rt, c), put(rt, mm0), put(rt, mv0)];
      batchNormTrain(
        rt,
        n,
        c,
        px,
        py,
        { gamma: pg, beta: pb, mean: pmean, invstd: pinv, movingMean: pmm, movingVar: pmv },
        eps,
        momentum,
      );
      const ref = normalizeRef(x, n, c, gamma, beta, eps, false);
      assertClose(rt.read(py, n * c), ref.y, VALUE, `y ${what}`);
      assertClose(rt.read(pmean, c), ref.mean, VALUE, `mean ${what}`);
      assertClose(
        rt.read(pinv, c),
        Array.from(ref.variance, (v) => 1 / Math.sqrt(v + eps)),
        VALUE,
        `invstd ${what}`,
      );
      assertClose(
        rt.read(pmm, c),
        Array.from(ref.mean, (m, j) => momentum * (mm0[j] as number) + (1 - momentum) * m),
        VALUE,
        `moving mean ${what}`,
      );
      const unbiased = (v: number) => (v * n) / (n - 1);
      assertClose(
        rt.read(pmv, c),
        Array.from(ref.variance, (v, j) => momentum * (mv0[j] as number) + (1 - momentum) * unbiased(v)),
        VALUE,
        `moving variance ${what}`,
      );
      // Backward of L = Σ dy·y(x, gamma, beta) through the batch statistics.
      const [pdx, pdg, pdb] = [nanBuf(rt, n * c), nanBuf(rt, c), nanBuf(rt, c)];
      batchNormBackward(rt, n, c, px, put(rt, dy), pdx, {
        gamma: pg,
        mean: pmean,
        invstd: pinv,
        dgamma: pdg,
        dbeta: pdb,
      });
      const L = (xv: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(dy, normalizeRef(xv, n, c, g, b, eps, false).y);
      assertClose(
        rt.read(pdx, n * c),
        numericGrad((v) => L(v, gamma, beta), x),
        GRAD,
        `dx ${what}`,
      );
      assertClose(
        rt.read(pdg, c),
        numericGrad((v) => L(x, v, beta), gamma),
        GRAD,
        `dgamma ${what}`,
      );
      assertClose(
        rt.read(pdb, c),
        numericGrad((v) => L(x, gamma, v), beta),
        GRAD,
        `dbeta ${what}`,
      );
      // Inference with the moving statistics.
      const pyi = nanBuf(rt, n * c);
      batchNormInference(rt, n, c, px, pyi, { gamma: pg, beta: pb, movingMean: pmm, movingVar: pmv }, eps);
      const mm = rt.read(pmm, c);
      const mv = rt.read(pmv, c);
      const want = x.map((v, k) => {
        const j = k % c;
        return (
          ((v - (mm[j] as number)) / Math.sqrt((mv[j] as number) + eps)) * (gamma[j] as number) + (beta[j] as number)
        );
      });
      assertClose(rt.read(pyi, n * c), want, VALUE, `inference ${what}`);
    }
  });

  it('batch norm without gamma/beta, NHWC as [N·H·W, C], and NaN confined to its channel', async () => {
    const rt = await get();
    const rand = seededRandom(22);
    const [N, H, W, C] = [2, 3, 3, 5];
    const n = N * H * W;
    const x = randArray(rand, n * C);
    const py = nanBuf(rt, n * C);
    batchNormTrain(rt, n, C, put(rt, x), py, {}, 1e-3, 0.99);
    const ones = new Array(C).fill(1);
    const zeros = new Array(C).fill(0);
    assertClose(rt.read(py, n * C), normalizeRef(x, n, C, ones, zeros, 1e-3, false).y, VALUE, 'no gamma/beta');
    x[7] = Number.NaN; // row 1, channel 2
    batchNormTrain(rt, n, C, put(rt, x), py, {}, 1e-3, 0.99);
    const y = rt.read(py, n * C);
    for (let k = 0; k < n * C; k++) expect(Number.isNaN(y[k] as number)).toBe(k % C === 2);
  });

  it('layer norm forward vs f64, backward vs finite differences', async () => {
    const rt = await get();
    const rand = seededRandom(23);
    const eps = 1e-5;
    for (const [rows, cols] of [
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 17],
      [2, 40],
    ] as const) {
      const what = `[${rows},${cols}]`;
      const x = randArray(rand, rows * cols, -2, 4);
      const gamma = randArray(rand, cols, 0.5, 1.5);
      const beta = randArray(rand, cols);
      const dy = randArray(rand, rows * cols);
      const [px, py, pg, pb, pmean, prstd] = [
        put(rt, x),
        nanBuf(rt, rows * cols),
        put(rt, gamma),
        put(rt, beta),
        nanBuf(rt, rows),
        nanBuf(rt, rows),
      ];
      layerNorm(rt, rows, cols, px, py, { gamma: pg, beta: pb, mean: pmean, rstd: prstd }, eps);
      const ref = normalizeRef(x, rows, cols, gamma, beta, eps, true);
      assertClose(rt.read(py, rows * cols), ref.y, VALUE, `y ${what}`);
      assertClose(rt.read(pmean, rows), ref.mean, VALUE, `mean ${what}`);
      assertClose(
        rt.read(prstd, rows),
        Array.from(ref.variance, (v) => 1 / Math.sqrt(v + eps)),
        VALUE,
        `rstd ${what}`,
      );
      const [pdx, pdg, pdb] = [nanBuf(rt, rows * cols), nanBuf(rt, cols), nanBuf(rt, cols)];
      layerNormBackward(rt, rows, cols, px, put(rt, dy), pdx, {
        gamma: pg,
        mean: pmean,
        rstd: prstd,
        dgamma: pdg,
        dbeta: pdb,
      });
      const L = (xv: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(dy, normalizeRef(xv, rows, cols, g, b, eps, true).y);
      // One column: x̂ = 0 whatever x is, so every derivative w.r.t. x is 0 (the FD agrees).
      assertClose(
        rt.read(pdx, rows * cols),
        numericGrad((v) => L(v, gamma, beta), x),
        GRAD,
        `dx ${what}`,
      );
      assertClose(
        rt.read(pdg, cols),
        numericGrad((v) => L(x, v, beta), gamma),
        GRAD,
        `dgamma ${what}`,
      );
      assertClose(
        rt.read(pdb, cols),
        numericGrad((v) => L(x, gamma, v), beta),
        GRAD,
        `dbeta ${what}`,
      );
    }
  });

  it('large shapes: random-direction VJP checks of batch-norm and layer-norm backward', async () => {
    const rt = await get();
    const rand = seededRandom(25);
    const eps = 1e-3;
    for (const [byRow, rows, cols] of [
      [false, 512, 24],
      [true, 64, 300],
    ] as const) {
      const n = rows * cols;
      const groups = cols; // gamma/beta: one per channel (batch norm) or per feature (layer norm)
      const x = randArray(rand, n, -2, 3);
      const gamma = randArray(rand, groups, 0.5, 1.5);
      const beta = randArray(rand, groups);
      const dy = randArray(rand, n);
      const v = randArray(rand, n);
      const [px, py, pg, pb, pdx] = [put(rt, x), nanBuf(rt, n), put(rt, gamma), put(rt, beta), nanBuf(rt, n)];
      const stats = byRow ? rows : cols;
      const [pm, ps] = [nanBuf(rt, stats), nanBuf(rt, stats)];
      if (byRow) {
        layerNorm(rt, rows, cols, px, py, { gamma: pg, beta: pb, mean: pm, rstd: ps }, eps);
        layerNormBackward(rt, rows, cols, px, put(rt, dy), pdx, { gamma: pg, mean: pm, rstd: ps });
      } else {
        batchNormTrain(rt, rows, cols, px, py, { gamma: pg, beta: pb, mean: pm, invstd: ps }, eps);
        batchNormBackward(rt, rows, cols, px, put(rt, dy), pdx, { gamma: pg, mean: pm, invstd: ps });
      }
      // d/dh Σ dy·y(x + h·v) at h = 0 equals ⟨dx, v⟩.
      const L = (h: number) =>
        dot(
          dy,
          normalizeRef(
            x.map((xi, k) => xi + h * (v[k] as number)),
            rows,
            cols,
            gamma,
            beta,
            eps,
            byRow,
          ).y,
        );
      const h = 1e-4;
      const fd = (L(h) - L(-h)) / (2 * h);
      assertClose(
        [dot(rt.read(pdx, n), v)],
        [fd],
        { atol: 1e-3, rtol: 1e-3 },
        `${byRow ? 'layer' : 'batch'} norm VJP [${rows},${cols}]`,
      );
    }
  });

  it('rejects bad shapes and parameters with typed errors', async () => {
    const rt = await get();
    const p = put(rt, [1, 2, 3, 4]);
    expect(() => batchNormTrain(rt, 0, 4, p, p, {})).toThrow(wg.ShapeError);
    expect(() => batchNormTrain(rt, 0, 4, p, p, {})).toThrow(
      /batchNormalization: statistics over 0 rows are undefined: shape \[0,4\]/,
    );
    expect(() => batchNormTrain(rt, 1, 4, p, p, {}, 0)).toThrow(/epsilon must be a positive finite number, got 0/);
    expect(() => batchNormTrain(rt, 1, 4, p, p, {}, 1e-3, 1.5)).toThrow(/momentum must lie in \[0, 1\], got 1.5/);
    expect(() => batchNormTrain(rt, 2, 4, rt.memory.buffer.byteLength - 16, p, {})).toThrow(/x spans bytes/);
    expect(() => layerNorm(rt, 2, 0, p, p, {})).toThrow(wg.ShapeError);
    expect(() => layerNorm(rt, 1, 4, p, p, {}, Number.NaN)).toThrow(wg.ValueError);
    expect(() => layerNorm(rt, 1, 4, p, p, { gamma: rt.memory.buffer.byteLength - 4 })).toThrow(/gamma spans bytes/);
    expect(() => batchNormInference(rt, 1, 4, p, p, { movingMean: 2, movingVar: p })).toThrow(/movingMean spans bytes/);
    expect(() => layerNormBackward(rt, -1, 4, p, p, p, { mean: p, rstd: p })).toThrow(
      /rows must be a non-negative integer, got -1/,
    );
  });
});

describe('SIMD and scalar builds', () => {
  it('give bitwise identical normalization results', async () => {
    const [a, b] = [await runtimes.simd, await runtimes.scalar];
    const rand = seededRandom(24);
    const [n, c] = [19, 21];
    const x = randArray(rand, n * c, -3, 3);
    const dy = randArray(rand, n * c);
    const g = randArray(rand, c, 0.5, 1.5);
    const results = [a, b].map((rt) => {
      const [px, pdy, pg] = [put(rt, x), put(rt, dy), put(rt, g)];
      const [y, mean, inv, dx, dg, db] = [
        nanBuf(rt, n * c),
        nanBuf(rt, c),
        nanBuf(rt, c),
        nanBuf(rt, n * c),
        nanBuf(rt, c),
        nanBuf(rt, c),
      ];
      batchNormTrain(rt, n, c, px, y, { gamma: pg, mean, invstd: inv });
      batchNormBackward(rt, n, c, px, pdy, dx, { gamma: pg, mean, invstd: inv, dgamma: dg, dbeta: db });
      const [ly, lm, lr, ldx] = [nanBuf(rt, n * c), nanBuf(rt, n), nanBuf(rt, n), nanBuf(rt, n * c)];
      layerNorm(rt, n, c, px, ly, { gamma: pg, mean: lm, rstd: lr });
      layerNormBackward(rt, n, c, px, pdy, ldx, { gamma: pg, mean: lm, rstd: lr });
      return [y, mean, inv, dx, dg, db, ly, lm, lr, ldx].map((p, k) =>
        rt.read(p, [0, 3, 6, 9].includes(k) ? n * c : k === 7 || k === 8 ? n : c),
      );
    });
    expect(results[0]).toEqual(results[1]);
  });
});

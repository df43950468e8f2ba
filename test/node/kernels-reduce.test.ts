import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  argmaxRows,
  countArgmaxEqual,
  countArgmaxMatch,
  l2Norm,
  maxRows,
  mean,
  sum,
  sumCols,
  sumRows,
  sumSquares,
} from '../../packages/wasmgrad/src/runtime/kernels/reduce.js';
import {
  logSoftmax,
  logSoftmaxBackward,
  softmax,
  softmaxBackward,
} from '../../packages/wasmgrad/src/runtime/kernels/softmax.js';
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { nanBuf, numericGrad, put, putI32 } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

type Rt = Runtime;
const readI32 = (rt: Rt, p: number, n: number) => Array.from(new Int32Array(rt.memory.buffer, p, n));
const randArray = (rand: () => number, n: number, s = 1) => Array.from({ length: n }, () => Math.fround(rand() * s));

/** f64 log-softmax of each row of a row-major matrix. */
function logSoftmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[i * cols + j] as number);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp((x[i * cols + j] as number) - m);
    for (let j = 0; j < cols; j++) out[i * cols + j] = (x[i * cols + j] as number) - m - Math.log(s);
  }
  return out;
}
const softmaxRef = (x: ArrayLike<number>, rows: number, cols: number) => logSoftmaxRef(x, rows, cols).map(Math.exp);

/** Central finite differences of the scalar f at x (f64, step h). */
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

const runtimes = { simd: wg.createRuntime({ simd: true }), scalar: wg.createRuntime({ simd: false }) };

describe.each([
  ['simd', true],
  ['scalar', false],
] as const)('reductions on the %s build', (name, simd) => {
  const get = () => runtimes[name];

  it('sums over rows and columns (strided, scaled, accumulating) match f64', async () => {
    const rt = await get();
    expect(rt.simd).toBe(simd);
    const rand = seededRandom(1);
    for (const [rows, cols] of [
      [1, 1],
      [3, 5],
      [33, 17],
      [2, 16],
      [70, 37],
      [0, 4],
      [4, 0],
    ] as const) {
      const ldx = cols + 2;
      const x = randArray(rand, rows * ldx);
      const px = put(rt, x);
      const out = nanBuf(rt, cols);
      sumRows(rt, rows, cols, px, out, { ldx, scale: 0.5 });
      const want = Array.from({ length: cols }, (_, j) => {
        let s = 0;
        for (let i = 0; i < rows; i++) s += x[i * ldx + j] as number;
        return 0.5 * s;
      });
      assertClose(rt.read(out, cols), want, { atol: 1e-6, rtol: 1e-5 }, `sumRows ${rows}x${cols}`);
      sumRows(rt, rows, cols, px, out, { ldx, scale: 0.5, accumulate: true });
      assertClose(
        rt.read(out, cols),
        want.map((v) => 2 * v),
        { atol: 1e-6, rtol: 1e-5 },
        `sumRows += ${rows}x${cols}`,
      );
      const outc = nanBuf(rt, rows);
      sumCols(rt, rows, cols, px, outc, { ldx });
      const wantc = Array.from({ length: rows }, (_, i) => {
        let s = 0;
        for (let j = 0; j < cols; j++) s += x[i * ldx + j] as number;
        return s;
      });
      assertClose(rt.read(outc, rows), wantc, { atol: 1e-6, rtol: 1e-5 }, `sumCols ${rows}x${cols}`);
    }
  });

  it('total sum, mean, sum of squares and L2 norm stay accurate up to 1e6 values', async () => {
    const rt = await get();
    const rand = seededRandom(2);
    for (const n of [0, 1, 5, 16, 17, 257, 1000, 1_000_000]) {
      const x = randArray(rand, n);
      const p = put(rt, x);
      let s = 0;
      let q = 0;
      for (const v of x) {
        s += v;
        q += v * v;
      }
      // Pairwise summation: error relative to Σ|x| ~ 40 ε even at 1e6 (a running sum allows 1e6 ε).
      const abs = x.reduce((a, v) => a + Math.abs(v), 0);
      expect(Math.abs(sum(rt, n, p) - s)).toBeLessThanOrEqual(Math.max(1e-6, 5e-6 * abs));
      expect(Math.abs(sumSquares(rt, n, p) - q)).toBeLessThanOrEqual(Math.max(1e-6, 5e-6 * q));
      assertClose([l2Norm(rt, n, p)], [Math.sqrt(q)], { atol: 1e-6, rtol: 5e-6 }, `l2Norm ${n}`);
      assertClose([mean(rt, n, p)], [n === 0 ? Number.NaN : s / n], { atol: 1e-6, rtol: 1e-5 }, `mean ${n}`);
    }
    const ones = put(rt, new Float32Array(1_000_000).fill(0.1));
    assertClose([sum(rt, 1_000_000, ones)], [Math.fround(0.1) * 1e6], { rtol: 1e-6 }, 'sum of 1e6 copies of 0.1');
    const big = put(rt, [3e30, -4e30, 1]);
    assertClose([l2Norm(rt, 3, big)], [5e30], { rtol: 1e-6 }, 'l2Norm without overflow');
    expect(sumSquares(rt, 3, big)).toBe(Number.POSITIVE_INFINITY);
    expect(l2Norm(rt, 3, put(rt, [1, Number.NaN, 2]))).toBeNaN();
  });

  it('max, argmax and accuracy counts per row, NaN counting as the maximum', async () => {
    const rt = await get();
    const rand = seededRandom(3);
    for (const cols of [1, 3, 4, 7, 9, 17, 40]) {
      const rows = 6;
      const ldx = cols + 1;
      const x = randArray(rand, rows * ldx);
      x[ldx + (cols >> 1)] = Number.NaN;
      x[2 * ldx + cols - 1] = 5;
      x[3 * ldx] = 5;
      x[3 * ldx + cols - 1] = 5;
      const px = put(rt, x);
      const mx = nanBuf(rt, rows);
      const am = putI32(rt, new Array(rows).fill(-7));
      maxRows(rt, rows, cols, px, mx, ldx);
      argmaxRows(rt, rows, cols, px, am, ldx);
      const wantMax: number[] = [];
      const wantArg: number[] = [];
      for (let i = 0; i < rows; i++) {
        const row = x.slice(i * ldx, i * ldx + cols);
        const nan = row.findIndex(Number.isNaN);
        const m = Math.max(...row);
        wantMax.push(m);
        wantArg.push(nan >= 0 ? nan : row.indexOf(m));
      }
      assertClose(rt.read(mx, rows), wantMax, { atol: 0, rtol: 0 }, `maxRows cols ${cols}`);
      expect(readI32(rt, am, rows)).toEqual(wantArg);
      const labels = Array.from({ length: rows }, (_, i) => i % cols);
      const correct = labels.filter((l, i) => l === wantArg[i]).length;
      expect(countArgmaxEqual(rt, rows, cols, px, putI32(rt, labels), ldx)).toBe(correct);
      const onehot = new Array(rows * cols).fill(0);
      labels.forEach((l, i) => {
        onehot[i * cols + l] = 1;
      });
      expect(countArgmaxMatch(rt, rows, cols, px, put(rt, onehot), ldx, cols)).toBe(correct);
    }
  });

  it('softmax and log-softmax forward match f64, backward matches finite differences', async () => {
    const rt = await get();
    const rand = seededRandom(4);
    for (const [rows, cols] of [
      [1, 1],
      [2, 3],
      [3, 4],
      [2, 17],
      [4, 10],
      [1, 100],
    ] as const) {
      const n = rows * cols;
      const x = randArray(rand, n, 5);
      const dy = randArray(rand, n);
      const [px, pdy, py, ply, pdx, pldx] = [
        put(rt, x),
        put(rt, dy),
        nanBuf(rt, n),
        nanBuf(rt, n),
        nanBuf(rt, n),
        nanBuf(rt, n),
      ];
      softmax(rt, rows, cols, px, py);
      logSoftmax(rt, rows, cols, px, ply);
      softmaxBackward(rt, rows, cols, py, pdy, pdx);
      logSoftmaxBackward(rt, rows, cols, ply, pdy, pldx);
      const what = `${rows}x${cols}`;
      assertClose(rt.read(py, n), softmaxRef(x, rows, cols), { atol: 1e-7, rtol: 1e-5 }, `softmax ${what}`);
      assertClose(rt.read(ply, n), logSoftmaxRef(x, rows, cols), { atol: 1e-6, rtol: 1e-5 }, `logSoftmax ${what}`);
      // d/dx Σ dy·softmax(x) and d/dx Σ dy·logSoftmax(x), by central differences of the f64 reference.
      const fdSoft = numericGrad((v) => dot(dy, softmaxRef(v, rows, cols)), x);
      const fdLog = numericGrad((v) => dot(dy, logSoftmaxRef(v, rows, cols)), x);
      assertClose(rt.read(pdx, n), fdSoft, { atol: 1e-5, rtol: 1e-3 }, `softmaxBackward ${what}`);
      assertClose(rt.read(pldx, n), fdLog, { atol: 1e-5, rtol: 1e-3 }, `logSoftmaxBackward ${what}`);
    }
  });

  it('softmax of extreme logits stays finite where defined; undefined rows and NaN give NaN', async () => {
    const rt = await get();
    const inf = Number.POSITIVE_INFINITY;
    const x = [1e4, -1e4, 0, -inf, 5, -inf, -inf, -inf, -inf, -inf, 1, Number.NaN, 0, 0, 0, -inf, 1, -inf, 1, 0];
    const px = put(rt, x);
    const [py, ply] = [nanBuf(rt, 20), nanBuf(rt, 20)];
    softmax(rt, 4, 5, px, py);
    logSoftmax(rt, 4, 5, px, ply);
    const y = rt.read(py, 20);
    const ly = rt.read(ply, 20);
    expect(Array.from(y.slice(0, 5))).toEqual([1, 0, 0, 0, 0]);
    expect(Array.from(ly.slice(0, 5))).toEqual([0, -2e4, -1e4, -inf, -9995]);
    expect(Array.from(y.slice(5, 15)).every(Number.isNaN)).toBe(true);
    const e = Math.exp(1);
    assertClose(
      y.slice(15),
      [0, e / (2 * e + 1), 0, e / (2 * e + 1), 1 / (2 * e + 1)],
      { atol: 1e-7, rtol: 1e-6 },
      'row with -inf',
    );
    expect(ly[15]).toBe(-inf);
  });

  it('rejects bad arguments with typed errors', async () => {
    const rt = await get();
    const p = put(rt, [1, 2, 3, 4]);
    expect(() => sumRows(rt, 2, 2, p, p, { ldx: 1 })).toThrow(wg.ShapeError);
    expect(() => sumRows(rt, 2, 2, p, p, { ldx: 1 })).toThrow(/sumRows: x row stride 1 is smaller than its 2 columns/);
    expect(() => sumRows(rt, -1, 2, p, p)).toThrow(wg.ValueError);
    expect(() => sumRows(rt, 1.5, 2, p, p)).toThrow(/rows must be a non-negative integer, got 1.5/);
    expect(() => sumRows(rt, 2, 2, p, p, { scale: Number.NaN })).toThrow(/scale must be a finite number/);
    expect(() => sum(rt, 1 << 30, p)).toThrow(wg.ValueError);
    expect(() => argmaxRows(rt, 2, 0, p, p)).toThrow(wg.ShapeError);
    expect(() => softmax(rt, 3, 0, p, p)).toThrow(wg.ShapeError);
    expect(() => softmax(rt, 2, 2, p, rt.memory.buffer.byteLength - 8)).toThrow(/outside the heap/);
    expect(() => maxRows(rt, 1, 2, 3, p)).toThrow(wg.ValueError);
  });
});

describe('SIMD and scalar builds', () => {
  it('give bitwise identical reductions and softmax', async () => {
    const [a, b] = [await runtimes.simd, await runtimes.scalar];
    const rand = seededRandom(5);
    const [rows, cols] = [37, 23];
    const x = randArray(rand, rows * cols, 10);
    const dy = randArray(rand, rows * cols);
    const results = [a, b].map((rt) => {
      const [px, pdy] = [put(rt, x), put(rt, dy)];
      const [s, c, y, dx] = [nanBuf(rt, cols), nanBuf(rt, rows), nanBuf(rt, rows * cols), nanBuf(rt, rows * cols)];
      sumRows(rt, rows, cols, px, s);
      sumCols(rt, rows, cols, px, c);
      logSoftmax(rt, rows, cols, px, y);
      logSoftmaxBackward(rt, rows, cols, y, pdy, dx);
      return [
        rt.read(s, cols),
        rt.read(c, rows),
        rt.read(y, rows * cols),
        rt.read(dx, rows * cols),
        [sum(rt, rows * cols, px), l2Norm(rt, rows * cols, px)],
      ];
    });
    expect(results[0]).toEqual(results[1]);
  });
});

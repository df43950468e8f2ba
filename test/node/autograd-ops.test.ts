/**
 * Every differentiable op, on the SIMD and the scalar build: forward against a plain f64 reference,
 * backward (the vector–Jacobian product with a random dy) against central finite differences of
 * that reference (test/shared/gradcheck.ts), and random-direction VJP checks at larger shapes.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkOp, checkVjpDirections, type RefFn } from '../shared/gradcheck.js';
import {
  broadcastRef,
  erf,
  map,
  SELU_A,
  SELU_L,
  sig,
  softmaxRef,
  softplusRef,
  sumRef,
} from '../shared/op-references.js';

/** [name, op, reference, input range, gap around kinks/poles]. */
const UNARY: [string, (x: wg.Tensor) => wg.Tensor, (v: number) => number, [number, number], number][] = [
  ['relu', wg.relu, (v) => Math.max(v, 0), [-3, 3], 0.05],
  ['relu6', wg.relu6, (v) => Math.min(Math.max(v, 0), 6), [-3, 9], 0.05],
  ['leakyRelu', (x) => wg.leakyRelu(x, 0.1), (v) => (v > 0 ? v : 0.1 * v), [-3, 3], 0.05],
  ['elu', (x) => wg.elu(x, 0.7), (v) => (v > 0 ? v : 0.7 * Math.expm1(v)), [-3, 3], 0.05],
  ['selu', wg.selu, (v) => SELU_L * (v > 0 ? v : SELU_A * Math.expm1(v)), [-3, 3], 0.05],
  ['sigmoid', wg.sigmoid, sig, [-6, 6], 0],
  ['tanh', wg.tanh, Math.tanh, [-4, 4], 0],
  ['softplus', wg.softplus, softplusRef, [-6, 6], 0],
  ['swish', wg.swish, (v) => v * sig(v), [-6, 6], 0],
  ['mish', wg.mish, (v) => v * Math.tanh(softplusRef(v)), [-6, 6], 0],
  ['gelu', wg.gelu, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), [-5, 5], 0],
  [
    'geluTanh',
    wg.geluTanh,
    (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    [-5, 5],
    0,
  ],
  ['geluSigmoid', wg.geluSigmoid, (v) => v * sig(1.702 * v), [-5, 5], 0],
  ['exp', wg.exp, Math.exp, [-4, 4], 0],
  ['log', wg.log, Math.log, [0.05, 5], 0],
  ['sqrt', wg.sqrt, Math.sqrt, [0.05, 5], 0],
  ['expm1', wg.expm1, Math.expm1, [-3, 3], 0],
  ['log1p', wg.log1p, Math.log1p, [-0.9, 4], 0],
  ['reciprocal', wg.reciprocal, (v) => 1 / v, [-3, 3], 0.3],
  ['square', wg.square, (v) => v * v, [-3, 3], 0],
  ['abs', wg.abs, Math.abs, [-3, 3], 0.05],
  ['neg', wg.neg, (v) => -v, [-3, 3], 0],
  ['scale', (x) => wg.scale(x, -1.5, 0.25), (v) => -1.5 * v + 0.25, [-3, 3], 0],
];

const BINARY: [string, (a: wg.Tensor, b: wg.Tensor) => wg.Tensor, (a: number, b: number) => number][] = [
  ['add', wg.add, (a, b) => a + b],
  ['sub', wg.sub, (a, b) => a - b],
  ['mul', wg.mul, (a, b) => a * b],
  ['div', wg.div, (a, b) => a / b],
];
const SHAPES: [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[3, 4], [4]],
  [[3, 4], []],
  [[4], [3, 4]],
  [[], [2, 3]],
  [
    [3, 1],
    [1, 4],
  ],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [
    [2, 1, 4],
    [2, 3, 4],
  ],
];

describe.each([
  ['simd', true],
  ['scalar', false],
])('ops on the %s build', (_name, simd) => {
  const inRuntime = async (fn: () => void) => {
    const rt = await wg.createRuntime({ simd });
    wg.withRuntime(rt, fn);
  };

  it.each(UNARY)('%s matches f64 values and finite differences', async (name, op, f, [lo, hi], gap) => {
    await inRuntime(() => {
      checkOp({
        name,
        op: (x) => op(x as wg.Tensor),
        ref: map(f),
        shapes: [[7, 9]],
        lo,
        hi,
        gap,
        forward: { atol: 2e-6, rtol: 2e-5 },
      });
    });
  });

  it.each(BINARY)('%s broadcasts and reduces its gradients over broadcast axes', async (name, op, f) => {
    await inRuntime(() => {
      for (const [sa, sb] of SHAPES) {
        checkOp({
          name: `${name} ${JSON.stringify(sa)}⊕${JSON.stringify(sb)}`,
          op: (a, b) => op(a as wg.Tensor, b as wg.Tensor),
          ref: broadcastRef(f, sa, sb),
          shapes: [sa, sb],
          gap: name === 'div' ? 0.5 : 0,
        });
      }
      const scalarCases: Record<string, [string, (a: wg.Tensor) => wg.Tensor, (v: number) => number][]> = {
        add: [
          ['x + 2', (a) => wg.add(a, 2), (v) => v + 2],
          ['2 + x', (a) => wg.add(2, a), (v) => 2 + v],
        ],
        sub: [
          ['2 − x', (a) => wg.sub(2, a), (v) => 2 - v],
          ['x − 2', (a) => a.sub(2), (v) => v - 2],
        ],
        mul: [['x · −3', (a) => wg.mul(a, -3), (v) => -3 * v]],
        div: [
          ['2 / x', (a) => wg.div(2, a), (v) => 2 / v],
          ['x / 4', (a) => wg.div(a, 4), (v) => v / 4],
        ],
      };
      for (const [what, g, ref] of scalarCases[name] ?? []) {
        checkOp({ name: what, op: (a) => g(a as wg.Tensor), ref: map(ref), shapes: [[5]], gap: 0.5 });
      }
      expect(() => op(wg.zeros([2, 3]), wg.zeros([2]))).toThrow(
        new RegExp(`${name}: shapes \\[2,3\\] and \\[2\\] cannot be broadcast together`),
      );
    });
  });

  it('squaredDifference = (a − b)² with broadcasting', async () => {
    await inRuntime(() => {
      checkOp({
        name: 'squaredDifference',
        op: (a, b) => wg.squaredDifference(a as wg.Tensor, b as wg.Tensor),
        ref: broadcastRef((a, b) => (a - b) ** 2, [2, 3], [3]),
        shapes: [[2, 3], [3]],
      });
    });
  });

  it('sum, mean and max reduce over any axes', async () => {
    await inRuntime(() => {
      const shape = [2, 3, 4];
      for (const axes of [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]) {
        for (const keepDims of [false, true]) {
          checkOp({
            name: `sum ${axes} keep=${keepDims}`,
            op: (x) => wg.sum(x as wg.Tensor, axes, keepDims),
            ref: sumRef(shape, axes),
            shapes: [shape],
          });
          const n = axes.reduce((p, a) => p * (shape[a] as number), 1);
          checkOp({
            name: `mean ${axes}`,
            op: (x) => wg.mean(x as wg.Tensor, axes, keepDims),
            ref: sumRef(shape, axes, 1 / n),
            shapes: [shape],
          });
        }
      }
      checkOp({ name: 'sum all', op: (x) => wg.sum(x as wg.Tensor), ref: sumRef([5, 6], [0, 1]), shapes: [[5, 6]] });
      checkOp({
        name: 'sum of [1,1,4] axis 1',
        op: (x) => wg.sum(x as wg.Tensor, 1),
        ref: sumRef([1, 1, 4], [1]),
        shapes: [[1, 1, 4]],
      });
      const maxRef =
        (rows: number, cols: number): RefFn =>
        (x) =>
          Float64Array.from({ length: rows }, (_, r) => Math.max(...x.subarray(r * cols, (r + 1) * cols)));
      checkOp({ name: 'max last axis', op: (x) => wg.max(x as wg.Tensor), ref: maxRef(4, 5), shapes: [[4, 5]] });
      checkOp({
        name: 'max axis 0',
        op: (x) => wg.max(x as wg.Tensor, 0, true),
        ref: (x) =>
          Float64Array.from({ length: 5 }, (_, j) => Math.max(...[0, 1, 2, 3].map((r) => x[r * 5 + j] as number))),
        shapes: [[4, 5]],
      });
      expect(wg.tidy(() => wg.max(wg.zeros([4, 5]), 0, true).shape)).toEqual([1, 5]);
      expect(() => wg.sum(wg.zeros([2]), 1)).toThrow(/sum: axis 1 is out of range for rank 1/);
    });
  });

  it('NaN and ±Inf propagate through reductions and matMul', async () => {
    await inRuntime(() => {
      const x = wg.tensor2d([1, Number.NaN, 3, 4, Number.POSITIVE_INFINITY, 6], [2, 3]);
      const s = Array.from(wg.sum(x, 1).dataSync());
      expect(Number.isNaN(s[0])).toBe(true);
      expect(s[1]).toBe(Number.POSITIVE_INFINITY);
      expect(Number.isNaN(wg.max(x).dataSync()[0])).toBe(true);
      expect(wg.max(x).dataSync()[1]).toBe(Number.POSITIVE_INFINITY);
      const p = wg.matMul(x, wg.ones([3, 1])).dataSync();
      expect(Number.isNaN(p[0])).toBe(true);
      expect(p[1]).toBe(Number.POSITIVE_INFINITY);
      wg.dispose(x);
    });
  });

  it('softmax and logSoftmax match f64 values and finite differences', async () => {
    await inRuntime(() => {
      checkOp({
        name: 'softmax',
        op: (x) => wg.softmax(x as wg.Tensor),
        ref: softmaxRef(7, false),
        shapes: [[5, 7]],
        lo: -4,
        hi: 4,
      });
      checkOp({
        name: 'logSoftmax',
        op: (x) => wg.logSoftmax(x as wg.Tensor),
        ref: softmaxRef(7, true),
        shapes: [[5, 7]],
        lo: -4,
        hi: 4,
      });
      expect(() => wg.softmax(wg.zeros([2, 3]), 0)).toThrow(/softmax: only the last axis is supported/);
    });
  });

  it('a dense → activation → logSoftmax → mean chain passes a random-direction VJP check', async () => {
    await inRuntime(() => {
      const [b, i, o] = [32, 48, 10];
      checkVjpDirections({
        name: 'mlp chain',
        op: (x, w, bias) =>
          wg.mean(wg.logSoftmax(wg.gelu(wg.add(wg.matMul(x as wg.Tensor, w as wg.Tensor), bias as wg.Tensor))), 1),
        ref: (x, w, bias) => {
          const h = new Float64Array(b * o);
          for (let r = 0; r < b; r++) {
            for (let c = 0; c < o; c++) {
              let s = bias[c] as number;
              for (let k = 0; k < i; k++) s += (x[r * i + k] as number) * (w[k * o + c] as number);
              h[r * o + c] = 0.5 * s * (1 + erf(s / Math.SQRT2));
            }
          }
          return sumRef([b, o], [1], 1 / o)(softmaxRef(o, true)(h));
        },
        shapes: [[b, i], [i, o], [o]],
        lo: -1,
        hi: 1,
      });
    });
  });
});

/**
 * The op coverage matrix, generated from the backward table itself (`wg.BACKWARD`): every key needs
 * a spec here (inputs, the op call, a plain f64 reference), and for every key four checks run:
 *
 * - forward: the op against the f64 reference;
 * - gradient: the VJP against central finite differences of the reference (test/shared/gradcheck.ts),
 *   and the differentiated call must record the key itself on the tape (so a spec cannot pass by
 *   exercising some other primitive);
 * - simd-vs-scalar: forward and gradients of the SIMD128 build against the scalar build;
 * - nan-inf: NaN and ±Inf placed in the inputs give what the f64 reference gives (NaN where IEEE
 *   says NaN, no trap, no finite garbage).
 *
 * A new op added to BACKWARD without a spec fails the suite with a message naming it. The `unary`
 * key is one primitive with many kinds: it needs a case for every kind in ACTIVATION_KINDS.
 * References are the shared ones of test/shared/op-references.ts (also used by autograd-*.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { activeTape } from '../../packages/wasmgrad/src/tensor/engine.js';
import { checkOp, type RefFn, randomValues } from '../shared/gradcheck.js';
import {
  broadcastRef,
  concatRef,
  conv2dRef,
  depthwiseRef,
  erf,
  geo,
  map,
  matMulRef,
  maxRowsRef,
  poolRef,
  SELU_A,
  SELU_L,
  sig,
  sliceRef,
  softmaxRef,
  softplusRef,
  sumRef,
  transposeRef,
} from '../shared/op-references.js';
import { assertClose } from '../shared/tolerance.js';

type Op = (...ts: wg.Tensor[]) => wg.Tensor;

/** One case of a spec: shapes, the op call, its reference, the input range. */
interface Case {
  name: string;
  shapes: number[][];
  op: Op;
  ref: RefFn;
  lo?: number;
  hi?: number;
  gap?: number;
  /** Inputs that are not differentiated. */
  constantInputs?: number[];
  /** Skip the ±Inf part of the NaN/Inf check (NaN is always checked). Give the reason. */
  noInf?: string;
}

/**
 * An activation case. At ±Inf the reference takes the limit where the naive f64 formula gives
 * NaN but the function has one (x·σ(x), x·Φ(x), x·tanh(softplus(x)) → 0 as x → −∞).
 */
const u = (kind: wg.ActivationKind, f: (v: number) => number, lo = -3, hi = 3, gap = 0.05, alpha = 0): Case => ({
  name: `unary ${kind}`,
  shapes: [[3, 7]],
  op: (x) => wg.unary(x as wg.Tensor, kind, alpha),
  ref: map((v) => {
    const y = f(v);
    return Number.isNaN(y) && !Number.isNaN(v) && !Number.isFinite(v) ? f(Math.sign(v) * 1e300) : y;
  }),
  lo,
  hi,
  gap,
});

/** The mask of dropout(rate, seed) as seen through an all-ones input (the reference needs it). */
function dropoutMask(shape: number[], rate: number, seed: number): Float64Array {
  return wg.withRuntime(simd, () =>
    wg.tidy(() => Float64Array.from(wg.dropout(wg.ones(shape), rate, seed).dataSync())),
  );
}

const g1 = geo({ h: 5, w: 6, kh: 3, kw: 2, oh: 3, ow: 5 });
const gSame = geo({ h: 5, w: 5, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, oh: 3, ow: 3 });
const gPool = geo({ h: 6, w: 7, kh: 2, kw: 3, sh: 2, sw: 2, oh: 3, ow: 3 });
const nhwc = (g: { n: number; h: number; w: number; c: number }): number[] => [g.n, g.h, g.w, g.c];

/** The spec of every BACKWARD key. */
const SPECS: Record<string, Case[]> = {
  add: [
    {
      name: 'add [3,4]+[4]',
      shapes: [[3, 4], [4]],
      op: (a, b) => wg.add(a as wg.Tensor, b as wg.Tensor),
      ref: broadcastRef((a, b) => a + b, [3, 4], [4]),
    },
  ],
  sub: [
    {
      name: 'sub [3,1]−[1,4]',
      shapes: [
        [3, 1],
        [1, 4],
      ],
      op: (a, b) => wg.sub(a as wg.Tensor, b as wg.Tensor),
      ref: broadcastRef((a, b) => a - b, [3, 1], [1, 4]),
    },
  ],
  mul: [
    {
      name: 'mul [2,3,4]·[3,1]',
      shapes: [
        [2, 3, 4],
        [3, 1],
      ],
      op: (a, b) => wg.mul(a as wg.Tensor, b as wg.Tensor),
      ref: broadcastRef((a, b) => a * b, [2, 3, 4], [3, 1]),
    },
  ],
  div: [
    {
      name: 'div [3,4]/[4]',
      shapes: [[3, 4], [4]],
      op: (a, b) => wg.div(a as wg.Tensor, b as wg.Tensor),
      ref: broadcastRef((a, b) => a / b, [3, 4], [4]),
      gap: 0.5,
    },
  ],
  scale: [
    {
      name: 'scale −1.5x+0.25',
      shapes: [[3, 5]],
      op: (x) => wg.scale(x as wg.Tensor, -1.5, 0.25),
      ref: map((v) => -1.5 * v + 0.25),
    },
    { name: 'neg (scale by −1)', shapes: [[3, 5]], op: (x) => wg.neg(x as wg.Tensor), ref: map((v) => -v) },
  ],
  unary: [
    u('linear', (v) => v),
    u('relu', (v) => Math.max(v, 0)),
    u('relu6', (v) => Math.min(Math.max(v, 0), 6), -3, 9),
    u('leakyRelu', (v) => (v > 0 ? v : 0.1 * v), -3, 3, 0.05, 0.1),
    u('elu', (v) => (v > 0 ? v : 0.7 * Math.expm1(v)), -3, 3, 0.05, 0.7),
    u('selu', (v) => SELU_L * (v > 0 ? v : SELU_A * Math.expm1(v))),
    u('sigmoid', sig, -6, 6, 0),
    u('tanh', Math.tanh, -4, 4, 0),
    u('softplus', softplusRef, -6, 6, 0),
    u('swish', (v) => v * sig(v), -6, 6, 0),
    u('mish', (v) => v * Math.tanh(softplusRef(v)), -6, 6, 0),
    u('gelu', (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), -5, 5, 0),
    u('geluTanh', (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), -5, 5, 0),
    u('geluSigmoid', (v) => v * sig(1.702 * v), -5, 5, 0),
  ],
  exp: [{ name: 'exp', shapes: [[3, 7]], op: (x) => wg.exp(x as wg.Tensor), ref: map(Math.exp), lo: -4, hi: 4 }],
  expm1: [{ name: 'expm1', shapes: [[3, 7]], op: (x) => wg.expm1(x as wg.Tensor), ref: map(Math.expm1) }],
  log: [{ name: 'log', shapes: [[3, 7]], op: (x) => wg.log(x as wg.Tensor), ref: map(Math.log), lo: 0.05, hi: 5 }],
  log1p: [
    { name: 'log1p', shapes: [[3, 7]], op: (x) => wg.log1p(x as wg.Tensor), ref: map(Math.log1p), lo: -0.9, hi: 4 },
  ],
  sqrt: [{ name: 'sqrt', shapes: [[3, 7]], op: (x) => wg.sqrt(x as wg.Tensor), ref: map(Math.sqrt), lo: 0.05, hi: 5 }],
  reciprocal: [
    {
      name: 'reciprocal',
      shapes: [[3, 7]],
      op: (x) => wg.reciprocal(x as wg.Tensor),
      ref: map((v) => 1 / v),
      gap: 0.3,
    },
  ],
  matMul: [
    {
      name: 'matMul [5,6]·[6,7]',
      shapes: [
        [5, 6],
        [6, 7],
      ],
      op: (a, b) => wg.matMul(a as wg.Tensor, b as wg.Tensor),
      ref: matMulRef(5, 6, 7),
    },
    {
      name: 'matMul ᵀ[6,5]·[7,6]ᵀ',
      shapes: [
        [6, 5],
        [7, 6],
      ],
      op: (a, b) => wg.matMul(a as wg.Tensor, b as wg.Tensor, true, true),
      ref: matMulRef(5, 6, 7, true, true),
    },
  ],
  sum: [
    {
      name: 'sum axes [0,2]',
      shapes: [[2, 3, 4]],
      op: (x) => wg.sum(x as wg.Tensor, [0, 2]),
      ref: sumRef([2, 3, 4], [0, 2]),
    },
  ],
  mean: [
    {
      name: 'mean axis 1 keepDims',
      shapes: [[2, 3, 4]],
      op: (x) => wg.mean(x as wg.Tensor, 1, true),
      ref: sumRef([2, 3, 4], [1], 1 / 3),
    },
  ],
  max: [{ name: 'max last axis', shapes: [[4, 5]], op: (x) => wg.max(x as wg.Tensor), ref: maxRowsRef(4, 5) }],
  softmax: [
    {
      name: 'softmax',
      shapes: [[4, 7]],
      op: (x) => wg.softmax(x as wg.Tensor),
      ref: softmaxRef(7, false),
      lo: -4,
      hi: 4,
    },
  ],
  logSoftmax: [
    {
      name: 'logSoftmax',
      shapes: [[4, 7]],
      op: (x) => wg.logSoftmax(x as wg.Tensor),
      ref: softmaxRef(7, true),
      lo: -4,
      hi: 4,
    },
  ],
  reshape: [
    {
      name: 'reshape [2,6]→[3,4]',
      shapes: [[2, 6]],
      op: (x) => wg.reshape(x as wg.Tensor, [3, 4]),
      ref: map((v) => v),
    },
  ],
  clone: [{ name: 'clone', shapes: [[2, 6]], op: (x) => wg.clone(x as wg.Tensor), ref: map((v) => v) }],
  broadcastTo: [
    {
      name: 'broadcastTo [3,1]→[2,3,4]',
      shapes: [[3, 1]],
      op: (x) => wg.broadcastTo(x as wg.Tensor, [2, 3, 4]),
      ref: (x) => broadcastRef((a) => a, [3, 1], [2, 3, 4])(x, new Float64Array(24)),
    },
  ],
  transpose: [
    {
      name: 'transpose [2,3,4] by [2,0,1]',
      shapes: [[2, 3, 4]],
      op: (x) => wg.transpose(x as wg.Tensor, [2, 0, 1]),
      ref: transposeRef([2, 3, 4], [2, 0, 1]),
    },
  ],
  concat: [
    {
      name: 'concat axis 1',
      shapes: [
        [2, 3, 2],
        [2, 1, 2],
        [2, 2, 2],
      ],
      op: (...xs) => wg.concat(xs, 1),
      ref: concatRef(
        [
          [2, 3, 2],
          [2, 1, 2],
          [2, 2, 2],
        ],
        1,
      ),
    },
  ],
  slice: [
    {
      name: 'slice [1,0,1] size [2,2,3]',
      shapes: [[3, 2, 5]],
      op: (x) => wg.slice(x as wg.Tensor, [1, 0, 1], [2, 2, 3]),
      ref: sliceRef([3, 2, 5], [1, 0, 1], [2, 2, 3]),
    },
  ],
  conv2d: [
    {
      name: 'conv2d valid',
      shapes: [nhwc(g1), [3, 2, 3, 4]],
      op: (x, f) => wg.conv2d(x as wg.Tensor, f as wg.Tensor, 1, 'valid'),
      ref: conv2dRef(g1, 4),
    },
    {
      name: 'conv2d same stride 2',
      shapes: [nhwc(gSame), [3, 3, 3, 2]],
      op: (x, f) => wg.conv2d(x as wg.Tensor, f as wg.Tensor, 2, 'same'),
      ref: conv2dRef(gSame, 2),
    },
  ],
  depthwiseConv2d: [
    {
      name: 'depthwiseConv2d same stride 2 mult 2',
      shapes: [nhwc(gSame), [3, 3, 3, 2]],
      op: (x, f) => wg.depthwiseConv2d(x as wg.Tensor, f as wg.Tensor, 2, 'same'),
      ref: depthwiseRef(gSame, 2),
    },
  ],
  maxPool2d: [
    {
      name: 'maxPool2d [2,3] stride 2',
      shapes: [nhwc(gPool)],
      op: (x) => wg.maxPool2d(x as wg.Tensor, [2, 3], 2),
      ref: poolRef(gPool, 'max'),
    },
    {
      name: 'maxPool2d 3 same stride 2',
      shapes: [nhwc(gSame)],
      op: (x) => wg.maxPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gSame, 'max'),
    },
  ],
  avgPool2d: [
    {
      name: 'avgPool2d 3 same stride 2',
      shapes: [nhwc(gSame)],
      op: (x) => wg.avgPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gSame, 'avg'),
    },
  ],
  dropout: [
    {
      name: 'dropout rate 0.3 seed 5',
      shapes: [[4, 9]],
      op: (x) => wg.dropout(x as wg.Tensor, 0.3, 5),
      ref: (x) => {
        const m = dropoutMask([4, 9], 0.3, 5);
        // A dropped unit is selected away (0 even for NaN/Inf input), not multiplied by 0 (which
        // TF/PyTorch do, giving NaN): the kept units still carry NaN and Inf through.
        return x.map((v, i) => (m[i] === 0 ? 0 : v * (m[i] as number)));
      },
    },
  ],
};

const KEYS = Object.keys(wg.BACKWARD);
const CHECKS = ['forward', 'gradient', 'simd-vs-scalar', 'nan-inf'] as const;
const passed = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set<string>()]));
let simd: Runtime;
let scalar: Runtime;

beforeAll(async () => {
  simd = await wg.createRuntime({ simd: true });
  scalar = await wg.createRuntime({ simd: false });
});

afterAll(() => {
  const full = KEYS.filter((k) => passed.get(k)?.size === CHECKS.length);
  const rows = KEYS.map(
    (k) => `${k.padEnd(16)} ${CHECKS.map((c) => (passed.get(k)?.has(c) ? ' ok ' : ' -- ')).join(' ')}`,
  );
  console.log(
    `op coverage matrix (BACKWARD keys × ${CHECKS.join(', ')}):\n${rows.join('\n')}\n` +
      `ops covered / ops defined: ${full.length} / ${KEYS.length}; unary kinds covered: ${
        (SPECS.unary ?? []).length
      } / ${wg.ACTIVATION_KINDS.length}`,
  );
});

/** The spec of `key`, or a failure naming the op. */
function specOf(key: string): Case[] {
  const spec = SPECS[key];
  if (!spec || spec.length === 0) {
    throw new Error(
      `op "${key}" is in BACKWARD but has no spec in test/node/op-coverage.test.ts (inputs, op, f64 reference)`,
    );
  }
  return spec;
}

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const inputsOf = (c: Case, seed = 3): Float64Array[] =>
  c.shapes.map((s, i) => randomValues(size(s), seed + 17 * i, c.lo, c.hi, c.gap));

/** Output and every input gradient (dy seeded) of a case in `rt`, as f32 arrays. */
function run(rt: Runtime, c: Case, xs: Float64Array[]): Float32Array[] {
  return wg.withRuntime(rt, () =>
    wg.tidy(() => {
      const ts = xs.map((x, i) => wg.tensor(x, c.shapes[i] as number[]));
      const y = c.op(...ts);
      const dy = wg.tensor(randomValues(y.size, 99, -1, 1), y.shape as number[]);
      const gs = wg.grads((...a) => c.op(...a))(ts, dy);
      return [y.dataSync(), ...gs.map((g) => g.dataSync())].map((a) => Float32Array.from(a));
    }),
  );
}

describe('op coverage matrix', () => {
  it.each(KEYS)('%s has a spec', (key) => {
    expect(() => specOf(key), `op "${key}" has no spec`).not.toThrow();
  });

  it('a key without a spec fails with a message naming the op (self-check of the matrix)', () => {
    expect(() => specOf('someNewOp')).toThrow(/op "someNewOp" is in BACKWARD but has no spec/);
  });

  it('the unary spec covers every activation kind and no key is spec’d that BACKWARD lacks', () => {
    const kinds = (SPECS.unary ?? []).map((c) => c.name.replace('unary ', ''));
    for (const k of wg.ACTIVATION_KINDS) expect(kinds, `activation kind "${k}" has no case`).toContain(k);
    for (const k of Object.keys(SPECS)) expect(KEYS, `spec "${k}" names no BACKWARD key`).toContain(k);
  });

  it.each(KEYS)('%s: forward against the f64 reference', (key) => {
    for (const c of specOf(key)) {
      wg.withRuntime(simd, () =>
        wg.tidy(() => {
          const xs = inputsOf(c);
          const y = c.op(...xs.map((x, i) => wg.tensor(x, c.shapes[i] as number[])));
          assertClose(y.dataSync(), c.ref(...xs), { atol: 2e-6, rtol: 2e-5 }, `${c.name} forward`);
        }),
      );
    }
    passed.get(key)?.add('forward');
  });

  it.each(KEYS)('%s: gradient against central finite differences, recorded under its own key', (key) => {
    for (const rt of [simd, scalar]) {
      for (const c of specOf(key)) {
        const recorded = new Set<string>();
        wg.withRuntime(rt, () =>
          checkOp({
            name: `${c.name} (${rt === simd ? 'simd' : 'scalar'})`,
            op: (...ts) => {
              const y = c.op(...ts);
              for (const n of activeTape()?.nodes ?? []) recorded.add(n.op);
              return y;
            },
            ref: c.ref,
            shapes: c.shapes,
            lo: c.lo,
            hi: c.hi,
            gap: c.gap,
            constantInputs: c.constantInputs,
            forward: { atol: 2e-6, rtol: 2e-5 },
          }),
        );
        expect([...recorded], `${c.name} does not record "${key}" on the tape`).toContain(key);
      }
    }
    passed.get(key)?.add('gradient');
  });

  it.each(KEYS)('%s: SIMD build agrees with the scalar build (forward and gradients)', (key) => {
    for (const c of specOf(key)) {
      const xs = inputsOf(c, 11);
      const a = run(simd, c, xs);
      const b = run(scalar, c, xs);
      expect(a.length).toBe(b.length);
      a.forEach((v, i) => {
        assertClose(v, b[i] as Float32Array, { atol: 1e-6, rtol: 1e-5 }, `${c.name} output ${i} simd vs scalar`);
      });
    }
    passed.get(key)?.add('simd-vs-scalar');
  });

  it.each(KEYS)('%s: NaN and ±Inf propagate as the f64 reference says (no trap, no finite garbage)', (key) => {
    for (const c of specOf(key)) {
      const specials: [string, number[]][] = [['NaN', [Number.NaN]]];
      if (!c.noInf) specials.push(['±Inf', [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]]);
      for (const [what, values] of specials) {
        for (const rt of [simd, scalar]) {
          const xs = inputsOf(c, 5);
          // Poison the first element of every input and a middle one of the first input.
          xs.forEach((x, i) => {
            x[0] = values[i % values.length] as number;
          });
          const x0 = xs[0] as Float64Array;
          if (x0.length > 2) x0[Math.floor(x0.length / 2)] = values[values.length - 1] as number;
          const want = c.ref(...xs);
          wg.withRuntime(rt, () =>
            wg.tidy(() => {
              const y = c.op(...xs.map((x, i) => wg.tensor(x, c.shapes[i] as number[])));
              assertClose(
                y.dataSync(),
                want,
                { atol: 2e-6, rtol: 2e-5 },
                `${c.name} with ${what} (${rt === simd ? 'simd' : 'scalar'})`,
              );
            }),
          );
        }
      }
    }
    passed.get(key)?.add('nan-inf');
  });
});

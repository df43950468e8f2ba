import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  type BatchRef,
  GEMM_ACTIVATIONS,
  type GemmActivation,
  gemm,
  gemmBatched,
  gemmBiasAct,
  type MatrixRef,
} from '../../packages/wasmgrad/src/runtime/kernels/gemm.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

type Runtime = Awaited<ReturnType<typeof wg.createRuntime>>;
type Layout = 'row' | 'col' | 'padded' | 'reversed';

/** A matrix placed in the heap with a given layout; `get(i, j)` reads the f64 source values. */
interface Placed extends MatrixRef {
  rows: number;
  cols: number;
  values: Float64Array;
  bytes: number;
}

function strides(layout: Layout, rows: number, cols: number): { rs: number; cs: number; origin: number; len: number } {
  switch (layout) {
    case 'row':
      return { rs: cols, cs: 1, origin: 0, len: rows * cols };
    case 'col':
      return { rs: 1, cs: rows, origin: 0, len: rows * cols };
    case 'padded':
      return { rs: cols + 3, cs: 1, origin: 0, len: rows * (cols + 3) };
    case 'reversed':
      return { rs: -cols, cs: 1, origin: Math.max(0, rows - 1) * cols, len: rows * cols };
  }
}

/** Allocates and fills a rows×cols matrix; cells of the buffer outside the matrix hold `fill`. */
function place(
  rt: Runtime,
  rows: number,
  cols: number,
  layout: Layout,
  value: (i: number, j: number) => number,
  fill = 777,
): Placed {
  const { rs, cs, origin, len } = strides(layout, rows, cols);
  const base = rt.allocF32(Math.max(1, len));
  const buf = new Float32Array(Math.max(1, len)).fill(fill);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = value(i, j);
      buf[origin + i * rs + j * cs] = v;
      values[i * cols + j] = Math.fround(v);
    }
  }
  rt.write(base, buf);
  return { ptr: base + 4 * origin, rowStride: rs, colStride: cs, rows, cols, values, bytes: 4 * Math.max(1, len) };
}

function readPlaced(rt: Runtime, p: Placed): Float64Array {
  const f = rt.f32;
  const out = new Float64Array(p.rows * p.cols);
  for (let i = 0; i < p.rows; i++) {
    for (let j = 0; j < p.cols; j++)
      out[i * p.cols + j] = f[(p.ptr >>> 2) + i * p.rowStride + j * p.colStride] as number;
  }
  return out;
}

/** f64 reference of act(α·A·B + β·C + bias). */
function reference(
  a: Placed,
  b: Placed,
  c: Float64Array | null,
  alpha: number,
  beta: number,
  bias: Float64Array | null = null,
  act: GemmActivation = 'linear',
): Float64Array {
  const [m, k, n] = [a.rows, a.cols, b.cols];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a.values[i * k + p] as number) * (b.values[p * n + j] as number);
      let v = alpha * s + (beta !== 0 && c ? beta * (c[i * n + j] as number) : 0) + (bias ? (bias[j] as number) : 0);
      if (act === 'relu') v = Math.max(v, 0);
      if (act === 'relu6') v = Math.min(Math.max(v, 0), 6);
      out[i * n + j] = v;
    }
  }
  return out;
}

/** f32 sums of k terms in [-1, 1]: error grows with k. */
const tol = (k: number) => ({ atol: 1e-6 * Math.max(8, k), rtol: 1e-5 });

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 16],
  [17, 13, 9],
  [17, 257, 17],
  [33, 65, 300], // k above the KC = 256 block
  [131, 12, 10], // m above the MC = 128 block
  [5, 1030, 6], // n above the NC = 1024 block
];

describe.each([
  ['simd', true],
  ['scalar', false],
])('gemm kernels on the %s build', (_name, simd) => {
  it('gemm matches the f64 reference over shapes, layouts, α and β; β = 0 ignores NaN in C', async () => {
    const rt = await wg.createRuntime({ simd });
    expect(rt.simd).toBe(simd);
    const rand = seededRandom(7);
    const layouts: [Layout, Layout, Layout][] = [
      ['row', 'row', 'row'],
      ['col', 'row', 'padded'],
      ['row', 'col', 'col'],
      ['col', 'col', 'reversed'],
      ['padded', 'reversed', 'row'],
    ];
    for (const [m, n, k] of SHAPES) {
      for (const [i, [la, lb, lc]] of layouts.entries()) {
        for (const [alpha, beta] of [
          [1, 0],
          [-0.5, 1.5],
        ] as const) {
          const a = place(rt, m, k, la, () => rand());
          const b = place(rt, k, n, lb, () => rand());
          const c = place(rt, m, n, lc, () => (beta === 0 ? Number.NaN : rand()));
          const before = beta === 0 ? null : c.values;
          gemm(rt, m, n, k, alpha, a, b, beta, c);
          const what = `gemm ${m}x${n}x${k} ${la}/${lb}/${lc} α=${alpha} β=${beta} (case ${i})`;
          assertClose(readPlaced(rt, c), reference(a, b, before, alpha, beta), tol(k), what);
          // Cells between C's elements (padding) are never written.
          if (lc === 'padded' && m > 0) expect(rt.f32[(c.ptr >>> 2) + n]).toBe(777);
        }
      }
    }
  });

  it('gemmBiasAct applies the bias per column and each activation code to the full sum', async () => {
    const rt = await wg.createRuntime({ simd });
    const rand = seededRandom(11);
    for (const [m, n, k] of [
      [7, 13, 5],
      [17, 257, 17],
      [9, 21, 300],
    ] as const) {
      for (const act of Object.keys(GEMM_ACTIVATIONS) as GemmActivation[]) {
        for (const withBias of [false, true]) {
          // Values up to ±4 so relu6 clips at both ends.
          const a = place(rt, m, k, 'row', () => rand(-2, 2));
          const b = place(rt, k, n, 'col', () => rand(-2, 2) / Math.sqrt(k));
          const c = place(rt, m, n, 'row', () => Number.NaN);
          const biasValues = Float64Array.from({ length: n }, () => Math.fround(rand(-3, 3)));
          const bias = withBias ? rt.allocF32(n) : null;
          if (bias !== null) rt.write(bias, biasValues);
          gemmBiasAct(rt, m, n, k, a, b, bias, c, act);
          const want = reference(a, b, null, 1, 0, withBias ? biasValues : null, act);
          assertClose(readPlaced(rt, c), want, tol(k), `gemmBiasAct ${m}x${n}x${k} ${act} bias=${withBias}`);
        }
      }
    }
  });

  it('gemmBatched equals one gemm per item, with B shared through a zero batch stride', async () => {
    const rt = await wg.createRuntime({ simd });
    const rand = seededRandom(3);
    const [batch, m, n, k] = [4, 6, 19, 11];
    const aVals = Array.from({ length: batch * m * k }, () => rand());
    const bVals = Array.from({ length: k * n }, () => rand());
    const cVals = Array.from({ length: batch * (m * n + 5) }, () => rand());
    const a: BatchRef = { ptr: rt.allocF32(aVals.length), rowStride: 1, colStride: m, batchStride: m * k }; // A_t transposed
    const b: BatchRef = { ptr: rt.allocF32(bVals.length), rowStride: n, colStride: 1, batchStride: 0 };
    const c: BatchRef = { ptr: rt.allocF32(cVals.length), rowStride: n, colStride: 1, batchStride: m * n + 5 };
    rt.write(a.ptr, aVals);
    rt.write(b.ptr, bVals);
    rt.write(c.ptr, cVals);
    gemmBatched(rt, batch, m, n, k, 2, a, b, -1, c);
    const got = rt.read(c.ptr, cVals.length);
    for (let t = 0; t < batch; t++) {
      const want = new Float64Array(m * n);
      const gotItem = new Float64Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++)
            s += Math.fround(aVals[t * m * k + p * m + i] as number) * Math.fround(bVals[p * n + j] as number);
          const at = t * (m * n + 5) + i * n + j;
          want[i * n + j] = 2 * s - Math.fround(cVals[at] as number);
          gotItem[i * n + j] = got[at] as number;
        }
      }
      assertClose(gotItem, want, tol(k), `batch item ${t}`);
      // The 5 cells between items are untouched.
      const gap = t * (m * n + 5) + m * n;
      assertClose(
        got.slice(gap, gap + 5),
        Float32Array.from(cVals.slice(gap, gap + 5)),
        { atol: 0, rtol: 0 },
        `gap after item ${t}`,
      );
    }
  });

  it('rejects bad sizes, strides, spans and activation codes with ValueError and writes nothing', async () => {
    const rt = await wg.createRuntime({ simd });
    const a = place(rt, 4, 4, 'row', () => 1);
    const b = place(rt, 4, 4, 'row', () => 1);
    const c = place(rt, 4, 4, 'row', () => 5);
    const end = rt.memory.buffer.byteLength;
    const bad: [string, () => void][] = [
      ['negative m', () => gemm(rt, -1, 4, 4, 1, a, b, 0, c)],
      ['fractional k', () => gemm(rt, 4, 4, 2.5, 1, a, b, 0, c)],
      ['NaN n', () => gemm(rt, 4, Number.NaN, 4, 1, a, b, 0, c)],
      ['m ≥ 2^31', () => gemm(rt, 2 ** 31, 4, 4, 1, { ...a, rowStride: 0 }, b, 0, { ...c, rowStride: 0 })],
      ['stride ≥ 2^31', () => gemm(rt, 1, 4, 4, 1, a, b, 0, { ...c, rowStride: 2 ** 32 + 4 })],
      ['fractional stride', () => gemm(rt, 4, 4, 4, 1, { ...a, colStride: 1.5 }, b, 0, c)],
      ['C past the heap end', () => gemm(rt, 4, 4, 4, 1, a, b, 0, { ...c, ptr: end - 32 })],
      ['A below the heap', () => gemm(rt, 4, 4, 4, 1, { ...a, ptr: 0 }, b, 0, c)],
      ['B misaligned', () => gemm(rt, 4, 4, 4, 1, a, { ...b, ptr: b.ptr + 2 }, 0, c)],
      ['negative stride reaching below the heap', () => gemm(rt, 4, 4, 4, 1, { ...a, rowStride: -1_000_000 }, b, 0, c)],
      ['m larger than A', () => gemm(rt, 4, 4, 1 << 28, 1, a, b, 0, c)],
      ['bias past the heap end', () => gemmBiasAct(rt, 4, 4, 4, a, b, end - 8, c, 'relu')],
      ['unknown activation', () => gemmBiasAct(rt, 4, 4, 4, a, b, null, c, 'gelu' as GemmActivation)],
      ['prototype key as activation', () => gemmBiasAct(rt, 4, 4, 4, a, b, null, c, 'toString' as GemmActivation)],
      [
        'negative batch',
        () =>
          gemmBatched(rt, -2, 4, 4, 4, 1, { ...a, batchStride: 0 }, { ...b, batchStride: 0 }, 0, {
            ...c,
            batchStride: 16,
          }),
      ],
      [
        'batch running past the heap',
        () =>
          gemmBatched(rt, 1000, 4, 4, 4, 1, { ...a, batchStride: 0 }, { ...b, batchStride: 0 }, 0, {
            ...c,
            batchStride: 1 << 20,
          }),
      ],
      [
        'C items overlapping',
        () =>
          gemmBatched(rt, 2, 4, 4, 4, 1, { ...a, batchStride: 0 }, { ...b, batchStride: 0 }, 0, {
            ...c,
            batchStride: 0,
          }),
      ],
    ];
    for (const [what, call] of bad) {
      expect(call, what).toThrow(wg.ValueError);
    }
    expect(() => gemm(rt, -1, 4, 4, 1, a, b, 0, c, 'dense')).toThrow(/dense/);
    expect(Array.from(readPlaced(rt, c))).toEqual(new Array(16).fill(5));
    // Still usable afterwards.
    gemm(rt, 4, 4, 4, 1, a, b, 0, c);
    expect(Array.from(readPlaced(rt, c))).toEqual(new Array(16).fill(4));
  });
});

describe('gemm kernels across builds', () => {
  it('the SIMD build and its scalar twin agree bit for bit', async () => {
    const rts = [await wg.createRuntime({ simd: true }), await wg.createRuntime({ simd: false })];
    const results = rts.map((rt) => {
      const rand = seededRandom(99);
      const a = place(rt, 37, 300, 'row', () => rand());
      const b = place(rt, 300, 45, 'col', () => rand());
      const c = place(rt, 37, 45, 'padded', () => rand());
      gemm(rt, 37, 45, 300, 0.75, a, b, -1.25, c);
      const bias = rt.allocF32(45);
      rt.write(
        bias,
        Array.from({ length: 45 }, () => rand()),
      );
      const d = place(rt, 37, 45, 'row', () => 0);
      gemmBiasAct(rt, 37, 45, 300, a, b, bias, d, 'relu');
      return [...readPlaced(rt, c), ...readPlaced(rt, d)];
    });
    assertClose(results[0] as number[], results[1] as number[], { atol: 0, rtol: 0 }, 'simd vs scalar');
  });

  it('the runtime allocates the workspace the module asks for', async () => {
    const rt = await wg.createRuntime();
    expect(rt.kernels.f32_gemm_workspace_len()).toBeGreaterThan(0);
    const words = rt.kernels.f32_gemm_workspace_len();
    expect(rt.gemmWorkspace + 4 * words).toBeLessThanOrEqual(rt.memory.buffer.byteLength);
  });
});

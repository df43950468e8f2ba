import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../../packages/wasmgrad/src/errors.js';
import type { Conv2dGeometry, Padding } from '../../packages/wasmgrad/src/runtime/kernels/conv.js';
import {
  avgPool2dBackward,
  avgPool2dForward,
  globalAvgPool2dBackward,
  globalAvgPool2dForward,
  maxPool2dBackward,
  maxPool2dForward,
  pool2dGeometry,
} from '../../packages/wasmgrad/src/runtime/kernels/pool.js';
import { createRuntime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { nanBuf, put, randArray } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

/** Calls f(output index, input indices of its window inside the image) per output value. */
function windows(g: Conv2dGeometry, f: (o: number, cells: number[]) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  for (let n = 0; n < g.batch; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          const cells: number[] = [];
          for (let ky = 0; ky < g.filterHeight; ky++)
            for (let kx = 0; kx < g.filterWidth; kx++) {
              const iy = oy * g.strideHeight + ky - g.padTop;
              const ix = ox * g.strideWidth + kx - g.padLeft;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) cells.push(((n * H + iy) * W + ix) * C + c);
            }
          f(((n * OH + oy) * OW + ox) * C + c, cells);
        }
}

function maxRef(g: Conv2dGeometry, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(g.batch * g.outHeight * g.outWidth * g.inChannels);
  windows(g, (o, cells) => {
    y[o] = Math.max(...cells.map((i) => x[i] as number));
  });
  return y;
}

function avgRef(g: Conv2dGeometry, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(g.batch * g.outHeight * g.outWidth * g.inChannels);
  windows(g, (o, cells) => {
    y[o] = cells.reduce((s, i) => s + (x[i] as number), 0) / cells.length;
  });
  return y;
}

/** Central differences of v ↦ ⟨f(v), dy⟩ at every index (step small against the gaps between values). */
function numericGrad(
  f: (v: Float64Array) => Float64Array,
  dy: ArrayLike<number>,
  at: ArrayLike<number>,
  h = 1e-6,
): Float64Array {
  const v = Float64Array.from(at);
  const out = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const old = v[k] as number;
    v[k] = old + h;
    const up = dot(f(v), dy);
    v[k] = old - h;
    const down = dot(f(v), dy);
    v[k] = old;
    out[k] = (up - down) / (2 * h);
  }
  return out;
}

const CASES: [string, number[], number | [number, number], number | [number, number] | undefined, Padding][] = [
  ['2x2 stride 2 valid, odd size', [2, 7, 5, 3], 2, undefined, 'valid'],
  ['2x2 stride 2 same, odd size', [2, 7, 5, 5], 2, undefined, 'same'],
  ['3x3 stride 1 same', [1, 5, 6, 4], 3, 1, 'same'],
  ['3x3 stride 2 same', [2, 6, 7, 9], 3, 2, 'same'],
  ['3x2 stride (2,1) valid', [1, 7, 6, 2], [3, 2], [2, 1], 'valid'],
  ['explicit asymmetric padding', [2, 5, 5, 3], 3, 2, { top: 2, bottom: 0, left: 1, right: 2 }],
];

describe.each([
  ['simd', true],
  ['scalar', false],
])('pooling kernels on the %s build', (_name, simd) => {
  it.each(CASES)(
    '%s: max and average pooling match f64 references and finite differences',
    async (_label, xs, poolSize, strides, padding) => {
      const rt = await createRuntime({ simd });
      const g = pool2dGeometry(xs, { poolSize, strides, padding });
      const nx = xs.reduce((a, b) => a * b, 1);
      const ny = g.batch * g.outHeight * g.outWidth * g.inChannels;
      const rand = seededRandom(nx);
      const x = randArray(rand, nx);
      const dy = randArray(rand, ny);
      const [px, pdy, py, parg, pdx] = [put(rt, x), put(rt, dy), nanBuf(rt, ny), nanBuf(rt, ny), nanBuf(rt, nx)];
      const tol = { atol: 1e-6, rtol: 1e-5 };

      maxPool2dForward(rt, g, px, py, parg);
      const yMax = maxRef(g, x);
      assertClose(rt.read(py, ny), yMax, { atol: 0, rtol: 0 }, 'max forward');
      // The argmax points at a cell holding the maximum.
      const arg = new Int32Array(rt.memory.buffer, parg, ny).slice();
      for (let o = 0; o < ny; o++) expect(x[arg[o] as number]).toBe(yMax[o]);
      maxPool2dBackward(rt, g, pdy, parg, pdx);
      const dxMax = rt.read(pdx, nx);
      assertClose(
        dxMax,
        numericGrad((v) => maxRef(g, v), dy, x),
        { atol: 1e-5, rtol: 1e-5 },
        'max backward vs finite differences',
      );
      expect(Math.abs(dot(dxMax, x) - dot(yMax, dy))).toBeLessThan(1e-5);

      avgPool2dForward(rt, g, px, py);
      assertClose(rt.read(py, ny), avgRef(g, x), tol, 'avg forward');
      avgPool2dBackward(rt, g, pdy, pdx);
      const dxAvg = rt.read(pdx, nx);
      assertClose(
        dxAvg,
        numericGrad((v) => avgRef(g, v), dy, x),
        { atol: 1e-5, rtol: 1e-5 },
        'avg backward vs finite differences',
      );
      expect(Math.abs(dot(dxAvg, x) - dot(avgRef(g, x), dy))).toBeLessThan(1e-5);
    },
  );

  it('global average pooling forward and backward', async () => {
    const rt = await createRuntime({ simd });
    for (const xs of [
      [2, 3, 5, 7],
      [1, 1, 1, 4],
      [3, 4, 4, 1],
    ]) {
      const [n, h, w, c] = xs as [number, number, number, number];
      const rand = seededRandom(h * w);
      const x = randArray(rand, n * h * w * c);
      const dy = randArray(rand, n * c);
      const [px, pdy, py, pdx] = [put(rt, x), put(rt, dy), nanBuf(rt, n * c), nanBuf(rt, x.length)];
      globalAvgPool2dForward(rt, xs, px, py);
      globalAvgPool2dBackward(rt, xs, pdy, pdx);
      const f = (v: ArrayLike<number>) => {
        const y = new Float64Array(n * c);
        for (let i = 0; i < v.length; i++) {
          const k = Math.floor(i / (h * w * c)) * c + (i % c);
          y[k] = (y[k] as number) + (v[i] as number) / (h * w);
        }
        return y;
      };
      assertClose(rt.read(py, n * c), f(x), { atol: 1e-6, rtol: 1e-5 }, 'global avg forward');
      assertClose(rt.read(pdx, x.length), numericGrad(f, dy, x), { atol: 1e-6, rtol: 1e-5 }, 'global avg backward');
    }
  });
});

describe('pooling across builds and bad input', () => {
  it('SIMD and scalar builds agree bit for bit, NaN propagates through max pooling', async () => {
    const results = [];
    for (const simd of [true, false]) {
      const rt = await createRuntime({ simd });
      const g = pool2dGeometry([2, 9, 7, 6], { poolSize: 3, strides: 2, padding: 'same' });
      const x = randArray(seededRandom(5), 2 * 9 * 7 * 6);
      x[6 * 10 + 1] = Number.NaN;
      const ny = g.batch * g.outHeight * g.outWidth * 6;
      const [px, py, parg, pa] = [put(rt, x), nanBuf(rt, ny), nanBuf(rt, ny), nanBuf(rt, ny)];
      maxPool2dForward(rt, g, px, py, parg);
      avgPool2dForward(rt, g, px, pa);
      const max = rt.read(py, ny);
      expect(max.some(Number.isNaN)).toBe(true);
      expect(Array.from(max).filter(Number.isNaN).length).toBeLessThan(ny);
      results.push([
        Array.from(max),
        Array.from(new Int32Array(rt.memory.buffer, parg, ny)),
        Array.from(rt.read(pa, ny)),
      ]);
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('rejects bad shapes and arguments with typed errors naming the op and shapes', async () => {
    const rt = await createRuntime();
    expect(() => pool2dGeometry([1, 2, 2, 1], { poolSize: 3 }, 'maxPool2d')).toThrow(ShapeError);
    expect(() => pool2dGeometry([1, 2, 2, 1], { poolSize: 3 }, 'maxPool2d')).toThrow(
      /maxPool2d: the height filter span 3 .* padded input height 2/,
    );
    expect(() =>
      pool2dGeometry([1, 4, 4, 1], { poolSize: 2, padding: { top: 2, bottom: 0, left: 0, right: 0 } }),
    ).toThrow(/pool2d: padding .* not smaller than the pool window 2x2 of x \[1,4,4,1\]/);
    expect(() => pool2dGeometry([1, 4, 4, 1], { poolSize: 1.5 })).toThrow(ValueError);
    expect(() => pool2dGeometry([1, 4, 4, 1], { poolSize: 2, strides: 0 })).toThrow(ValueError);
    expect(() => pool2dGeometry([1, 4, -4, 1], { poolSize: 2 })).toThrow(ValueError);
    expect(() => pool2dGeometry([4, 4, 1], { poolSize: 2 })).toThrow(/pool2d: x must have rank 4, got shape \[4,4,1\]/);
    expect(() => globalAvgPool2dForward(rt, [2, 0, 3, 4], 0, 0)).toThrow(
      /globalAvgPool2d: x \[2,0,3,4\] has no pixels/,
    );
    const g = pool2dGeometry([1, 4, 4, 2], { poolSize: 2 });
    const x = put(rt, new Float32Array(32).fill(1));
    const y = nanBuf(rt, 8);
    expect(() => maxPool2dForward(rt, g, x, x + 16, 0)).toThrow(/maxPool2d: y .* overlaps x/);
    expect(() => maxPool2dForward(rt, g, x, y, y)).toThrow(/argmax .* overlaps y|y .* overlaps argmax/);
    expect(() => avgPool2dForward(rt, g, x, rt.memory.buffer.byteLength)).toThrow(ValueError);
    expect(() => maxPool2dBackward(rt, g, y, x, x)).toThrow(/maxPool2dBackward: dx .* overlaps argmax/);
    expect(Array.from(rt.read(y, 8)).every(Number.isNaN)).toBe(true);
    avgPool2dForward(rt, g, x, y);
    expect(Array.from(rt.read(y, 8))).toEqual(new Array(8).fill(1));
  });
});

import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '../../packages/wasmgrad/src/errors.js';
import {
  type Conv2dGeometry,
  type Conv2dOptions,
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dForwardMaxPool2,
  conv2dGeometry,
  conv2dMaxPool2Size,
  conv2dMaxPool2WorkspaceLength,
  conv2dWorkspaceLength,
  depthwiseConv2dBackwardFilter,
  depthwiseConv2dBackwardInput,
  depthwiseConv2dForward,
  depthwiseConv2dGeometry,
} from '../../packages/wasmgrad/src/runtime/kernels/conv.js';
import { maxPool2dForward, pool2dGeometry } from '../../packages/wasmgrad/src/runtime/kernels/pool.js';
import { createRuntime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { nanBuf, put, randArray } from '../shared/buffers.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

/**
 * Calls f(x index, filter index, y index) for every product term of a (depthwise when `depthwise`)
 * convolution, straight from the definition: y[n,oy,ox,o] += x[n, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, c]·w[ky,kx,c,o'].
 */
function terms(g: Conv2dGeometry, depthwise: boolean, f: (xi: number, wi: number, yi: number) => void): void {
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: O, outHeight: OH, outWidth: OW } = g;
  const mult = depthwise ? O / Math.max(C, 1) : 0;
  for (let n = 0; n < g.batch; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let ky = 0; ky < g.filterHeight; ky++) {
          const iy = oy * g.strideHeight + ky * g.dilationHeight - g.padTop;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < g.filterWidth; kx++) {
            const ix = ox * g.strideWidth + kx * g.dilationWidth - g.padLeft;
            if (ix < 0 || ix >= W) continue;
            const xBase = ((n * H + iy) * W + ix) * C;
            const yBase = ((n * OH + oy) * OW + ox) * O;
            const tap = ky * g.filterWidth + kx;
            for (let c = 0; c < C; c++) {
              if (depthwise) {
                for (let m = 0; m < mult; m++) f(xBase + c, tap * O + c * mult + m, yBase + c * mult + m);
              } else {
                for (let o = 0; o < O; o++) f(xBase + c, (tap * C + c) * O + o, yBase + o);
              }
            }
          }
        }
}

function forwardRef(
  g: Conv2dGeometry,
  dw: boolean,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias?: ArrayLike<number>,
) {
  const y = new Float64Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[i % g.outChannels] as number;
  terms(g, dw, (xi, wi, yi) => {
    y[yi] = (y[yi] as number) + (x[xi] as number) * (w[wi] as number);
  });
  return y;
}

function backwardRef(
  g: Conv2dGeometry,
  dw: boolean,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
) {
  const dx = new Float64Array(x.length);
  const dfilter = new Float64Array(w.length);
  terms(g, dw, (xi, wi, yi) => {
    dx[xi] = (dx[xi] as number) + (dy[yi] as number) * (w[wi] as number);
    dfilter[wi] = (dfilter[wi] as number) + (dy[yi] as number) * (x[xi] as number);
  });
  return { dx, dfilter };
}

/** Central differences of v ↦ ⟨forwardRef(…v…), dy⟩ at `count` spread indices (exact up to rounding: the loss is linear). */
function numericGrad(loss: (v: Float64Array) => number, at: ArrayLike<number>, count: number): Map<number, number> {
  const v = Float64Array.from(at);
  const out = new Map<number, number>();
  const step = Math.max(1, Math.floor(v.length / count));
  for (let k = 0; k < v.length; k += step) {
    const old = v[k] as number;
    v[k] = old + 1e-3;
    const up = loss(v);
    v[k] = old - 1e-3;
    const down = loss(v);
    v[k] = old;
    out.set(k, (up - down) / 2e-3);
  }
  return out;
}

function expectFd(got: Float32Array, fd: Map<number, number>, what: string): void {
  const idx = [...fd.keys()];
  assertClose(
    idx.map((k) => got[k] as number),
    idx.map((k) => fd.get(k) as number),
    { atol: 1e-4, rtol: 1e-4 },
    what,
  );
}

const CASES: [string, number[], number[], Conv2dOptions][] = [
  ['3x3 valid', [2, 5, 7, 3], [3, 3, 3, 4], { padding: 'valid' }],
  ['3x3 same C=1 (first layer)', [2, 6, 5, 1], [3, 3, 1, 5], { padding: 'same' }],
  ['stride 2 same, asymmetric split', [2, 6, 7, 5], [3, 3, 5, 6], { strides: 2, padding: 'same' }],
  ['2x2 stride 2 same on even size', [1, 6, 6, 4], [2, 2, 4, 3], { strides: 2, padding: 'same' }],
  ['dilation 2 same', [2, 7, 6, 3], [3, 2, 3, 2], { dilations: 2, padding: 'same' }],
  ['stride (1,2) dilation (2,1) valid', [1, 7, 9, 8], [2, 3, 8, 5], { strides: [1, 2], dilations: [2, 1] }],
  ['explicit asymmetric padding', [2, 4, 5, 2], [3, 3, 2, 3], { padding: { top: 2, bottom: 0, left: 0, right: 1 } }],
  ['1x1 pointwise', [3, 4, 3, 6], [1, 1, 6, 7], {}],
  ['1x1 stride 2', [2, 5, 5, 3], [1, 1, 3, 4], { strides: 2, padding: 'same' }],
  ['filter as large as the input', [2, 3, 4, 2], [3, 4, 2, 3], {}],
  // 3×3 / stride 1 over ≥ 4 channels: the Winograd F(2×2, 3×3) forward, odd sides (partial tiles).
  ['3x3 Winograd valid, 16 channels', [2, 7, 9, 16], [3, 3, 16, 9], {}],
  ['3x3 Winograd same, odd sizes', [3, 6, 5, 5], [3, 3, 5, 11], { padding: 'same' }],
];

describe.each([
  ['simd', true],
  ['scalar', false],
])('conv2d kernels on the %s build', (_name, simd) => {
  it.each(CASES)(
    '%s: forward, dx, dw, bias grad match f64 references and finite differences',
    async (_label, xs, fs, opts) => {
      const rt = await createRuntime({ simd });
      const g = conv2dGeometry(xs, fs, opts);
      const rand = seededRandom(xs.reduce((a, b) => a * 31 + b, 7));
      const nx = xs.reduce((a, b) => a * b, 1);
      const nw = fs.reduce((a, b) => a * b, 1);
      const ny = g.batch * g.outHeight * g.outWidth * g.outChannels;
      const x = randArray(rand, nx);
      const w = randArray(rand, nw);
      const b = randArray(rand, g.outChannels);
      const dy = randArray(rand, ny);
      const work = nanBuf(rt, conv2dWorkspaceLength(rt, g));
      const [px, pw, pb, pdy] = [put(rt, x), put(rt, w), put(rt, b), put(rt, dy)];
      const [py, pdx, pdw, pdb] = [nanBuf(rt, ny), nanBuf(rt, nx), nanBuf(rt, nw), nanBuf(rt, g.outChannels)];

      conv2dForward(rt, g, px, pw, pb, py, work);
      const tol = { atol: 1e-5, rtol: 1e-4 };
      assertClose(rt.read(py, ny), forwardRef(g, false, x, w, b), tol, 'forward');
      conv2dForward(rt, g, px, pw, 0, py, work);
      assertClose(rt.read(py, ny), forwardRef(g, false, x, w), tol, 'forward without bias');
      // The activation fused into the store: relu and relu6 of the same sums.
      for (const [act, cap] of [
        ['relu', Number.POSITIVE_INFINITY],
        ['relu6', 6],
      ] as const) {
        rt.write(py, new Float32Array(ny).fill(Number.NaN));
        conv2dForward(rt, g, px, pw, pb, py, work, 'conv2d', act);
        const want = forwardRef(g, false, x, w, b).map((v) => Math.min(Math.max(v, 0), cap));
        assertClose(rt.read(py, ny), want, tol, `forward ${act}`);
      }

      conv2dBackwardInput(rt, g, pdy, pw, pdx, work);
      conv2dBackwardFilter(rt, g, px, pdy, pdw, work);
      conv2dBackwardBias(rt, pdy, ny / g.outChannels, g.outChannels, pdb);
      const ref = backwardRef(g, false, x, w, dy);
      const [dx, dw, db] = [rt.read(pdx, nx), rt.read(pdw, nw), rt.read(pdb, g.outChannels)];
      assertClose(dx, ref.dx, tol, 'dx');
      assertClose(dw, ref.dfilter, tol, 'dw');
      const dbRef = new Float64Array(g.outChannels);
      for (let i = 0; i < ny; i++) dbRef[i % g.outChannels] = (dbRef[i % g.outChannels] as number) + (dy[i] as number);
      assertClose(db, dbRef, tol, 'dbias');
      // Adjoint: ⟨conv(x), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩.
      const lhs = dot(forwardRef(g, false, x, w), dy);
      expect(Math.abs(dot(x, dx) - lhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      expect(Math.abs(dot(w, dw) - lhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      // Finite differences of the f64 forward reference.
      expectFd(
        dx,
        numericGrad((v) => dot(forwardRef(g, false, v, w), dy), x, 40),
        'dx vs finite differences',
      );
      expectFd(
        dw,
        numericGrad((v) => dot(forwardRef(g, false, x, v), dy), w, 40),
        'dw vs finite differences',
      );
    },
  );

  it('depthwise conv2d (multipliers 1 and 2) matches references and finite differences', async () => {
    const rt = await createRuntime({ simd });
    for (const [xs, fs, opts] of [
      [[2, 6, 5, 6], [3, 3, 6, 1], { padding: 'same' }],
      [[1, 7, 6, 3], [3, 2, 3, 2], { strides: 2, dilations: 1, padding: 'same' }],
      [[2, 7, 7, 5], [2, 3, 5, 1], { dilations: 2 }],
    ] as [number[], number[], Conv2dOptions][]) {
      const g = depthwiseConv2dGeometry(xs, fs, opts);
      const rand = seededRandom(3 + (xs[3] as number));
      const nx = xs.reduce((a, b) => a * b, 1);
      const nw = fs.reduce((a, b) => a * b, 1);
      const ny = g.batch * g.outHeight * g.outWidth * g.outChannels;
      const [x, w, b, dy] = [
        randArray(rand, nx),
        randArray(rand, nw),
        randArray(rand, g.outChannels),
        randArray(rand, ny),
      ];
      const [px, pw, pb, pdy] = [put(rt, x), put(rt, w), put(rt, b), put(rt, dy)];
      const [py, pdx, pdw] = [nanBuf(rt, ny), nanBuf(rt, nx), nanBuf(rt, nw)];
      depthwiseConv2dForward(rt, g, px, pw, pb, py);
      depthwiseConv2dBackwardInput(rt, g, pdy, pw, pdx);
      depthwiseConv2dBackwardFilter(rt, g, px, pdy, pdw);
      const tol = { atol: 1e-5, rtol: 1e-4 };
      const what = `depthwise ${JSON.stringify([xs, fs, opts])}`;
      assertClose(rt.read(py, ny), forwardRef(g, true, x, w, b), tol, `${what} forward`);
      const ref = backwardRef(g, true, x, w, dy);
      const [dx, dw] = [rt.read(pdx, nx), rt.read(pdw, nw)];
      assertClose(dx, ref.dx, tol, `${what} dx`);
      assertClose(dw, ref.dfilter, tol, `${what} dw`);
      expectFd(
        dx,
        numericGrad((v) => dot(forwardRef(g, true, v, w), dy), x, 30),
        `${what} dx vs finite differences`,
      );
      expectFd(
        dw,
        numericGrad((v) => dot(forwardRef(g, true, x, v), dy), w, 30),
        `${what} dw vs finite differences`,
      );
    }
  });
});

describe.each([
  ['simd', true],
  ['scalar', false],
])('conv2d at sizes that cross column blocks and gemm blocks on the %s build', (_name, simd) => {
  it('matches the reference and passes random-direction VJP checks', async () => {
    const rt = await createRuntime({ simd });
    // patch 3·3·32 = 288 > gemm's k block; 396 output rows > one column block of ⌊65536/288⌋ rows.
    const g = conv2dGeometry([3, 12, 11, 32], [3, 3, 32, 40], { padding: 'same' });
    const rand = seededRandom(2024);
    const [nx, nw, ny] = [3 * 12 * 11 * 32, 3 * 3 * 32 * 40, 3 * 12 * 11 * 40];
    const [x, w, dy, vx, vw] = [
      randArray(rand, nx),
      randArray(rand, nw),
      randArray(rand, ny),
      randArray(rand, nx),
      randArray(rand, nw),
    ];
    const work = nanBuf(rt, conv2dWorkspaceLength(rt, g));
    const [px, pw, pdy, py, pdx, pdw] = [
      put(rt, x),
      put(rt, w),
      put(rt, dy),
      nanBuf(rt, ny),
      nanBuf(rt, nx),
      nanBuf(rt, nw),
    ];
    conv2dForward(rt, g, px, pw, 0, py, work);
    conv2dBackwardInput(rt, g, pdy, pw, pdx, work);
    conv2dBackwardFilter(rt, g, px, pdy, pdw, work);
    assertClose(rt.read(py, ny), forwardRef(g, false, x, w), { atol: 1e-4, rtol: 1e-4 }, 'forward');
    // d/dε ⟨conv(x + ε·vx, w + ε·vw), dy⟩ at 0 equals ⟨vx, dx⟩ + ⟨vw, dw⟩ (central difference of
    // the f64 reference; exact up to rounding because the loss is bilinear).
    const eps = 1e-3;
    const shift = (a: number[], v: number[], t: number) => a.map((ai, i) => ai + t * (v[i] as number));
    const loss = (t: number) => dot(forwardRef(g, false, shift(x, vx, t), shift(w, vw, t)), dy);
    const fd = (loss(eps) - loss(-eps)) / (2 * eps);
    const vjp = dot(vx, rt.read(pdx, nx)) + dot(vw, rt.read(pdw, nw));
    expect(Math.abs(vjp - fd)).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
  });
});

describe('conv2d fused with 2×2 max pooling (inference)', () => {
  // [x shape, filter shape, options]: the direct block kernel (1–3 channels, 3×3), the direct
  // per-pixel kernel (other filters), Winograd, and image-by-image im2col + gemm.
  const cases: [string, number[], number[], Conv2dOptions][] = [
    ['1 channel, 3x3 same (the CNN first layer)', [3, 10, 12, 1], [3, 3, 1, 16], { padding: 'same' }],
    ['3 channels, 3x3 valid, odd output', [2, 9, 8, 3], [3, 3, 3, 10], { padding: 'valid' }],
    ['2 channels, 5x5 strided', [2, 13, 11, 2], [5, 5, 2, 6], { padding: 'same', strides: 2 }],
    ['Winograd 16 → 32, same', [3, 14, 14, 16], [3, 3, 16, 32], { padding: 'same' }],
    ['Winograd 5 → 7, valid, odd', [2, 9, 10, 5], [3, 3, 5, 7], { padding: 'valid' }],
    ['im2col 4 → 9, dilated', [2, 11, 10, 4], [3, 3, 4, 9], { padding: 'same', dilations: 2 }],
  ];
  it.each(cases)('%s: bit-equal to conv2d then maxPool2d on the SIMD and scalar builds', async (_, xs, fs, opts) => {
    for (const simd of [true, false]) {
      const rt = await createRuntime({ simd });
      const g = conv2dGeometry(xs, fs, opts);
      const rand = seededRandom(7);
      const x = randArray(
        rand,
        xs.reduce((a, b) => a * b, 1),
      );
      x[5] = Number.NaN;
      const w = randArray(
        rand,
        fs.reduce((a, b) => a * b, 1),
      );
      const bias = randArray(rand, g.outChannels);
      const [px, pw, pb] = [put(rt, x), put(rt, w), put(rt, bias)];
      for (const act of ['linear', 'relu', 'relu6'] as const) {
        const conv = nanBuf(rt, g.batch * g.outHeight * g.outWidth * g.outChannels);
        conv2dForward(rt, g, px, pw, pb, conv, nanBuf(rt, conv2dWorkspaceLength(rt, g)), 'conv2d', act);
        const pg = pool2dGeometry([g.batch, g.outHeight, g.outWidth, g.outChannels], { poolSize: 2 });
        const n = conv2dMaxPool2Size(g);
        const want = nanBuf(rt, n);
        maxPool2dForward(rt, pg, conv, want, 0);
        const got = nanBuf(rt, n + 1);
        conv2dForwardMaxPool2(rt, g, px, pw, pb, got, nanBuf(rt, conv2dMaxPool2WorkspaceLength(rt, g)), 'conv2d', act);
        const bits = (p: number, len: number) => Array.from(new Uint32Array(rt.memory.buffer, p, len));
        expect(bits(got, n), `${simd ? 'simd' : 'scalar'} ${act}`).toEqual(bits(want, n));
        expect(Number.isNaN(rt.read(got + 4 * n, 1)[0] as number)).toBe(true);
      }
    }
  });

  it('checks its buffers like conv2dForward', async () => {
    const rt = await createRuntime();
    const g = conv2dGeometry([1, 6, 6, 1], [3, 3, 1, 4], { padding: 'same' });
    const x = put(rt, new Float32Array(36));
    const w = put(rt, new Float32Array(36));
    const work = nanBuf(rt, conv2dMaxPool2WorkspaceLength(rt, g));
    expect(conv2dMaxPool2Size(g)).toBe(36);
    expect(() => conv2dForwardMaxPool2(rt, g, x, w, 0, x, work)).toThrow(ValueError);
    expect(() => conv2dForwardMaxPool2(rt, g, x, w, 0, nanBuf(rt, 36), work, 'c', 'tanh' as never)).toThrow(
      /act must be/,
    );
  });
});

describe('conv2d kernels across builds and bad input', () => {
  it('SIMD and scalar builds agree bit for bit', async () => {
    const runtimes = [await createRuntime({ simd: true }), await createRuntime({ simd: false })];
    const outs = runtimes.map((rt) => {
      const g = conv2dGeometry([3, 9, 8, 5], [3, 3, 5, 7], { padding: 'same', strides: [1, 2] });
      const rand = seededRandom(99);
      const x = randArray(rand, 3 * 9 * 8 * 5);
      const w = randArray(rand, 3 * 3 * 5 * 7);
      const ny = g.batch * g.outHeight * g.outWidth * 7;
      const dy = randArray(rand, ny);
      const work = nanBuf(rt, conv2dWorkspaceLength(rt, g));
      const [px, pw, pdy, py, pdx, pdw] = [
        put(rt, x),
        put(rt, w),
        put(rt, dy),
        nanBuf(rt, ny),
        nanBuf(rt, x.length),
        nanBuf(rt, w.length),
      ];
      conv2dForward(rt, g, px, pw, 0, py, work);
      conv2dBackwardInput(rt, g, pdy, pw, pdx, work);
      conv2dBackwardFilter(rt, g, px, pdy, pdw, work);
      return [rt.read(py, ny), rt.read(pdx, x.length), rt.read(pdw, w.length)];
    });
    const [simdOut, scalarOut] = outs as [Float32Array[], Float32Array[]];
    for (let k = 0; k < 3; k++)
      expect(Array.from(simdOut[k] as Float32Array)).toEqual(Array.from(scalarOut[k] as Float32Array));
  });

  it('computes TensorFlow output sizes and same-padding splits', () => {
    const g = conv2dGeometry([1, 6, 7, 1], [3, 3, 1, 1], { strides: 2, padding: 'same' });
    // height: out 3, total pad max(2·2 + 3 − 6, 0) = 1 → 0 before, 1 after; width: out 4, pad 2 → 1, 1.
    expect([g.outHeight, g.outWidth, g.padTop, g.padBottom, g.padLeft, g.padRight]).toEqual([3, 4, 0, 1, 1, 1]);
    const v = conv2dGeometry([1, 6, 7, 1], [3, 3, 1, 1], { strides: 2, padding: 'valid' });
    expect([v.outHeight, v.outWidth]).toEqual([2, 3]);
    // Explicit paddings in the three accepted spellings agree.
    const forms = [
      2,
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
      { top: 2, bottom: 2, left: 2, right: 2 },
    ] as const;
    for (const padding of forms) {
      const e = conv2dGeometry([1, 6, 7, 1], [3, 3, 1, 1], { padding: padding as Conv2dOptions['padding'] });
      expect([e.outHeight, e.outWidth, e.padTop, e.padRight]).toEqual([8, 9, 2, 2]);
    }
    expect(() =>
      conv2dGeometry([1, 6, 7, 1], [3, 3, 1, 1], {
        padding: [
          [1, 0],
          [2, 2],
          [2, 2],
          [0, 0],
        ],
      }),
    ).toThrow(/conv2d: padding must be/);
    const d = conv2dGeometry([1, 10, 10, 1], [3, 3, 1, 1], { dilations: 2, padding: 'same' });
    expect([d.outHeight, d.padTop, d.padBottom]).toEqual([10, 2, 2]);
  });

  it('rejects bad shapes and arguments with typed errors naming the op and shapes', async () => {
    const rt = await createRuntime();
    expect(() => conv2dGeometry([1, 5, 5, 3], [3, 3, 4, 8])).toThrow(ShapeError);
    expect(() => conv2dGeometry([1, 5, 5, 3], [3, 3, 4, 8])).toThrow(
      /conv2d: x \[1,5,5,3\] has 3 channels but filter \[3,3,4,8\] expects 4/,
    );
    expect(() => conv2dGeometry([1, 2, 2, 1], [3, 3, 1, 1])).toThrow(
      /conv2d: the height filter span 3 .* larger than the padded input height 2/,
    );
    expect(() => conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], { dilations: 2 })).toThrow(ShapeError);
    expect(() =>
      conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], {
        padding: { top: 1, bottom: 0, left: 0, right: 0 },
        dilations: [3, 1],
      }),
    ).toThrow(ShapeError);
    expect(() => conv2dGeometry([1, 4.5, 4, 1], [3, 3, 1, 1])).toThrow(ValueError);
    expect(() => conv2dGeometry([1, 4.5, 4, 1], [3, 3, 1, 1])).toThrow(/conv2d: x shape \[1,4.5,4,1\]/);
    expect(() => conv2dGeometry([1, 4, 4, 1], [3, 3, 1, Number.NaN])).toThrow(ValueError);
    expect(() => conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], { strides: 0 })).toThrow(ValueError);
    expect(() => conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], { strides: 1.5 })).toThrow(
      /strides must be positive integers/,
    );
    expect(() => conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], { padding: 'full' as 'same' })).toThrow(ValueError);
    expect(() =>
      conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], { padding: { top: -1, bottom: 0, left: 0, right: 0 } }),
    ).toThrow(ValueError);
    expect(() => conv2dGeometry([4, 4, 1], [3, 3, 1, 1])).toThrow(/conv2d: x must have rank 4, got shape \[4,4,1\]/);
    expect(() => depthwiseConv2dGeometry([1, 5, 5, 3], [3, 3, 2, 1])).toThrow(
      /depthwiseConv2d: x \[1,5,5,3\] has 3 channels but filter \[3,3,2,1\]/,
    );

    // Pointers outside the heap, too short buffers and outputs overlapping inputs never reach the kernel.
    const g = conv2dGeometry([1, 4, 4, 2], [3, 3, 2, 2]);
    const work = rt.allocF32(conv2dWorkspaceLength(rt, g));
    const x = put(rt, new Float32Array(32).fill(1));
    const w = put(rt, new Float32Array(36).fill(1));
    const y = nanBuf(rt, 8);
    expect(() => conv2dForward(rt, g, x, w, 0, rt.memory.buffer.byteLength - 8, work)).toThrow(ValueError);
    expect(() => conv2dForward(rt, g, x, w, 0, 3, work)).toThrow(/conv2d: y spans bytes/);
    expect(() => conv2dForward(rt, g, x, w, 0, x + 4, work)).toThrow(/conv2d: y .* overlaps x/);
    expect(() => conv2dForward(rt, g, x, w, 0, y, work, 'conv2d', 'gelu' as 'relu')).toThrow(
      /conv2d: act must be 'linear', 'relu' or 'relu6', got "gelu"/,
    );
    expect(() => conv2dBackwardInput(rt, g, y, w, y, work)).toThrow(/conv2dBackwardInput: dx .* overlaps dy/);
    expect(() => conv2dBackwardFilter(rt, g, x, y, w, w)).toThrow(/conv2dBackwardFilter: dfilter .* overlaps work/);
    expect(Array.from(rt.read(y, 8)).every(Number.isNaN)).toBe(true);
    // Still usable afterwards.
    conv2dForward(rt, g, x, w, 0, y, work);
    expect(Array.from(rt.read(y, 8))).toEqual(new Array(8).fill(18));
  });
});

/**
 * conv2d, depthwiseConv2d, maxPool2d and avgPool2d as differentiable ops: forward against direct
 * f64 loops over NHWC/HWIO data, gradients against central finite differences of those loops.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkOp, type RefFn, randomValues } from '../shared/gradcheck.js';

beforeAll(async () => {
  await wg.ready();
});

interface Geo {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  oh: number;
  ow: number;
}

/** Visits every (output cell, window cell inside the image) pair. */
function windows(
  g: Geo,
  visit: (b: number, oy: number, ox: number, ky: number, kx: number, iy: number, ix: number) => void,
): void {
  for (let b = 0; b < g.n; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.sh + ky * g.dh - g.pt;
            const ix = ox * g.sw + kx * g.dw - g.pl;
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) visit(b, oy, ox, ky, kx, iy, ix);
          }
}

function conv2dRef(g: Geo, oc: number): RefFn {
  return (x, f) => {
    const y = new Float64Array(g.n * g.oh * g.ow * oc);
    windows(g, (b, oy, ox, ky, kx, iy, ix) => {
      for (let ci = 0; ci < g.c; ci++)
        for (let co = 0; co < oc; co++)
          y[((b * g.oh + oy) * g.ow + ox) * oc + co] =
            (y[((b * g.oh + oy) * g.ow + ox) * oc + co] as number) +
            (x[((b * g.h + iy) * g.w + ix) * g.c + ci] as number) *
              (f[((ky * g.kw + kx) * g.c + ci) * oc + co] as number);
    });
    return y;
  };
}

function depthwiseRef(g: Geo, mult: number): RefFn {
  return (x, f) => {
    const oc = g.c * mult;
    const y = new Float64Array(g.n * g.oh * g.ow * oc);
    windows(g, (b, oy, ox, ky, kx, iy, ix) => {
      for (let ci = 0; ci < g.c; ci++)
        for (let m = 0; m < mult; m++)
          y[((b * g.oh + oy) * g.ow + ox) * oc + ci * mult + m] =
            (y[((b * g.oh + oy) * g.ow + ox) * oc + ci * mult + m] as number) +
            (x[((b * g.h + iy) * g.w + ix) * g.c + ci] as number) *
              (f[((ky * g.kw + kx) * g.c + ci) * mult + m] as number);
    });
    return y;
  };
}

function poolRef(g: Geo, kind: 'max' | 'avg'): RefFn {
  return (x) => {
    const size = g.n * g.oh * g.ow * g.c;
    const y = new Float64Array(size).fill(kind === 'max' ? Number.NEGATIVE_INFINITY : 0);
    const count = new Float64Array(size);
    windows(g, (b, oy, ox, _ky, _kx, iy, ix) => {
      for (let c = 0; c < g.c; c++) {
        const o = ((b * g.oh + oy) * g.ow + ox) * g.c + c;
        const v = x[((b * g.h + iy) * g.w + ix) * g.c + c] as number;
        y[o] = kind === 'max' ? Math.max(y[o] as number, v) : (y[o] as number) + v;
        count[o] = (count[o] as number) + 1;
      }
    });
    return kind === 'max' ? y : y.map((v, i) => v / (count[i] as number));
  };
}

const geo = (p: Partial<Geo> & Pick<Geo, 'h' | 'w' | 'kh' | 'kw'>): Geo => {
  const g = { n: 2, c: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, oh: 0, ow: 0, ...p };
  return g;
};

describe('convolution ops', () => {
  it('conv2d valid, strided, same-padded and dilated match f64 loops and finite differences', () => {
    // 'same' with a 3x3 window and stride 1 pads 1 on each side; out = in.
    const cases: [string, Geo, number, 'valid' | 'same', number][] = [
      ['valid', geo({ h: 5, w: 6, kh: 3, kw: 2, oh: 3, ow: 5 }), 1, 'valid', 1],
      ['stride 2', geo({ h: 7, w: 6, kh: 3, kw: 3, sh: 2, sw: 2, oh: 3, ow: 2 }), 2, 'valid', 1],
      ['same', geo({ h: 5, w: 4, kh: 3, kw: 3, pt: 1, pl: 1, oh: 5, ow: 4 }), 1, 'same', 1],
      ['dilated', geo({ h: 7, w: 7, kh: 3, kw: 3, dh: 2, dw: 2, oh: 3, ow: 3 }), 1, 'valid', 2],
    ];
    for (const [name, g, strides, padding, dil] of cases) {
      const oc = 4;
      checkOp({
        name: `conv2d ${name}`,
        op: (x, f) => wg.conv2d(x as wg.Tensor, f as wg.Tensor, strides, padding, dil),
        ref: conv2dRef(g, oc),
        shapes: [
          [g.n, g.h, g.w, g.c],
          [g.kh, g.kw, g.c, oc],
        ],
        forward: { atol: 1e-5, rtol: 1e-5 },
      });
    }
    expect(() => wg.tidy(() => wg.conv2d(wg.zeros([1, 4, 4, 3]), wg.zeros([3, 3, 2, 1])))).toThrow(
      /conv2d: x \[1,4,4,3\] has 3 channels but filter \[3,3,2,1\] expects 2/,
    );
  });

  it('depthwiseConv2d matches f64 loops and finite differences', () => {
    // 'same' with stride 2 over 6 rows pads 1 row in total, after (TensorFlow puts the extra cell last).
    const g = geo({ h: 6, w: 5, kh: 3, kw: 3, sh: 2, sw: 1, pt: 0, pl: 1, oh: 3, ow: 5 });
    checkOp({
      name: 'depthwiseConv2d same stride [2,1] mult 2',
      op: (x, f) => wg.depthwiseConv2d(x as wg.Tensor, f as wg.Tensor, [2, 1], 'same'),
      ref: depthwiseRef(g, 2),
      shapes: [
        [g.n, g.h, g.w, g.c],
        [3, 3, g.c, 2],
      ],
    });
  });

  it('maxPool2d and avgPool2d match f64 loops and finite differences', () => {
    const g = geo({ h: 6, w: 7, kh: 2, kw: 3, sh: 2, sw: 2, oh: 3, ow: 3 });
    checkOp({
      name: 'maxPool2d',
      op: (x) => wg.maxPool2d(x as wg.Tensor, [2, 3], 2),
      ref: poolRef(g, 'max'),
      shapes: [[g.n, g.h, g.w, g.c]],
    });
    checkOp({
      name: 'avgPool2d',
      op: (x) => wg.avgPool2d(x as wg.Tensor, [2, 3], 2),
      ref: poolRef(g, 'avg'),
      shapes: [[g.n, g.h, g.w, g.c]],
    });
    const gs = geo({ h: 5, w: 5, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, oh: 3, ow: 3 });
    checkOp({
      name: 'avgPool2d same',
      op: (x) => wg.avgPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gs, 'avg'),
      shapes: [[gs.n, gs.h, gs.w, gs.c]],
    });
    checkOp({
      name: 'maxPool2d same',
      op: (x) => wg.maxPool2d(x as wg.Tensor, 3, 2, 'same'),
      ref: poolRef(gs, 'max'),
      shapes: [[gs.n, gs.h, gs.w, gs.c]],
    });
  });

  it('a conv → pool → mean chain frees every intermediate after its gradient', () => {
    const x = wg.tensor(randomValues(128, 5), [2, 8, 8, 1]);
    const f = wg.tidy(() => wg.fill([3, 3, 1, 4], 0.1));
    const before = wg.memory();
    const g = wg.grad((filter) => wg.mean(wg.maxPool2d(wg.conv2d(x, filter, 1, 'same'), 2)))(f);
    expect(g.shape).toEqual([3, 3, 1, 4]);
    g.dispose();
    expect(wg.memory().numTensors).toBe(before.numTensors);
    expect(wg.memory().heapLiveBytes).toBe(before.heapLiveBytes);
    wg.dispose([x, f]);
  });
});

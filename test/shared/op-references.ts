/**
 * Plain f64 references of the tensor ops over row-major Float64Arrays, shared by the autograd
 * tests (autograd-ops, autograd-conv) and the op coverage matrix (op-coverage.test.ts).
 */
import * as wg from '../../packages/wasmgrad/src/index.js';
import type { RefFn } from './gradcheck.js';

/** Elementwise reference from a scalar function. */
export const map =
  (f: (v: number) => number): RefFn =>
  (x) =>
    x.map(f);

/** erf by its Maclaurin series (|x| < 5; error < 1e-9 there), ±1 beyond. */
export function erf(x: number): number {
  if (Math.abs(x) >= 5) return Math.sign(x);
  let term = x;
  let s = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    s += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * s;
}
export const sig = (v: number): number => 1 / (1 + Math.exp(-v));
export const softplusRef = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
export const SELU_L = 1.0507009873554805;
export const SELU_A = 1.6732632423543772;

/** f64 broadcasting binary op over row-major shapes. */
export function broadcastRef(f: (a: number, b: number) => number, sa: number[], sb: number[]): RefFn {
  const out = wg.broadcastShapes('ref', sa, sb);
  const strides = (s: number[]) => {
    const st = new Array<number>(out.length).fill(0);
    let k = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      st[out.length - s.length + i] = s[i] === 1 ? 0 : k;
      k *= s[i] as number;
    }
    return st;
  };
  const [ta, tb] = [strides(sa), strides(sb)];
  const n = out.reduce((p, d) => p * d, 1);
  return (a, b) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let [r, ia, ib] = [i, 0, 0];
      for (let d = out.length - 1; d >= 0; d--) {
        const c = r % (out[d] as number);
        r = Math.floor(r / (out[d] as number));
        ia += c * (ta[d] as number);
        ib += c * (tb[d] as number);
      }
      y[i] = f(a[ia] as number, (b ?? a)[ib] as number);
    }
    return y;
  };
}

/** f64 sum over axes of a row-major tensor (scaled by `factor`). */
export function sumRef(shape: number[], axes: number[], factor = 1): RefFn {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = outShape.reduce((p, d) => p * d, 1);
  return (x) => {
    const y = new Float64Array(n);
    for (let i = 0; i < x.length; i++) {
      let [r, o, k] = [i, 0, 1];
      for (let d = shape.length - 1; d >= 0; d--) {
        const c = r % (shape[d] as number);
        r = Math.floor(r / (shape[d] as number));
        o += (axes.includes(d) ? 0 : c) * k;
        k *= outShape[d] as number;
      }
      y[o] = (y[o] as number) + (x[i] as number) * factor;
    }
    return y;
  };
}

/** f64 row-wise softmax or log-softmax over the last axis of length `cols`. */
export const softmaxRef =
  (cols: number, log: boolean): RefFn =>
  (x) => {
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / cols; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      const m = Math.max(...row);
      const s = row.reduce((p, v) => p + Math.exp(v - m), 0);
      row.forEach((v, j) => {
        y[r * cols + j] = log ? v - m - Math.log(s) : Math.exp(v - m) / s;
      });
    }
    return y;
  };

/** f64 max over the last axis of a [rows, cols] matrix. */
export const maxRowsRef =
  (rows: number, cols: number): RefFn =>
  (x) =>
    Float64Array.from({ length: rows }, (_, r) => Math.max(...x.subarray(r * cols, (r + 1) * cols)));

/** f64 op(a)·op(b) for a [m,k] (or [k,m] transposed) and b [k,n] (or [n,k] transposed). */
export const matMulRef =
  (m: number, k: number, n: number, ta = false, tb = false): RefFn =>
  (a, b) => {
    const y = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? (a[p * m + i] as number) : (a[i * k + p] as number);
          const bv = tb ? ((b as Float64Array)[j * k + p] as number) : ((b as Float64Array)[p * n + j] as number);
          s += av * bv;
        }
        y[i * n + j] = s;
      }
    return y;
  };

const stridesOf = (shape: readonly number[]): number[] => {
  const st = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = (st[i + 1] as number) * (shape[i + 1] as number);
  return st;
};

/** Calls `visit(flatIndex, coords)` for every cell of `shape` in row-major order. */
function cells(shape: readonly number[], visit: (i: number, c: number[]) => void): void {
  const n = shape.reduce((p, d) => p * d, 1);
  const c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    visit(i, c);
    for (let d = shape.length - 1; d >= 0; d--) {
      c[d] = (c[d] as number) + 1;
      if ((c[d] as number) < (shape[d] as number)) break;
      c[d] = 0;
    }
  }
}

/** f64 transpose of a row-major tensor by `perm`. */
export const transposeRef =
  (shape: readonly number[], perm: readonly number[]): RefFn =>
  (x) => {
    const out = perm.map((p) => shape[p] as number);
    const st = stridesOf(shape);
    const y = new Float64Array(x.length);
    cells(out, (i, c) => {
      y[i] = x[c.reduce((s, v, d) => s + v * (st[perm[d] as number] as number), 0)] as number;
    });
    return y;
  };

/** f64 concat of row-major tensors of `shapes` along `axis`. */
export const concatRef =
  (shapes: readonly (readonly number[])[], axis: number): RefFn =>
  (...xs) => {
    const out = (shapes[0] as number[]).map((d, i) =>
      i === axis ? shapes.reduce((s, sh) => s + (sh[axis] as number), 0) : d,
    );
    const y = new Float64Array(out.reduce((p, d) => p * d, 1));
    cells(out, (i, c) => {
      let at = c[axis] as number;
      let k = 0;
      while (at >= ((shapes[k] as number[])[axis] as number)) at -= (shapes[k++] as number[])[axis] as number;
      const st = stridesOf(shapes[k] as number[]);
      y[i] = (xs[k] as Float64Array)[c.reduce((s, v, d) => s + (d === axis ? at : v) * (st[d] as number), 0)] as number;
    });
    return y;
  };

/** f64 slice of a row-major tensor: the box at `begin` of `size`. */
export const sliceRef =
  (shape: readonly number[], begin: readonly number[], size: readonly number[]): RefFn =>
  (x) => {
    const st = stridesOf(shape);
    const y = new Float64Array(size.reduce((p, d) => p * d, 1));
    cells(size, (i, c) => {
      y[i] = x[c.reduce((s, v, d) => s + (v + (begin[d] as number)) * (st[d] as number), 0)] as number;
    });
    return y;
  };

/** Geometry of a 2-D window op over NHWC input. */
export interface Geo {
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

/** A geometry with defaults n 2, c 3, stride 1, dilation 1, no padding. */
export const geo = (p: Partial<Geo> & Pick<Geo, 'h' | 'w' | 'kh' | 'kw'>): Geo => ({
  n: 2,
  c: 3,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  pt: 0,
  pl: 0,
  oh: 0,
  ow: 0,
  ...p,
});

/** Visits every (output cell, window cell inside the image) pair. */
export function windows(
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

/** f64 conv2d over NHWC x and HWIO filter with `oc` output channels. */
export function conv2dRef(g: Geo, oc: number): RefFn {
  return (x, f) => {
    const y = new Float64Array(g.n * g.oh * g.ow * oc);
    windows(g, (b, oy, ox, ky, kx, iy, ix) => {
      for (let ci = 0; ci < g.c; ci++)
        for (let co = 0; co < oc; co++)
          y[((b * g.oh + oy) * g.ow + ox) * oc + co] =
            (y[((b * g.oh + oy) * g.ow + ox) * oc + co] as number) +
            (x[((b * g.h + iy) * g.w + ix) * g.c + ci] as number) *
              ((f as Float64Array)[((ky * g.kw + kx) * g.c + ci) * oc + co] as number);
    });
    return y;
  };
}

/** f64 depthwise conv2d with channel multiplier `mult`. */
export function depthwiseRef(g: Geo, mult: number): RefFn {
  return (x, f) => {
    const oc = g.c * mult;
    const y = new Float64Array(g.n * g.oh * g.ow * oc);
    windows(g, (b, oy, ox, ky, kx, iy, ix) => {
      for (let ci = 0; ci < g.c; ci++)
        for (let m = 0; m < mult; m++)
          y[((b * g.oh + oy) * g.ow + ox) * oc + ci * mult + m] =
            (y[((b * g.oh + oy) * g.ow + ox) * oc + ci * mult + m] as number) +
            (x[((b * g.h + iy) * g.w + ix) * g.c + ci] as number) *
              ((f as Float64Array)[((ky * g.kw + kx) * g.c + ci) * mult + m] as number);
    });
    return y;
  };
}

/** f64 max or average pooling (the average over the cells inside the image). */
export function poolRef(g: Geo, kind: 'max' | 'avg'): RefFn {
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

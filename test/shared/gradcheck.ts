/**
 * Gradient checks in the style of PyTorch's gradcheck and JAX's check_grads, adapted to an f32
 * engine: finite differences are taken on a plain f64 reference implementation (so the FD error is
 * ~1e-10, not f32 noise), and the f32 gradient from wasm is compared with them under
 * |got − want| ≤ max(atol, rtol·max(|got|, |want|)).
 *
 * - `fdVjp`: the full vector–Jacobian product dyᵀ·J of an f64 reference by central differences.
 * - `checkOp`: forward against the reference, and the wasm gradient of Σ dy·f against `fdVjp`.
 * - `checkVjpDirections`: for large shapes, compares the directional derivative ⟨∇, v⟩ for a few
 *   random directions v with (dy·f(x + εv) − dy·f(x − εv)) / 2ε, which needs two reference
 *   evaluations per direction instead of two per input element.
 */
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom, type Tolerance } from './tolerance.js';

/** A reference implementation: f64 inputs (flat, row-major) to one flat f64 output. */
export type RefFn = (...xs: Float64Array[]) => Float64Array;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

/** dyᵀ·∂f/∂x_i for every input i, by central differences of the f64 reference (step `eps`). */
export function fdVjp(ref: RefFn, xs: Float64Array[], dy: ArrayLike<number>, eps = 1e-6): Float64Array[] {
  return xs.map((x, i) => {
    const g = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const keep = x[j] as number;
      x[j] = keep + eps;
      const hi = dot(dy, ref(...xs));
      x[j] = keep - eps;
      const lo = dot(dy, ref(...xs));
      x[j] = keep;
      g[j] = (hi - lo) / (2 * eps);
    }
    void i;
    return g;
  });
}

/** Seeded uniform values in [lo, hi), avoiding |x| < `gap` (kinks of relu/abs; poles of div/log). */
export function randomValues(n: number, seed: number, lo = -2, hi = 2, gap = 0): Float64Array {
  const rand = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = rand(lo, hi);
    while (Math.abs(v) < gap) v = rand(lo, hi);
    out[i] = Math.fround(v);
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** What `checkOp` needs. */
export interface OpCheck {
  name: string;
  /** The op under test, on wasm tensors. */
  op: (...ts: wg.Tensor[]) => wg.Tensor;
  /** The f64 reference. */
  ref: RefFn;
  /** Input shapes. */
  shapes: readonly (readonly number[])[];
  /** Input values (default: seeded uniform in [lo, hi) avoiding |x| < gap). */
  inputs?: Float64Array[];
  lo?: number;
  hi?: number;
  gap?: number;
  seed?: number;
  /** Forward tolerance (default atol 1e-5, rtol 1e-5). */
  forward?: Tolerance;
  /** Gradient tolerance (default atol 1e-4, rtol 2e-3, JAX's f32 level). */
  backward?: Tolerance;
  /** Skip the gradient of these inputs (not differentiable, e.g. labels). */
  constantInputs?: readonly number[];
}

/** Forward against the reference and the gradient of every input against finite differences. */
export function checkOp(c: OpCheck): void {
  const seed = c.seed ?? 1;
  const xs = c.inputs ?? c.shapes.map((s, i) => randomValues(size(s), seed + 17 * i, c.lo, c.hi, c.gap));
  const want = c.ref(...xs);
  wg.tidy(() => {
    const ts = xs.map((x, i) => wg.tensor(x, c.shapes[i] as number[]));
    const y = c.op(...ts);
    assertClose(y.dataSync(), want, c.forward ?? { atol: 1e-5, rtol: 1e-5 }, `${c.name} forward`);
    const dyValues = randomValues(y.size, seed + 99, -1, 1);
    const dy = wg.tensor(dyValues, y.shape as number[]);
    const gs = wg.grads((...args) => c.op(...args))(ts, dy);
    const fd = fdVjp(c.ref, xs, dyValues);
    gs.forEach((g, i) => {
      if (c.constantInputs?.includes(i)) return;
      if (JSON.stringify(g.shape) !== JSON.stringify(c.shapes[i])) {
        throw new Error(
          `${c.name}: gradient ${i} has shape ${JSON.stringify(g.shape)}, input ${JSON.stringify(c.shapes[i])}`,
        );
      }
      assertClose(g.dataSync(), fd[i] as Float64Array, c.backward ?? { atol: 1e-4, rtol: 2e-3 }, `${c.name} d/dx${i}`);
    });
  });
}

/**
 * Random-direction VJP check for large shapes: for `directions` random v, compares Σ_i ⟨g_i, v_i⟩
 * (g from wasm with a random dy) with the central difference of dy·ref along v.
 */
export function checkVjpDirections(c: OpCheck & { directions?: number }): void {
  const seed = c.seed ?? 7;
  const xs = c.inputs ?? c.shapes.map((s, i) => randomValues(size(s), seed + 17 * i, c.lo, c.hi, c.gap));
  wg.tidy(() => {
    const ts = xs.map((x, i) => wg.tensor(x, c.shapes[i] as number[]));
    const y = c.op(...ts);
    const dyValues = randomValues(y.size, seed + 99, -1, 1);
    const gs = wg
      .grads((...args) => c.op(...args))(ts, wg.tensor(dyValues, y.shape as number[]))
      .map((g) => g.dataSync());
    const eps = 1e-5;
    const got: number[] = [];
    const want: number[] = [];
    for (let d = 0; d < (c.directions ?? 4); d++) {
      const vs = xs.map((x, i) =>
        c.constantInputs?.includes(i)
          ? new Float64Array(x.length)
          : randomValues(x.length, seed + 1000 * (d + 1) + i, -1, 1),
      );
      const shifted = (sign: number) =>
        xs.map((x, i) => x.map((v, j) => v + sign * eps * ((vs[i] as Float64Array)[j] as number)));
      want.push((dot(dyValues, c.ref(...shifted(1))) - dot(dyValues, c.ref(...shifted(-1)))) / (2 * eps));
      got.push(gs.reduce((s, g, i) => s + dot(g, vs[i] as Float64Array), 0));
    }
    assertClose(got, want, c.backward ?? { atol: 1e-3, rtol: 2e-3 }, `${c.name} directional VJP`);
  });
}

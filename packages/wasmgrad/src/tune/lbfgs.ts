/**
 * A small box-constrained L-BFGS (Nocedal & Wright, "Numerical Optimization", algorithm 7.4: the
 * two-loop recursion) with a backtracking Armijo line search on the projected path. Used to fit
 * the Gaussian process's kernel hyperparameters (a handful of log-parameters), where it needs to
 * be robust more than fast: a step that leaves the box is projected back, curvature pairs with
 * sᵀy ≤ 0 are skipped, and a failed line search ends the run with the best point so far.
 * @module
 */

/** Value and gradient of the function to minimize at x. */
export type ValueAndGrad = (x: Float64Array) => { value: number; grad: Float64Array };

/** Options of {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  maxIterations?: number;
  /** Stops when the projected gradient's largest entry falls below this. */
  gradTolerance?: number;
  /** Stops when an iteration improves the value by less than this (relative). */
  valueTolerance?: number;
  memory?: number;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

/** Minimizes `f` over the box from `x0`; returns the best point, its value and the iterations used. */
export function minimizeLbfgs(
  f: ValueAndGrad,
  x0: ArrayLike<number>,
  options: LbfgsOptions,
): { x: Float64Array; value: number; iterations: number } {
  const { lower, upper, maxIterations = 60, gradTolerance = 1e-5, valueTolerance = 1e-9, memory = 6 } = options;
  const n = x0.length;
  const clamp = (v: Float64Array) => {
    for (let i = 0; i < n; i++) v[i] = Math.min(upper[i] as number, Math.max(lower[i] as number, v[i] as number));
    return v;
  };
  let x = clamp(Float64Array.from(x0));
  let { value, grad } = f(x);
  if (!Number.isFinite(value)) return { x, value, iterations: 0 };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  let it = 0;
  for (; it < maxIterations; it++) {
    // Projected gradient: components pushing against an active bound do not count.
    let pg = 0;
    for (let i = 0; i < n; i++) {
      const g = grad[i] as number;
      const atLower = (x[i] as number) <= (lower[i] as number) && g > 0;
      const atUpper = (x[i] as number) >= (upper[i] as number) && g < 0;
      if (!atLower && !atUpper) pg = Math.max(pg, Math.abs(g));
    }
    if (pg < gradTolerance) break;
    // Two-loop recursion: d = -H g.
    const q = Float64Array.from(grad);
    const alphas: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const s = S[k] as Float64Array;
      const y = Y[k] as Float64Array;
      const a = dot(s, q) / dot(y, s);
      alphas[k] = a;
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) - a * (y[i] as number);
    }
    if (S.length > 0) {
      const s = S[S.length - 1] as Float64Array;
      const y = Y[Y.length - 1] as Float64Array;
      const gamma = dot(s, y) / dot(y, y);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) * gamma;
    } else {
      // First step: at most 1 in any coordinate.
      const scale = 1 / Math.max(1, pg);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) * scale;
    }
    for (let k = 0; k < S.length; k++) {
      const s = S[k] as Float64Array;
      const y = Y[k] as Float64Array;
      const b = dot(y, q) / dot(y, s);
      for (let i = 0; i < n; i++) q[i] = (q[i] as number) + (s[i] as number) * ((alphas[k] as number) - b);
    }
    const d = q.map((v) => -v);
    if (dot(d, grad) >= 0) {
      // Not a descent direction (stale curvature): restart with steepest descent.
      S.length = 0;
      Y.length = 0;
      const scale = 1 / Math.max(1, pg);
      for (let i = 0; i < n; i++) d[i] = -(grad[i] as number) * scale;
    }
    // Backtracking along the projected path.
    let step = 1;
    let accepted: { x: Float64Array; value: number; grad: Float64Array } | undefined;
    for (let tries = 0; tries < 30; tries++, step *= 0.5) {
      const xn = clamp(x.map((v, i) => v + step * (d[i] as number)));
      let decrease = 0;
      for (let i = 0; i < n; i++) decrease += (grad[i] as number) * ((xn[i] as number) - (x[i] as number));
      const r = f(xn);
      if (Number.isFinite(r.value) && r.value <= value + 1e-4 * decrease) {
        accepted = { x: xn, value: r.value, grad: r.grad };
        break;
      }
    }
    if (!accepted) break;
    const s = accepted.x.map((v, i) => v - (x[i] as number));
    const y = accepted.grad.map((v, i) => v - (grad[i] as number));
    if (dot(s, y) > 1e-10) {
      S.push(s);
      Y.push(y);
      if (S.length > memory) {
        S.shift();
        Y.shift();
      }
    }
    const improvement = value - accepted.value;
    x = accepted.x;
    value = accepted.value;
    grad = accepted.grad;
    if (improvement < valueTolerance * Math.max(1, Math.abs(value))) {
      it++;
      break;
    }
  }
  return { x, value, iterations: it };
}

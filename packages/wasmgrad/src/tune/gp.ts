/**
 * Gaussian-process regression for Bayesian optimization (Rasmussen & Williams, "Gaussian Processes
 * for Machine Learning", 2006, ch. 2 and 5): a Matérn 5/2 kernel with one length scale per input
 * dimension (ARD), zero mean on standardized outputs, Gaussian observation noise. The kernel
 * hyperparameters θ = [log σ², log ℓ₁ … log ℓ_d, log σₙ²] are fitted by maximizing the log marginal
 * likelihood plus weak log-priors (a Gamma(3, 6) prior on each length scale for unit-cube inputs,
 * as BoTorch uses; log-normal priors on the signal and noise variances), with multi-start
 * box-constrained L-BFGS on the analytic gradient.
 * @module
 */

import { minimizeLbfgs } from './lbfgs.js';
import { type Cholesky, cholesky, choleskyInverse, choleskySolve, logDet, solveLower } from './linalg.js';

const SQRT5 = Math.sqrt(5);

/**
 * Matérn 5/2: k(r) = σ² (1 + √5 r + 5r²/3) exp(−√5 r), r² = Σₖ (xₖ − x'ₖ)² / ℓₖ².
 */
export function matern52(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  signalVariance: number,
  lengthScales: ArrayLike<number>,
): number {
  let r2 = 0;
  for (let k = 0; k < lengthScales.length; k++) {
    const d = ((a[k] as number) - (b[k] as number)) / (lengthScales[k] as number);
    r2 += d * d;
  }
  const r = Math.sqrt(r2);
  return signalVariance * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/**
 * Gradient of {@link matern52} with respect to θ = [log σ², log ℓ₁ … log ℓ_d]:
 * ∂k/∂log σ² = k, and since dk/dr = −σ² (5/3) r (1 + √5 r) e^{−√5 r} and ∂r/∂log ℓₖ = −dₖ²/(ℓₖ² r),
 * ∂k/∂log ℓₖ = σ² (5/3)(1 + √5 r) e^{−√5 r} dₖ²/ℓₖ² (no division by r, so r = 0 is fine).
 */
export function matern52Grad(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  signalVariance: number,
  lengthScales: ArrayLike<number>,
): Float64Array {
  const d = lengthScales.length;
  const out = new Float64Array(d + 1);
  const scaled = new Float64Array(d);
  let r2 = 0;
  for (let k = 0; k < d; k++) {
    const t = ((a[k] as number) - (b[k] as number)) / (lengthScales[k] as number);
    scaled[k] = t * t;
    r2 += t * t;
  }
  const r = Math.sqrt(r2);
  const e = Math.exp(-SQRT5 * r);
  out[0] = signalVariance * (1 + SQRT5 * r + (5 / 3) * r2) * e;
  const g = signalVariance * (5 / 3) * (1 + SQRT5 * r) * e;
  for (let k = 0; k < d; k++) out[k + 1] = g * (scaled[k] as number);
  return out;
}

/** Hyperparameter bounds (log scale) and the pieces of θ. */
export const THETA_BOUNDS = {
  logSignal: [Math.log(0.01), Math.log(100)] as const,
  logLength: [Math.log(0.01), Math.log(20)] as const,
  logNoise: [Math.log(1e-6), Math.log(1)] as const,
};

/** Lower and upper bounds of θ for `d` input dimensions. */
export function thetaBounds(d: number): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(d + 2);
  const upper = new Float64Array(d + 2);
  [lower[0], upper[0]] = THETA_BOUNDS.logSignal;
  for (let k = 1; k <= d; k++) [lower[k], upper[k]] = THETA_BOUNDS.logLength;
  [lower[d + 1], upper[d + 1]] = THETA_BOUNDS.logNoise;
  return { lower, upper };
}

/** Log-prior of θ (up to a constant) and its gradient. */
export function logPrior(theta: Float64Array): { value: number; grad: Float64Array } {
  const d = theta.length - 2;
  const grad = new Float64Array(theta.length);
  // log σ² ~ N(0, 2²)
  const s = theta[0] as number;
  let value = -(s * s) / 8;
  grad[0] = -s / 4;
  // ℓ ~ Gamma(3, rate 6): in u = log ℓ, log p = 3u − 6eᵘ (the Jacobian eᵘ included).
  for (let k = 1; k <= d; k++) {
    const u = theta[k] as number;
    value += 3 * u - 6 * Math.exp(u);
    grad[k] = 3 - 6 * Math.exp(u);
  }
  // log σₙ² ~ N(log 1e-3, 3²)
  const t = (theta[d + 1] as number) - Math.log(1e-3);
  value -= (t * t) / 18;
  grad[d + 1] = -t / 9;
  return { value, grad };
}

/** The covariance of noisy observations, K = K_f + σₙ² I, for inputs X (one row per point). */
export function covariance(X: readonly Float64Array[], theta: Float64Array): Float64Array {
  const n = X.length;
  const d = theta.length - 2;
  const sf2 = Math.exp(theta[0] as number);
  const ls = theta.subarray(1, d + 1).map(Math.exp);
  const noise = Math.exp(theta[d + 1] as number);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    K[i * n + i] = sf2 + noise;
    for (let j = 0; j < i; j++) {
      const v = matern52(X[i] as Float64Array, X[j] as Float64Array, sf2, ls);
      K[i * n + j] = v;
      K[j * n + i] = v;
    }
  }
  return K;
}

/**
 * log p(y | X, θ) = −½ yᵀK⁻¹y − ½ log|K| − (n/2) log 2π and its gradient
 * ∂/∂θⱼ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ), α = K⁻¹y (R&W eq. 5.9).
 */
export function logMarginalLikelihood(
  X: readonly Float64Array[],
  y: ArrayLike<number>,
  theta: Float64Array,
): { value: number; grad: Float64Array } {
  const n = X.length;
  const d = theta.length - 2;
  const sf2 = Math.exp(theta[0] as number);
  const ls = theta.subarray(1, d + 1).map(Math.exp);
  const noise = Math.exp(theta[d + 1] as number);
  const chol = cholesky(covariance(X, theta), n);
  const alpha = choleskySolve(chol, y);
  let quad = 0;
  for (let i = 0; i < n; i++) quad += (y[i] as number) * (alpha[i] as number);
  const value = -0.5 * quad - 0.5 * logDet(chol) - 0.5 * n * Math.log(2 * Math.PI);
  const inv = choleskyInverse(chol);
  const grad = new Float64Array(theta.length);
  let traceW = 0;
  for (let i = 0; i < n; i++) {
    const wii = (alpha[i] as number) ** 2 - (inv[i * n + i] as number);
    traceW += wii;
    grad[0] = (grad[0] as number) + 0.5 * wii * sf2;
    const xi = X[i] as Float64Array;
    for (let j = 0; j < i; j++) {
      // Off-diagonal pairs count twice (W and ∂K are symmetric); the terms are those of matern52Grad,
      // inlined so that this O(n² d) loop allocates nothing.
      const w = (alpha[i] as number) * (alpha[j] as number) - (inv[i * n + j] as number);
      const xj = X[j] as Float64Array;
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const t = ((xi[k] as number) - (xj[k] as number)) / (ls[k] as number);
        r2 += t * t;
      }
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      grad[0] = (grad[0] as number) + w * sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      const g = w * sf2 * (5 / 3) * (1 + SQRT5 * r) * e;
      for (let k = 0; k < d; k++) {
        const t = ((xi[k] as number) - (xj[k] as number)) / (ls[k] as number);
        grad[k + 1] = (grad[k + 1] as number) + g * t * t;
      }
    }
  }
  grad[d + 1] = 0.5 * traceW * noise;
  return { value, grad };
}

/** Options of {@link fitHyperparameters}. */
export interface FitOptions {
  /** A seeded uniform [0, 1) generator for the random starts. */
  rand: () => number;
  /** Random starts besides the default (and `init`). Default 2. */
  restarts?: number;
  /** A start to try first, e.g. the previous fit's θ. */
  init?: Float64Array;
}

/**
 * Maximum a posteriori θ (log marginal likelihood + log-prior) by L-BFGS from several starts:
 * `init` if given, a default (σ² = 1, ℓ = 0.5, σₙ² = 1e-3) and `restarts` random ones.
 */
export function fitHyperparameters(
  X: readonly Float64Array[],
  y: ArrayLike<number>,
  options: FitOptions,
): Float64Array {
  const d = (X[0] as Float64Array).length;
  const { lower, upper } = thetaBounds(d);
  const objective = (theta: Float64Array) => {
    try {
      const lml = logMarginalLikelihood(X, y, theta);
      const prior = logPrior(theta);
      return { value: -(lml.value + prior.value), grad: lml.grad.map((g, i) => -(g + (prior.grad[i] as number))) };
    } catch {
      return { value: Number.POSITIVE_INFINITY, grad: new Float64Array(theta.length) };
    }
  };
  const starts: Float64Array[] = [];
  if (options.init) starts.push(options.init);
  const base = new Float64Array(d + 2).fill(Math.log(0.5));
  base[0] = 0;
  base[d + 1] = Math.log(1e-3);
  starts.push(base);
  for (let r = 0; r < (options.restarts ?? 2); r++) {
    const t = new Float64Array(d + 2);
    t[0] = Math.log(0.3) + options.rand() * Math.log(10);
    for (let k = 1; k <= d; k++) t[k] = Math.log(0.05) + options.rand() * Math.log(40);
    t[d + 1] = Math.log(1e-5) + options.rand() * Math.log(1e4);
    starts.push(t);
  }
  let best: Float64Array = base;
  let bestValue = Number.POSITIVE_INFINITY;
  for (const start of starts) {
    const r = minimizeLbfgs(objective, start, { lower, upper, maxIterations: 80 });
    if (r.value < bestValue) {
      bestValue = r.value;
      best = r.x;
    }
  }
  return best;
}

/** The posterior of a fitted GP: predictive mean and variance of the latent function. */
export class GaussianProcess {
  private readonly chol: Cholesky;
  private readonly alpha: Float64Array;
  private readonly signal: number;
  private readonly lengthScales: Float64Array;

  /** Conditions the GP with hyperparameters θ on inputs X and outputs y. */
  constructor(
    readonly X: readonly Float64Array[],
    readonly y: ArrayLike<number>,
    readonly theta: Float64Array,
  ) {
    const d = theta.length - 2;
    this.signal = Math.exp(theta[0] as number);
    this.lengthScales = theta.subarray(1, d + 1).map(Math.exp);
    this.chol = cholesky(covariance(X, theta), X.length);
    this.alpha = choleskySolve(this.chol, y);
  }

  /** Posterior mean and variance of f(x): μ = k*ᵀα, σ² = k(x,x) − vᵀv with L v = k*. */
  predict(x: ArrayLike<number>): { mean: number; variance: number } {
    const n = this.X.length;
    const kx = new Float64Array(n);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const v = matern52(x, this.X[i] as Float64Array, this.signal, this.lengthScales);
      kx[i] = v;
      mean += v * (this.alpha[i] as number);
    }
    solveLower(this.chol, kx);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += (kx[i] as number) ** 2;
    return { mean, variance: Math.max(1e-12, this.signal - vv) };
  }
}

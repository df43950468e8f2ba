/**
 * The numerics under Bayesian search: Cholesky with jitter, the Matérn 5/2 kernel and its gradient
 * against central finite differences, the log marginal likelihood's gradient against finite
 * differences, the GP posterior against hand-computed one- and two-point cases, expected
 * improvement against its closed form, hyperparameter fitting (ARD length scales find the
 * irrelevant input) and L-BFGS on Rosenbrock.
 */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { erfc, expectedImprovement, normalCdf, normalPdf } from '../../packages/wasmgrad/src/tune/acquisition.js';
import {
  covariance,
  fitHyperparameters,
  GaussianProcess,
  logMarginalLikelihood,
  logPrior,
  matern52,
  matern52Grad,
  thetaBounds,
} from '../../packages/wasmgrad/src/tune/gp.js';
import { minimizeLbfgs } from '../../packages/wasmgrad/src/tune/lbfgs.js';
import { cholesky, choleskyInverse, choleskySolve, logDet } from '../../packages/wasmgrad/src/tune/linalg.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const SQRT5 = Math.sqrt(5);
/** Matérn 5/2 as a function of r, for σ² = 1: (1 + √5 r + 5r²/3) e^{−√5 r}. */
const m52 = (r: number) => (1 + SQRT5 * r + (5 / 3) * r * r) * Math.exp(-SQRT5 * r);

function randomPoints(n: number, d: number, seed: number): Float64Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: d }, () => rand(0, 1)));
}

/** Central finite differences of a scalar function of θ. */
function fdGrad(f: (theta: Float64Array) => number, theta: Float64Array, eps = 1e-6): Float64Array {
  return theta.map((_, i) => {
    const hi = Float64Array.from(theta);
    const lo = Float64Array.from(theta);
    hi[i] = (hi[i] as number) + eps;
    lo[i] = (lo[i] as number) - eps;
    return (f(hi) - f(lo)) / (2 * eps);
  });
}

describe('linalg', () => {
  it('factors an SPD matrix: L Lᵀ = A, solves, inverts and gives log det', () => {
    const X = randomPoints(12, 3, 1);
    const theta = Float64Array.from([0.3, Math.log(0.4), Math.log(0.7), Math.log(0.2), Math.log(1e-3)]);
    const A = covariance(X, theta);
    const c = cholesky(A, 12);
    expect(c.jitter).toBe(0);
    const LLt = new Float64Array(144);
    for (let i = 0; i < 12; i++)
      for (let j = 0; j < 12; j++) {
        let s = 0;
        for (let k = 0; k < 12; k++) s += (c.L[i * 12 + k] as number) * (c.L[j * 12 + k] as number);
        LLt[i * 12 + j] = s;
      }
    assertClose(LLt, A, { atol: 1e-12, rtol: 1e-12 }, 'L Lᵀ');
    const b = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const x = choleskySolve(c, b);
    const Ax = new Float64Array(12);
    for (let i = 0; i < 12; i++)
      for (let j = 0; j < 12; j++) Ax[i] = (Ax[i] as number) + (A[i * 12 + j] as number) * (x[j] as number);
    assertClose(Ax, b, { atol: 1e-9, rtol: 1e-9 }, 'A x = b');
    const inv = choleskyInverse(c);
    const I = new Float64Array(144);
    for (let i = 0; i < 12; i++)
      for (let j = 0; j < 12; j++) {
        let s = 0;
        for (let k = 0; k < 12; k++) s += (A[i * 12 + k] as number) * (inv[k * 12 + j] as number);
        I[i * 12 + j] = s;
      }
    assertClose(
      I,
      Float64Array.from({ length: 144 }, (_, k) => (k % 13 === 0 ? 1 : 0)),
      { atol: 1e-8 },
      'A A⁻¹',
    );
    // 2×2 log det by hand.
    const B = Float64Array.from([4, 2, 2, 3]);
    expect(logDet(cholesky(B, 2))).toBeCloseTo(Math.log(8), 12);
  });

  it('adds jitter to a singular matrix and rejects an indefinite one', () => {
    // Two identical points, no noise: rank 1.
    const singular = Float64Array.from([1, 1, 1, 1]);
    const c = cholesky(singular, 2);
    expect(c.jitter).toBeGreaterThan(0);
    expect(c.jitter).toBeLessThan(1e-2);
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(wg.ValueError);
  });
});

describe('Matérn 5/2 kernel', () => {
  it('matches hand-computed values', () => {
    // r = |0.5 − 0.2| / 0.3 = 1: (1 + √5 + 5/3) e^{−√5} = 0.5239941088…; σ² scales it.
    expect(matern52([0.5], [0.2], 2, [0.3])).toBeCloseTo(2 * 0.5239941088318203, 12);
    // ARD: r² = (0.1/0.2)² + (0.3/∞-like 1e9)² → r = 0.5: 0.8286491424…
    expect(matern52([0.1, 0.3], [0.2, 0], 1, [0.2, 1e9])).toBeCloseTo(0.8286491424181252, 12);
    expect(matern52([0.3, 0.4], [0.3, 0.4], 1.7, [0.1, 0.2])).toBe(1.7);
    // r = √((0.3/0.5)² + (0.5/2)²) = √(0.36 + 0.0625)
    expect(matern52([0.1, 0.7], [0.4, 0.2], 1.3, [0.5, 2])).toBeCloseTo(1.3 * m52(Math.sqrt(0.4225)), 12);
  });

  it('gradient in log σ² and log ℓ equals central finite differences', () => {
    const rand = seededRandom(2);
    for (let trial = 0; trial < 20; trial++) {
      const d = 1 + (trial % 4);
      const a = Float64Array.from({ length: d }, () => rand(0, 1));
      const b = Float64Array.from({ length: d }, () => rand(0, 1));
      if (trial === 0) b.set(a); // r = 0
      const theta = Float64Array.from({ length: d + 1 }, (_, i) => (i === 0 ? rand(-1, 1) : rand(-2, 0.5)));
      const k = (t: Float64Array) => matern52(a, b, Math.exp(t[0] as number), t.subarray(1).map(Math.exp));
      const got = matern52Grad(a, b, Math.exp(theta[0] as number), theta.subarray(1).map(Math.exp));
      assertClose(got, fdGrad(k, theta), { atol: 1e-8, rtol: 1e-6 }, `kernel gradient, d=${d}`);
    }
  });
});

describe('log marginal likelihood', () => {
  it('gradient (R&W eq. 5.9) equals central finite differences', () => {
    for (const [n, d, seed] of [
      [5, 1, 3],
      [15, 3, 4],
      [25, 6, 5],
    ] as const) {
      const X = randomPoints(n, d, seed);
      const rand = seededRandom(seed + 100);
      const y = X.map((x) => Math.sin(6 * (x[0] as number)) + rand(-0.1, 0.1));
      const theta = Float64Array.from({ length: d + 2 }, (_, i) =>
        i === 0 ? 0.2 : i === d + 1 ? Math.log(1e-2) : rand(-1.5, 0),
      );
      const { value, grad } = logMarginalLikelihood(X, y, theta);
      expect(Number.isFinite(value)).toBe(true);
      const fd = fdGrad((t) => logMarginalLikelihood(X, y, t).value, theta, 1e-5);
      assertClose(grad, fd, { atol: 1e-5, rtol: 1e-5 }, `LML gradient n=${n} d=${d}`);
      const prior = logPrior(theta);
      assertClose(
        prior.grad,
        fdGrad((t) => logPrior(t).value, theta),
        { atol: 1e-7, rtol: 1e-6 },
        'prior gradient',
      );
    }
  });

  it('equals −½yᵀK⁻¹y − ½log|K| − (n/2)log 2π for a hand-computed 2-point case', () => {
    const X = [Float64Array.of(0.2), Float64Array.of(0.5)];
    const y: [number, number] = [1, -0.5];
    const sf2 = 2;
    const noise = 0.1;
    const theta = Float64Array.of(Math.log(sf2), Math.log(0.3), Math.log(noise));
    const a = sf2 + noise;
    const b = sf2 * 0.5239941088318203;
    const det = a * a - b * b;
    const quad = (a * y[0] ** 2 - 2 * b * y[0] * y[1] + a * y[1] ** 2) / det;
    const want = -0.5 * quad - 0.5 * Math.log(det) - Math.log(2 * Math.PI);
    expect(logMarginalLikelihood(X, y, theta).value).toBeCloseTo(want, 12);
  });
});

describe('GP posterior', () => {
  const sf2 = 2;
  const noise = 0.1;
  const theta = Float64Array.of(Math.log(sf2), Math.log(0.3), Math.log(noise));

  it('one observation: μ = k* y/(σ²+σₙ²), σ²* = σ² − k*²/(σ²+σₙ²)', () => {
    const gp = new GaussianProcess([Float64Array.of(0.2)], [1.5], theta);
    const ks = sf2 * 0.5239941088318203; // r = 1
    const p = gp.predict([0.5]);
    expect(p.mean).toBeCloseTo((ks * 1.5) / (sf2 + noise), 12);
    expect(p.variance).toBeCloseTo(sf2 - (ks * ks) / (sf2 + noise), 12);
  });

  it('two observations: the 2×2 inverse by hand', () => {
    const X = [Float64Array.of(0.2), Float64Array.of(0.5)];
    const y: [number, number] = [1, -0.5];
    const gp = new GaussianProcess(X, y, theta);
    // x* = 0.35: r = 0.5 to both points.
    const k = sf2 * 0.8286491424181252;
    const a = sf2 + noise;
    const b = sf2 * 0.5239941088318203;
    const det = a * a - b * b;
    const inv: [number, number, number, number] = [a / det, -b / det, -b / det, a / det];
    const mean = k * (inv[0] * y[0] + inv[1] * y[1]) + k * (inv[2] * y[0] + inv[3] * y[1]);
    const variance = sf2 - k * k * (inv[0] + inv[1] + inv[2] + inv[3]);
    const p = gp.predict([0.35]);
    expect(p.mean).toBeCloseTo(mean, 12);
    expect(p.variance).toBeCloseTo(variance, 12);
  });

  it('nearly noiseless: interpolates the data with vanishing variance there', () => {
    const X = randomPoints(10, 2, 7);
    const y = X.map((x) => Math.cos(3 * (x[0] as number)) + (x[1] as number) ** 2);
    const gp = new GaussianProcess(X, y, Float64Array.of(0, Math.log(0.5), Math.log(0.5), Math.log(1e-8)));
    for (let i = 0; i < X.length; i++) {
      const p = gp.predict(X[i] as Float64Array);
      expect(p.mean).toBeCloseTo(y[i] as number, 5);
      expect(p.variance).toBeLessThan(1e-6);
    }
    // Far from data the variance returns to σ².
    expect(gp.predict([40, 40]).variance).toBeCloseTo(1, 6);
  });
});

describe('fitting and acquisition', () => {
  it('MAP length scales (ARD) find the input the function ignores', () => {
    const X = randomPoints(30, 2, 11);
    const y = X.map((x) => Math.sin(5 * (x[0] as number)));
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const sd = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length);
    const z = y.map((v) => (v - mean) / sd);
    const theta = fitHyperparameters(X, z, { rand: seededRandom(1).bind(null, 0, 1), restarts: 2 });
    const { lower, upper } = thetaBounds(2);
    for (let i = 0; i < theta.length; i++) {
      expect(theta[i]).toBeGreaterThanOrEqual(lower[i] as number);
      expect(theta[i]).toBeLessThanOrEqual(upper[i] as number);
    }
    const [l0, l1] = [Math.exp(theta[1] as number), Math.exp(theta[2] as number)];
    expect(l1).toBeGreaterThan(4 * l0);
    // The fit beats the default start on the objective it maximizes.
    const score = (t: Float64Array) => logMarginalLikelihood(X, z, t).value + logPrior(t).value;
    expect(score(theta)).toBeGreaterThan(score(Float64Array.of(0, Math.log(0.5), Math.log(0.5), Math.log(1e-3))));
  });

  it('normal distribution and EI match closed forms', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 7);
    expect(normalCdf(-2)).toBeCloseTo(0.022750131948179195, 8);
    expect(erfc(0.5)).toBeCloseTo(0.4795001221869535, 7);
    expect(normalPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 12);
    // μ = best: EI = σ φ(0).
    expect(expectedImprovement(1, 4, 1)).toBeCloseTo(2 / Math.sqrt(2 * Math.PI), 7);
    // best − μ = 1, σ = 1: 1·Φ(1) + φ(1).
    expect(expectedImprovement(0, 1, 1)).toBeCloseTo(0.8413447460685429 + Math.exp(-0.5) / Math.sqrt(2 * Math.PI), 7);
    // No uncertainty: the plain improvement, never negative.
    expect(expectedImprovement(0.2, 0, 1)).toBeCloseTo(0.8, 12);
    expect(expectedImprovement(2, 0, 1)).toBe(0);
    // EI grows with σ and with the gap.
    expect(expectedImprovement(1, 2, 0)).toBeGreaterThan(expectedImprovement(1, 1, 0));
    expect(expectedImprovement(0.5, 1, 0)).toBeGreaterThan(expectedImprovement(1, 1, 0));
  });

  it('L-BFGS minimizes Rosenbrock and respects bounds', () => {
    const rosen = (x: Float64Array) => {
      const [a, b] = [x[0] as number, x[1] as number];
      return {
        value: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
        grad: Float64Array.of(-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)),
      };
    };
    const r = minimizeLbfgs(rosen, [-1.2, 1], {
      lower: [-5, -5],
      upper: [5, 5],
      maxIterations: 200,
      valueTolerance: 0,
    });
    assertClose(r.x, [1, 1], { atol: 1e-4 }, 'Rosenbrock minimum');
    const boxed = minimizeLbfgs(rosen, [-1.2, 1], { lower: [-5, -5], upper: [0.5, 5], maxIterations: 200 });
    expect(boxed.x[0]).toBeLessThanOrEqual(0.5);
    expect(boxed.x[0]).toBeCloseTo(0.5, 4);
  });
});

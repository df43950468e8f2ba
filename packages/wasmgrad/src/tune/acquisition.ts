/**
 * Expected improvement (Jones, Schonlau & Welch 1998) for minimization and its maximization over a
 * search space: random candidates from the space plus Gaussian perturbations of the best observed
 * points, every candidate snapped onto the space (integers rounded, choices exactly one-hot) so
 * that EI is evaluated only at points that can be run; then a local refinement of the best few:
 * shrinking Gaussian moves of the numeric dimensions and, for each categorical parameter, every one
 * of its categories.
 * @module
 */
import type { GaussianProcess } from './gp.js';
import type { Space } from './space.js';

/** Standard normal density. */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/**
 * erfc(x) by the Chebyshev fit of Numerical Recipes (§6.2, erfcc), fractional error < 1.2e-7
 * everywhere.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal distribution function Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * EI(x) = E[max(best − ξ − f(x), 0)] = (best − ξ − μ) Φ(z) + σ φ(z), z = (best − ξ − μ)/σ, for a
 * Gaussian f(x) ~ N(μ, σ²) (minimization).
 */
export function expectedImprovement(mean: number, variance: number, best: number, xi = 0): number {
  const sigma = Math.sqrt(variance);
  const gain = best - xi - mean;
  if (sigma < 1e-12) return Math.max(gain, 0);
  const z = gain / sigma;
  return gain * normalCdf(z) + sigma * normalPdf(z);
}

/** Options of {@link maximizeEI}. */
export interface AcquisitionOptions {
  /** Lowest (standardized) observed value. */
  best: number;
  /** Observed points whose neighbourhoods are searched (best first). */
  incumbents: readonly Float64Array[];
  rand: () => number;
  /** Random candidates (default 500 + 100 per dimension). */
  candidates?: number;
  /** Candidates refined by local search (default 5). */
  refine?: number;
  /** Exploration margin ξ in standardized units (default 0). */
  xi?: number;
}

/** A standard normal draw (Box–Muller). */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** The canonical point of the space with the highest EI found, and that EI. */
export function maximizeEI(
  gp: GaussianProcess,
  space: Space,
  options: AcquisitionOptions,
): { x: Float64Array; ei: number } {
  const { best, rand, xi = 0 } = options;
  const numeric = space.numericDims();
  const choices = space.choiceSlots();
  const ei = (x: Float64Array) => {
    const p = gp.predict(x);
    return expectedImprovement(p.mean, p.variance, best, xi);
  };
  const count = options.candidates ?? 500 + 100 * space.dims;
  const scored: { x: Float64Array; ei: number }[] = [];
  const local = options.incumbents.slice(0, 5);
  for (let c = 0; c < count; c++) {
    let u: Float64Array;
    if (local.length > 0 && c % 4 === 3) {
      // A quarter of the candidates perturb an incumbent (numeric dims; a choice switches sometimes).
      u = Float64Array.from(local[c % local.length] as Float64Array);
      const scale = [0.02, 0.05, 0.15][c % 3] as number;
      for (const k of numeric) u[k] = Math.min(1, Math.max(0, (u[k] as number) + scale * gaussian(rand)));
      for (const s of choices) {
        if (rand() < 0.2) {
          u.fill(0, s.offset, s.offset + s.width);
          u[s.offset + Math.min(s.width - 1, Math.floor(rand() * s.width))] = 1;
        }
      }
    } else {
      u = space.sampleUnit(rand);
    }
    const x = space.canonical(u);
    scored.push({ x, ei: ei(x) });
  }
  scored.sort((a, b) => b.ei - a.ei);
  let winner = scored[0] as { x: Float64Array; ei: number };
  for (const start of scored.slice(0, options.refine ?? 5)) {
    const r = refine(start, space, numeric, choices, ei, rand);
    if (r.ei > winner.ei) winner = r;
  }
  return winner;
}

/** Hill climbing from `start`: Gaussian moves with a shrinking step, then every category of each choice. */
function refine(
  start: { x: Float64Array; ei: number },
  space: Space,
  numeric: number[],
  choices: { offset: number; width: number }[],
  ei: (x: Float64Array) => number,
  rand: () => number,
): { x: Float64Array; ei: number } {
  let cur = start;
  let step = 0.1;
  let fails = 0;
  for (let it = 0; it < 60 && numeric.length > 0 && step > 1e-4; it++) {
    const u = Float64Array.from(cur.x);
    for (const k of numeric) u[k] = Math.min(1, Math.max(0, (u[k] as number) + step * gaussian(rand)));
    const x = space.canonical(u);
    const v = ei(x);
    if (v > cur.ei) {
      cur = { x, ei: v };
      fails = 0;
    } else if (++fails >= 4) {
      step *= 0.5;
      fails = 0;
    }
  }
  for (const s of choices) {
    for (let j = 0; j < s.width; j++) {
      const u = Float64Array.from(cur.x);
      u.fill(0, s.offset, s.offset + s.width);
      u[s.offset + j] = 1;
      const x = space.canonical(u);
      const v = ei(x);
      if (v > cur.ei) cur = { x, ei: v };
    }
  }
  return cur;
}

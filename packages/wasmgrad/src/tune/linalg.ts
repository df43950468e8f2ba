/**
 * Dense f64 linear algebra for the Gaussian process: Cholesky factorization with jitter,
 * triangular solves and the inverse from the factor. Matrices are row-major n×n Float64Arrays; n
 * is the number of trials (tens to a few hundred), so plain O(n³) loops are fast enough.
 * @module
 */
import { ValueError } from '../errors.js';

/** The lower Cholesky factor L (A = L Lᵀ) and the jitter that was added to the diagonal. */
export interface Cholesky {
  L: Float64Array;
  n: number;
  jitter: number;
}

/**
 * Factors the symmetric matrix `a` (not modified) into L Lᵀ. When it is not numerically positive
 * definite, retries with jitter·I added, starting at 1e-10 × the mean diagonal and growing 10× per
 * try up to 1e-2 × it; throws a ValueError past that (or for a non-finite entry).
 */
export function cholesky(a: Float64Array, n: number): Cholesky {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += a[i * n + i] as number;
  meanDiag = n > 0 ? Math.abs(meanDiag / n) || 1 : 1;
  const L = new Float64Array(n * n);
  for (let jitter = 0; ; jitter = jitter === 0 ? 1e-10 * meanDiag : jitter * 10) {
    if (jitter > 1e-2 * meanDiag) break;
    if (factor(a, n, jitter, L)) return { L, n, jitter };
  }
  throw new ValueError('tune.cholesky', `matrix of size ${n} is not positive definite even with jitter`);
}

/** One attempt: writes L, returns false on a non-positive (or non-finite) pivot. */
function factor(a: Float64Array, n: number, jitter: number, L: Float64Array): boolean {
  L.fill(0);
  for (let j = 0; j < n; j++) {
    let d = (a[j * n + j] as number) + jitter;
    for (let k = 0; k < j; k++) d -= (L[j * n + k] as number) ** 2;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * n + k] as number) * (L[j * n + k] as number);
      L[i * n + j] = s / ljj;
    }
  }
  return true;
}

/** Solves L x = b in place (forward substitution). */
export function solveLower(c: Cholesky, b: Float64Array): Float64Array {
  const { L, n } = c;
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (L[i * n + k] as number) * (b[k] as number);
    b[i] = s / (L[i * n + i] as number);
  }
  return b;
}

/** Solves Lᵀ x = b in place (back substitution). */
export function solveUpper(c: Cholesky, b: Float64Array): Float64Array {
  const { L, n } = c;
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (L[k * n + i] as number) * (b[k] as number);
    b[i] = s / (L[i * n + i] as number);
  }
  return b;
}

/** A⁻¹ b as a new array. */
export function choleskySolve(c: Cholesky, b: ArrayLike<number>): Float64Array {
  return solveUpper(c, solveLower(c, Float64Array.from(b)));
}

/** log det A = 2 Σ log Lᵢᵢ. */
export function logDet(c: Cholesky): number {
  let s = 0;
  for (let i = 0; i < c.n; i++) s += Math.log(c.L[i * c.n + i] as number);
  return 2 * s;
}

/** A⁻¹ (symmetric, row-major), column by column from the factor. */
export function choleskyInverse(c: Cholesky): Float64Array {
  const { n } = c;
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    solveUpper(c, solveLower(c, e));
    for (let i = 0; i < n; i++) inv[i * n + j] = e[i] as number;
  }
  return inv;
}

/**
 * Comparison with a tolerance of the form |got − want| ≤ max(atol, rtol·max(|got|, |want|)).
 * NaN equals NaN, same-sign infinities are equal, NaN is never confused with ±Inf, and a failure
 * reports the first mismatches with their index.
 */
export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function closeEnough(got: number, want: number, { atol = 1e-6, rtol = 1e-5 }: Tolerance = {}): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  return Math.abs(got - want) <= Math.max(atol, rtol * Math.max(Math.abs(got), Math.abs(want)));
}

/** Throws an Error listing up to 5 mismatches (index, expected, got) when arrays differ. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance = {},
  what = 'values',
): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    if (!closeEnough(got[i] as number, want[i] as number, tol)) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] expected ${want[i]}, got ${got[i]}`);
    }
  }
  if (count > 0) {
    throw new Error(
      `${what}: ${count} of ${want.length} differ (atol ${tol.atol ?? 1e-6}, rtol ${tol.rtol ?? 1e-5}): ${bad.join('; ')}`,
    );
  }
}

/** A seeded generator of uniform floats in [lo, hi) (mulberry32), for reproducible test data. */
export function seededRandom(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  };
}

/** Plain f64 matrix product of row-major [m,k] × [k,n]: the reference for gemm. */
export function matMulReference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[p * n + j] as number);
      out[i * n + j] = s;
    }
  }
  return out;
}

//! Seeded, counter-based random numbers: uniform, normal and truncated-normal fills (weight
//! initializers) and dropout.
//!
//! Generator: Philox-4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
//! 1, 2, 3", SC 2011), as used by TensorFlow's stateless random ops and PyTorch's CUDA generator
//! (cuRAND's `PHILOX4_32_10`). It maps a 128-bit counter and a 64-bit key to four independent
//! 32-bit words, so element `i` of a stream is a pure function of `(seed, stream, i)`: it does not
//! depend on call order, on how a range is split between calls or threads, or on the build (only
//! integer arithmetic and IEEE f32 operations run in the same order in the SIMD128 build and its
//! scalar twin).
//!
//! Cost (Node 20, SIMD build, measured on 2²⁰ elements): ~9 ns per uniform or dropout element,
//! ~15 ns per normal; Philox is scalar integer code (a 32×32→64 multiply has no F32x4 form).
//!
//! Key and counter layout, for a 64-bit `seed` = `seed_hi·2³² + seed_lo`, a 32-bit `stream`
//! (e.g. one per layer and training step) and element index `i = offset + j` of a call:
//!
//! ```text
//! key     = [seed_lo, seed_hi]
//! counter = [block_lo, block_hi, kind | attempt, stream]      block = i / 4 (uniform, dropout)
//!                                                              block = 2·(i / 8) + {0, 1} (normal)
//! ```
//!
//! `kind` (the top byte of word 2) separates uniform (0), normal (1) and dropout (2) draws, so the
//! same seed and stream give unrelated values for different kinds; `attempt` (low 24 bits) numbers
//! the redraws of the truncated normal. Distinct streams or seeds give independent sequences.
//!
//! Uniform floats use the top 24 bits of a word: `u = (w >> 8)·2⁻²⁴ ∈ [0, 1)`, every value a
//! multiple of 2⁻²⁴ with equal probability.

use crate::simd::F32x4;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// Philox-4x32 with 10 rounds: the bijection of `ctr` keyed by `key` (Random123's
/// `philox4x32_R(10, ctr, key)`, checked against its known-answer vectors in the tests).
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for _ in 0..10 {
        let p0 = M0 as u64 * c[0] as u64;
        let p1 = M1 as u64 * c[2] as u64;
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
        k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
    }
    c
}

const KIND_UNIFORM: u32 = 0;
const KIND_NORMAL: u32 = 1 << 24;
const KIND_DROPOUT: u32 = 2 << 24;

/// One random stream: a 64-bit seed and a 32-bit stream number.
#[derive(Copy, Clone, Debug)]
pub struct Stream {
    key: [u32; 2],
    stream: u32,
}

impl Stream {
    pub fn new(seed_lo: u32, seed_hi: u32, stream: u32) -> Self {
        Stream { key: [seed_lo, seed_hi], stream }
    }

    /// The four words of counter block `block` for `word2` (kind | attempt).
    #[inline(always)]
    pub fn block(&self, block: u64, word2: u32) -> [u32; 4] {
        philox4x32_10([block as u32, (block >> 32) as u32, word2, self.stream], self.key)
    }
}

/// Visits the groups of `W` consecutive element indices that overlap `[offset, offset + n)`:
/// `f(group, lo, hi, pos)` must produce lanes `lo..hi` of group `group` (element indices
/// `group·W + lo ..`) into the output at `pos ..` (the first lane's position in the output).
#[inline(always)]
fn groups<const W: usize>(n: usize, offset: usize, mut f: impl FnMut(u64, usize, usize, usize)) {
    let (start, end) = (offset as u64, offset as u64 + n as u64);
    let w = W as u64;
    let mut g = start / w;
    while g * w < end {
        let base = g * w;
        let lo = if base < start { (start - base) as usize } else { 0 };
        let hi = if base + w > end { (end - base) as usize } else { W };
        f(g, lo, hi, (base + lo as u64 - start) as usize);
        g += 1;
    }
}

/// Writes lanes `lo..hi` of `v` to `out + pos ..` (one vector store when all four are wanted).
#[inline(always)]
unsafe fn store_lanes(v: F32x4, lo: usize, hi: usize, out: *mut f32, pos: usize) {
    if lo == 0 && hi == 4 {
        v.store(out.add(pos));
    } else {
        let lanes = v.lanes();
        for (k, l) in (lo..hi).enumerate() {
            *out.add(pos + k) = lanes[l];
        }
    }
}

/// Four words as uniform floats `(w >> 8)·2⁻²⁴ ∈ [0, 1)` (exact: 24-bit integers).
#[inline(always)]
fn unit(w: [u32; 4]) -> F32x4 {
    F32x4::new((w[0] >> 8) as f32, (w[1] >> 8) as f32, (w[2] >> 8) as f32, (w[3] >> 8) as f32)
        .mul(F32x4::splat(1.0 / 16_777_216.0))
}

/// The largest f32 below `x` (finite x).
fn next_below(x: f32) -> f32 {
    let b = x.to_bits();
    if x > 0.0 {
        f32::from_bits(b - 1)
    } else if x == 0.0 {
        -f32::from_bits(1)
    } else {
        f32::from_bits(b + 1)
    }
}

/// Fills `out[j]` with `lo + (hi − lo)·u` for element index `i = offset + j` (Keras
/// `RandomUniform`), clamped below `hi` so that rounding never yields `hi`: values lie in
/// `[lo, hi)`.
///
/// # Safety
/// `out` addresses `n` writable f32 values. Requires `lo < hi` with `hi − lo` finite.
pub unsafe fn uniform(n: usize, out: *mut f32, lo: f32, hi: f32, s: Stream, offset: usize) {
    let (span, base, top) = (F32x4::splat(hi - lo), F32x4::splat(lo), F32x4::splat(next_below(hi)));
    groups::<4>(n, offset, |g, a, b, pos| {
        let v = unit(s.block(g, KIND_UNIFORM)).mul(span).add(base).min(top);
        store_lanes(v, a, b, out, pos);
    });
}

// ---- Box–Muller ----

const SQRT2: f32 = core::f32::consts::SQRT_2;
const LN2: f32 = core::f32::consts::LN_2;
const FRAC_PI_2: f32 = core::f32::consts::FRAC_PI_2;
const FRAC_1_SQRT2: f32 = core::f32::consts::FRAC_1_SQRT_2;

/// `ln(m·2⁻²⁴)` for four integers `m ∈ [1, 2²⁴]`: the exponent is read off the integer, the
/// mantissa `f ∈ [√½, √2)` goes through `ln f = 2·atanh(s)`, `s = (f − 1)/(f + 1)`, |s| ≤ 0.1716,
/// summed to s⁹ (truncation error < 1e-9, below f32 rounding).
#[inline(always)]
fn ln_of_units(m: [u32; 4]) -> F32x4 {
    let mut f = [0.0f32; 4];
    let mut e = [0.0f32; 4];
    for l in 0..4 {
        let mut ex = 31 - m[l].leading_zeros(); // floor(log2 m), 0..=24
                                                // m < 2^25 is exact in f32; removing the exponent leaves the mantissa in [1, 2).
        let mut fr = f32::from_bits((m[l] as f32).to_bits() - (ex << 23));
        if fr > SQRT2 {
            fr *= 0.5;
            ex += 1;
        }
        f[l] = fr;
        e[l] = ex as f32 - 24.0;
    }
    let one = F32x4::splat(1.0);
    let f = F32x4::new(f[0], f[1], f[2], f[3]);
    let s = f.sub(one).div(f.add(one));
    let s2 = s.mul(s);
    let c = F32x4::splat;
    let p = c(1.0 / 9.0).mul_add(s2, c(1.0 / 7.0)).mul_add(s2, c(0.2)).mul_add(s2, c(1.0 / 3.0));
    let atanh = p.mul_add(s2, one).mul(s);
    atanh.add(atanh).add(F32x4::new(e[0], e[1], e[2], e[3]).mul(c(LN2)))
}

/// (cos θ, sin θ) for θ = 2π·(w >> 8)·2⁻²⁴: the top two bits pick the quadrant, the next 22 give
/// φ ∈ [−π/4, π/4) around the quadrant's middle; Taylor series to φ⁹ (sin) and φ¹⁰ (cos) keep
/// the truncation error below 2e-9.
#[inline(always)]
fn cos_sin_of_turns(w: [u32; 4]) -> (F32x4, F32x4) {
    let c = F32x4::splat;
    let frac = |x: u32| ((x >> 8) & 0x3F_FFFF) as f32;
    let t = F32x4::new(frac(w[0]), frac(w[1]), frac(w[2]), frac(w[3]));
    let phi = t.mul(c(1.0 / 4_194_304.0)).sub(c(0.5)).mul(c(FRAC_PI_2));
    let x2 = phi.mul(phi);
    let sin = c(1.0 / 362_880.0)
        .mul_add(x2, c(-1.0 / 5040.0))
        .mul_add(x2, c(1.0 / 120.0))
        .mul_add(x2, c(-1.0 / 6.0))
        .mul(x2)
        .mul(phi)
        .add(phi);
    let cos = c(-1.0 / 3_628_800.0)
        .mul_add(x2, c(1.0 / 40_320.0))
        .mul_add(x2, c(-1.0 / 720.0))
        .mul_add(x2, c(1.0 / 24.0))
        .mul_add(x2, c(-0.5))
        .mul_add(x2, c(1.0));
    // Rotate by π/4 (the quadrant's middle), then by the quadrant q·π/2.
    let (c45, s45) = (cos.sub(sin).mul(c(FRAC_1_SQRT2)), sin.add(cos).mul(c(FRAC_1_SQRT2)));
    const CQ: [f32; 4] = [1.0, 0.0, -1.0, 0.0];
    const SQ: [f32; 4] = [0.0, 1.0, 0.0, -1.0];
    let q = [w[0] >> 30, w[1] >> 30, w[2] >> 30, w[3] >> 30].map(|q| q as usize);
    let cq = F32x4::new(CQ[q[0]], CQ[q[1]], CQ[q[2]], CQ[q[3]]);
    let sq = F32x4::new(SQ[q[0]], SQ[q[1]], SQ[q[2]], SQ[q[3]]);
    (c45.mul(cq).sub(s45.mul(sq)), c45.mul(sq).add(s45.mul(cq)))
}

/// Eight standard normals of group `g` (counter blocks 2g and 2g+1) for a redraw `attempt`:
/// Box–Muller on four pairs, radius from block 2g (u₁ = ((w >> 8) + 1)·2⁻²⁴ ∈ (0, 1], so
/// |z| ≤ √(48·ln 2) ≈ 5.77), angle from block 2g+1. Lanes 0–3 are r·cos θ, lanes 4–7 r·sin θ.
#[inline(always)]
fn normal8(s: &Stream, g: u64, attempt: u32) -> [F32x4; 2] {
    let a = s.block(2 * g, KIND_NORMAL | attempt);
    let b = s.block(2 * g + 1, KIND_NORMAL | attempt);
    let r = ln_of_units(a.map(|w| (w >> 8) + 1)).mul(F32x4::splat(-2.0)).sqrt();
    let (cos, sin) = cos_sin_of_turns(b);
    [r.mul(cos), r.mul(sin)]
}

/// Writes lanes `lo..hi` of the eight values `z` to `out + pos ..`.
#[inline(always)]
unsafe fn store8(z: [F32x4; 2], lo: usize, hi: usize, out: *mut f32, pos: usize) {
    if lo == 0 && hi == 8 {
        z[0].store(out.add(pos));
        z[1].store(out.add(pos + 4));
    } else {
        let (a, b) = (z[0].lanes(), z[1].lanes());
        for (k, l) in (lo..hi).enumerate() {
            *out.add(pos + k) = if l < 4 { a[l] } else { b[l - 4] };
        }
    }
}

/// Fills `out[j]` with `mean + stddev·z` for element index `i = offset + j`, z standard normal
/// (Keras `RandomNormal`).
///
/// # Safety
/// `out` addresses `n` writable f32 values.
pub unsafe fn normal(n: usize, out: *mut f32, mean: f32, stddev: f32, s: Stream, offset: usize) {
    let (m, sd) = (F32x4::splat(mean), F32x4::splat(stddev));
    groups::<8>(n, offset, |g, lo, hi, pos| {
        let z = normal8(&s, g, 0).map(|z| z.mul(sd).add(m));
        store8(z, lo, hi, out, pos);
    });
}

/// Redraws before giving up on a lane of the truncated normal; each redraw is rejected with
/// probability 0.0455, so reaching the cap (probability 1e-86) does not happen in practice
/// (the lane would then hold the mean).
const MAX_ATTEMPTS: u32 = 64;

/// Fills `out[j]` with `mean + stddev·z`, z standard normal redrawn while |z| > 2 (Keras
/// `TruncatedNormal`: values beyond two standard deviations are discarded and re-drawn). The
/// k-th redraw of element i is element i of the normal stream with `attempt = k`, so the result
/// still depends only on `(seed, stream, i)`.
///
/// # Safety
/// `out` addresses `n` writable f32 values.
pub unsafe fn truncated_normal(
    n: usize,
    out: *mut f32,
    mean: f32,
    stddev: f32,
    s: Stream,
    offset: usize,
) {
    let (m, sd) = (F32x4::splat(mean), F32x4::splat(stddev));
    let outside = |z: f32| !(-2.0..=2.0).contains(&z);
    groups::<8>(n, offset, |g, lo, hi, pos| {
        let first = normal8(&s, g, 0);
        let mut z = [0.0f32; 8];
        z[..4].copy_from_slice(&first[0].lanes());
        z[4..].copy_from_slice(&first[1].lanes());
        let mut attempt = 1;
        while z[lo..hi].iter().any(|&v| outside(v)) {
            if attempt == MAX_ATTEMPTS {
                for v in z[lo..hi].iter_mut().filter(|v| outside(**v)) {
                    *v = 0.0;
                }
                break;
            }
            let redraw = normal8(&s, g, attempt);
            let (a, b) = (redraw[0].lanes(), redraw[1].lanes());
            for l in lo..hi {
                if outside(z[l]) {
                    z[l] = if l < 4 { a[l] } else { b[l - 4] };
                }
            }
            attempt += 1;
        }
        let v = [F32x4::new(z[0], z[1], z[2], z[3]), F32x4::new(z[4], z[5], z[6], z[7])];
        store8(v.map(|v| v.mul(sd).add(m)), lo, hi, out, pos);
    });
}

// ---- Dropout ----

/// The keep test of element i is `(w >> 8) ≥ ⌈rate·2²⁴⌉`, i.e. `u ≥ rate` for the 24-bit
/// uniform `u`: exactly the Keras rule "drop where uniform < rate", in integers.
fn drop_threshold(rate: f32) -> u32 {
    let x = rate * 16_777_216.0; // exact: a power-of-two scaling
    let t = x as u32;
    if (t as f32) < x {
        t + 1
    } else {
        t
    }
}

/// Dropout forward: `y[j] = x[j] / (1 − rate)` where element `i = offset + j` is kept, else
/// exactly 0 (Keras 3 `where(mask, x / (1 − rate), 0)`; a dropped ±∞ or NaN gives 0).
///
/// The mask is not stored: the backward pass regenerates it from the same `(seed, stream,
/// offset)` counters, and since `dx = dy·mask/(1 − rate)` is the same map, backward is this very
/// function applied to `dy` (no mask memory, bitwise the same mask, ~1 Philox call per 4
/// elements). `y` may equal `x` (in place); otherwise they must not overlap.
///
/// # Safety
/// `x`, `y` address `n` f32 values (`y` writable). Requires `0 ≤ rate < 1`.
pub unsafe fn dropout(n: usize, x: *const f32, y: *mut f32, rate: f32, s: Stream, offset: usize) {
    let t = drop_threshold(rate);
    let keep = F32x4::splat(1.0 - rate);
    groups::<4>(n, offset, |g, lo, hi, pos| {
        let w = s.block(g, KIND_DROPOUT);
        let xv = if lo == 0 && hi == 4 {
            F32x4::load(x.add(pos))
        } else {
            let mut a = [0.0f32; 4];
            for (k, l) in (lo..hi).enumerate() {
                a[l] = *x.add(pos + k);
            }
            F32x4::load(a.as_ptr())
        };
        let q = xv.div(keep).lanes();
        let pick = |l: usize| if (w[l] >> 8) >= t { q[l] } else { 0.0 };
        store_lanes(F32x4::new(pick(0), pick(1), pick(2), pick(3)), lo, hi, y, pos);
    });
}

/// The dropout mask itself: `out[j] = 1` where element `offset + j` is kept, else 0 (the mask
/// [`dropout`] applies for the same arguments).
///
/// # Safety
/// `out` addresses `n` writable f32 values. Requires `0 ≤ rate < 1`.
pub unsafe fn dropout_mask(n: usize, out: *mut f32, rate: f32, s: Stream, offset: usize) {
    let t = drop_threshold(rate);
    groups::<4>(n, offset, |g, lo, hi, pos| {
        let w = s.block(g, KIND_DROPOUT);
        let bit = |l: usize| if (w[l] >> 8) >= t { 1.0 } else { 0.0 };
        store_lanes(F32x4::new(bit(0), bit(1), bit(2), bit(3)), lo, hi, out, pos);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_matches_random123_known_answers() {
        // Random123 tests/kat_vectors, philox4x32 with 10 rounds.
        let cases = [
            ([0u32; 4], [0u32; 2], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
            ([u32::MAX; 4], [u32::MAX; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
            (
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0],
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
            ),
        ];
        for (ctr, key, want) in cases {
            assert_eq!(philox4x32_10(ctr, key), want, "ctr {ctr:x?} key {key:x?}");
        }
    }

    fn stream() -> Stream {
        Stream::new(0x1234_5678, 0x9abc, 7)
    }

    fn fill(n: usize, offset: usize, f: &dyn Fn(usize, *mut f32, usize)) -> Vec<f32> {
        let mut out = vec![f32::NAN; n + 2];
        f(n, unsafe { out.as_mut_ptr().add(1) }, offset);
        assert!(out[0].is_nan() && out[n + 1].is_nan(), "wrote outside [0, {n})");
        out[1..=n].to_vec()
    }

    /// Filling [0, n) at once equals filling it in pieces at any split points, and no element is
    /// left unwritten (outputs start as NaN).
    fn split_independent(what: &str, f: &dyn Fn(usize, *mut f32, usize)) {
        let n = 203;
        let whole = fill(n, 0, f);
        assert!(whole.iter().all(|v| !v.is_nan()), "{what}: unwritten cells");
        for cuts in [[1, 2], [3, 9], [4, 8], [5, 100], [7, 202], [0, 203], [101, 101]] {
            let mut parts = fill(cuts[0], 0, f);
            parts.extend(fill(cuts[1] - cuts[0], cuts[0], f));
            parts.extend(fill(n - cuts[1], cuts[1], f));
            let same = whole.iter().zip(&parts).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{what}: split at {cuts:?} differs");
        }
        // A window far from zero equals the same elements of an overlapping, unaligned window.
        let far = fill(13, 1_000_003, f);
        let wider = fill(20, 999_996, f);
        assert_eq!(far, wider[7..].to_vec(), "{what}: far offset");
    }

    #[test]
    fn every_kind_is_independent_of_how_the_range_is_split() {
        let s = stream();
        split_independent("uniform", &|n, o, off| unsafe { uniform(n, o, -2.0, 3.0, s, off) });
        split_independent("normal", &|n, o, off| unsafe { normal(n, o, 1.0, 2.0, s, off) });
        split_independent("truncated", &|n, o, off| unsafe {
            truncated_normal(n, o, 0.0, 1.0, s, off)
        });
        split_independent("mask", &|n, o, off| unsafe { dropout_mask(n, o, 0.3, s, off) });
        let x: Vec<f32> = (0..1_000_016).map(|i| i as f32 - 7.0).collect();
        split_independent("dropout", &|n, o, off| unsafe {
            dropout(n, x.as_ptr().add(off), o, 0.3, s, off)
        });
    }

    /// Mean and variance of a sample, in f64.
    fn moments(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn uniform_is_exact_in_bounds_and_flat() {
        let s = stream();
        let n = 1_000_000;
        let v = fill(n, 0, &|n, o, off| unsafe { uniform(n, o, -2.0, 3.0, s, off) });
        for (i, &x) in v.iter().enumerate().take(64) {
            let w = s.block(i as u64 / 4, KIND_UNIFORM)[i % 4];
            let want = -2.0 + 5.0 * ((w >> 8) as f64 / 16_777_216.0);
            assert!((x as f64 - want).abs() <= 5e-7, "[{i}] {x} vs {want}");
        }
        assert!(v.iter().all(|&x| (-2.0..3.0).contains(&x)));
        let (mean, var) = moments(&v);
        // Standard errors: σ/√n for the mean, ~σ²·√(0.8/n) for the variance of a uniform.
        let (m, sd) = (0.5, 5.0 / 12f64.sqrt());
        assert!((mean - m).abs() < 5.0 * sd / (n as f64).sqrt(), "mean {mean}");
        assert!((var - sd * sd).abs() < 5.0 * sd * sd * (0.8 / n as f64).sqrt(), "var {var}");
        // Ten equal bins: chi-square with 9 degrees of freedom below its 0.999 quantile (27.9).
        let mut bins = [0f64; 10];
        v.iter().for_each(|&x| bins[((x + 2.0) / 0.5) as usize] += 1.0);
        let chi2: f64 =
            bins.iter().map(|&b| (b - n as f64 / 10.0).powi(2) / (n as f64 / 10.0)).sum();
        assert!(chi2 < 27.9, "chi2 {chi2} bins {bins:?}");
        // A span of one ulp: rounding up to hi is clamped away.
        let v = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 1.0, 1.000_000_1, s, off) });
        assert!(v.iter().all(|&x| x == 1.0), "{:?}", &v[..8]);
        let v = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, -1e-3, 0.0, s, off) });
        assert!(v.iter().all(|&x| (-1e-3..0.0).contains(&x)));
    }

    /// Box–Muller in f64 from the same counter words: the reference of the normal kernel.
    fn normal_reference(s: &Stream, i: usize, attempt: u32) -> f64 {
        let g = (i / 8) as u64;
        let (a, b) =
            (s.block(2 * g, KIND_NORMAL | attempt), s.block(2 * g + 1, KIND_NORMAL | attempt));
        let l = i % 4;
        let u1 = ((a[l] >> 8) + 1) as f64 / 16_777_216.0;
        let theta = 2.0 * std::f64::consts::PI * (b[l] >> 8) as f64 / 16_777_216.0;
        let r = (-2.0 * u1.ln()).sqrt();
        if i % 8 < 4 {
            r * theta.cos()
        } else {
            r * theta.sin()
        }
    }

    #[test]
    fn normal_matches_box_muller_and_has_unit_moments() {
        let s = stream();
        let n = 1_000_000;
        let v = fill(n, 0, &|n, o, off| unsafe { normal(n, o, 0.0, 1.0, s, off) });
        let mut worst = 0f64;
        for (i, &x) in v.iter().enumerate().step_by(7) {
            worst = worst.max((x as f64 - normal_reference(&s, i, 0)).abs());
        }
        assert!(worst < 2e-6, "largest error against f64 Box–Muller: {worst}");
        let (mean, var) = moments(&v);
        let nf = n as f64;
        assert!(mean.abs() < 5.0 / nf.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / nf).sqrt(), "var {var}");
        // Mass within 1σ and 2σ (0.682689, 0.954500), within 5 binomial standard errors.
        for (k, p) in [(1.0f32, 0.682_689f64), (2.0, 0.954_500)] {
            let frac = v.iter().filter(|x| x.abs() < k).count() as f64 / nf;
            assert!((frac - p).abs() < 5.0 * (p * (1.0 - p) / nf).sqrt(), "P(|z|<{k}) = {frac}");
        }
        let scaled = fill(64, 0, &|n, o, off| unsafe { normal(n, o, 3.0, 0.5, s, off) });
        for (i, x) in scaled.iter().enumerate() {
            assert!((*x as f64 - (3.0 + 0.5 * v[i] as f64)).abs() < 1e-6);
        }
    }

    #[test]
    fn truncated_normal_redraws_beyond_two_sigma() {
        let s = stream();
        let n = 1_000_000;
        let z = fill(n, 0, &|n, o, off| unsafe { normal(n, o, 0.0, 1.0, s, off) });
        let t = fill(n, 0, &|n, o, off| unsafe { truncated_normal(n, o, 0.0, 1.0, s, off) });
        let mut redrawn = 0;
        for i in 0..n {
            assert!(t[i].abs() <= 2.0, "[{i}] {}", t[i]);
            if z[i].abs() <= 2.0 {
                assert_eq!(t[i], z[i], "[{i}] kept values are the normal stream's");
            } else {
                redrawn += 1;
                if redrawn < 50 {
                    // The first redraw is the attempt-1 stream unless that one is outside too.
                    let r1 = normal_reference(&s, i, 1);
                    if r1.abs() < 1.999 {
                        assert!((t[i] as f64 - r1).abs() < 2e-6, "[{i}] redraw");
                    }
                }
            }
        }
        let p = 0.0455;
        let frac = redrawn as f64 / n as f64;
        assert!((frac - p).abs() < 5.0 * (p * (1.0 - p) / n as f64).sqrt(), "redrawn {frac}");
        // Variance of a standard normal truncated to [−2, 2]: 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.773741.
        let (mean, var) = moments(&t);
        assert!(mean.abs() < 5.0 * (0.7737 / n as f64).sqrt(), "mean {mean}");
        assert!((var - 0.773_741).abs() < 0.004, "var {var}");
        let scaled =
            fill(1000, 0, &|n, o, off| unsafe { truncated_normal(n, o, -1.0, 0.1, s, off) });
        assert!(scaled.iter().all(|x| (-1.2..=-0.8).contains(x)));
    }

    #[test]
    fn dropout_keeps_one_minus_rate_with_exact_scaling() {
        let s = stream();
        let n = 300_007; // large enough for a 5σ bound of ±0.5% on the kept fraction
        let x: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.37 - 11.0).collect();
        for rate in [0.0f32, 0.1, 0.5, 0.9] {
            let y = fill(n, 0, &|n, o, off| unsafe { dropout(n, x.as_ptr(), o, rate, s, off) });
            let mask = fill(n, 0, &|n, o, off| unsafe { dropout_mask(n, o, rate, s, off) });
            let keep = 1.0 - rate;
            let mut kept = 0usize;
            for i in 0..n {
                let w = s.block(i as u64 / 4, KIND_DROPOUT)[i % 4];
                let expect_keep = ((w >> 8) as f64 / 16_777_216.0) >= rate as f64;
                assert_eq!(mask[i] == 1.0, expect_keep, "rate {rate} [{i}] mask");
                if expect_keep {
                    kept += 1;
                    assert_eq!(y[i], x[i] / keep, "rate {rate} [{i}] scaling");
                } else {
                    assert!(y[i] == 0.0 && mask[i] == 0.0, "rate {rate} [{i}] dropped");
                }
            }
            let p = keep as f64;
            let frac = kept as f64 / n as f64;
            assert!((frac - p).abs() <= 5.0 * (p * (1.0 - p) / n as f64).sqrt(), "kept {frac}");
            // Backward: the same call on dy applies the same mask and scale.
            let dy: Vec<f32> = (0..n).map(|i| (i % 13) as f32 - 6.0).collect();
            let dx = fill(n, 0, &|n, o, off| unsafe { dropout(n, dy.as_ptr(), o, rate, s, off) });
            for i in (0..n).step_by(101) {
                assert_eq!(dx[i], if mask[i] == 1.0 { dy[i] / keep } else { 0.0 });
            }
        }
        // Dropped infinities and NaNs give 0; kept ones propagate; in place works.
        let mut v = vec![f32::INFINITY; 64];
        v[1] = f32::NAN;
        let mask = fill(64, 0, &|n, o, off| unsafe { dropout_mask(n, o, 0.5, s, off) });
        unsafe { dropout(64, v.as_ptr(), v.as_mut_ptr(), 0.5, s, 0) };
        for i in 0..64 {
            if mask[i] == 0.0 {
                assert_eq!(v[i], 0.0);
            } else {
                assert!(if i == 1 { v[i].is_nan() } else { v[i] == f32::INFINITY });
            }
        }
    }

    #[test]
    fn streams_and_seeds_and_kinds_are_unrelated() {
        let a = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 0.0, 1.0, stream(), off) });
        for other in [Stream::new(0x1234_5678, 0x9abc, 8), Stream::new(0x1234_5679, 0x9abc, 7)] {
            let b = fill(1000, 0, &|n, o, off| unsafe { uniform(n, o, 0.0, 1.0, other, off) });
            let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
            assert!(same < 3, "{same} equal values between streams");
            // Correlation near 0 (|r| < 5/√n).
            let r: f64 =
                a.iter().zip(&b).map(|(x, y)| (*x as f64 - 0.5) * (*y as f64 - 0.5)).sum::<f64>()
                    / (1000.0 / 12.0);
            assert!(r.abs() < 5.0 / 1000f64.sqrt(), "correlation {r}");
        }
        let m = fill(1000, 0, &|n, o, off| unsafe { dropout_mask(n, o, 0.5, stream(), off) });
        let agree = a.iter().zip(&m).filter(|(u, k)| (**u >= 0.5) == (**k == 1.0)).count();
        assert!((agree as f64 - 500.0).abs() < 5.0 * 250f64.sqrt(), "dropout mirrors uniform");
    }
}

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
#[path = "random_tests.rs"]
mod tests;

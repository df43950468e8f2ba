//! The scalar twin of [`super::F32x4`] (host builds and the scalar wasm build): the same
//! operations lane by lane, with the same IEEE arithmetic and order.

/// Scalar twin of the SIMD128 vector: four f32 lanes in an array.
#[derive(Copy, Clone, Debug)]
#[repr(C)]
pub struct F32x4(pub [f32; 4]);

#[inline(always)]
fn map2(a: F32x4, b: F32x4, f: impl Fn(f32, f32) -> f32) -> F32x4 {
    F32x4([f(a.0[0], b.0[0]), f(a.0[1], b.0[1]), f(a.0[2], b.0[2]), f(a.0[3], b.0[3])])
}

#[inline(always)]
fn map1(a: F32x4, f: impl Fn(f32) -> f32) -> F32x4 {
    F32x4([f(a.0[0]), f(a.0[1]), f(a.0[2]), f(a.0[3])])
}

// SIMD128's f32x4.max/min return NaN when either lane is NaN (unlike f32::max).
#[inline(always)]
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a > b || (a == b && b.is_sign_negative()) {
        a
    } else {
        b
    }
}

#[inline(always)]
fn nan_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a < b || (a == b && a.is_sign_negative()) {
        a
    } else {
        b
    }
}

impl F32x4 {
    pub const LANES: usize = 4;
    #[inline(always)]
    pub fn splat(x: f32) -> Self {
        F32x4([x; 4])
    }
    #[inline(always)]
    pub fn zero() -> Self {
        F32x4([0.0; 4])
    }
    #[inline(always)]
    pub fn new(a: f32, b: f32, c: f32, d: f32) -> Self {
        F32x4([a, b, c, d])
    }
    /// Loads four consecutive f32 values (no alignment required).
    ///
    /// # Safety
    /// `p .. p + 4` must be readable.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> Self {
        F32x4([*p, *p.add(1), *p.add(2), *p.add(3)])
    }
    /// Stores four consecutive f32 values (no alignment required).
    ///
    /// # Safety
    /// `p .. p + 4` must be writable.
    #[inline(always)]
    pub unsafe fn store(self, p: *mut f32) {
        *p = self.0[0];
        *p.add(1) = self.0[1];
        *p.add(2) = self.0[2];
        *p.add(3) = self.0[3];
    }
    #[inline(always)]
    pub fn add(self, o: Self) -> Self {
        map2(self, o, |a, b| a + b)
    }
    #[inline(always)]
    pub fn sub(self, o: Self) -> Self {
        map2(self, o, |a, b| a - b)
    }
    #[inline(always)]
    pub fn mul(self, o: Self) -> Self {
        map2(self, o, |a, b| a * b)
    }
    #[inline(always)]
    pub fn div(self, o: Self) -> Self {
        map2(self, o, |a, b| a / b)
    }
    /// `self * b + c`, rounded twice, exactly like the SIMD128 body.
    #[inline(always)]
    pub fn mul_add(self, b: Self, c: Self) -> Self {
        self.mul(b).add(c)
    }
    #[inline(always)]
    pub fn max(self, o: Self) -> Self {
        map2(self, o, nan_max)
    }
    #[inline(always)]
    pub fn min(self, o: Self) -> Self {
        map2(self, o, nan_min)
    }
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        map1(self, f32_sqrt)
    }
    #[inline(always)]
    pub fn abs(self) -> Self {
        map1(self, |a| f32::from_bits(a.to_bits() & 0x7fff_ffff))
    }
    #[inline(always)]
    pub fn neg(self) -> Self {
        map1(self, |a| -a)
    }
    /// Sum of the four lanes, added as ((l0 + l1) + (l2 + l3)).
    #[inline(always)]
    pub fn sum(self) -> f32 {
        (self.0[0] + self.0[1]) + (self.0[2] + self.0[3])
    }
    #[inline(always)]
    pub fn lanes(self) -> [f32; 4] {
        self.0
    }
    /// Reinterprets the bits of each lane as an i32 (no conversion).
    #[inline(always)]
    pub fn to_bits(self) -> I32x4 {
        I32x4(self.0.map(|a| a.to_bits() as i32))
    }
    /// Reinterprets the bits of each i32 lane as an f32 (no conversion).
    #[inline(always)]
    pub fn from_bits(v: I32x4) -> Self {
        F32x4(v.0.map(|a| f32::from_bits(a as u32)))
    }
    /// Converts each lane to i32, truncating toward zero; out-of-range lanes saturate to
    /// i32::MIN/MAX and NaN gives 0 (Rust's `as` has exactly these semantics).
    #[inline(always)]
    pub fn to_i32_sat(self) -> I32x4 {
        I32x4(self.0.map(|a| a as i32))
    }
    /// Rounds each lane to the nearest integer, ties to even; ±0, ±Inf and integers are kept.
    ///
    /// Without std: for |a| < 2^23, (|a| + 2^23) − 2^23 rounds the fraction away under the
    /// default ties-to-even mode (the sum has no fractional bits); the sign is copied back so
    /// that −0.3 gives −0 as `f32x4.nearest` does. |a| ≥ 2^23 is already an integer.
    #[inline(always)]
    pub fn nearest(self) -> Self {
        map1(self, f32_nearest)
    }
    /// Rounds each lane toward −∞: the nearest integer, minus one where it lies above.
    /// Exact, so it equals `f32x4.floor` bit for bit (−0 stays −0).
    #[inline(always)]
    pub fn floor(self) -> Self {
        map1(self, |a| {
            let r = f32_nearest(a);
            if r > a {
                r - 1.0
            } else {
                r
            }
        })
    }
    /// Pseudo-minimum `o < self ? o : self`, exactly as `f32x4.pmin`.
    #[inline(always)]
    pub fn pmin(self, o: Self) -> Self {
        map2(self, o, |a, b| if b < a { b } else { a })
    }
    /// Pseudo-maximum `self < o ? o : self`, exactly as `f32x4.pmax`.
    #[inline(always)]
    pub fn pmax(self, o: Self) -> Self {
        map2(self, o, |a, b| if a < b { b } else { a })
    }
    /// Lane mask (all ones where true) of `self == o`; NaN compares unequal.
    #[inline(always)]
    pub fn eq(self, o: Self) -> I32x4 {
        cmp(self, o, |a, b| a == b)
    }
    /// Lane mask of `self < o`; false when either lane is NaN.
    #[inline(always)]
    pub fn lt(self, o: Self) -> I32x4 {
        cmp(self, o, |a, b| a < b)
    }
    /// Lane mask of `self <= o`; false when either lane is NaN.
    #[inline(always)]
    pub fn le(self, o: Self) -> I32x4 {
        cmp(self, o, |a, b| a <= b)
    }
    /// Lane mask of `self > o`; false when either lane is NaN.
    #[inline(always)]
    pub fn gt(self, o: Self) -> I32x4 {
        cmp(self, o, |a, b| a > b)
    }
    /// Lane mask of `self >= o`; false when either lane is NaN.
    #[inline(always)]
    pub fn ge(self, o: Self) -> I32x4 {
        cmp(self, o, |a, b| a >= b)
    }
    /// Lane mask of `self != self`, i.e. of NaN lanes.
    #[inline(always)]
    pub fn is_nan(self) -> I32x4 {
        #[allow(clippy::eq_op)]
        cmp(self, self, |a, b| a != b)
    }
    /// Per lane: `a` where `mask` is all ones, `b` where it is zero (bitwise, like
    /// `v128.bitselect`, so payloads of NaN lanes are kept).
    #[inline(always)]
    pub fn select(mask: I32x4, a: Self, b: Self) -> Self {
        F32x4::from_bits(I32x4::select(mask, a.to_bits(), b.to_bits()))
    }
}

#[inline(always)]
fn cmp(a: F32x4, b: F32x4, f: impl Fn(f32, f32) -> bool) -> I32x4 {
    I32x4([0, 1, 2, 3].map(|i| if f(a.0[i], b.0[i]) { -1 } else { 0 }))
}

#[inline(always)]
fn f32_nearest(a: f32) -> f32 {
    const TWO_23: f32 = 8_388_608.0;
    let m = f32::from_bits(a.to_bits() & 0x7fff_ffff);
    if m < TWO_23 {
        let r = (m + TWO_23) - TWO_23;
        f32::from_bits(r.to_bits() | (a.to_bits() & 0x8000_0000))
    } else {
        a
    }
}

#[inline(always)]
fn imap2(a: I32x4, b: I32x4, f: impl Fn(i32, i32) -> i32) -> I32x4 {
    I32x4([f(a.0[0], b.0[0]), f(a.0[1], b.0[1]), f(a.0[2], b.0[2]), f(a.0[3], b.0[3])])
}

/// Scalar twin of the SIMD128 i32x4 view: bit patterns of [`F32x4`] lanes, exponents and
/// comparison masks (all ones = true).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct I32x4(pub [i32; 4]);

impl I32x4 {
    #[inline(always)]
    pub fn splat(x: i32) -> Self {
        I32x4([x; 4])
    }
    #[inline(always)]
    pub fn new(a: i32, b: i32, c: i32, d: i32) -> Self {
        I32x4([a, b, c, d])
    }
    /// Wrapping lane-wise addition.
    #[inline(always)]
    pub fn add(self, o: Self) -> Self {
        imap2(self, o, i32::wrapping_add)
    }
    /// Wrapping lane-wise subtraction.
    #[inline(always)]
    pub fn sub(self, o: Self) -> Self {
        imap2(self, o, i32::wrapping_sub)
    }
    /// Shift left by `n` mod 32.
    #[inline(always)]
    pub fn shl(self, n: u32) -> Self {
        I32x4(self.0.map(|a| a.wrapping_shl(n)))
    }
    /// Arithmetic (sign-extending) shift right by `n` mod 32.
    #[inline(always)]
    pub fn shr(self, n: u32) -> Self {
        I32x4(self.0.map(|a| a.wrapping_shr(n)))
    }
    #[inline(always)]
    pub fn and(self, o: Self) -> Self {
        imap2(self, o, |a, b| a & b)
    }
    #[inline(always)]
    pub fn or(self, o: Self) -> Self {
        imap2(self, o, |a, b| a | b)
    }
    #[inline(always)]
    pub fn xor(self, o: Self) -> Self {
        imap2(self, o, |a, b| a ^ b)
    }
    /// `self & !o`.
    #[inline(always)]
    pub fn andnot(self, o: Self) -> Self {
        imap2(self, o, |a, b| a & !b)
    }
    /// Lane mask of `self == o`.
    #[inline(always)]
    pub fn eq(self, o: Self) -> Self {
        imap2(self, o, |a, b| -((a == b) as i32))
    }
    /// Lane mask of `self > o` (signed).
    #[inline(always)]
    pub fn gt(self, o: Self) -> Self {
        imap2(self, o, |a, b| -((a > b) as i32))
    }
    /// Lane mask of `self < o` (signed).
    #[inline(always)]
    pub fn lt(self, o: Self) -> Self {
        imap2(self, o, |a, b| -((a < b) as i32))
    }
    /// Per lane, bitwise: `a` where `mask` is all ones, `b` where it is zero.
    #[inline(always)]
    pub fn select(mask: Self, a: Self, b: Self) -> Self {
        I32x4([0, 1, 2, 3].map(|i| (a.0[i] & mask.0[i]) | (b.0[i] & !mask.0[i])))
    }
    /// Converts each lane to the nearest f32 (ties to even).
    #[inline(always)]
    pub fn to_f32(self) -> F32x4 {
        F32x4(self.0.map(|a| a as f32))
    }
    #[inline(always)]
    pub fn lanes(self) -> [i32; 4] {
        self.0
    }
}

/// Correctly rounded square root without `f32::sqrt` (which lives in std, absent on no_std
/// wasm32 where no scalar sqrt instruction is reachable on stable Rust 1.63). Host builds
/// use it too, so `cargo test` checks the very routine the scalar wasm build ships.
///
/// An f64 Newton estimate is rounded to f32, then nudged until it is the correctly rounded
/// result: r is correct iff (r − ½ulp)² < x ≤ (r + ½ulp)²; the midpoints have 25 significant
/// bits, so their squares are exact in f64.
#[inline]
pub fn f32_sqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x == f32::INFINITY {
        return x;
    }
    let xd = x as f64;
    // Halving the exponent gives a start within a factor of two; Newton doubles the correct
    // bits each step, so six steps exceed f64 precision.
    let mut y = f64::from_bits(((xd.to_bits() >> 1) + (1023u64 << 51)) & 0x7fff_ffff_ffff_ffff);
    for _ in 0..6 {
        y = 0.5 * (y + xd / y);
    }
    let mut r = y as f32;
    loop {
        let up = f32::from_bits(r.to_bits() + 1);
        let mid = (r as f64 + up as f64) * 0.5;
        if mid * mid < xd {
            r = up;
        } else {
            break;
        }
    }
    loop {
        let down = f32::from_bits(r.to_bits() - 1);
        let mid = (r as f64 + down as f64) * 0.5;
        if mid * mid >= xd {
            r = down;
        } else {
            break;
        }
    }
    r
}

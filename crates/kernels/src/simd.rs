//! One four-lane f32 vector type, [`F32x4`], with two bodies of the same name:
//! a WebAssembly SIMD128 body (wasm32 built with `+simd128`) and a scalar twin (host builds and the
//! scalar wasm build). Kernels are written once against this type, so host `cargo test` exercises
//! exactly the blocking, edge handling and operation order that ships in the SIMD build.
//!
//! Contract of the twin: every operation does the same IEEE single-precision arithmetic per lane,
//! in the same order (no fused multiply-add: `mul_add` is a multiply, then an add), so both bodies
//! give bitwise identical results for the same inputs.
//!
//! Methods are named like the operators (`add`, `mul`, ...) on purpose: they read like the
//! SIMD128 instruction names, and operator traits would hide which body runs.
#![allow(clippy::should_implement_trait)]

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    /// Four f32 lanes in one SIMD128 register.
    #[derive(Copy, Clone)]
    #[repr(transparent)]
    pub struct F32x4(pub v128);

    impl F32x4 {
        pub const LANES: usize = 4;
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F32x4(f32x4_splat(x))
        }
        #[inline(always)]
        pub fn zero() -> Self {
            F32x4(f32x4_splat(0.0))
        }
        #[inline(always)]
        pub fn new(a: f32, b: f32, c: f32, d: f32) -> Self {
            F32x4(f32x4(a, b, c, d))
        }
        /// Loads four consecutive f32 values (no alignment required).
        ///
        /// # Safety
        /// `p .. p + 4` must be readable.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> Self {
            F32x4(v128_load(p as *const v128))
        }
        /// Stores four consecutive f32 values (no alignment required).
        ///
        /// # Safety
        /// `p .. p + 4` must be writable.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(f32x4_mul(self.0, o.0))
        }
        #[inline(always)]
        pub fn div(self, o: Self) -> Self {
            F32x4(f32x4_div(self.0, o.0))
        }
        /// `self * b + c`, rounded twice (SIMD128 has no fused multiply-add).
        #[inline(always)]
        pub fn mul_add(self, b: Self, c: Self) -> Self {
            F32x4(f32x4_add(f32x4_mul(self.0, b.0), c.0))
        }
        /// Lane-wise maximum; NaN in either lane gives NaN (IEEE propagation).
        #[inline(always)]
        pub fn max(self, o: Self) -> Self {
            F32x4(f32x4_max(self.0, o.0))
        }
        /// Lane-wise minimum; NaN in either lane gives NaN.
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            F32x4(f32x4_min(self.0, o.0))
        }
        #[inline(always)]
        pub fn sqrt(self) -> Self {
            F32x4(f32x4_sqrt(self.0))
        }
        #[inline(always)]
        pub fn abs(self) -> Self {
            F32x4(f32x4_abs(self.0))
        }
        #[inline(always)]
        pub fn neg(self) -> Self {
            F32x4(f32x4_neg(self.0))
        }
        /// Sum of the four lanes, added as ((l0 + l1) + (l2 + l3)).
        #[inline(always)]
        pub fn sum(self) -> f32 {
            let a = self.lanes();
            (a[0] + a[1]) + (a[2] + a[3])
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
        /// Reinterprets the bits of each lane as an i32 (no conversion).
        #[inline(always)]
        pub fn to_bits(self) -> I32x4 {
            I32x4(self.0)
        }
        /// Reinterprets the bits of each i32 lane as an f32 (no conversion).
        #[inline(always)]
        pub fn from_bits(v: I32x4) -> Self {
            F32x4(v.0)
        }
        /// Converts each lane to i32, truncating toward zero; out-of-range lanes saturate to
        /// i32::MIN/MAX and NaN gives 0 (`i32x4.trunc_sat_f32x4_s`).
        #[inline(always)]
        pub fn to_i32_sat(self) -> I32x4 {
            I32x4(i32x4_trunc_sat_f32x4(self.0))
        }
        /// Rounds each lane to the nearest integer, ties to even; ±0, ±Inf and integers are kept.
        #[inline(always)]
        pub fn nearest(self) -> Self {
            F32x4(f32x4_nearest(self.0))
        }
        /// Rounds each lane toward −∞; ±0, ±Inf and integers are kept.
        #[inline(always)]
        pub fn floor(self) -> Self {
            F32x4(f32x4_floor(self.0))
        }
        /// Pseudo-minimum `o < self ? o : self` (`f32x4.pmin`, one x86 instruction): unlike
        /// [`F32x4::min`] it keeps a NaN of `self` only, which suits clamping an input to a
        /// constant bound.
        #[inline(always)]
        pub fn pmin(self, o: Self) -> Self {
            F32x4(f32x4_pmin(self.0, o.0))
        }
        /// Pseudo-maximum `self < o ? o : self` (`f32x4.pmax`); a NaN in `self` is kept.
        #[inline(always)]
        pub fn pmax(self, o: Self) -> Self {
            F32x4(f32x4_pmax(self.0, o.0))
        }
        /// Lane mask (all ones where true) of `self == o`; NaN compares unequal.
        #[inline(always)]
        pub fn eq(self, o: Self) -> I32x4 {
            I32x4(f32x4_eq(self.0, o.0))
        }
        /// Lane mask of `self < o`; false when either lane is NaN.
        #[inline(always)]
        pub fn lt(self, o: Self) -> I32x4 {
            I32x4(f32x4_lt(self.0, o.0))
        }
        /// Lane mask of `self <= o`; false when either lane is NaN.
        #[inline(always)]
        pub fn le(self, o: Self) -> I32x4 {
            I32x4(f32x4_le(self.0, o.0))
        }
        /// Lane mask of `self > o`; false when either lane is NaN.
        #[inline(always)]
        pub fn gt(self, o: Self) -> I32x4 {
            I32x4(f32x4_gt(self.0, o.0))
        }
        /// Lane mask of `self >= o`; false when either lane is NaN.
        #[inline(always)]
        pub fn ge(self, o: Self) -> I32x4 {
            I32x4(f32x4_ge(self.0, o.0))
        }
        /// Lane mask of `self != self`, i.e. of NaN lanes.
        #[inline(always)]
        pub fn is_nan(self) -> I32x4 {
            I32x4(f32x4_ne(self.0, self.0))
        }
        /// Per lane: `a` where `mask` is all ones, `b` where it is zero (`v128.bitselect`).
        #[inline(always)]
        pub fn select(mask: I32x4, a: Self, b: Self) -> Self {
            F32x4(v128_bitselect(a.0, b.0, mask.0))
        }
    }

    /// Four i32 lanes in one SIMD128 register: bit patterns of [`F32x4`] lanes, exponents and
    /// comparison masks (all ones = true).
    #[derive(Copy, Clone)]
    #[repr(transparent)]
    pub struct I32x4(pub v128);

    impl I32x4 {
        #[inline(always)]
        pub fn splat(x: i32) -> Self {
            I32x4(i32x4_splat(x))
        }
        #[inline(always)]
        pub fn new(a: i32, b: i32, c: i32, d: i32) -> Self {
            I32x4(i32x4(a, b, c, d))
        }
        /// Wrapping lane-wise addition.
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            I32x4(i32x4_add(self.0, o.0))
        }
        /// Wrapping lane-wise subtraction.
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            I32x4(i32x4_sub(self.0, o.0))
        }
        /// Shift left by `n` mod 32.
        #[inline(always)]
        pub fn shl(self, n: u32) -> Self {
            I32x4(i32x4_shl(self.0, n))
        }
        /// Arithmetic (sign-extending) shift right by `n` mod 32.
        #[inline(always)]
        pub fn shr(self, n: u32) -> Self {
            I32x4(i32x4_shr(self.0, n))
        }
        #[inline(always)]
        pub fn and(self, o: Self) -> Self {
            I32x4(v128_and(self.0, o.0))
        }
        #[inline(always)]
        pub fn or(self, o: Self) -> Self {
            I32x4(v128_or(self.0, o.0))
        }
        #[inline(always)]
        pub fn xor(self, o: Self) -> Self {
            I32x4(v128_xor(self.0, o.0))
        }
        /// `self & !o`.
        #[inline(always)]
        pub fn andnot(self, o: Self) -> Self {
            I32x4(v128_andnot(self.0, o.0))
        }
        /// Lane mask of `self == o`.
        #[inline(always)]
        pub fn eq(self, o: Self) -> Self {
            I32x4(i32x4_eq(self.0, o.0))
        }
        /// Lane mask of `self > o` (signed).
        #[inline(always)]
        pub fn gt(self, o: Self) -> Self {
            I32x4(i32x4_gt(self.0, o.0))
        }
        /// Lane mask of `self < o` (signed).
        #[inline(always)]
        pub fn lt(self, o: Self) -> Self {
            I32x4(i32x4_lt(self.0, o.0))
        }
        /// Per lane: `a` where `mask` is all ones, `b` where it is zero.
        #[inline(always)]
        pub fn select(mask: Self, a: Self, b: Self) -> Self {
            I32x4(v128_bitselect(a.0, b.0, mask.0))
        }
        /// Converts each lane to the nearest f32 (ties to even).
        #[inline(always)]
        pub fn to_f32(self) -> F32x4 {
            F32x4(f32x4_convert_i32x4(self.0))
        }
        #[inline(always)]
        pub fn lanes(self) -> [i32; 4] {
            [
                i32x4_extract_lane::<0>(self.0),
                i32x4_extract_lane::<1>(self.0),
                i32x4_extract_lane::<2>(self.0),
                i32x4_extract_lane::<3>(self.0),
            ]
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
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
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use imp::f32_sqrt;
pub use imp::{F32x4, I32x4};

#[cfg(test)]
mod tests {
    use super::{F32x4, I32x4};

    /// Reference round-half-to-even through f64 (std's `round` ties away from zero).
    fn nearest_ref(x: f32) -> f32 {
        let r = (x as f64).round();
        let r = if (x as f64 - (x as f64).trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
            r - (x as f64).signum()
        } else {
            r
        };
        // Keep the sign of zero, as IEEE roundToIntegralTiesToEven does.
        if r == 0.0 {
            if x.is_sign_negative() {
                -0.0
            } else {
                0.0
            }
        } else {
            r as f32
        }
    }

    #[test]
    fn nearest_and_floor_match_ieee_over_a_bit_sweep() {
        let check = |x: f32| {
            let v = F32x4::splat(x);
            let n = v.nearest().lanes()[0];
            let f = v.floor().lanes()[0];
            if x.is_nan() {
                assert!(n.is_nan() && f.is_nan());
            } else {
                assert_eq!(n.to_bits(), nearest_ref(x).to_bits(), "nearest({x:e})");
                assert_eq!(f.to_bits(), x.floor().to_bits(), "floor({x:e})");
            }
        };
        let mut bits = 0u32;
        loop {
            check(f32::from_bits(bits));
            let (next, wrapped) =
                bits.overflowing_add(if cfg!(debug_assertions) { 65537 } else { 4099 });
            if wrapped {
                break;
            }
            bits = next;
        }
        for x in [
            0.5f32,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.49999997,
            -0.49999997,
            8388607.5,
            -8388607.5,
            8388608.0,
            16777215.0,
            -0.0,
            0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-45,
            -1e-45,
        ] {
            check(x);
        }
        assert_eq!(F32x4::new(0.5, 1.5, 2.5, -2.5).nearest().lanes(), [0.0, 2.0, 2.0, -2.0]);
        assert_eq!(F32x4::new(-0.5, 1.5, -2.5, 2.0).floor().lanes(), [-1.0, 1.0, -3.0, 2.0]);
    }

    #[test]
    fn pmin_pmax_keep_the_first_operand_on_nan() {
        let a = F32x4::new(f32::NAN, 1.0, 5.0, -0.0);
        let b = F32x4::new(0.0, f32::NAN, 2.0, 0.0);
        let lo = a.pmin(b).lanes();
        let hi = a.pmax(b).lanes();
        assert!(lo[0].is_nan() && hi[0].is_nan());
        assert_eq!([lo[1], lo[2]], [1.0, 2.0]);
        assert_eq!([hi[1], hi[2]], [1.0, 5.0]);
        // Equal lanes (±0) keep the first operand.
        assert!(lo[3].is_sign_negative() && hi[3].is_sign_negative());
    }

    #[test]
    fn bit_casts_conversions_masks_and_select() {
        let a = F32x4::new(1.0, -2.0, f32::NAN, 3e9);
        assert_eq!(a.to_bits().lanes()[0], 0x3f80_0000);
        assert_eq!(F32x4::from_bits(I32x4::splat(0x4000_0000)).lanes(), [2.0; 4]);
        assert_eq!(a.to_i32_sat().lanes(), [1, -2, 0, i32::MAX]);
        assert_eq!(F32x4::new(-3e9, -0.9, 0.9, 2.5).to_i32_sat().lanes(), [i32::MIN, 0, 0, 2]);
        assert_eq!(
            I32x4::new(1, -7, 16_777_217, i32::MIN).to_f32().lanes(),
            [1.0, -7.0, 16_777_216.0, -2147483648.0]
        );
        let b = F32x4::new(1.0, 0.0, 0.0, 3e9);
        assert_eq!(a.eq(b).lanes(), [-1, 0, 0, -1]);
        assert_eq!(a.lt(b).lanes(), [0, -1, 0, 0]);
        assert_eq!(a.le(b).lanes(), [-1, -1, 0, -1]);
        assert_eq!(a.gt(b).lanes(), [0, 0, 0, 0]);
        assert_eq!(a.ge(b).lanes(), [-1, 0, 0, -1]);
        assert_eq!(a.is_nan().lanes(), [0, 0, -1, 0]);
        let s = F32x4::select(I32x4::new(-1, 0, -1, 0), a, b).lanes();
        assert_eq!([s[0], s[1], s[3]], [1.0, 0.0, 3e9]);
        assert!(s[2].is_nan());
        let i = I32x4::new(-8, 7, i32::MAX, 1);
        assert_eq!(i.shr(1).lanes(), [-4, 3, i32::MAX / 2, 0]);
        assert_eq!(i.shl(2).lanes(), [-32, 28, -4, 4]);
        assert_eq!(i.add(I32x4::splat(1)).lanes(), [-7, 8, i32::MIN, 2]);
        assert_eq!(i.sub(I32x4::splat(1)).lanes(), [-9, 6, i32::MAX - 1, 0]);
        assert_eq!(i.and(I32x4::splat(6)).lanes(), [0, 6, 6, 0]);
        assert_eq!(i.or(I32x4::splat(1)).lanes(), [-7, 7, i32::MAX, 1]);
        assert_eq!(i.xor(I32x4::splat(-1)).lanes(), [7, -8, i32::MIN, -2]);
        assert_eq!(i.andnot(I32x4::splat(1)).lanes(), [-8, 6, i32::MAX - 1, 0]);
        assert_eq!(i.eq(I32x4::splat(7)).lanes(), [0, -1, 0, 0]);
        assert_eq!(i.gt(I32x4::splat(1)).lanes(), [0, -1, -1, 0]);
        assert_eq!(i.lt(I32x4::splat(1)).lanes(), [-1, 0, 0, 0]);
        assert_eq!(
            I32x4::select(I32x4::new(-1, 0, 0xff, 0), i, I32x4::splat(0)).lanes(),
            [-8, 0, 0xff, 0]
        );
    }

    #[test]
    fn lanes_round_trip_and_arithmetic() {
        let a = F32x4::new(1.0, -2.0, 3.5, 0.25);
        let b = F32x4::splat(2.0);
        assert_eq!(a.add(b).lanes(), [3.0, 0.0, 5.5, 2.25]);
        assert_eq!(a.mul(b).lanes(), [2.0, -4.0, 7.0, 0.5]);
        assert_eq!(a.mul_add(b, F32x4::splat(1.0)).lanes(), [3.0, -3.0, 8.0, 1.5]);
        assert_eq!(a.sum(), 2.75);
        let mut out = [0.0f32; 4];
        unsafe { a.abs().store(out.as_mut_ptr()) };
        assert_eq!(out, [1.0, 2.0, 3.5, 0.25]);
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[test]
    fn software_sqrt_is_correctly_rounded() {
        use super::f32_sqrt;
        let mut bits = 1u32;
        while bits < 0x7f80_0000 {
            let x = f32::from_bits(bits);
            assert_eq!(f32_sqrt(x).to_bits(), x.sqrt().to_bits(), "sqrt({x:e})");
            bits = bits.wrapping_add(7919);
        }
        for x in [0.0f32, -0.0, 1.0, 4.0, 2.0, f32::MIN_POSITIVE, f32::MAX, 1e-45, f32::INFINITY] {
            assert_eq!(f32_sqrt(x).to_bits(), x.sqrt().to_bits(), "sqrt({x:e})");
        }
        assert!(f32_sqrt(-1.0).is_nan() && f32_sqrt(f32::NAN).is_nan());
    }

    #[test]
    fn max_min_propagate_nan_like_simd128() {
        let a = F32x4::new(f32::NAN, 1.0, -0.0, 2.0);
        let b = F32x4::new(0.0, f32::NAN, 0.0, 1.0);
        let m = a.max(b).lanes();
        assert!(m[0].is_nan() && m[1].is_nan());
        assert_eq!(m[3], 2.0);
        assert!(m[2] == 0.0 && m[2].is_sign_positive());
        let n = a.min(b).lanes();
        assert!(n[2] == 0.0 && n[2].is_sign_negative());
    }
}

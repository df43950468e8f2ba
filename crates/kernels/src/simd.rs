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
pub use imp::F32x4;

#[cfg(test)]
mod tests {
    use super::F32x4;

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

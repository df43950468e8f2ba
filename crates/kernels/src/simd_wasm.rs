//! The SIMD128 body of [`super::F32x4`] (wasm32 with `+simd128`).

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

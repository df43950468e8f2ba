//! Host tests of [`super::F32x4`] (they run the scalar twin).

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

//! Unary math over contiguous buffers: y[i] = g(x[i]) for i < n, g chosen by a code
//! ([`UnaryOp`], mirrored in elementwise.ts `UNARY_OP`). y may equal x (in place); otherwise
//! the buffers must not overlap. Accuracy and special values are those of [`crate::math`]
//! (exp, log ≤ 1 ulp; expm1, log1p, erf ≤ 2.2·10⁻⁷ relative) and IEEE for the others.

use crate::math::{erf, exp, expm1, log, log1p};
use crate::simd::F32x4;

/// Operation codes of [`unary`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(i32)]
pub enum UnaryOp {
    Exp = 0,
    Log = 1,
    Expm1 = 2,
    Log1p = 3,
    Sqrt = 4,
    Abs = 5,
    Neg = 6,
    Square = 7,
    Reciprocal = 8,
    Erf = 9,
}

#[inline(always)]
fn apply(op: UnaryOp, x: F32x4) -> F32x4 {
    match op {
        UnaryOp::Exp => exp(x),
        UnaryOp::Log => log(x),
        UnaryOp::Expm1 => expm1(x),
        UnaryOp::Log1p => log1p(x),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Abs => x.abs(),
        UnaryOp::Neg => x.neg(),
        UnaryOp::Square => x.mul(x),
        UnaryOp::Reciprocal => F32x4::splat(1.0).div(x),
        UnaryOp::Erf => erf(x),
    }
}

#[inline(always)]
unsafe fn unary_loop(op: UnaryOp, n: usize, x: *const f32, y: *mut f32) {
    let n4 = n - n % 4;
    let mut i = 0;
    while i < n4 {
        apply(op, F32x4::load(x.add(i))).store(y.add(i));
        i += 4;
    }
    // The tail goes through lane 0 of the same vector code (identical arithmetic).
    while i < n {
        *y.add(i) = apply(op, F32x4::splat(*x.add(i))).lanes()[0];
        i += 1;
    }
}

/// y[i] = g(x[i]) for i < n (see the module doc). Returns 0, or −1 for an unknown code (nothing
/// written).
///
/// # Safety
/// x readable and y writable for n elements; y equals x or does not overlap it.
pub unsafe fn unary(op: i32, n: usize, x: *const f32, y: *mut f32) -> i32 {
    use UnaryOp::*;
    const ALL: [UnaryOp; 10] = [Exp, Log, Expm1, Log1p, Sqrt, Abs, Neg, Square, Reciprocal, Erf];
    if !(0..ALL.len() as i32).contains(&op) {
        return -1;
    }
    macro_rules! dispatch {
        ($($k:ident),*) => {
            match ALL[op as usize] {
                $($k => unary_loop($k, n, x, y),)*
            }
        };
    }
    dispatch!(Exp, Log, Expm1, Log1p, Sqrt, Abs, Neg, Square, Reciprocal, Erf);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_and_length_matches_the_math_functions_lane_for_lane() {
        let refs: [fn(f64) -> f64; 10] = [
            f64::exp,
            f64::ln,
            f64::exp_m1,
            f64::ln_1p,
            f64::sqrt,
            f64::abs,
            |v| -v,
            |v| v * v,
            |v| 1.0 / v,
            crate::math::tests::erf_ref,
        ];
        for (op, r) in refs.iter().enumerate() {
            for n in 0..11usize {
                let x: Vec<f32> = (0..n).map(|i| 0.37 * i as f32 + 0.05).collect();
                let mut y = vec![f32::NAN; n];
                assert_eq!(unsafe { unary(op as i32, n, x.as_ptr(), y.as_mut_ptr()) }, 0);
                for i in 0..n {
                    let want = r(x[i] as f64);
                    let err = (y[i] as f64 - want).abs() / want.abs().max(1e-30);
                    assert!(err <= 3e-7, "op {op} n {n} x {}: {} vs {want}", x[i], y[i]);
                }
            }
        }
        let mut y = [5.0f32];
        for op in [-1, 10] {
            assert_eq!(unsafe { unary(op, 1, y.as_ptr(), y.as_mut_ptr()) }, -1);
        }
        assert_eq!(y, [5.0]);
    }
}

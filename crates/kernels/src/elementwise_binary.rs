//! Binary arithmetic with row broadcasting, affine scaling and axpy over contiguous buffers.
//!
//! [`broadcast_binary`]: y = a ∘ b for a rows×cols row-major a (row stride cols) and a b addressed
//! as b[i·rsb + j·csb]: (cols, 1) a full matrix, (0, 1) a row vector of cols (bias add), (1, 0) a
//! column vector of rows, (0, 0) a scalar. y may equal a (in place); otherwise no overlap.
//! Op codes ([`BinaryOp`], mirrored in elementwise.ts `BINARY_OP`): 0 add, 1 sub, 2 mul, 3 div.
//! Backward of a broadcast operand reduces over the broadcast axis: use reduce::sum_rows /
//! reduce::sum_cols of dy (times a for mul) — no kernel of its own here.

use crate::simd::F32x4;

/// Operation codes of [`broadcast_binary`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(i32)]
pub enum BinaryOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
}

#[inline(always)]
fn apply(op: BinaryOp, a: F32x4, b: F32x4) -> F32x4 {
    match op {
        BinaryOp::Add => a.add(b),
        BinaryOp::Sub => a.sub(b),
        BinaryOp::Mul => a.mul(b),
        BinaryOp::Div => a.div(b),
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn binary_loop(
    op: BinaryOp,
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    rsb: isize,
    csb: isize,
    y: *mut f32,
) {
    let c4 = cols - cols % 4;
    for i in 0..rows {
        let ar = a.add(i * cols);
        let yr = y.add(i * cols);
        let br = b.offset(i as isize * rsb);
        let mut j = 0;
        if csb == 1 {
            while j < c4 {
                apply(op, F32x4::load(ar.add(j)), F32x4::load(br.add(j))).store(yr.add(j));
                j += 4;
            }
        } else {
            let bv = F32x4::splat(*br);
            while j < c4 {
                apply(op, F32x4::load(ar.add(j)), bv).store(yr.add(j));
                j += 4;
            }
        }
        // Leftover columns through lane 0 of the same vector operation (identical arithmetic).
        while j < cols {
            let v = apply(op, F32x4::splat(*ar.add(j)), F32x4::splat(*br.offset(j as isize * csb)));
            *yr.add(j) = v.lanes()[0];
            j += 1;
        }
    }
}

/// y[i][j] = a[i][j] ∘ b[i·rsb + j·csb] (see the module doc). Returns 0, or −1 for an unknown op
/// code or a column stride of b other than 0 or 1 (nothing written).
///
/// # Safety
/// a readable and y writable for rows·cols elements; every addressed b element readable; y equals
/// a or does not overlap a or b.
#[allow(clippy::too_many_arguments)]
pub unsafe fn broadcast_binary(
    op: i32,
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    rsb: isize,
    csb: isize,
    y: *mut f32,
) -> i32 {
    if csb != 0 && csb != 1 {
        return -1;
    }
    match op {
        0 => binary_loop(BinaryOp::Add, rows, cols, a, b, rsb, csb, y),
        1 => binary_loop(BinaryOp::Sub, rows, cols, a, b, rsb, csb, y),
        2 => binary_loop(BinaryOp::Mul, rows, cols, a, b, rsb, csb, y),
        3 => binary_loop(BinaryOp::Div, rows, cols, a, b, rsb, csb, y),
        _ => return -1,
    }
    0
}

/// y[i] = alpha·x[i] + beta for i < n (multiply, then add; no fused rounding). y may equal x.
///
/// # Safety
/// x readable and y writable for n elements; y equals x or does not overlap it.
pub unsafe fn scale(n: usize, x: *const f32, alpha: f32, beta: f32, y: *mut f32) {
    let (va, vb) = (F32x4::splat(alpha), F32x4::splat(beta));
    let n4 = n - n % 4;
    let mut i = 0;
    while i < n4 {
        F32x4::load(x.add(i)).mul_add(va, vb).store(y.add(i));
        i += 4;
    }
    while i < n {
        *y.add(i) = F32x4::splat(*x.add(i)).mul_add(va, vb).lanes()[0];
        i += 1;
    }
}

/// y[i] ← y[i] + alpha·x[i] for i < n (gradient accumulation).
///
/// # Safety
/// x readable and y readable and writable for n elements; x and y do not overlap unless equal.
pub unsafe fn axpy(n: usize, alpha: f32, x: *const f32, y: *mut f32) {
    let va = F32x4::splat(alpha);
    let n4 = n - n % 4;
    let mut i = 0;
    while i < n4 {
        F32x4::load(x.add(i)).mul_add(va, F32x4::load(y.add(i))).store(y.add(i));
        i += 4;
    }
    while i < n {
        *y.add(i) = F32x4::splat(*x.add(i)).mul_add(va, F32x4::splat(*y.add(i))).lanes()[0];
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_match_reference_for_every_shape_and_op() {
        for rows in 0..4usize {
            for cols in 0..11usize {
                let a: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.5 - 3.0).collect();
                let full: Vec<f32> = (0..rows * cols).map(|i| 1.0 + i as f32 * 0.25).collect();
                let cases: [(isize, isize, usize); 4] =
                    [(cols as isize, 1, rows * cols), (0, 1, cols), (1, 0, rows), (0, 0, 1)];
                for (rsb, csb, len) in cases {
                    let b = &full[..len.min(full.len())];
                    let b = if b.is_empty() { vec![2.0f32] } else { b.to_vec() };
                    for op in 0..4 {
                        let mut y = vec![f32::NAN; rows * cols];
                        let r = unsafe {
                            broadcast_binary(
                                op,
                                rows,
                                cols,
                                a.as_ptr(),
                                b.as_ptr(),
                                rsb,
                                csb,
                                y.as_mut_ptr(),
                            )
                        };
                        assert_eq!(r, 0);
                        for i in 0..rows {
                            for j in 0..cols {
                                let av = a[i * cols + j];
                                let bv = b[(i as isize * rsb + j as isize * csb) as usize];
                                let want = [av + bv, av - bv, av * bv, av / bv][op as usize];
                                assert_eq!(
                                    y[i * cols + j].to_bits(),
                                    want.to_bits(),
                                    "op {op} {rows}x{cols} ({rsb},{csb}) at ({i},{j})"
                                );
                            }
                        }
                    }
                }
            }
        }
        let mut y = [0.0f32];
        assert_eq!(
            unsafe { broadcast_binary(4, 1, 1, y.as_ptr(), y.as_ptr(), 0, 0, y.as_mut_ptr()) },
            -1
        );
        assert_eq!(
            unsafe { broadcast_binary(0, 1, 1, y.as_ptr(), y.as_ptr(), 0, 2, y.as_mut_ptr()) },
            -1
        );
    }

    #[test]
    fn scale_and_axpy_every_length() {
        for n in 0..13usize {
            let x: Vec<f32> = (0..n).map(|i| i as f32 - 4.5).collect();
            let mut y = vec![f32::NAN; n];
            unsafe { scale(n, x.as_ptr(), 1.5, -2.0, y.as_mut_ptr()) };
            let mut z: Vec<f32> = (0..n).map(|i| i as f32 * 0.125).collect();
            let z0 = z.clone();
            unsafe { axpy(n, -0.5, x.as_ptr(), z.as_mut_ptr()) };
            for i in 0..n {
                assert_eq!(y[i], x[i] * 1.5 - 2.0);
                assert_eq!(z[i], z0[i] + -0.5 * x[i]);
            }
        }
    }
}

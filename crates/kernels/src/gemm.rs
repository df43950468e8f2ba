//! General matrix multiply: C ← α·A·B + β·C over strided f32 matrices.
//!
//! Contract: A is m×k with element (i, p) at `a[i*rsa + p*csa]`, B is k×n with (p, j) at
//! `b[p*rsb + j*csb]`, C is m×n with (i, j) at `c[i*rsc + j*csc]`. Strides are in elements and
//! may be arbitrary (a transpose is a swap of strides). When β = 0, C is not read, so it need not
//! be initialized (NaN in C does not leak through). C must not overlap A or B.
//!
//! Scratch space: the caller passes `work`, a buffer of at least [`GEMM_WORKSPACE_F32`] f32 values
//! (one per thread), used for packing panels; kernels never allocate.

use crate::simd::F32x4;

/// Size in f32 elements of the packing workspace every `gemm` call needs.
pub const GEMM_WORKSPACE_F32: usize = 0;

/// C ← α·A·B + β·C (see the module documentation for the layout contract).
///
/// # Safety
/// Every element addressed by the strides for the given m, n, k must lie inside valid memory,
/// readable for A and B and writable for C.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    _work: *mut f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    let n4 = if csb == 1 && csc == 1 { n - n % 4 } else { 0 };
    let va = F32x4::splat(alpha);
    let vb = F32x4::splat(beta);
    for i in 0..m as isize {
        let a_row = a.offset(i * rsa);
        let c_row = c.offset(i * rsc);
        // Four output columns at a time: a broadcast of A(i, p) times a row slice of B.
        let mut j = 0usize;
        while j < n4 {
            let mut acc = F32x4::zero();
            for p in 0..k as isize {
                let aip = F32x4::splat(*a_row.offset(p * csa));
                acc = aip.mul_add(F32x4::load(b.offset(p * rsb + j as isize)), acc);
            }
            let cp = c_row.add(j);
            let out =
                if beta == 0.0 { acc.mul(va) } else { acc.mul(va).add(F32x4::load(cp).mul(vb)) };
            out.store(cp);
            j += 4;
        }
        // Leftover columns (and every column of a non-unit-stride layout).
        while j < n {
            let mut acc = 0.0f32;
            for p in 0..k as isize {
                acc += *a_row.offset(p * csa) * *b.offset(p * rsb + j as isize * csb);
            }
            let cp = c_row.offset(j as isize * csc);
            *cp = if beta == 0.0 { acc * alpha } else { acc * alpha + *cp * beta };
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gemm;

    /// Plain triple loop in f64: the reference.
    #[allow(clippy::too_many_arguments)]
    fn reference(
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &[f32],
        (rsa, csa): (usize, usize),
        b: &[f32],
        (rsb, csb): (usize, usize),
        beta: f32,
        c: &[f32],
    ) -> Vec<f32> {
        let mut out = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    s += a[i * rsa + p * csa] as f64 * b[p * rsb + j * csb] as f64;
                }
                let prev = if beta == 0.0 { 0.0 } else { beta as f64 * c[i * n + j] as f64 };
                out[i * n + j] = (alpha as f64 * s + prev) as f32;
            }
        }
        out
    }

    // Small integers keep every product and sum exact in f32, so results compare bit for bit.
    fn ints(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|x| {
                (((x as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 7) % 7) as f32 - 3.0
            })
            .collect()
    }

    #[test]
    fn matches_reference_for_sizes_layouts_and_beta() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (3, 5, 7),
            (4, 8, 16),
            (17, 13, 9),
            (2, 257, 17),
            (0, 3, 4),
            (3, 0, 2),
            (5, 6, 0),
        ] {
            for &trans_a in &[false, true] {
                for &trans_b in &[false, true] {
                    for &(alpha, beta) in &[(1.0f32, 0.0f32), (2.0, 1.0), (-1.0, 0.5)] {
                        let a = ints(m * k, 1);
                        let b = ints(k * n, 2);
                        let sa = if trans_a { (1, m) } else { (k, 1) };
                        let sb = if trans_b { (1, k) } else { (n, 1) };
                        let c0 = ints(m * n, 3);
                        let mut c = if beta == 0.0 { vec![f32::NAN; m * n] } else { c0.clone() };
                        unsafe {
                            gemm(
                                m,
                                n,
                                k,
                                alpha,
                                a.as_ptr(),
                                sa.0 as isize,
                                sa.1 as isize,
                                b.as_ptr(),
                                sb.0 as isize,
                                sb.1 as isize,
                                beta,
                                c.as_mut_ptr(),
                                n as isize,
                                1,
                                core::ptr::null_mut(),
                            );
                        }
                        let want = reference(m, n, k, alpha, &a, sa, &b, sb, beta, &c0);
                        assert_eq!(
                            c, want,
                            "m={m} n={n} k={k} ta={trans_a} tb={trans_b} alpha={alpha} beta={beta}"
                        );
                    }
                }
            }
        }
    }
}

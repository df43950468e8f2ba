//! Row-wise softmax and log-softmax of a contiguous row-major `rows × cols` matrix, forward and
//! backward.
//!
//! Numerical stability: each row is shifted by its maximum m before exponentiating, so every
//! exponent is ≤ 0 and the row sum lies in [1, cols]: logits of ±1e4 give exact 0/1 results
//! instead of Inf/NaN, and −Inf entries give probability 0 (log-probability −Inf). A row whose
//! softmax is undefined (all −Inf, any +Inf or NaN) gives NaN throughout, as the formula does.

use crate::math::log;

use crate::reduce::{load_n, load_padded, pairwise_map, row_max, store_n, store_partial};
use crate::simd::{F32x4, I32x4};

/// Largest argument whose e^d is still a normal f32 (e^−87 ≈ 1.6e-38), rounded inwards.
const EXP_NORMAL_MIN: f32 = -87.0;

/// e^d with results below the normal range flushed to 0 (d < −87, including −Inf).
///
/// Why: producing subnormals costs a microcode assist per operation on x86 (measured here:
/// softmax of logits spread over [−200, 0] ran 3× slower than over [−4, 4]). A softmax
/// probability under 1.2e-38 becomes 0; sums over a row are unchanged (they are ≥ 1).
#[inline(always)]
pub(crate) fn exp_ftz(d: F32x4) -> F32x4 {
    let lo = F32x4::splat(EXP_NORMAL_MIN);
    // NaN: lt is false and the NaN flows through the arithmetic of exp_nonpositive.
    F32x4::select(d.lt(lo), F32x4::zero(), exp_nonpositive(d))
}

/// e^d for d ∈ [−87, 0] (or NaN), without the clamps and conversions the general `math::exp`
/// needs for its full domain: n = round(d·log2 e) is read off the bits of d·log2 e + 1.5·2²³
/// (which also biases it by 127, so a shift makes 2^n), r = d − n·ln2 (Cody–Waite), and
/// e^r = 1 + r + r²·P(r) with Cephes' expf coefficients. Outside the domain the result is wrong
/// (callers select 0 below −87). Measured: max relative error 7.7e-8 over every 97th f32 of the
/// domain (the host test), and 1.8× the speed of `math::exp` in softmax (1.5 vs 2.7 ns/element).
#[inline(always)]
pub(crate) fn exp_nonpositive(d: F32x4) -> F32x4 {
    const MAGIC: f32 = 12_583_039.0; // 1.5·2^23 + 127
    let vn = d.mul(F32x4::splat(core::f32::consts::LOG2_E)).add(F32x4::splat(MAGIC));
    let scale = F32x4::from_bits(vn.to_bits().shl(23));
    let n = vn.sub(F32x4::splat(MAGIC));
    let r = d.sub(n.mul(F32x4::splat(0.693_359_4))).sub(n.mul(F32x4::splat(-2.121_944_4e-4)));
    let p = r.mul_add(F32x4::splat(1.987_569_1e-4), F32x4::splat(1.398_199_9e-3));
    let p = r.mul_add(p, F32x4::splat(8.333_452e-3));
    let p = r.mul_add(p, F32x4::splat(4.166_579_6e-2));
    let p = r.mul_add(p, F32x4::splat(0.166_666_65));
    let p = r.mul_add(p, F32x4::splat(0.5));
    let er = r.mul(r).mul_add(p, r).add(F32x4::splat(1.0));
    er.mul(scale)
}

/// Mask of the low `w` lanes (all ones), for partial vectors.
#[inline(always)]
pub(crate) fn low_lanes(w: usize) -> I32x4 {
    let on = |k: usize| if k < w { -1 } else { 0 };
    I32x4::new(on(0), on(1), on(2), on(3))
}

/// Writes `e_j = exp(x_j − m)` for the `n` values at `x` into `out` (which may equal `x`) and
/// returns Σ e_j (exponentials through [`exp_ftz`]). Four accumulators; a partial vector is
/// padded with m (e = 1, cheap, no underflow) and its padding lanes zeroed before the sum.
///
/// # Safety
/// `x .. x + n` readable, `out .. out + n` writable.
#[inline(always)]
pub(crate) unsafe fn exp_shifted(x: *const f32, n: usize, m: f32, out: *mut f32) -> f32 {
    let vm = F32x4::splat(m);
    let mut acc = [F32x4::zero(); 4];
    let mut j = 0;
    while j + 16 <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            let e = exp_ftz(F32x4::load(x.add(j + 4 * k)).sub(vm));
            e.store(out.add(j + 4 * k));
            *a = a.add(e);
        }
        j += 16;
    }
    while j + 4 <= n {
        let e = exp_ftz(F32x4::load(x.add(j)).sub(vm));
        e.store(out.add(j));
        acc[0] = acc[0].add(e);
        j += 4;
    }
    if j < n {
        let e = exp_ftz(load_padded(x.add(j), n - j, m).sub(vm));
        let e = F32x4::select(low_lanes(n - j), e, F32x4::zero());
        store_partial(e, out.add(j), n - j);
        acc[1] = acc[1].add(e);
    }
    acc[0].add(acc[1]).add(acc[2].add(acc[3])).sum()
}

/// Σ exp(x_j − m) over `n` values without storing the exponentials (see [`exp_shifted`]).
///
/// # Safety
/// `x .. x + n` readable.
#[inline(always)]
pub(crate) unsafe fn sum_exp_shifted(x: *const f32, n: usize, m: f32) -> f32 {
    let vm = F32x4::splat(m);
    let mut acc = [F32x4::zero(); 2];
    let mut j = 0;
    while j + 8 <= n {
        acc[0] = acc[0].add(exp_ftz(F32x4::load(x.add(j)).sub(vm)));
        acc[1] = acc[1].add(exp_ftz(F32x4::load(x.add(j + 4)).sub(vm)));
        j += 8;
    }
    while j < n {
        let w = if n - j >= 4 { 4 } else { n - j };
        let e = exp_ftz(load_padded(x.add(j), w, m).sub(vm));
        acc[0] = acc[0].add(F32x4::select(low_lanes(w), e, F32x4::zero()));
        j += w;
    }
    acc[0].add(acc[1]).sum()
}

/// Natural log of one value through the vector routine.
#[inline(always)]
pub(crate) fn log1(x: f32) -> f32 {
    log(F32x4::splat(x)).lanes()[0]
}

/// Applies `f` to the `n` values at `p` in place, four at a time (partial vector last).
///
/// # Safety
/// `p .. p + n` readable and writable.
#[inline(always)]
pub(crate) unsafe fn map_in_place(p: *mut f32, n: usize, f: impl Fn(usize, F32x4) -> F32x4) {
    let mut j = 0;
    while j + 4 <= n {
        f(j, F32x4::load(p.add(j))).store(p.add(j));
        j += 4;
    }
    if j < n {
        store_partial(f(j, load_padded(p.add(j), n - j, 0.0)), p.add(j), n - j);
    }
}

/// Softmax of each row: `y_ij = exp(x_ij − m_i) / Σ_k exp(x_ik − m_i)`, m_i the row maximum.
///
/// # Safety
/// `x` and `y` span `rows·cols` values; `y` may equal `x` (in place).
pub unsafe fn softmax(rows: usize, cols: usize, x: *const f32, y: *mut f32) {
    for i in 0..rows {
        let (px, py) = (x.add(i * cols), y.add(i * cols));
        let m = row_max(px, cols);
        let s = exp_shifted(px, cols, m, py);
        let inv = F32x4::splat(1.0 / s);
        map_in_place(py, cols, |_, e| e.mul(inv));
    }
}

/// Log-softmax of each row: `y_ij = (x_ij − m_i) − log Σ_k exp(x_ik − m_i)`.
///
/// # Safety
/// `x` and `y` span `rows·cols` values; `y` may equal `x`.
pub unsafe fn log_softmax(rows: usize, cols: usize, x: *const f32, y: *mut f32) {
    for i in 0..rows {
        let (px, py) = (x.add(i * cols), y.add(i * cols));
        let m = row_max(px, cols);
        let ls = F32x4::splat(log1(sum_exp_shifted(px, cols, m)));
        let vm = F32x4::splat(m);
        let mut j = 0;
        while j + 4 <= cols {
            F32x4::load(px.add(j)).sub(vm).sub(ls).store(py.add(j));
            j += 4;
        }
        while j < cols {
            *py.add(j) = (*px.add(j) - m) - ls.lanes()[0];
            j += 1;
        }
    }
}

/// Row sum of `a ⊙ b` over `n` values (four accumulators, zero padding).
///
/// # Safety
/// `a .. a + n` and `b .. b + n` readable.
#[inline(always)]
pub(crate) unsafe fn dot(a: *const f32, b: *const f32, n: usize) -> f32 {
    let mut acc = [F32x4::zero(); 2];
    let mut j = 0;
    while j + 8 <= n {
        acc[0] = F32x4::load(a.add(j)).mul_add(F32x4::load(b.add(j)), acc[0]);
        acc[1] = F32x4::load(a.add(j + 4)).mul_add(F32x4::load(b.add(j + 4)), acc[1]);
        j += 8;
    }
    let mut s = acc[0].add(acc[1]).sum();
    while j < n {
        s += *a.add(j) * *b.add(j);
        j += 1;
    }
    s
}

/// Softmax backward from the forward output y: `dx = y ⊙ (dy − Σ_k dy_k·y_k)` per row.
///
/// # Safety
/// `y`, `dy`, `dx` span `rows·cols` values; `dx` may equal `dy`.
pub unsafe fn softmax_backward(
    rows: usize,
    cols: usize,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
) {
    for i in 0..rows {
        let (py, pd, po) = (y.add(i * cols), dy.add(i * cols), dx.add(i * cols));
        let s = F32x4::splat(dot(py, pd, cols));
        let mut j = 0;
        while j + 4 <= cols {
            let v = F32x4::load(py.add(j));
            v.mul(F32x4::load(pd.add(j)).sub(s)).store(po.add(j));
            j += 4;
        }
        while j < cols {
            *po.add(j) = *py.add(j) * (*pd.add(j) - s.lanes()[0]);
            j += 1;
        }
    }
}

/// Log-softmax backward from the forward output y (log-probabilities):
/// `dx = dy − exp(y)·Σ_k dy_k` per row.
///
/// # Safety
/// `y`, `dy`, `dx` span `rows·cols` values; `dx` may equal `dy`.
pub unsafe fn log_softmax_backward(
    rows: usize,
    cols: usize,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
) {
    for i in 0..rows {
        let (py, pd, po) = (y.add(i * cols), dy.add(i * cols), dx.add(i * cols));
        let s = F32x4::splat(pairwise_map(pd, cols, 0.0, &|v| v));
        let mut j = 0;
        while j < cols {
            let w = if cols - j >= 4 { 4 } else { cols - j };
            let out = load_n(pd.add(j), w).sub(exp_ftz(load_n(py.add(j), w)).mul(s));
            store_n(out, po.add(j), w);
            j += w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::tests::data;

    fn ref_log_softmax(row: &[f32]) -> Vec<f64> {
        let m = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        row.iter().map(|&v| v as f64 - m - s.ln()).collect()
    }

    fn close(got: f32, want: f64, atol: f64, rtol: f64) -> bool {
        if want.is_nan() {
            return got.is_nan();
        }
        if want.is_infinite() {
            return got as f64 == want;
        }
        (got as f64 - want).abs() <= atol.max(rtol * want.abs())
    }

    #[test]
    fn forward_and_backward_match_f64() {
        for &rows in &[1usize, 3] {
            for &cols in &[1usize, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 100] {
                let x: Vec<f32> = data(rows * cols, cols as u64).iter().map(|v| v * 8.0).collect();
                let dy = data(rows * cols, 99);
                let (mut y, mut ly) = (vec![f32::NAN; rows * cols], vec![f32::NAN; rows * cols]);
                let (mut dx, mut ldx) = (vec![f32::NAN; rows * cols], vec![f32::NAN; rows * cols]);
                unsafe {
                    softmax(rows, cols, x.as_ptr(), y.as_mut_ptr());
                    log_softmax(rows, cols, x.as_ptr(), ly.as_mut_ptr());
                    softmax_backward(rows, cols, y.as_ptr(), dy.as_ptr(), dx.as_mut_ptr());
                    log_softmax_backward(rows, cols, ly.as_ptr(), dy.as_ptr(), ldx.as_mut_ptr());
                }
                for i in 0..rows {
                    let r = i * cols..(i + 1) * cols;
                    let lw = ref_log_softmax(&x[r.clone()]);
                    let p: Vec<f64> = lw.iter().map(|v| v.exp()).collect();
                    let d = &dy[r.clone()];
                    let s: f64 = p.iter().zip(d).map(|(p, &d)| p * d as f64).sum();
                    let sd: f64 = d.iter().map(|&v| v as f64).sum();
                    for j in 0..cols {
                        let k = i * cols + j;
                        let what = format!("{rows}x{cols} [{i},{j}]");
                        assert!(
                            close(y[k], p[j], 1e-7, 1e-5),
                            "softmax {what}: {} vs {}",
                            y[k],
                            p[j]
                        );
                        assert!(
                            close(ly[k], lw[j], 1e-5, 1e-5),
                            "log_softmax {what}: {} vs {}",
                            ly[k],
                            lw[j]
                        );
                        let wd = p[j] * (d[j] as f64 - s);
                        assert!(close(dx[k], wd, 1e-6, 1e-4), "softmax' {what}: {} vs {wd}", dx[k]);
                        let wl = d[j] as f64 - p[j] * sd;
                        assert!(
                            close(ldx[k], wl, 1e-6, 1e-4),
                            "log_softmax' {what}: {} vs {wl}",
                            ldx[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn exp_nonpositive_is_accurate_on_its_domain() {
        // Every 97th f32 in [−87, 0] (about 11 million values), against f64.
        let (mut worst, mut at) = (0.0f64, 0.0f32);
        let mut bits = 0u32; // +0.0, then increasingly negative values via the sign bit
        loop {
            let d = -f32::from_bits(bits);
            if d < EXP_NORMAL_MIN {
                break;
            }
            let got = exp_nonpositive(F32x4::splat(d)).lanes()[0] as f64;
            let want = (d as f64).exp();
            let rel = (got - want).abs() / want;
            if rel > worst {
                worst = rel;
                at = d;
            }
            bits += 97;
        }
        assert!(worst < 1.0e-7, "max relative error {worst:e} at {at}");
        assert_eq!(exp_nonpositive(F32x4::splat(0.0)).lanes()[0], 1.0);
        assert!(exp_ftz(F32x4::splat(f32::NAN)).lanes()[0].is_nan());
        assert_eq!(exp_ftz(F32x4::splat(f32::NEG_INFINITY)).lanes()[0], 0.0);
    }

    #[test]
    fn extreme_rows_stay_finite_where_defined() {
        let inf = f32::INFINITY;
        let x = [
            1e4f32,
            -1e4,
            0.0,
            -inf,
            5.0,
            /* */ -inf,
            -inf,
            -inf,
            -inf,
            -inf,
            /* */ 1.0,
            f32::NAN,
            0.0,
            0.0,
            0.0,
        ];
        let (mut y, mut ly) = ([0.0f32; 15], [0.0f32; 15]);
        unsafe {
            softmax(3, 5, x.as_ptr(), y.as_mut_ptr());
            log_softmax(3, 5, x.as_ptr(), ly.as_mut_ptr());
        }
        assert_eq!(&y[..5], &[1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&ly[..5], &[0.0, -2e4, -1e4, -inf, -9995.0]);
        assert!(y[5..].iter().all(|v| v.is_nan()) && ly[5..].iter().all(|v| v.is_nan()));
        // Probabilities below the normal range are flushed to 0; log-probabilities stay exact.
        let far = [0.0f32, -95.0, -87.5, -86.0];
        let (mut p, mut lp) = ([f32::NAN; 4], [f32::NAN; 4]);
        unsafe {
            softmax(1, 4, far.as_ptr(), p.as_mut_ptr());
            log_softmax(1, 4, far.as_ptr(), lp.as_mut_ptr());
        }
        assert_eq!(&p[..3], &[1.0, 0.0, 0.0]);
        assert!(close(p[3], (-86.0f64).exp(), 0.0, 1e-5), "{}", p[3]);
        assert_eq!(lp, far);
        // In place.
        let mut z = [0.5f32, 1.5, -2.0];
        let p = z.as_mut_ptr();
        unsafe { softmax(1, 3, p, p) };
        let want = ref_log_softmax(&[0.5, 1.5, -2.0]);
        for j in 0..3 {
            assert!(close(z[j], want[j].exp(), 1e-7, 1e-6));
        }
    }
}

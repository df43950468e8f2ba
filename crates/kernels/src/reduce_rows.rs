//! Row-wise reductions of [`super`]: per-row maximum and argmax, and the accuracy counts (argmax
//! against labels or against target rows).

use super::*;

/// Per-row maximum: `out[i] = max_j x[i, j]`; NaN anywhere in a row gives NaN; `cols = 0` gives
/// −Inf.
///
/// # Safety
/// `x` readable for `rows × cols` with row stride `ldx`; `out` writable for `rows` values.
pub unsafe fn max_rows(rows: usize, cols: usize, x: *const f32, ldx: usize, out: *mut f32) {
    for i in 0..rows {
        *out.add(i) = row_max(x.add(i * ldx), cols);
    }
}

/// Maximum of `n` contiguous values with NaN propagation (−Inf when `n = 0`). Short rows (the
/// common `[batch, classes]` case) take a scalar loop; long ones four vector accumulators.
///
/// # Safety
/// `p .. p + n` readable.
#[inline(always)]
pub(crate) unsafe fn row_max(p: *const f32, n: usize) -> f32 {
    let mut j = 0;
    let mut r = f32::NEG_INFINITY;
    if n >= 16 {
        let mut acc = [F32x4::splat(f32::NEG_INFINITY); 4];
        while j + 16 <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                *a = a.max(F32x4::load(p.add(j + 4 * k)));
            }
            j += 16;
        }
        while j + 4 <= n {
            acc[0] = acc[0].max(F32x4::load(p.add(j)));
            j += 4;
        }
        r = hmax(acc[0].max(acc[1]).max(acc[2].max(acc[3])));
    }
    // Branch-free tail (compare + select): random data would mispredict a branch per element.
    let mut nan = false;
    while j < n {
        let v = *p.add(j);
        r = if v > r { v } else { r };
        nan |= v.is_nan();
        j += 1;
    }
    if nan {
        f32::NAN
    } else {
        r
    }
}

/// Index of the first maximum of `n ≥ 1` contiguous values; the first NaN counts as the maximum
/// (like NumPy). Short rows: one scalar pass. Long rows: a vector pass finds the maximum, a
/// scalar scan stops at its first occurrence.
///
/// # Safety
/// `p .. p + n` readable, `n ≥ 1`.
#[inline(always)]
unsafe fn row_argmax(p: *const f32, n: usize) -> usize {
    if n < 16 {
        // Branch-free: compare + select per element, the first NaN remembered separately.
        let (mut best, mut arg, mut first_nan) = (*p, 0, n);
        for j in 0..n {
            let v = *p.add(j);
            let gt = v > best;
            best = if gt { v } else { best };
            arg = if gt { j } else { arg };
            first_nan = if v.is_nan() && first_nan == n { j } else { first_nan };
        }
        return if first_nan < n { first_nan } else { arg };
    }
    let m = row_max(p, n);
    let nan = m.is_nan();
    for j in 0..n {
        let v = *p.add(j);
        if v == m || (nan && v.is_nan()) {
            return j;
        }
    }
    0
}

/// Per-row argmax into `out` (i32): the first index of the row maximum (first NaN wins); −1 for
/// every row when `cols = 0`.
///
/// # Safety
/// `x` readable for `rows × cols` with row stride `ldx`; `out` writable for `rows` i32 values.
pub unsafe fn argmax_rows(rows: usize, cols: usize, x: *const f32, ldx: usize, out: *mut i32) {
    for i in 0..rows {
        *out.add(i) = if cols == 0 { -1 } else { row_argmax(x.add(i * ldx), cols) as i32 };
    }
}

/// Accuracy in one call: the number of rows whose argmax equals `labels[i]` (i32 class ids).
///
/// # Safety
/// `x` readable for `rows × cols` with row stride `ldx`; `labels` readable for `rows` values.
pub unsafe fn count_argmax_equal(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    labels: *const i32,
) -> usize {
    if cols == 0 {
        return 0;
    }
    (0..rows).filter(|&i| row_argmax(x.add(i * ldx), cols) as i32 == *labels.add(i)).count()
}

/// Categorical accuracy in one call: the number of rows where argmax of `x` equals argmax of
/// `y` (one-hot or probability targets, row stride `ldy`).
///
/// # Safety
/// `x` and `y` readable for `rows × cols` with row strides `ldx` and `ldy`.
pub unsafe fn count_argmax_match(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    y: *const f32,
    ldy: usize,
) -> usize {
    if cols == 0 {
        return 0;
    }
    (0..rows)
        .filter(|&i| row_argmax(x.add(i * ldx), cols) == row_argmax(y.add(i * ldy), cols))
        .count()
}

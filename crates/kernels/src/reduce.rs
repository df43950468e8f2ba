//! Reductions over f32 buffers and row-major matrices: sums over rows (the bias gradient) and over
//! columns, per-row maximum and argmax, total sum, mean, sum of squares and the global L2 norm
//! (gradient clipping), and the accuracy count of row argmax against labels.
//!
//! Layout: a matrix is `rows × cols` with element (i, j) at `x[i*ldx + j]` (`ldx ≥ cols`).
//!
//! Summation error: every sum is pairwise. Contiguous sums run 16 lanes (four vectors) over
//! blocks of at most [`LEAF`] elements and add the block results as a binary tree; sums over rows
//! add at most [`ROW_LEAF`] rows in sequence and combine those partial sums as a binary tree. The
//! rounding error therefore grows like `(LEAF/16 + log2 n)·ε` instead of `n·ε`: for n = 10⁶ the
//! bound is ~36ε (4·10⁻⁶ relative to Σ|x|) where a running sum allows ~10⁶ε.

use crate::simd::F32x4;

/// Largest contiguous block summed with four running vector accumulators.
pub const LEAF: usize = 256;
/// Largest number of rows summed in sequence before pairwise combination.
pub const ROW_LEAF: usize = 32;

/// Pairwise sum of `f(v)` over the `n` contiguous values at `p`, where `f` maps four lanes at a
/// time. A partial last vector is padded with `pad`, so `f(pad)` must be 0 in every lane.
///
/// # Safety
/// `p .. p + n` must be readable.
#[inline(always)]
pub(crate) unsafe fn pairwise_map<F: Fn(F32x4) -> F32x4>(
    p: *const f32,
    n: usize,
    pad: f32,
    f: &F,
) -> f32 {
    if n <= LEAF {
        let mut acc = [F32x4::zero(); 4];
        let mut i = 0;
        while i + 16 <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                *a = a.add(f(F32x4::load(p.add(i + 4 * k))));
            }
            i += 16;
        }
        while i + 4 <= n {
            acc[0] = acc[0].add(f(F32x4::load(p.add(i))));
            i += 4;
        }
        let rest = n - i;
        if rest > 0 {
            acc[1] = acc[1].add(f(load_padded(p.add(i), rest, pad)));
        }
        return acc[0].add(acc[1]).add(acc[2].add(acc[3])).sum();
    }
    // Split on a multiple of 16 so that every leaf but the last runs full vectors.
    let half = (n / 2 + 15) & !15;
    pairwise_map(p, half, pad, f) + pairwise_map(p.add(half), n - half, pad, f)
}

/// Loads `len < 4` values at `p` into the low lanes, zero in the others.
///
/// # Safety
/// `p .. p + len` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_partial(p: *const f32, len: usize) -> F32x4 {
    load_padded(p, len, 0.0)
}

/// Loads `len < 4` values at `p` into the low lanes, `pad` in the others.
///
/// # Safety
/// `p .. p + len` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_padded(p: *const f32, len: usize, pad: f32) -> F32x4 {
    // One arm per length: lanes are built in registers (a loop over a stack array made every
    // partial vector a store-forwarding stall, measured at ~13 ns per row).
    match len {
        0 => F32x4::splat(pad),
        1 => F32x4::new(*p, pad, pad, pad),
        2 => F32x4::new(*p, *p.add(1), pad, pad),
        3 => F32x4::new(*p, *p.add(1), *p.add(2), pad),
        _ => F32x4::load(p),
    }
}

/// Stores the low `len < 4` lanes of `v` at `p`.
///
/// # Safety
/// `p .. p + len` must be writable.
#[inline(always)]
pub(crate) unsafe fn store_partial(v: F32x4, p: *mut f32, len: usize) {
    let l = v.lanes();
    if len > 0 {
        *p = l[0];
    }
    if len > 1 {
        *p.add(1) = l[1];
    }
    if len > 2 {
        *p.add(2) = l[2];
    }
    if len > 3 {
        *p.add(3) = l[3];
    }
}

/// Pairwise sum over rows `lo..hi` of `f(r)`, a block of `W` vectors per row: the building block
/// of every column-wise reduction (sums over rows, batch-norm statistics and parameter gradients).
#[inline(always)]
pub(crate) fn pairwise_rows<const W: usize, F: Fn(usize) -> [F32x4; W]>(
    lo: usize,
    hi: usize,
    f: &F,
) -> [F32x4; W] {
    pairwise_rows_by(lo, hi, f, &add_block::<W>, [F32x4::zero(); W])
}

/// Lane-wise sum of two blocks of vectors.
#[inline(always)]
pub(crate) fn add_block<const W: usize>(a: [F32x4; W], b: [F32x4; W]) -> [F32x4; W] {
    let mut out = a;
    for (o, v) in out.iter_mut().zip(b.iter()) {
        *o = o.add(*v);
    }
    out
}

/// [`pairwise_rows`] for any accumulator type `T` (e.g. two blocks summed in the same sweep):
/// at most [`ROW_LEAF`] rows are added in sequence, partial sums combine as a binary tree.
#[inline(always)]
pub(crate) fn pairwise_rows_by<T: Copy, F: Fn(usize) -> T, A: Fn(T, T) -> T>(
    lo: usize,
    hi: usize,
    f: &F,
    add: &A,
    zero: T,
) -> T {
    if hi - lo <= ROW_LEAF {
        let mut acc = zero;
        for r in lo..hi {
            acc = add(acc, f(r));
        }
        return acc;
    }
    let mid = lo + (hi - lo) / 2;
    add(pairwise_rows_by(lo, mid, f, add, zero), pairwise_rows_by(mid, hi, f, add, zero))
}

/// Column-blocked driver: calls `block(j, width)` for `j` stepping over `0..cols` in blocks of 16
/// columns, then 4, then one partial block of `cols % 4`.
#[inline(always)]
pub(crate) fn for_column_blocks(
    cols: usize,
    mut wide: impl FnMut(usize),
    mut narrow: impl FnMut(usize, usize),
) {
    let mut j = 0;
    while j + 16 <= cols {
        wide(j);
        j += 16;
    }
    while j < cols {
        let w = if cols - j >= 4 { 4 } else { cols - j };
        narrow(j, w);
        j += w;
    }
}

/// Loads up to four values of row segment `p` (`width` of them; the rest read as zero).
///
/// # Safety
/// `p .. p + width` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_n(p: *const f32, width: usize) -> F32x4 {
    if width == 4 {
        F32x4::load(p)
    } else {
        load_partial(p, width)
    }
}

/// Stores `width ≤ 4` lanes of `v` at `p`.
///
/// # Safety
/// `p .. p + width` must be writable.
#[inline(always)]
pub(crate) unsafe fn store_n(v: F32x4, p: *mut f32, width: usize) {
    if width == 4 {
        v.store(p)
    } else {
        store_partial(v, p, width)
    }
}

/// Loads `W` consecutive vectors at `p`; each holds `lanes` values (`lanes < 4` only when
/// `W = 1`, for the last partial block of columns), the other lanes zero.
///
/// # Safety
/// `p .. p + 4·(W−1) + lanes` must be readable.
#[inline(always)]
pub(crate) unsafe fn load_block<const W: usize>(p: *const f32, lanes: usize) -> [F32x4; W] {
    let mut v = [F32x4::zero(); W];
    for (k, slot) in v.iter_mut().enumerate() {
        *slot = load_n(p.add(4 * k), lanes);
    }
    v
}

/// [`load_block`] at `base + j` of an optional buffer: a null `base` gives `fill` in every lane
/// (optional per-channel parameters such as a batch-norm gamma).
///
/// # Safety
/// As [`load_block`] at `base + j` when `base` is not null.
#[inline(always)]
pub(crate) unsafe fn load_block_or<const W: usize>(
    base: *const f32,
    j: usize,
    lanes: usize,
    fill: f32,
) -> [F32x4; W] {
    if base.is_null() {
        [F32x4::splat(fill); W]
    } else {
        load_block(base.add(j), lanes)
    }
}

/// Stores `W` vectors at `p` (`lanes` values each, see [`load_block`]).
///
/// # Safety
/// `p .. p + 4·(W−1) + lanes` must be writable.
#[inline(always)]
pub(crate) unsafe fn store_block<const W: usize>(v: [F32x4; W], p: *mut f32, lanes: usize) {
    for (k, x) in v.iter().enumerate() {
        store_n(*x, p.add(4 * k), lanes);
    }
}

/// [`store_block`] at `base + j` of an optional buffer: nothing when `base` is null.
///
/// # Safety
/// As [`store_block`] at `base + j` when `base` is not null.
#[inline(always)]
pub(crate) unsafe fn store_block_opt<const W: usize>(
    v: [F32x4; W],
    base: *mut f32,
    j: usize,
    lanes: usize,
) {
    if !base.is_null() {
        store_block(v, base.add(j), lanes);
    }
}

/// Sum over rows: `out[j] = scale·Σ_i x[i, j]`, or `out[j] += …` when `accumulate`.
/// With `scale = 1/rows` it is the mean over rows; over a `[batch, units]` gradient it is the
/// bias gradient. `rows = 0` writes zeros (or leaves `out` unchanged when accumulating).
///
/// # Safety
/// `x` must be readable for the `rows × cols` matrix with row stride `ldx`; `out` writable for
/// `cols` values (read too when `accumulate`), not overlapping `x`.
pub unsafe fn sum_rows(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut f32,
    scale: f32,
    accumulate: bool,
) {
    let vs = F32x4::splat(scale);
    let finish = |v: F32x4, p: *mut f32, width: usize| {
        let v = v.mul(vs);
        let v = if accumulate { v.add(load_n(p, width)) } else { v };
        store_n(v, p, width);
    };
    // Panels of 32 columns (two cache lines per row) first. With 16-column panels a row stride of
    // 1024 floats (every row of a panel in the same L1 set) ran 2.7× slower than a stride of
    // 1000; 32-column panels cut that to 2× and sped up other shapes by 15–25% (measured here).
    let mut j0 = 0;
    while j0 + 32 <= cols {
        let s = pairwise_rows::<8, _>(0, rows, &|r| load_block::<8>(x.add(r * ldx + j0), 4));
        for (k, v) in s.iter().enumerate() {
            finish(*v, out.add(j0 + 4 * k), 4);
        }
        j0 += 32;
    }
    for_column_blocks(
        cols - j0,
        |j| {
            let s =
                pairwise_rows::<4, _>(0, rows, &|r| load_block::<4>(x.add(r * ldx + j0 + j), 4));
            for (k, v) in s.iter().enumerate() {
                finish(*v, out.add(j0 + j + 4 * k), 4);
            }
        },
        |j, width| {
            let s = pairwise_rows::<1, _>(0, rows, &|r| [load_n(x.add(r * ldx + j0 + j), width)]);
            finish(s[0], out.add(j0 + j), width);
        },
    );
}

/// Sum over columns: `out[i] = scale·Σ_j x[i, j]`, or `out[i] += …` when `accumulate`.
///
/// # Safety
/// `x` readable for `rows × cols` with row stride `ldx`; `out` writable for `rows` values.
pub unsafe fn sum_cols(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut f32,
    scale: f32,
    accumulate: bool,
) {
    for i in 0..rows {
        let s = pairwise_map(x.add(i * ldx), cols, 0.0, &|v| v) * scale;
        let o = out.add(i);
        *o = if accumulate { *o + s } else { s };
    }
}

/// Total sum of `n` contiguous values.
///
/// # Safety
/// `x .. x + n` readable.
pub unsafe fn sum(n: usize, x: *const f32) -> f32 {
    pairwise_map(x, n, 0.0, &|v| v)
}

/// Mean of `n` contiguous values (NaN when `n = 0`, like 0/0).
///
/// # Safety
/// `x .. x + n` readable.
pub unsafe fn mean(n: usize, x: *const f32) -> f32 {
    sum(n, x) / n as f32
}

/// Σ x² over `n` contiguous values (overflows to +Inf once the sum passes f32::MAX; use
/// [`l2_norm`] for a norm that does not).
///
/// # Safety
/// `x .. x + n` readable.
pub unsafe fn sum_squares(n: usize, x: *const f32) -> f32 {
    pairwise_map(x, n, 0.0, &|v| v.mul(v))
}

/// Largest |x| over `n` contiguous values; NaN when any value is NaN, 0 when `n = 0`.
///
/// # Safety
/// `x .. x + n` readable.
pub unsafe fn max_abs(n: usize, x: *const f32) -> f32 {
    // Four accumulators: f32x4.max is a multi-instruction sequence in V8 with a long latency.
    let mut m = [F32x4::zero(); 4];
    let mut i = 0;
    while i + 16 <= n {
        for (k, a) in m.iter_mut().enumerate() {
            *a = a.max(F32x4::load(x.add(i + 4 * k)).abs());
        }
        i += 16;
    }
    while i + 4 <= n {
        m[0] = m[0].max(F32x4::load(x.add(i)).abs());
        i += 4;
    }
    if i < n {
        m[1] = m[1].max(load_partial(x.add(i), n - i).abs());
    }
    hmax(m[0].max(m[1]).max(m[2].max(m[3])))
}

/// Largest lane of `v`, NaN when any lane is NaN (f32::max would drop it).
#[inline(always)]
pub(crate) fn hmax(v: F32x4) -> f32 {
    let l = v.lanes();
    F32x4::splat(l[0])
        .max(F32x4::splat(l[1]))
        .max(F32x4::splat(l[2]).max(F32x4::splat(l[3])))
        .lanes()[0]
}

/// Euclidean norm `sqrt(Σ x²)` of `n` contiguous values that neither overflows (values near
/// f32::MAX) nor loses tiny values (near 1e-30) to underflow. NaN in gives NaN; Inf gives Inf.
///
/// One pass when Σx² is finite and at least [`L2_FAST_MIN`]: squares that underflowed then add
/// at most n·1.2e-38, a relative error below n·1.4e-20. Otherwise a second, scaled pass:
/// m·sqrt(Σ (x/m)²) with m = max |x|.
///
/// # Safety
/// `x .. x + n` readable.
pub unsafe fn l2_norm(n: usize, x: *const f32) -> f32 {
    let s = sum_squares(n, x);
    if s.is_nan() || (L2_FAST_MIN..f32::INFINITY).contains(&s) {
        return F32x4::splat(s).sqrt().lanes()[0];
    }
    let m = max_abs(n, x);
    if m.is_nan() || m == f32::INFINITY || m == 0.0 {
        return m;
    }
    let inv = F32x4::splat(1.0 / m);
    let s = pairwise_map(x, n, 0.0, &|v| {
        let t = v.mul(inv);
        t.mul(t)
    });
    m * F32x4::splat(s).sqrt().lanes()[0]
}

/// Smallest Σx² that [`l2_norm`] accepts from its one-pass path (2⁻⁶⁰).
pub const L2_FAST_MIN: f32 = 8.673_617e-19;

#[path = "reduce_rows.rs"]
mod rows;
pub(crate) use rows::row_max;
pub use rows::{argmax_rows, count_argmax_equal, count_argmax_match, max_rows};

#[cfg(test)]
#[path = "reduce_tests.rs"]
pub(crate) mod tests;

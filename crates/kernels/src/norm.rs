//! Normalization kernels: batch normalization (training and inference forward, training backward)
//! over the channels of an `[n, c]` matrix — NHWC activations flatten to `[N·H·W, C]` — and layer
//! normalization over the last axis of a `[rows, cols]` matrix. All matrices are contiguous and
//! row-major. Optional parameters (gamma, beta, gradients, moving statistics) may be null.
//!
//! Statistics are two-pass (mean, then Σ(x − mean)²), so the variance of data with a large mean
//! is not lost to cancellation, and every sum over rows is pairwise (see [`crate::reduce`]).
//! Batch-norm work runs on blocks of 16 channels (four vectors), then blocks of at most 4.

use crate::reduce::{
    add_block, for_column_blocks, load_block, load_block_or, pairwise_map, pairwise_rows,
    pairwise_rows_by, store_block, store_block_opt,
};
use crate::simd::F32x4;

#[inline(always)]
fn map<const W: usize>(a: [F32x4; W], f: impl Fn(usize, F32x4) -> F32x4) -> [F32x4; W] {
    let mut out = a;
    for (k, v) in out.iter_mut().enumerate() {
        *v = f(k, *v);
    }
    out
}

/// Arguments of the batch-norm kernels (pointers may be null where documented).
#[derive(Clone, Copy)]
struct Bn {
    n: usize,
    c: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
}

/// Batch normalization forward in training mode, per channel j of the `n × c` matrix `x`:
/// `mean_j = Σ_i x_ij / n`, `var_j = Σ_i (x_ij − mean_j)² / n` (biased, used for normalizing),
/// `y = (x − mean)·invstd·gamma + beta` with `invstd = 1/√(var + eps)`. Writes `mean` and
/// `invstd` (length c, for [`batch_norm_backward`]) and, in the same call, updates
/// `moving_mean ← momentum·moving_mean + (1 − momentum)·mean` and `moving_var` likewise with the
/// unbiased variance `var·n/(n − 1)` (tfjs-layers, PyTorch; the biased one when n = 1).
///
/// Null `gamma`/`beta` mean 1/0; null `mean`/`invstd`/`moving_*` are not written. `n = 0` gives
/// NaN statistics (the caller rejects it).
///
/// # Safety
/// `x`, `y` span `n·c` values (`y` may equal `x`); per-channel buffers span `c` values.
#[allow(clippy::too_many_arguments)]
pub unsafe fn batch_norm_train(
    n: usize,
    c: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    momentum: f32,
    y: *mut f32,
    mean: *mut f32,
    invstd: *mut f32,
    moving_mean: *mut f32,
    moving_var: *mut f32,
) {
    let a = Bn { n, c, x, gamma, beta };
    let o = [y, mean, invstd, moving_mean, moving_var];
    for_column_blocks(
        c,
        |j| bn_train_block::<4>(a, j, 4, eps, momentum, o),
        |j, w| bn_train_block::<1>(a, j, w, eps, momentum, o),
    );
}

#[inline(always)]
unsafe fn bn_train_block<const W: usize>(
    a: Bn,
    j: usize,
    lanes: usize,
    eps: f32,
    momentum: f32,
    [y, mean_out, invstd_out, mm, mv]: [*mut f32; 5],
) {
    let (n, c, x) = (a.n, a.c, a.x);
    let inv_n = F32x4::splat(1.0 / n as f32);
    let s = pairwise_rows::<W, _>(0, n, &|r| load_block::<W>(x.add(r * c + j), lanes));
    let mean = map(s, |_, v| v.mul(inv_n));
    let q = pairwise_rows::<W, _>(0, n, &|r| {
        map(load_block::<W>(x.add(r * c + j), lanes), |k, v| {
            let d = v.sub(mean[k]);
            d.mul(d)
        })
    });
    let var = map(q, |_, v| v.mul(inv_n));
    let one = F32x4::splat(1.0);
    let invstd = map(var, |_, v| one.div(v.add(F32x4::splat(eps)).sqrt()));
    store_block_opt(mean, mean_out, j, lanes);
    store_block_opt(invstd, invstd_out, j, lanes);
    let keep = F32x4::splat(momentum);
    let take = F32x4::splat(1.0 - momentum);
    if !mm.is_null() {
        let old = load_block::<W>(mm.add(j), lanes);
        store_block(map(old, |k, v| v.mul(keep).add(mean[k].mul(take))), mm.add(j), lanes);
    }
    if !mv.is_null() {
        let bessel = F32x4::splat(if n > 1 { n as f32 / (n - 1) as f32 } else { 1.0 });
        let old = load_block::<W>(mv.add(j), lanes);
        store_block(
            map(old, |k, v| v.mul(keep).add(var[k].mul(bessel).mul(take))),
            mv.add(j),
            lanes,
        );
    }
    let g = load_block_or::<W>(a.gamma, j, lanes, 1.0);
    let b = load_block_or::<W>(a.beta, j, lanes, 0.0);
    let scale = map(g, |k, v| v.mul(invstd[k]));
    for r in 0..n {
        let v = load_block::<W>(x.add(r * c + j), lanes);
        store_block(map(v, |k, v| v.sub(mean[k]).mul(scale[k]).add(b[k])), y.add(r * c + j), lanes);
    }
}

/// Batch normalization forward in inference mode: `y = (x − moving_mean)·gamma/√(moving_var +
/// eps) + beta` per channel of the `n × c` matrix `x`. Null `gamma`/`beta` mean 1/0.
///
/// # Safety
/// `x`, `y` span `n·c` values (`y` may equal `x`); per-channel buffers span `c` values.
#[allow(clippy::too_many_arguments)]
pub unsafe fn batch_norm_inference(
    n: usize,
    c: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    moving_mean: *const f32,
    moving_var: *const f32,
    eps: f32,
    y: *mut f32,
) {
    let a = Bn { n, c, x, gamma, beta };
    let stats = [moving_mean, moving_var];
    for_column_blocks(
        c,
        |j| bn_inference_block::<4>(a, j, 4, stats, eps, y),
        |j, w| bn_inference_block::<1>(a, j, w, stats, eps, y),
    );
}

#[inline(always)]
unsafe fn bn_inference_block<const W: usize>(
    a: Bn,
    j: usize,
    lanes: usize,
    [mm, mv]: [*const f32; 2],
    eps: f32,
    y: *mut f32,
) {
    let mean = load_block::<W>(mm.add(j), lanes);
    let var = load_block::<W>(mv.add(j), lanes);
    let g = load_block_or::<W>(a.gamma, j, lanes, 1.0);
    let b = load_block_or::<W>(a.beta, j, lanes, 0.0);
    let e = F32x4::splat(eps);
    let scale = map(var, |k, v| g[k].div(v.add(e).sqrt()));
    for r in 0..a.n {
        let v = load_block::<W>(a.x.add(r * a.c + j), lanes);
        store_block(
            map(v, |k, v| v.sub(mean[k]).mul(scale[k]).add(b[k])),
            y.add(r * a.c + j),
            lanes,
        );
    }
}

/// Batch normalization backward (training mode, the statistics depend on x), per channel with
/// `x̂ = (x − mean)·invstd` from the forward's `mean`/`invstd`:
/// `dbeta = Σ_i dy`, `dgamma = Σ_i dy·x̂`,
/// `dx = gamma·invstd·(dy − dbeta/n − x̂·dgamma/n)`.
/// Null `gamma` means 1; null `dgamma`/`dbeta` are not written.
///
/// # Safety
/// `x`, `dy`, `dx` span `n·c` values (`dx` may equal `dy`); per-channel buffers span `c`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn batch_norm_backward(
    n: usize,
    c: usize,
    x: *const f32,
    dy: *const f32,
    gamma: *const f32,
    mean: *const f32,
    invstd: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
) {
    let a = Bn { n, c, x, gamma, beta: core::ptr::null() };
    let ins = [dy, mean, invstd];
    let outs = [dx, dgamma, dbeta];
    for_column_blocks(
        c,
        |j| bn_backward_block::<4>(a, j, 4, ins, outs),
        |j, w| bn_backward_block::<1>(a, j, w, ins, outs),
    );
}

#[inline(always)]
unsafe fn bn_backward_block<const W: usize>(
    a: Bn,
    j: usize,
    lanes: usize,
    [dy, mean, invstd]: [*const f32; 3],
    [dx, dgamma_out, dbeta_out]: [*mut f32; 3],
) {
    let (n, c, x) = (a.n, a.c, a.x);
    let mean = load_block::<W>(mean.add(j), lanes);
    let invstd = load_block::<W>(invstd.add(j), lanes);
    // dbeta and dgamma in one pairwise sweep over the rows.
    let (dbeta, dgamma) = pairwise_rows_by(
        0,
        n,
        &|r| {
            let g = load_block::<W>(dy.add(r * c + j), lanes);
            let v = load_block::<W>(x.add(r * c + j), lanes);
            (g, map(v, |k, v| v.sub(mean[k]).mul(invstd[k]).mul(g[k])))
        },
        &|a: ([F32x4; W], [F32x4; W]), b: ([F32x4; W], [F32x4; W])| {
            (add_block(a.0, b.0), add_block(a.1, b.1))
        },
        ([F32x4::zero(); W], [F32x4::zero(); W]),
    );
    store_block_opt(dgamma, dgamma_out, j, lanes);
    store_block_opt(dbeta, dbeta_out, j, lanes);
    let inv_n = F32x4::splat(1.0 / n as f32);
    let g = load_block_or::<W>(a.gamma, j, lanes, 1.0);
    let scale = map(g, |k, v| v.mul(invstd[k]));
    let mb = map(dbeta, |_, v| v.mul(inv_n));
    let mg = map(dgamma, |_, v| v.mul(inv_n));
    for r in 0..n {
        let v = load_block::<W>(x.add(r * c + j), lanes);
        let d = load_block::<W>(dy.add(r * c + j), lanes);
        let out = map(v, |k, v| {
            let xhat = v.sub(mean[k]).mul(invstd[k]);
            d[k].sub(mb[k]).sub(xhat.mul(mg[k])).mul(scale[k])
        });
        store_block(out, dx.add(r * c + j), lanes);
    }
}

/// Layer normalization forward over the last axis of the `rows × cols` matrix `x`, per row i:
/// `y = (x − mean_i)·rstd_i·gamma + beta` with `rstd_i = 1/√(var_i + eps)` (biased variance);
/// `gamma`/`beta` have length `cols` (null means 1/0). Writes `mean` and `rstd` (length `rows`,
/// for [`layer_norm_backward`]) unless null.
///
/// # Safety
/// `x`, `y` span `rows·cols` values (`y` may equal `x`); `gamma`/`beta` span `cols`;
/// `mean`/`rstd` span `rows`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn layer_norm(
    rows: usize,
    cols: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    y: *mut f32,
    mean: *mut f32,
    rstd: *mut f32,
) {
    let inv = 1.0 / cols as f32;
    for i in 0..rows {
        let p = x.add(i * cols);
        let m = pairwise_map(p, cols, 0.0, &|v| v) * inv;
        let vm = F32x4::splat(m);
        let var = pairwise_map(p, cols, m, &|v| {
            let d = v.sub(vm);
            d.mul(d)
        }) * inv;
        let rs = F32x4::splat(1.0).div(F32x4::splat(var + eps).sqrt());
        if !mean.is_null() {
            *mean.add(i) = m;
        }
        if !rstd.is_null() {
            *rstd.add(i) = rs.lanes()[0];
        }
        let out = y.add(i * cols);
        for_column_blocks(
            cols,
            |j| {
                let g = load_block_or::<4>(gamma, j, 4, 1.0);
                let b = load_block_or::<4>(beta, j, 4, 0.0);
                let v = load_block::<4>(p.add(j), 4);
                store_block(map(v, |k, v| v.sub(vm).mul(rs).mul(g[k]).add(b[k])), out.add(j), 4);
            },
            |j, w| {
                let g = load_block_or::<1>(gamma, j, w, 1.0);
                let b = load_block_or::<1>(beta, j, w, 0.0);
                let v = load_block::<1>(p.add(j), w);
                store_block(map(v, |k, v| v.sub(vm).mul(rs).mul(g[k]).add(b[k])), out.add(j), w);
            },
        );
    }
}

/// Layer normalization backward, per row with `x̂ = (x − mean)·rstd` and `g = dy·gamma`:
/// `dx = rstd·(g − mean_j(g) − x̂·mean_j(g·x̂))`; over rows, `dgamma = Σ_i dy·x̂` and
/// `dbeta = Σ_i dy` (null `dgamma`/`dbeta` are not written; null `gamma` means 1).
///
/// # Safety
/// `x`, `dy`, `dx` span `rows·cols` (`dx` may equal `dy`: the parameter gradients are summed
/// first, and each row's dx is written after that row's sums); `gamma`, `dgamma`, `dbeta` span
/// `cols`; `mean`, `rstd` span `rows`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn layer_norm_backward(
    rows: usize,
    cols: usize,
    x: *const f32,
    dy: *const f32,
    gamma: *const f32,
    mean: *const f32,
    rstd: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
) {
    // Parameter gradients first (pairwise over rows), so that dx may overwrite dy afterwards.
    if !dgamma.is_null() || !dbeta.is_null() {
        let a = LnGrads { rows, cols, x, dy, mean, rstd, dgamma, dbeta };
        for_column_blocks(
            cols,
            |j| ln_param_block::<4>(a, j, 4),
            |j, w| ln_param_block::<1>(a, j, w),
        );
    }
    let inv = F32x4::splat(1.0 / cols as f32);
    for i in 0..rows {
        let (px, pd, po) = (x.add(i * cols), dy.add(i * cols), dx.add(i * cols));
        let vm = F32x4::splat(*mean.add(i));
        let rs = F32x4::splat(*rstd.add(i));
        // Row sums of g and g·x̂; padding lanes load dy = 0, so they add nothing.
        let (mut sg, mut sgx) = (F32x4::zero(), F32x4::zero());
        let mut j = 0;
        while j < cols {
            let w = if cols - j >= 4 { 4 } else { cols - j };
            let g = load_block_or::<1>(gamma, j, w, 1.0)[0];
            let d = load_block::<1>(pd.add(j), w)[0].mul(g);
            let v = load_block::<1>(px.add(j), w)[0];
            sg = sg.add(d);
            sgx = sgx.add(d.mul(v.sub(vm).mul(rs)));
            j += w;
        }
        let a = F32x4::splat(sg.sum()).mul(inv);
        let b = F32x4::splat(sgx.sum()).mul(inv);
        for_column_blocks(
            cols,
            |j| {
                let g = load_block_or::<4>(gamma, j, 4, 1.0);
                let d = load_block::<4>(pd.add(j), 4);
                let v = load_block::<4>(px.add(j), 4);
                let out = map(v, |k, v| {
                    let xh = v.sub(vm).mul(rs);
                    d[k].mul(g[k]).sub(a).sub(xh.mul(b)).mul(rs)
                });
                store_block(out, po.add(j), 4);
            },
            |j, w| {
                let g = load_block_or::<1>(gamma, j, w, 1.0);
                let d = load_block::<1>(pd.add(j), w);
                let v = load_block::<1>(px.add(j), w);
                let out = map(v, |k, v| {
                    let xh = v.sub(vm).mul(rs);
                    d[k].mul(g[k]).sub(a).sub(xh.mul(b)).mul(rs)
                });
                store_block(out, po.add(j), w);
            },
        );
    }
}

/// Arguments of [`ln_param_block`].
#[derive(Clone, Copy)]
struct LnGrads {
    rows: usize,
    cols: usize,
    x: *const f32,
    dy: *const f32,
    mean: *const f32,
    rstd: *const f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
}

/// Layer-norm parameter gradients of columns `j..` (`W` vectors of `lanes` values): dbeta = Σ dy
/// and dgamma = Σ dy·x̂ over the rows, in one pairwise sweep.
#[inline(always)]
unsafe fn ln_param_block<const W: usize>(a: LnGrads, j: usize, lanes: usize) {
    let (sb, sg) = pairwise_rows_by(
        0,
        a.rows,
        &|r| {
            let d = load_block::<W>(a.dy.add(r * a.cols + j), lanes);
            let (vm, rs) = (F32x4::splat(*a.mean.add(r)), F32x4::splat(*a.rstd.add(r)));
            let v = load_block::<W>(a.x.add(r * a.cols + j), lanes);
            (d, map(v, |k, v| v.sub(vm).mul(rs).mul(d[k])))
        },
        &|p: ([F32x4; W], [F32x4; W]), q: ([F32x4; W], [F32x4; W])| {
            (add_block(p.0, q.0), add_block(p.1, q.1))
        },
        ([F32x4::zero(); W], [F32x4::zero(); W]),
    );
    store_block_opt(sg, a.dgamma, j, lanes);
    store_block_opt(sb, a.dbeta, j, lanes);
}

#[cfg(test)]
#[path = "norm_tests.rs"]
mod tests;

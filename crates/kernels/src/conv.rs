//! 2-D convolution (NHWC input, HWIO filter `[k_h, k_w, in_c, out_c]`, NHWC output) as
//! im2col + gemm: forward, gradient with respect to the input (gemm + col2im), gradient with
//! respect to the filter (im2col + gemm) and the bias gradient.
//!
//! With `rows = batch · out_h · out_w` and `patch = k_h · k_w · in_c`, the output is the product
//! `columns[rows, patch] × filter[patch, out_c]`. The column matrix is built block by block of
//! [`Conv2dGeometry::block_rows`] rows in the caller's workspace, so memory stays bounded by
//! [`Conv2dGeometry::workspace_len`] whatever the batch. A 1×1 convolution with stride 1 and no
//! padding needs no columns: the NHWC input already is `[rows, in_c]`. With fewer than four
//! input channels the forward pass is a direct convolution ([`crate::conv_direct`], 3×3 stride-1
//! filters in 2×2 output blocks by [`crate::conv_block3x3`]); 3×3 filters with stride 1 and
//! dilation 1 over four or more channels take Winograd F(2×2, 3×3) ([`crate::conv_winograd`]),
//! 2.25× fewer multiply-adds. The forward pass applies the bias and an activation
//! (`crate::gemm::ACT_*`) in its store; [`crate::conv_maxpool`] also applies a following 2×2 max
//! pooling (inference).
//!
//! Geometry: output pixel (oy, ox) reads input (oy·s_h + ky·d_h − pad_top, ox·s_w + kx·d_w −
//! pad_left); reads outside the image are zero. `out_h = (in_h + pad_top + pad_bottom −
//! ((k_h − 1)·d_h + 1)) / s_h + 1` (integer division), likewise `out_w`.

use crate::conv_direct::forward_few_channels;
use crate::conv_im2col::{col2im, im2col, ColLayout};
use crate::conv_winograd::{self as winograd, activate};
use crate::gemm::{gemm, gemm_bias_act, GEMM_WORKSPACE_F32};
use crate::simd::F32x4;

/// Target size in f32 of one column block: large enough for gemm to run at full speed, small
/// enough (256 KiB) to stay in L2 between im2col writing it and gemm reading it.
const COL_BLOCK_F32: usize = 1 << 16;
/// Fewest rows per block, whatever the patch length, so that gemm keeps full register tiles.
const MIN_BLOCK_ROWS: usize = 32;

/// Shape of a 2-D convolution (and of a depthwise one, where `out_c = in_c · multiplier`).
/// Sizes are elements; strides and dilations are ≥ 1 in a valid geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub in_c: usize,
    pub k_h: usize,
    pub k_w: usize,
    pub out_c: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dil_h: usize,
    pub dil_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
}

/// Extent `(k − 1)·d + 1` of a dilated filter side, None on overflow or k = 0.
fn dilated(k: usize, d: usize) -> Option<usize> {
    (k.checked_sub(1)?).checked_mul(d)?.checked_add(1)
}

impl Conv2dGeometry {
    /// True when strides, dilations and filter sides are ≥ 1 and the dilated filter fits in the
    /// padded input (so that the output has at least one row and column). Kernels do nothing for
    /// an invalid geometry.
    pub fn is_valid(&self) -> bool {
        let fits = |len: usize, lo: usize, hi: usize, k: usize, d: usize| match dilated(k, d) {
            Some(span) => {
                len.checked_add(lo).and_then(|v| v.checked_add(hi)).map_or(false, |p| p >= span)
            }
            None => false,
        };
        self.stride_h >= 1
            && self.stride_w >= 1
            && self.dil_h >= 1
            && self.dil_w >= 1
            && fits(self.in_h, self.pad_top, self.pad_bottom, self.k_h, self.dil_h)
            && fits(self.in_w, self.pad_left, self.pad_right, self.k_w, self.dil_w)
    }

    /// Output height (valid geometry only).
    pub fn out_h(&self) -> usize {
        (self.in_h + self.pad_top + self.pad_bottom - (self.k_h - 1) * self.dil_h - 1)
            / self.stride_h
            + 1
    }

    /// Output width (valid geometry only).
    pub fn out_w(&self) -> usize {
        (self.in_w + self.pad_left + self.pad_right - (self.k_w - 1) * self.dil_w - 1)
            / self.stride_w
            + 1
    }

    /// Rows of the column matrix: output pixels over the whole batch.
    pub fn rows(&self) -> usize {
        self.batch * self.out_h() * self.out_w()
    }

    /// Columns of the column matrix: `k_h · k_w · in_c`.
    pub fn patch_len(&self) -> usize {
        self.k_h * self.k_w * self.in_c
    }

    /// A 1×1 filter with stride 1 and no padding: the input is its own column matrix.
    pub fn is_pointwise(&self) -> bool {
        self.k_h == 1
            && self.k_w == 1
            && self.stride_h == 1
            && self.stride_w == 1
            && self.pad_top + self.pad_left + self.pad_bottom + self.pad_right == 0
    }

    /// Rows of the column matrix built at a time.
    pub fn block_rows(&self) -> usize {
        let per_block = COL_BLOCK_F32 / self.patch_len().max(1);
        per_block.max(MIN_BLOCK_ROWS).min(self.rows()).max(1)
    }

    /// f32 values of a column block, rounded up to whole vectors so that the gemm workspace
    /// after it starts 16-byte aligned.
    fn col_len(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            (self.block_rows() * self.patch_len() + 3) & !3
        }
    }

    /// Whether the forward pass takes the Winograd path.
    pub fn is_winograd(&self) -> bool {
        self.in_c >= 4 && winograd::applies(self)
    }

    /// Workspace, in f32 values, that every conv2d kernel needs for this geometry: one column
    /// block followed by the gemm packing workspace (or the Winograd buffers when larger). Zero
    /// for an invalid geometry.
    pub fn workspace_len(&self) -> usize {
        if !self.is_valid() {
            0
        } else if self.is_winograd() {
            (self.col_len() + GEMM_WORKSPACE_F32).max(winograd::workspace_len(self))
        } else {
            (self.col_len() + GEMM_WORKSPACE_F32).max(crate::conv_block3x3::workspace_len(self))
        }
    }
}

/// y ← act(conv2d(x, filter) + bias), with y `[batch, out_h, out_w, out_c]` and `act` one of
/// the `crate::gemm::ACT_*` codes (any other value is linear).
///
/// `bias` may be null (no bias). y is write-only (NaN in it does not leak through).
///
/// # Safety
/// `g` valid; x holds `batch·in_h·in_w·in_c` values, filter `patch_len·out_c`, bias `out_c`
/// (unless null), y `rows·out_c` writable; `work` holds [`Conv2dGeometry::workspace_len`]
/// writable values, 16-byte aligned. y overlaps none of the others.
pub unsafe fn conv2d_forward(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    if !g.is_valid() || g.rows() == 0 || g.out_c == 0 {
        return;
    }
    if g.is_winograd() {
        winograd::conv2d_forward_winograd(g, x, filter, bias, y, act, work);
    } else {
        forward_blocked(g, x, filter, bias, y, act, work, g.block_rows());
    }
}

/// The im2col + gemm forward (or the direct one for few channels), `block` rows at a time.
#[allow(clippy::too_many_arguments)]
unsafe fn forward_blocked(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
    block: usize,
) {
    let (rows, oc, patch) = (g.rows(), g.out_c, g.patch_len());
    if rows == 0 || oc == 0 {
        return;
    }
    if g.in_c > 0 && g.in_c < 4 && !g.is_pointwise() {
        forward_few_channels(g, x, filter, bias, y, act, work);
        return;
    }
    if patch == 0 {
        // No products: every row is act(bias) (or act(0)).
        for r in 0..rows {
            let yr = y.add(r * oc);
            if bias.is_null() {
                fill(yr, oc, 0.0);
            } else {
                copy(bias, yr, oc);
            }
            for j in 0..oc {
                *yr.add(j) = activate(F32x4::splat(*yr.add(j)), act).lanes()[0];
            }
        }
        return;
    }
    let oc_s = oc as isize;
    if g.is_pointwise() {
        let cs = g.in_c as isize;
        gemm_bias_act(rows, oc, patch, x, cs, 1, filter, oc_s, 1, bias, y, oc_s, 1, act, work);
        return;
    }
    let gemm_work = work.add(g.col_len());
    let layout = ColLayout::for_channels(g.in_c);
    let mut r0 = 0;
    while r0 < rows {
        let n = block.min(rows - r0);
        im2col(g, layout, x, r0, n, work);
        let (rs, cs) = layout.strides(n, patch);
        let yb = y.add(r0 * oc);
        gemm_bias_act(
            n, oc, patch, work, rs, cs, filter, oc_s, 1, bias, yb, oc_s, 1, act, gemm_work,
        );
        r0 += n;
    }
}

/// dx ← ∂⟨conv2d(x, filter), dy⟩/∂x: dy `[rows, out_c]` times filterᵀ, scattered back by col2im.
///
/// dx is write-only (it is zeroed first where col2im needs it).
///
/// # Safety
/// As [`conv2d_forward`] with dy (`rows·out_c`) read and dx (`batch·in_h·in_w·in_c`) written.
pub unsafe fn conv2d_backward_input(
    g: &Conv2dGeometry,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
    work: *mut f32,
) {
    if g.is_valid() {
        backward_input_blocked(g, dy, filter, dx, work, g.block_rows());
    }
}

unsafe fn backward_input_blocked(
    g: &Conv2dGeometry,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
    work: *mut f32,
    block: usize,
) {
    let (rows, oc, patch) = (g.rows(), g.out_c, g.patch_len());
    let x_len = g.batch * g.in_h * g.in_w * g.in_c;
    if x_len == 0 {
        return;
    }
    let (oc_s, patch_s) = (oc as isize, patch as isize);
    if g.is_pointwise() && oc > 0 {
        // dx[rows, in_c] = dy[rows, oc] · filter[in_c, oc]ᵀ.
        gemm(rows, patch, oc, 1.0, dy, oc_s, 1, filter, 1, oc_s, 0.0, dx, patch_s, 1, work);
        return;
    }
    fill(dx, x_len, 0.0);
    if oc == 0 {
        return;
    }
    let gemm_work = work.add(g.col_len());
    let layout = ColLayout::for_channels(g.in_c);
    let mut r0 = 0;
    while r0 < rows {
        let n = block.min(rows - r0);
        let dyb = dy.add(r0 * oc);
        match layout {
            // dcols[n, patch] = dy[n, oc] · filterᵀ.
            ColLayout::PixelMajor => gemm(
                n, patch, oc, 1.0, dyb, oc_s, 1, filter, 1, oc_s, 0.0, work, patch_s, 1, gemm_work,
            ),
            // dcolsᵀ[patch, n] = filter[patch, oc] · dyᵀ.
            ColLayout::TapMajor => gemm(
                patch, n, oc, 1.0, filter, oc_s, 1, dyb, 1, oc_s, 0.0, work, n as isize, 1,
                gemm_work,
            ),
        }
        col2im(g, layout, dx, r0, n, work);
        r0 += n;
    }
}

/// dfilter ← ∂⟨conv2d(x, filter), dy⟩/∂filter = columnsᵀ · dy, accumulated block by block
/// (β = 1 after the first block). dfilter is write-only.
///
/// # Safety
/// As [`conv2d_forward`] with x and dy read and dfilter (`patch_len·out_c`) written.
pub unsafe fn conv2d_backward_filter(
    g: &Conv2dGeometry,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
    work: *mut f32,
) {
    if g.is_valid() {
        backward_filter_blocked(g, x, dy, dfilter, work, g.block_rows());
    }
}

unsafe fn backward_filter_blocked(
    g: &Conv2dGeometry,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
    work: *mut f32,
    block: usize,
) {
    let (rows, oc, patch) = (g.rows(), g.out_c, g.patch_len());
    if oc == 0 || patch == 0 {
        return;
    }
    let oc_s = oc as isize;
    if rows == 0 {
        fill(dfilter, patch * oc, 0.0);
        return;
    }
    if g.is_pointwise() {
        // dfilter[in_c, oc] = x[rows, in_c]ᵀ · dy[rows, oc].
        let cs = g.in_c as isize;
        gemm(patch, oc, rows, 1.0, x, 1, cs, dy, oc_s, 1, 0.0, dfilter, oc_s, 1, work);
        return;
    }
    let gemm_work = work.add(g.col_len());
    let layout = ColLayout::for_channels(g.in_c);
    let mut r0 = 0;
    while r0 < rows {
        let n = block.min(rows - r0);
        im2col(g, layout, x, r0, n, work);
        let (rs, cs) = layout.strides(n, patch);
        let beta = if r0 == 0 { 0.0 } else { 1.0 };
        let dyb = dy.add(r0 * oc);
        gemm(patch, oc, n, 1.0, work, cs, rs, dyb, oc_s, 1, beta, dfilter, oc_s, 1, gemm_work);
        r0 += n;
    }
}

/// dbias\[j\] ← Σ_r dy\[r, j\] over `rows` rows of `out_c` values (the bias gradient of a conv or
/// dense layer). dbias is write-only.
///
/// # Safety
/// dy holds `rows·out_c` values, dbias `out_c` writable values, not overlapping.
pub unsafe fn conv2d_backward_bias(dy: *const f32, rows: usize, out_c: usize, dbias: *mut f32) {
    // Sixteen channels at a time in four registers down all rows, then four, then one: each sum
    // runs over the rows in order, and dbias is written once.
    let mut j = 0;
    while j + 16 <= out_c {
        let mut acc = [F32x4::zero(); 4];
        for r in 0..rows {
            let src = dy.add(r * out_c + j);
            for (q, a) in acc.iter_mut().enumerate() {
                *a = a.add(F32x4::load(src.add(4 * q)));
            }
        }
        for (q, a) in acc.iter().enumerate() {
            a.store(dbias.add(j + 4 * q));
        }
        j += 16;
    }
    while j + 4 <= out_c {
        let mut acc = F32x4::zero();
        for r in 0..rows {
            acc = acc.add(F32x4::load(dy.add(r * out_c + j)));
        }
        acc.store(dbias.add(j));
        j += 4;
    }
    while j < out_c {
        let mut acc = 0.0f32;
        for r in 0..rows {
            acc += *dy.add(r * out_c + j);
        }
        *dbias.add(j) = acc;
        j += 1;
    }
}

/// dst\[0..len\] ← value.
///
/// The value goes through a volatile read so that LLVM cannot see a constant and turn the loop
/// into `memory.fill`: V8 runs that as an out-of-line call, which costs more than the short runs
/// (a few channels, often none) that im2col pads and the per-pixel fills need.
pub(crate) unsafe fn fill(dst: *mut f32, len: usize, value: f32) {
    let value = core::ptr::read_volatile(&value);
    let v = F32x4::splat(value);
    let mut i = 0;
    while i + 4 <= len {
        v.store(dst.add(i));
        i += 4;
    }
    while i < len {
        *dst.add(i) = value;
        i += 1;
    }
}

/// dst\[0..len\] ← src\[0..len\] (not overlapping).
pub(crate) unsafe fn copy(src: *const f32, dst: *mut f32, len: usize) {
    let mut i = 0;
    while i + 4 <= len {
        F32x4::load(src.add(i)).store(dst.add(i));
        i += 4;
    }
    while i < len {
        *dst.add(i) = *src.add(i);
        i += 1;
    }
}

#[cfg(test)]
#[path = "conv_tests.rs"]
pub(crate) mod tests;

//! Inference fusion of a conv2d forward pass with the 2×2, stride 2, `valid` max pooling that
//! follows it in most image networks: y = maxpool2(act(conv2d(x, filter) + bias)), y
//! `[batch, out_h/2, out_w/2, out_c]` (a last odd row or column of the conv output is dropped, as
//! `valid` pooling drops it).
//!
//! The conv output is never stored whole. Winograd F(2×2, 3×3) tiles are exactly the pooling
//! windows, so its output transform reduces each tile to one value
//! ([`crate::conv_winograd::conv2d_forward_winograd_maxpool2`]); so are the 2×2 output blocks of
//! the grey/RGB 3×3 kernel ([`crate::conv_block3x3`]). Any other geometry runs image by image:
//! the conv output of one image goes to the workspace (where it stays in cache) and is pooled from
//! there. Every path computes the conv outputs exactly as [`crate::conv::conv2d_forward`] does and
//! compares them in max pooling's row-major order and NaN rule, so the result is bit-equal to
//! `max_pool2d_forward(conv2d_forward(...))`.

use crate::conv::{conv2d_forward, Conv2dGeometry};
use crate::conv_block3x3 as block3x3;
use crate::conv_winograd::{self as winograd, conv2d_forward_winograd_maxpool2};
use crate::pool::max_pool2d_forward;

/// One image of `g`.
fn single(g: &Conv2dGeometry) -> Conv2dGeometry {
    Conv2dGeometry { batch: 1, ..*g }
}

/// Values of one image's conv output, rounded up to whole vectors (the conv workspace after it
/// stays 16-byte aligned).
fn image_out_len(g: &Conv2dGeometry) -> usize {
    (g.out_h() * g.out_w() * g.out_c + 3) & !3
}

/// The 2×2, stride-2, unpadded max pooling over `batch` images of `g`'s conv output.
pub(crate) fn pool_geometry(g: &Conv2dGeometry, batch: usize) -> Conv2dGeometry {
    let (oh, ow, oc) = (g.out_h(), g.out_w(), g.out_c);
    Conv2dGeometry {
        batch,
        in_h: oh,
        in_w: ow,
        in_c: oc,
        k_h: 2,
        k_w: 2,
        out_c: oc,
        stride_h: 2,
        stride_w: 2,
        dil_h: 1,
        dil_w: 1,
        pad_top: 0,
        pad_left: 0,
        pad_bottom: 0,
        pad_right: 0,
    }
}

/// Workspace in f32 values that [`conv2d_forward_maxpool2`] needs for `g` (0 when invalid).
pub fn workspace_len(g: &Conv2dGeometry) -> usize {
    if !g.is_valid() {
        0
    } else if g.is_winograd() {
        winograd::workspace_len(g)
    } else if block3x3::applies(g) {
        block3x3::workspace_len(g)
    } else {
        image_out_len(g) + single(g).workspace_len()
    }
}

/// y ← maxpool2(act(conv2d(x, filter) + bias)); `act` one of the `crate::gemm::ACT_*` codes,
/// bias may be null. Does nothing for an invalid geometry or a conv output under 2×2.
///
/// # Safety
/// `g` valid; x holds `batch·in_h·in_w·in_c` values, filter `patch_len·out_c`, bias `out_c`
/// (unless null), y `batch·(out_h/2)·(out_w/2)·out_c` writable values; `work` holds
/// [`workspace_len`] writable values, 16-byte aligned. y overlaps none of the others.
pub unsafe fn conv2d_forward_maxpool2(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    if !g.is_valid() || g.out_c == 0 || g.out_h() < 2 || g.out_w() < 2 {
        return;
    }
    if g.is_winograd() {
        conv2d_forward_winograd_maxpool2(g, x, filter, bias, y, act, work);
        return;
    }
    if block3x3::applies(g) {
        block3x3::forward_blocks(g, x, filter, bias, y, act, work, true, |_, _, _| {});
        return;
    }
    let one = single(g);
    let (oh, ow, oc) = (g.out_h(), g.out_w(), g.out_c);
    let pool = pool_geometry(g, 1);
    let (x_step, y_step) = (g.in_h * g.in_w * g.in_c, (oh / 2) * (ow / 2) * oc);
    let conv_out = work;
    let conv_work = work.add(image_out_len(g));
    for n in 0..g.batch {
        conv2d_forward(&one, x.add(n * x_step), filter, bias, conv_out, act, conv_work);
        max_pool2d_forward(&pool, conv_out, y.add(n * y_step), core::ptr::null_mut());
    }
}

#[cfg(test)]
#[path = "conv_maxpool_tests.rs"]
mod tests;

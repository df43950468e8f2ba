//! A 3×3, stride-1, undilated convolution over one or three input channels (the first layer of
//! a grey or RGB image network) in 2×2 blocks of output pixels, every tap unrolled at a constant
//! offset. Each image is first copied into a zero-padded buffer in the workspace (a few KiB for
//! such inputs), so that every block reads a whole 4×4 window without edge tests.
//!
//! A block keeps four pixels × eight output channels in eight accumulators; each tap and input
//! channel costs two filter loads and four input broadcasts for eight multiply-adds. The four
//! pixels of a block are also exactly one 2×2 pooling window, so the same block serves the
//! pooling fusion ([`crate::conv_maxpool`]).
//!
//! Each output is its bias (or 0) plus the products in (ky, kx, c) order, multiply then add,
//! then the activation: the order of [`crate::conv_direct`]'s per-pixel path, so the two paths
//! give the same bits and blocks can sit next to edge pixels computed the other way.

use crate::conv::Conv2dGeometry;
use crate::conv_winograd::activate;
use crate::pool::{beats, max_value_step};
use crate::simd::F32x4;

/// True for the geometries the block kernel computes: 3×3, stride 1, dilation 1, one (grey) or
/// three (RGB) input channels. (Each channel count is a separate unrolled kernel of ~17 KB of
/// wasm; two-channel inputs are rare enough to stay on the per-pixel path.)
pub fn applies(g: &Conv2dGeometry) -> bool {
    g.k_h == 3
        && g.k_w == 3
        && g.stride_h == 1
        && g.stride_w == 1
        && g.dil_h == 1
        && g.dil_w == 1
        && (g.in_c == 1 || g.in_c == 3)
}

/// Where a block's outputs go: its four pixels stored (`Pixels`: `row` values between the two
/// output rows) or their maximum stored once (`Pooled`, max pooling's order and NaN rule).
#[derive(Clone, Copy)]
enum Out {
    Pixels { row: usize },
    Pooled,
}

/// Sides of the zero-padded image copy: rows from −pad_top and columns from −pad_left, enough
/// for every whole 2×2 block of the output.
fn padded_sides(g: &Conv2dGeometry) -> (usize, usize) {
    (2 * (g.out_h() / 2) + 2, 2 * (g.out_w() / 2) + 2)
}

/// Workspace in f32 values of [`forward_blocks`] (0 when it does not apply).
pub fn workspace_len(g: &Conv2dGeometry) -> usize {
    if !applies(g) || !g.is_valid() {
        return 0;
    }
    let (rows, cols) = padded_sides(g);
    rows * cols * g.in_c
}

/// y ← act(conv2d(x, filter) + bias), or with `pooled` its 2×2/2 max pooling (`valid`), for a
/// geometry where [`applies`] holds. Whole 2×2 blocks run here; `edge(n, oy, ox)` is called for
/// each output pixel outside them (the last row or column of an odd output side, unpooled only).
///
/// # Safety
/// `applies(g)` and `g` valid; x, filter, bias (unless null) readable as for
/// [`crate::conv::conv2d_forward`]; y writable for the (pooled) output; `work` holds
/// [`workspace_len`] writable values.
#[allow(clippy::too_many_arguments)]
pub unsafe fn forward_blocks(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
    pooled: bool,
    mut edge: impl FnMut(usize, usize, usize),
) {
    let (oh, ow, oc, c) = (g.out_h(), g.out_w(), g.out_c, g.in_c);
    let (rows, cols) = padded_sides(g);
    // The borders are zeroed once; every image overwrites the same interior cells.
    crate::conv::fill(work, rows * cols * c, 0.0);
    let copy_rows = g.in_h.min(rows - g.pad_top.min(rows));
    let copy_cols = g.in_w.min(cols - g.pad_left.min(cols));
    let row = cols * c;
    let (ph, pw) = (oh / 2, ow / 2);
    for n in 0..g.batch {
        let image = x.add(n * g.in_h * g.in_w * c);
        for iy in 0..copy_rows {
            let to = work.add((iy + g.pad_top) * row + g.pad_left * c);
            crate::conv::copy(image.add(iy * g.in_w * c), to, copy_cols * c);
        }
        for by in 0..ph {
            for bx in 0..pw {
                let window = work.add(2 * by * row + 2 * bx * c);
                if pooled {
                    let out = y.add(((n * ph + by) * pw + bx) * oc);
                    block(c, row, window, filter, bias, oc, out, act, Out::Pooled);
                } else {
                    let out = y.add(((n * oh + 2 * by) * ow + 2 * bx) * oc);
                    block(c, row, window, filter, bias, oc, out, act, Out::Pixels { row: ow * oc });
                }
            }
        }
        if !pooled {
            if ow % 2 == 1 {
                for oy in 0..2 * ph {
                    edge(n, oy, ow - 1);
                }
            }
            if oh % 2 == 1 {
                for ox in 0..ow {
                    edge(n, oh - 1, ox);
                }
            }
        }
    }
}

/// Every output channel of one 2×2 block: `x0` is its 4×4 input window (rows `row` values
/// apart, pixels `c`), y its first output (pixel (oy, ox), or the pooled pixel).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block(
    c: usize,
    row: usize,
    x0: *const f32,
    filter: *const f32,
    bias: *const f32,
    oc: usize,
    y: *mut f32,
    act: i32,
    out: Out,
) {
    match c {
        1 => block_c::<1>(row, x0, filter, bias, oc, y, act, out),
        _ => block_c::<3>(row, x0, filter, bias, oc, y, act, out),
    }
}

/// Not inlined: one copy per channel count serves the plain and the pooling forward (the
/// unrolled body is large, and a call per block is noise next to its 144·C multiply-adds).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn block_c<const C: usize>(
    row: usize,
    x0: *const f32,
    filter: *const f32,
    bias: *const f32,
    oc: usize,
    y: *mut f32,
    act: i32,
    out: Out,
) {
    let mut j = 0;
    while j + 8 <= oc {
        let acc = channels::<C, 2>(x0, row, filter, bias, oc, j);
        put(acc, y.add(j), oc, act, out);
        j += 8;
    }
    if j + 4 <= oc {
        let acc = channels::<C, 1>(x0, row, filter, bias, oc, j);
        put(acc, y.add(j), oc, act, out);
        j += 4;
    }
    while j < oc {
        let mut v = [0.0f32; 4];
        for (p, val) in v.iter_mut().enumerate() {
            let xp = x0.add((p >> 1) * row + (p & 1) * C);
            let mut acc = if bias.is_null() { 0.0 } else { *bias.add(j) };
            for tap in 0..9 {
                for ci in 0..C {
                    let xv = *xp.add((tap / 3) * row + (tap % 3) * C + ci);
                    acc += xv * *filter.add((tap * C + ci) * oc + j);
                }
            }
            *val = activate(F32x4::splat(acc), act).lanes()[0];
        }
        match out {
            Out::Pixels { row: out_row } => {
                for (p, val) in v.iter().enumerate() {
                    *y.add((p >> 1) * out_row + (p & 1) * oc + j) = *val;
                }
            }
            Out::Pooled => {
                let mut best = v[0];
                for val in &v[1..] {
                    if beats(*val, best) {
                        best = *val;
                    }
                }
                *y.add(j) = best;
            }
        }
        j += 1;
    }
}

/// Channels j .. j + 4V of the four pixels (row-major), bias first, then every tap in order.
#[inline(always)]
unsafe fn channels<const C: usize, const V: usize>(
    x0: *const f32,
    row: usize,
    filter: *const f32,
    bias: *const f32,
    oc: usize,
    j: usize,
) -> [[F32x4; V]; 4] {
    let mut start = [F32x4::zero(); V];
    if !bias.is_null() {
        for (v, lane) in start.iter_mut().enumerate() {
            *lane = F32x4::load(bias.add(j + 4 * v));
        }
    }
    let mut acc = [start; 4];
    for ky in 0..3 {
        for kx in 0..3 {
            for ci in 0..C {
                let wp = filter.add(((ky * 3 + kx) * C + ci) * oc + j);
                let mut w = [F32x4::zero(); V];
                for (v, lane) in w.iter_mut().enumerate() {
                    *lane = F32x4::load(wp.add(4 * v));
                }
                for (p, a) in acc.iter_mut().enumerate() {
                    let xv = F32x4::splat(*x0.add(((p >> 1) + ky) * row + ((p & 1) + kx) * C + ci));
                    for v in 0..V {
                        a[v] = xv.mul_add(w[v], a[v]);
                    }
                }
            }
        }
    }
    acc
}

/// Activates and stores (or pools) one channel group of a block.
#[inline(always)]
unsafe fn put<const V: usize>(acc: [[F32x4; V]; 4], y: *mut f32, oc: usize, act: i32, out: Out) {
    for v in 0..V {
        match out {
            Out::Pixels { row } => {
                for (p, a) in acc.iter().enumerate() {
                    activate(a[v], act).store(y.add((p >> 1) * row + (p & 1) * oc + 4 * v));
                }
            }
            Out::Pooled => {
                let mut best = activate(acc[0][v], act);
                for a in &acc[1..] {
                    best = max_value_step(best, activate(a[v], act));
                }
                best.store(y.add(4 * v));
            }
        }
    }
}

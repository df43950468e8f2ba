//! Direct conv2d forward for inputs with few channels (C < 4: the grey or RGB first layer of an
//! image network).
//!
//! There the column matrix has only `k_h·k_w·C` columns, so gemm's packing and tile stores cost
//! as much as its arithmetic and im2col as much again. Instead each output pixel keeps its
//! output channels in registers, up to sixteen at a time, over all filter taps: one broadcast of an input
//! value times up to four vectors of filter values per tap and channel. Two neighbouring pixels share
//! the filter loads wherever both windows lie inside the image width; pixels at the left and right
//! edges go one at a time and skip the taps over the padding.
//!
//! Each output is bias (or 0) plus the products in (ky, kx, c) order, multiply then add, then the
//! activation (`crate::gemm::ACT_*`) applied in the store.

use crate::conv::Conv2dGeometry;
use crate::conv_block3x3 as block3x3;
use crate::conv_winograd::activate;
use crate::simd::F32x4;

/// y ← act(conv2d(x, filter) + bias) for `g.in_c < 4` (any other geometry works too, just
/// slower than im2col + gemm). 3×3 stride-1 filters run in 2×2 blocks
/// ([`crate::conv_block3x3`], `work` holding its workspace); other filters, and the pixels
/// outside whole blocks, pixel by pixel.
///
/// # Safety
/// `g` valid; pointers as in [`crate::conv::conv2d_forward`], `work` holding
/// [`crate::conv_block3x3::workspace_len`] writable values.
pub unsafe fn forward_few_channels(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    let (oh, ow, oc) = (g.out_h(), g.out_w(), g.out_c);
    if block3x3::applies(g) {
        block3x3::forward_blocks(g, x, filter, bias, y, act, work, false, |n, oy, ox| {
            let out = y.add(((n * oh + oy) * ow + ox) * oc);
            pixels::<1>(g, x, filter, bias, out, Pixel { n, oy, ox }, true, act);
        });
        return;
    }
    let (inner_lo, inner_hi) = inner_columns(g);
    for n in 0..g.batch {
        for oy in 0..oh {
            let row = y.add((n * oh + oy) * ow * oc);
            let mut ox = 0;
            while ox < ow {
                let at = Pixel { n, oy, ox };
                if ox >= inner_lo && ox + 2 <= inner_hi {
                    pixels::<2>(g, x, filter, bias, row.add(ox * oc), at, false, act);
                    ox += 2;
                } else {
                    pixels::<1>(g, x, filter, bias, row.add(ox * oc), at, true, act);
                    ox += 1;
                }
            }
        }
    }
}

/// Output columns `lo .. hi` whose whole filter row lies inside the image: ox·sw ≥ pl and
/// ox·sw − pl + (k_w − 1)·d_w < w.
fn inner_columns(g: &Conv2dGeometry) -> (usize, usize) {
    let span_w = (g.k_w - 1) * g.dil_w + 1;
    let lo = (g.pad_left + g.stride_w - 1) / g.stride_w;
    let hi = if g.in_w + g.pad_left >= span_w {
        (g.in_w + g.pad_left - span_w) / g.stride_w + 1
    } else {
        0
    };
    (lo, hi.min(g.out_w()))
}

#[derive(Clone, Copy)]
struct Pixel {
    n: usize,
    oy: usize,
    ox: usize,
}

/// All output channels of `P` neighbouring pixels starting at `at`; with `edge`, taps whose
/// input column falls in the padding are skipped (only used with P = 1).
// Not inlined: the row loop and the block kernel's edge pixels share one copy per P.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn pixels<const P: usize>(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    yp: *mut f32,
    at: Pixel,
    edge: bool,
    act: i32,
) {
    let oc = g.out_c;
    let mut j = 0;
    // Sixteen channels of two pixels is 8 accumulators + 4 filter vectors + 1 broadcast: the
    // most V8's ~15 vector registers hold without spilling.
    while j + 16 <= oc {
        channels::<P, 4>(g, x, filter, bias, yp, at, edge, j, act);
        j += 16;
    }
    if j + 8 <= oc {
        channels::<P, 2>(g, x, filter, bias, yp, at, edge, j, act);
        j += 8;
    }
    if j + 4 <= oc {
        channels::<P, 1>(g, x, filter, bias, yp, at, edge, j, act);
        j += 4;
    }
    while j < oc {
        for p in 0..P {
            let mut acc = if bias.is_null() { 0.0 } else { *bias.add(j) };
            for_taps(g, x, at, p, edge, |xp, tap| {
                for ci in 0..g.in_c {
                    acc += *xp.add(ci) * *filter.add((tap * g.in_c + ci) * oc + j);
                }
            });
            *yp.add(p * oc + j) = activate(F32x4::splat(acc), act).lanes()[0];
        }
        j += 1;
    }
}

/// Output channels j .. j + 4·V of P pixels, accumulated in P·V registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn channels<const P: usize, const V: usize>(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    yp: *mut f32,
    at: Pixel,
    edge: bool,
    j: usize,
    act: i32,
) {
    let (c, oc) = (g.in_c, g.out_c);
    let mut acc = [[F32x4::zero(); V]; P];
    if !bias.is_null() {
        for a in acc.iter_mut() {
            for (v, lane) in a.iter_mut().enumerate() {
                *lane = F32x4::load(bias.add(j + 4 * v));
            }
        }
    }
    let pixel_step = g.stride_w * c;
    for_taps(g, x, at, 0, edge, |xp, tap| {
        for ci in 0..c {
            let wp = filter.add((tap * c + ci) * oc + j);
            let mut w = [F32x4::zero(); V];
            for (v, lane) in w.iter_mut().enumerate() {
                *lane = F32x4::load(wp.add(4 * v));
            }
            for (p, a) in acc.iter_mut().enumerate() {
                let xv = F32x4::splat(*xp.add(p * pixel_step + ci));
                for v in 0..V {
                    a[v] = xv.mul_add(w[v], a[v]);
                }
            }
        }
    });
    for (p, a) in acc.iter().enumerate() {
        for (v, lane) in a.iter().enumerate() {
            activate(*lane, act).store(yp.add(p * oc + j + 4 * v));
        }
    }
}

/// Calls `f(input pointer of the tap for pixel ox + p, tap index)` for every filter tap of the
/// window of `at` (shifted by p pixels) that lies inside the image, in (ky, kx) order.
#[inline(always)]
unsafe fn for_taps(
    g: &Conv2dGeometry,
    x: *const f32,
    at: Pixel,
    p: usize,
    edge: bool,
    mut f: impl FnMut(*const f32, usize),
) {
    let (w, c) = (g.in_w, g.in_c);
    let image = x.add(at.n * g.in_h * w * c);
    let left = ((at.ox + p) * g.stride_w).wrapping_sub(g.pad_left);
    for ky in 0..g.k_h {
        let iy = (at.oy * g.stride_h + ky * g.dil_h).wrapping_sub(g.pad_top);
        if iy >= g.in_h {
            continue;
        }
        let row = image.add(iy * w * c);
        for kx in 0..g.k_w {
            let ix = left.wrapping_add(kx * g.dil_w);
            if edge && ix >= w {
                continue;
            }
            f(row.add(ix * c), ky * g.k_w + kx);
        }
    }
}

//! Depthwise 2-D convolution: NHWC input `[batch, in_h, in_w, C]`, filter `[k_h, k_w, C, mult]`,
//! output `[batch, out_h, out_w, C·mult]` whose channel `c·mult + m` is input channel c
//! convolved with filter slice (c, m) — TensorFlow's `depthwise_conv2d`.
//!
//! Geometry as in [`crate::conv`], with `g.out_c = C · mult`. There is no reduction over
//! channels, so no gemm. With mult = 1 (the common case) the forward pass and the input gradient
//! gather, per pixel, all taps into sixteen channels held in registers (each output written
//! once); the filter gradient walks the output pixels once, one vector multiply-add along the
//! channels per tap. Other multipliers take scalar loops.

use crate::conv::{fill, Conv2dGeometry};
use crate::simd::F32x4;

/// True when `g` is a valid depthwise geometry (`out_c` a multiple of a non-zero `in_c`, or both
/// zero).
pub fn is_valid_depthwise(g: &Conv2dGeometry) -> bool {
    g.is_valid() && (if g.in_c == 0 { g.out_c == 0 } else { g.out_c % g.in_c == 0 })
}

/// Calls `f(output pixel offset, input pixel offset, tap index)` (offsets in pixels, not
/// values) for every tap of every output pixel that lies inside the image, in output order.
unsafe fn for_each_tap(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                let out = (n * oh + oy) * ow + ox;
                for ky in 0..g.k_h {
                    let iy = (oy * g.stride_h + ky * g.dil_h).wrapping_sub(g.pad_top);
                    if iy >= g.in_h {
                        continue;
                    }
                    for kx in 0..g.k_w {
                        let ix = (ox * g.stride_w + kx * g.dil_w).wrapping_sub(g.pad_left);
                        if ix < g.in_w {
                            f(out, (n * g.in_h + iy) * g.in_w + ix, ky * g.k_w + kx);
                        }
                    }
                }
            }
        }
    }
}

/// acc\[i\] += a\[i\] · b\[i\] for i < len.
#[inline(always)]
unsafe fn mul_acc(acc: *mut f32, a: *const f32, b: *const f32, len: usize) {
    let mut i = 0;
    while i + 4 <= len {
        let v = F32x4::load(a.add(i)).mul_add(F32x4::load(b.add(i)), F32x4::load(acc.add(i)));
        v.store(acc.add(i));
        i += 4;
    }
    while i < len {
        *acc.add(i) += *a.add(i) * *b.add(i);
        i += 1;
    }
}

/// y ← depthwise_conv2d(x, filter) + bias (`bias` of `C·mult` values, or null). y is write-only.
///
/// # Safety
/// `g` valid for depthwise; x holds `batch·in_h·in_w·C` values, filter `k_h·k_w·C·mult`, y
/// `batch·out_h·out_w·C·mult` writable values, not overlapping the inputs.
pub unsafe fn depthwise_conv2d_forward(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
) {
    if !is_valid_depthwise(g) {
        return;
    }
    let (c, oc) = (g.in_c, g.out_c);
    let mult = if c == 0 { 1 } else { oc / c };
    if mult == 1 {
        forward_in_registers(g, x, filter, bias, y);
        return;
    }
    let outputs = g.rows();
    for r in 0..outputs {
        if bias.is_null() {
            fill(y.add(r * oc), oc, 0.0);
        } else {
            crate::conv::copy(bias, y.add(r * oc), oc);
        }
    }
    for_each_tap(g, |out, inp, tap| {
        let (yp, xp, fp) = (y.add(out * oc), x.add(inp * c), filter.add(tap * oc));
        for ci in 0..c {
            let xv = *xp.add(ci);
            for m in 0..mult {
                *yp.add(ci * mult + m) += xv * *fp.add(ci * mult + m);
            }
        }
    });
}

/// Multiplier 1: per output pixel, sixteen channels at a time stay in registers over all taps
/// (then four, then one), so y is written once instead of read and written per tap. Same sums
/// in the same order as the general loop.
unsafe fn forward_in_registers(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                let yp = y.add(((n * oh + oy) * ow + ox) * g.in_c);
                gather_pixel::<WindowOfOutput>(g, x, filter, bias, yp, (n, oy, ox));
            }
        }
    }
}

/// Multiplier 1: dx\[n, iy, ix\] gathers dy over the output pixels whose windows hold (iy, ix),
/// in registers like [`forward_in_registers`]; each dx value is written once, no zero pass.
unsafe fn backward_input_in_registers(
    g: &Conv2dGeometry,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
) {
    for n in 0..g.batch {
        for iy in 0..g.in_h {
            for ix in 0..g.in_w {
                let xp = dx.add(((n * g.in_h + iy) * g.in_w + ix) * g.in_c);
                gather_pixel::<OutputsOfInput>(g, dy, filter, core::ptr::null(), xp, (n, iy, ix));
            }
        }
    }
}

/// dst\[j\] ← bias\[j\] + Σ src\[pixel, j\] · filter\[tap, j\] over the (pixel, tap) pairs `T`
/// lists for `at`, for every channel j.
#[inline(always)]
unsafe fn gather_pixel<T: Taps>(
    g: &Conv2dGeometry,
    src: *const f32,
    filter: *const f32,
    bias: *const f32,
    dst: *mut f32,
    at: (usize, usize, usize),
) {
    let c = g.in_c;
    let mut j = 0;
    while j + 16 <= c {
        gather_channels::<T, 4>(g, src, filter, bias, dst, at, j);
        j += 16;
    }
    while j + 4 <= c {
        gather_channels::<T, 1>(g, src, filter, bias, dst, at, j);
        j += 4;
    }
    while j < c {
        let mut acc = if bias.is_null() { 0.0 } else { *bias.add(j) };
        T::each(g, at, |pixel, tap| acc += *src.add(pixel * c + j) * *filter.add(tap * c + j));
        *dst.add(j) = acc;
        j += 1;
    }
}

#[inline(always)]
unsafe fn gather_channels<T: Taps, const V: usize>(
    g: &Conv2dGeometry,
    src: *const f32,
    filter: *const f32,
    bias: *const f32,
    dst: *mut f32,
    at: (usize, usize, usize),
    j: usize,
) {
    let c = g.in_c;
    let mut acc = [F32x4::zero(); V];
    if !bias.is_null() {
        for (v, a) in acc.iter_mut().enumerate() {
            *a = F32x4::load(bias.add(j + 4 * v));
        }
    }
    T::each(g, at, |pixel, tap| {
        let (sp, fp) = (src.add(pixel * c + j), filter.add(tap * c + j));
        for (v, a) in acc.iter_mut().enumerate() {
            *a = F32x4::load(sp.add(4 * v)).mul_add(F32x4::load(fp.add(4 * v)), *a);
        }
    });
    for (v, a) in acc.iter().enumerate() {
        a.store(dst.add(j + 4 * v));
    }
}

/// The (pixel, tap) pairs that meet at one pixel, in (ky, kx) order.
trait Taps {
    fn each(g: &Conv2dGeometry, at: (usize, usize, usize), f: impl FnMut(usize, usize));
}

/// For output pixel (n, oy, ox): the input pixels of its window inside the image.
struct WindowOfOutput;
/// For input pixel (n, iy, ix): the output pixels whose windows hold it.
struct OutputsOfInput;

impl Taps for WindowOfOutput {
    #[inline(always)]
    fn each(
        g: &Conv2dGeometry,
        (n, oy, ox): (usize, usize, usize),
        mut f: impl FnMut(usize, usize),
    ) {
        for ky in 0..g.k_h {
            let iy = (oy * g.stride_h + ky * g.dil_h).wrapping_sub(g.pad_top);
            if iy >= g.in_h {
                continue;
            }
            for kx in 0..g.k_w {
                let ix = (ox * g.stride_w + kx * g.dil_w).wrapping_sub(g.pad_left);
                if ix < g.in_w {
                    f((n * g.in_h + iy) * g.in_w + ix, ky * g.k_w + kx);
                }
            }
        }
    }
}

impl Taps for OutputsOfInput {
    #[inline(always)]
    fn each(
        g: &Conv2dGeometry,
        (n, iy, ix): (usize, usize, usize),
        mut f: impl FnMut(usize, usize),
    ) {
        // Tap ky reaches iy from oy = (iy + pad_top − ky·d_h) / s_h when that divides exactly
        // (no division at stride 1, the common case: a division costs more than the tap).
        let (oh, ow) = (g.out_h(), g.out_w());
        for ky in 0..g.k_h {
            let ty = match (iy + g.pad_top).checked_sub(ky * g.dil_h) {
                Some(t) if g.stride_h == 1 && t < oh => t,
                Some(t) if g.stride_h > 1 && t % g.stride_h == 0 && t / g.stride_h < oh => {
                    t / g.stride_h
                }
                _ => continue,
            };
            for kx in 0..g.k_w {
                let tx = match (ix + g.pad_left).checked_sub(kx * g.dil_w) {
                    Some(t) if g.stride_w == 1 && t < ow => t,
                    Some(t) if g.stride_w > 1 && t % g.stride_w == 0 && t / g.stride_w < ow => {
                        t / g.stride_w
                    }
                    _ => continue,
                };
                f((n * oh + ty) * ow + tx, ky * g.k_w + kx);
            }
        }
    }
}

/// dx ← ∂⟨depthwise_conv2d(x, filter), dy⟩/∂x. dx is write-only.
///
/// # Safety
/// As [`depthwise_conv2d_forward`], with dy read and dx written.
pub unsafe fn depthwise_conv2d_backward_input(
    g: &Conv2dGeometry,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
) {
    if !is_valid_depthwise(g) {
        return;
    }
    let (c, oc) = (g.in_c, g.out_c);
    let mult = if c == 0 { 1 } else { oc / c };
    if mult == 1 {
        backward_input_in_registers(g, dy, filter, dx);
        return;
    }
    fill(dx, g.batch * g.in_h * g.in_w * c, 0.0);
    for_each_tap(g, |out, inp, tap| {
        let (gp, xp, fp) = (dy.add(out * oc), dx.add(inp * c), filter.add(tap * oc));
        for ci in 0..c {
            let mut s = 0.0;
            for m in 0..mult {
                s += *gp.add(ci * mult + m) * *fp.add(ci * mult + m);
            }
            *xp.add(ci) += s;
        }
    });
}

/// dfilter ← ∂⟨depthwise_conv2d(x, filter), dy⟩/∂filter. dfilter is write-only.
///
/// # Safety
/// As [`depthwise_conv2d_forward`], with x and dy read and dfilter (`k_h·k_w·C·mult`) written.
pub unsafe fn depthwise_conv2d_backward_filter(
    g: &Conv2dGeometry,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
) {
    if !is_valid_depthwise(g) {
        return;
    }
    let (c, oc) = (g.in_c, g.out_c);
    let mult = if c == 0 { 1 } else { oc / c };
    fill(dfilter, g.k_h * g.k_w * oc, 0.0);
    for_each_tap(g, |out, inp, tap| {
        let (gp, xp, fp) = (dy.add(out * oc), x.add(inp * c), dfilter.add(tap * oc));
        if mult == 1 {
            mul_acc(fp, xp, gp, c);
        } else {
            for ci in 0..c {
                let xv = *xp.add(ci);
                for m in 0..mult {
                    *fp.add(ci * mult + m) += xv * *gp.add(ci * mult + m);
                }
            }
        }
    });
}

#[cfg(test)]
#[path = "conv_depthwise_tests.rs"]
mod tests;

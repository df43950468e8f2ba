//! Depthwise 2-D convolution: NHWC input `[batch, in_h, in_w, C]`, filter `[k_h, k_w, C, mult]`,
//! output `[batch, out_h, out_w, C·mult]` whose channel `c·mult + m` is input channel c
//! convolved with filter slice (c, m) — TensorFlow's `depthwise_conv2d`.
//!
//! Geometry as in [`crate::conv`], with `g.out_c = C · mult`. There is no reduction over
//! channels, so no gemm: each kernel walks the output pixels once and, for each filter tap inside
//! the image, does one vector multiply-add along the channels (mult = 1, the common case; other
//! multipliers take a scalar loop).

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
mod tests {
    use super::*;
    use crate::conv::tests::{ints, taps};

    fn geometry(
        batch: usize,
        hwc: (usize, usize, usize),
        khw: (usize, usize),
        mult: usize,
    ) -> Conv2dGeometry {
        Conv2dGeometry {
            batch,
            in_h: hwc.0,
            in_w: hwc.1,
            in_c: hwc.2,
            k_h: khw.0,
            k_w: khw.1,
            out_c: hwc.2 * mult,
            stride_h: 1,
            stride_w: 1,
            dil_h: 1,
            dil_w: 1,
            pad_top: 0,
            pad_left: 0,
            pad_bottom: 0,
            pad_right: 0,
        }
    }

    /// Calls f(x index, filter index, y index) for every product term, straight from the
    /// definition.
    fn terms(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
        let (oh, ow, c) = (g.out_h(), g.out_w(), g.in_c);
        let mult = g.out_c / c;
        for n in 0..g.batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    taps(g, oy, ox, |ky, kx, iy, ix| {
                        for ci in 0..c {
                            for m in 0..mult {
                                let o = ci * mult + m;
                                f(
                                    ((n * g.in_h + iy) * g.in_w + ix) * c + ci,
                                    (ky * g.k_w + kx) * g.out_c + o,
                                    ((n * oh + oy) * ow + ox) * g.out_c + o,
                                );
                            }
                        }
                    });
                }
            }
        }
    }

    #[test]
    fn matches_reference_and_adjoints() {
        let mut cases = 0usize;
        for &c in &[1, 3, 4, 5, 9, 16, 21] {
            for &mult in &[1, 2, 3] {
                for &(kh, kw) in &[(1, 1), (3, 3), (2, 3)] {
                    for &(s, d) in
                        &[((1, 1), (1, 1)), ((2, 2), (1, 1)), ((1, 2), (2, 1)), ((2, 1), (2, 2))]
                    {
                        for &pads in &[(0, 0, 0, 0), (1, 1, 1, 1), (2, 0, 1, 0)] {
                            cases += 1;
                            let (h, w) = [(5, 7), (6, 4), (7, 5)][cases % 3];
                            let g = Conv2dGeometry {
                                stride_h: s.0,
                                stride_w: s.1,
                                dil_h: d.0,
                                dil_w: d.1,
                                pad_top: pads.0,
                                pad_left: pads.1,
                                pad_bottom: pads.2,
                                pad_right: pads.3,
                                ..geometry(1 + cases % 2, (h, w, c), (kh, kw), mult)
                            };
                            if !g.is_valid() {
                                continue;
                            }
                            check(&g, cases % 2 == 0);
                        }
                    }
                }
            }
        }
    }

    fn check(g: &Conv2dGeometry, with_bias: bool) {
        let x = ints(g.batch * g.in_h * g.in_w * g.in_c, 11);
        let w = ints(g.k_h * g.k_w * g.out_c, 12);
        let b = ints(g.out_c, 13);
        let dy = ints(g.rows() * g.out_c, 14);
        let mut y = vec![f32::NAN; dy.len()];
        let mut dx = vec![f32::NAN; x.len()];
        let mut dw = vec![f32::NAN; w.len()];
        let bias = if with_bias { b.as_ptr() } else { core::ptr::null() };
        unsafe {
            depthwise_conv2d_forward(g, x.as_ptr(), w.as_ptr(), bias, y.as_mut_ptr());
            depthwise_conv2d_backward_input(g, dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr());
            depthwise_conv2d_backward_filter(g, x.as_ptr(), dy.as_ptr(), dw.as_mut_ptr());
        }
        let mut y_ref: Vec<f64> =
            (0..y.len()).map(|i| if with_bias { b[i % g.out_c] as f64 } else { 0.0 }).collect();
        let mut dx_ref = vec![0.0f64; x.len()];
        let mut dw_ref = vec![0.0f64; w.len()];
        terms(g, |xi, fi, yi| {
            y_ref[yi] += x[xi] as f64 * w[fi] as f64;
            dx_ref[xi] += dy[yi] as f64 * w[fi] as f64;
            dw_ref[fi] += dy[yi] as f64 * x[xi] as f64;
        });
        let what = format!("{g:?} bias {with_bias}");
        for (name, got, want) in
            [("forward", &y, &y_ref), ("dx", &dx, &dx_ref), ("dw", &dw, &dw_ref)]
        {
            for (i, (a, e)) in got.iter().zip(want.iter()).enumerate() {
                assert!(*a as f64 == *e, "{name} {what}: at {i} expected {e}, got {a}");
            }
        }
        // ⟨conv(x, w), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩ without bias.
        let mut lhs = 0.0f64;
        terms(g, |xi, fi, yi| lhs += x[xi] as f64 * w[fi] as f64 * dy[yi] as f64);
        let dot =
            |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
        assert_eq!(lhs, dot(&dx, &x), "adjoint dx {what}");
        assert_eq!(lhs, dot(&dw, &w), "adjoint dw {what}");
    }

    #[test]
    fn rejects_channel_counts_that_are_not_multiples() {
        let g = Conv2dGeometry { out_c: 5, ..geometry(1, (3, 3, 2), (2, 2), 1) };
        assert!(!is_valid_depthwise(&g));
        let mut y = [f32::NAN; 20];
        unsafe {
            depthwise_conv2d_forward(
                &g,
                [1.0; 18].as_ptr(),
                [1.0; 20].as_ptr(),
                core::ptr::null(),
                y.as_mut_ptr(),
            )
        };
        assert!(y.iter().all(|v| v.is_nan()));
    }
}

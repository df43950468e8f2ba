//! 2-D pooling over NHWC tensors: max pooling (with the argmax its gradient needs), average
//! pooling that divides by the number of window cells inside the image (TensorFlow's behaviour,
//! `count_include_pad = false`), and global average pooling.
//!
//! Geometry is a [`Conv2dGeometry`] with `k_h × k_w` the pool window, `out_c = in_c` and
//! dilation 1. A valid pooling geometry also has every padding smaller than the window side, so
//! that every window holds at least one image cell (TensorFlow's 'same' padding always does).
//!
//! Max pooling records, per output value, the flat index into x of the cell that won (the first
//! maximum in row-major window order; a NaN wins over numbers, so NaN propagates). The backward
//! pass scatters dy through those indices: it needs neither x nor y, and ties send the whole
//! gradient to one cell, as TensorFlow's MaxPoolGrad does.

use crate::conv::{fill, Conv2dGeometry};
use crate::simd::F32x4;

/// True when `g` describes a pooling: valid, dilation 1, `out_c = in_c`, every padding smaller
/// than the window.
pub fn is_valid_pool(g: &Conv2dGeometry) -> bool {
    g.is_valid()
        && g.dil_h == 1
        && g.dil_w == 1
        && g.out_c == g.in_c
        && g.pad_top < g.k_h
        && g.pad_bottom < g.k_h
        && g.pad_left < g.k_w
        && g.pad_right < g.k_w
}

/// The window of output pixel (oy, ox) clipped to the image: rows y0..y1, columns x0..x1.
#[inline(always)]
fn window(g: &Conv2dGeometry, oy: usize, ox: usize) -> (usize, usize, usize, usize) {
    let top = oy * g.stride_h;
    let left = ox * g.stride_w;
    let y0 = top.saturating_sub(g.pad_top);
    let x0 = left.saturating_sub(g.pad_left);
    let y1 = (top + g.k_h - g.pad_top).min(g.in_h);
    let x1 = (left + g.k_w - g.pad_left).min(g.in_w);
    (y0, y1, x0, x1)
}

/// Calls `f(output pixel, first input pixel of the window, rows, columns)` for each output pixel;
/// pixel numbers count pixels (multiply by C for value offsets).
#[inline(always)]
unsafe fn for_each_window(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize, usize)) {
    let (oh, ow) = (g.out_h(), g.out_w());
    for n in 0..g.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                let (y0, y1, x0, x1) = window(g, oy, ox);
                f((n * oh + oy) * ow + ox, (n * g.in_h + y0) * g.in_w + x0, y1 - y0, x1 - x0);
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use crate::simd::F32x4;
    use core::arch::wasm32::*;

    /// Four i32 lanes (argmax indices).
    #[derive(Clone, Copy)]
    pub struct I32x4(v128);

    impl I32x4 {
        /// base, base + 1, base + 2, base + 3.
        #[inline(always)]
        pub fn ramp(base: i32) -> Self {
            I32x4(i32x4_add(i32x4_splat(base), i32x4(0, 1, 2, 3)))
        }
        #[inline(always)]
        pub unsafe fn store(self, p: *mut i32) {
            v128_store(p as *mut v128, self.0)
        }
    }

    /// Running max with its index: lanes of `v` that beat `best` (greater, or NaN over a number)
    /// replace it and bring `idx` along.
    #[inline(always)]
    pub fn max_step(best: F32x4, arg: I32x4, v: F32x4, idx: I32x4) -> (F32x4, I32x4) {
        // not (v ≤ best) is v > best or v NaN; and best a number keeps a NaN best. Three ops.
        let take = v128_andnot(f32x4_eq(best.0, best.0), f32x4_le(v.0, best.0));
        (F32x4(v128_bitselect(v.0, best.0, take)), I32x4(v128_bitselect(idx.0, arg.0, take)))
    }

    /// The value half of [`max_step`] (the same winner, so the same bits).
    #[inline(always)]
    pub fn max_value_step(best: F32x4, v: F32x4) -> F32x4 {
        let take = v128_andnot(f32x4_eq(best.0, best.0), f32x4_le(v.0, best.0));
        F32x4(v128_bitselect(v.0, best.0, take))
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    use crate::simd::F32x4;

    /// Scalar twin of the four i32 lanes.
    #[derive(Clone, Copy)]
    pub struct I32x4([i32; 4]);

    impl I32x4 {
        #[inline(always)]
        pub fn ramp(base: i32) -> Self {
            I32x4([base, base + 1, base + 2, base + 3])
        }
        #[inline(always)]
        pub unsafe fn store(self, p: *mut i32) {
            for (i, v) in self.0.iter().enumerate() {
                *p.add(i) = *v;
            }
        }
    }

    #[inline(always)]
    pub fn max_step(best: F32x4, arg: I32x4, v: F32x4, idx: I32x4) -> (F32x4, I32x4) {
        let (mut b, mut a) = (best.lanes(), arg.0);
        let vl = v.lanes();
        for i in 0..4 {
            if super::beats(vl[i], b[i]) {
                b[i] = vl[i];
                a[i] = idx.0[i];
            }
        }
        (F32x4::new(b[0], b[1], b[2], b[3]), I32x4(a))
    }

    #[inline(always)]
    pub fn max_value_step(best: F32x4, v: F32x4) -> F32x4 {
        max_step(best, I32x4([0; 4]), v, I32x4([0; 4])).0
    }
}

pub(crate) use lanes::max_value_step;
use lanes::{max_step, I32x4};

/// The comparison of [`max_step`] for one value.
#[inline(always)]
pub(crate) fn beats(v: f32, best: f32) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// y ← max over each window; when `argmax` is not null it receives, per output value, the flat
/// index into x of the winning cell. y and argmax are write-only.
///
/// # Safety
/// `g` valid for pooling; x holds `batch·in_h·in_w·C` values (fewer than 2³¹), y and argmax
/// (unless null) `batch·out_h·out_w·C` writable values each, not overlapping x or each other.
pub unsafe fn max_pool2d_forward(g: &Conv2dGeometry, x: *const f32, y: *mut f32, argmax: *mut i32) {
    if !is_valid_pool(g) {
        return;
    }
    let c = g.in_c;
    let pairs = g.k_h == 2 && g.k_w == 2 && g.stride_h == 2 && g.stride_w == 2;
    for_each_window(g, |out, first, rows, cols| {
        let (yo, ao) =
            (y.add(out * c), if argmax.is_null() { argmax } else { argmax.add(out * c) });
        if pairs && rows == 2 && cols == 2 {
            max_2x2(g, x, first * c, yo, ao);
        } else {
            max_window(g, x, first * c, rows, cols, yo, ao);
        }
    });
}

/// One output pixel of a whole 2×2 window whose first cell is x\[base\]: the four cells at
/// constant offsets, and without argmax no index arithmetic at all (the bulk of a 2×2/2 pooling).
#[inline(always)]
unsafe fn max_2x2(g: &Conv2dGeometry, x: *const f32, base: usize, y: *mut f32, argmax: *mut i32) {
    let (c, row) = (g.in_c, g.in_w * g.in_c);
    let offsets = [0, c, row, row + c];
    let mut ch = 0;
    if argmax.is_null() {
        while ch + 4 <= c {
            let p = x.add(base + ch);
            let mut best = F32x4::load(p);
            for &o in &offsets[1..] {
                best = max_value_step(best, F32x4::load(p.add(o)));
            }
            best.store(y.add(ch));
            ch += 4;
        }
    } else {
        while ch + 4 <= c {
            let at = base + ch;
            let mut best = F32x4::load(x.add(at));
            let mut arg = I32x4::ramp(at as i32);
            for &o in &offsets[1..] {
                let v = F32x4::load(x.add(at + o));
                (best, arg) = max_step(best, arg, v, I32x4::ramp((at + o) as i32));
            }
            best.store(y.add(ch));
            arg.store(argmax.add(ch));
            ch += 4;
        }
    }
    if ch < c {
        let arg_tail = if argmax.is_null() { argmax } else { argmax.add(ch) };
        max_window(g, x, base + ch, 2, 2, y.add(ch), arg_tail);
    }
}

/// The general window (clipped to `rows × cols` cells starting at x\[base\]) for the channels
/// from the one at `base` to the end of the pixel; `y` and `argmax` point at that channel's outputs.
#[inline(always)]
unsafe fn max_window(
    g: &Conv2dGeometry,
    x: *const f32,
    base: usize,
    rows: usize,
    cols: usize,
    y: *mut f32,
    argmax: *mut i32,
) {
    let (c, w) = (g.in_c, g.in_w);
    let count = c - base % c;
    let with_arg = !argmax.is_null();
    let mut ch = 0;
    while ch + 4 <= count {
        let start = base + ch;
        let mut best = F32x4::load(x.add(start));
        let mut arg = I32x4::ramp(start as i32);
        for i in 0..rows {
            for j in 0..cols {
                let at = start + (i * w + j) * c;
                (best, arg) = max_step(best, arg, F32x4::load(x.add(at)), I32x4::ramp(at as i32));
            }
        }
        best.store(y.add(ch));
        if with_arg {
            arg.store(argmax.add(ch));
        }
        ch += 4;
    }
    while ch < count {
        let start = base + ch;
        let (mut best, mut arg) = (*x.add(start), start);
        for i in 0..rows {
            for j in 0..cols {
                let at = start + (i * w + j) * c;
                if beats(*x.add(at), best) {
                    best = *x.add(at);
                    arg = at;
                }
            }
        }
        *y.add(ch) = best;
        if with_arg {
            *argmax.add(ch) = arg as i32;
        }
        ch += 1;
    }
}

/// dx ← 0, then dx\[argmax\[i\]\] += dy\[i\] for i < `y_len`. Indices outside `0..x_len` are
/// skipped, so a corrupt argmax buffer cannot write outside dx.
///
/// # Safety
/// dy and argmax hold `y_len` values, dx `x_len` writable values, not overlapping.
pub unsafe fn max_pool2d_backward(
    dy: *const f32,
    argmax: *const i32,
    y_len: usize,
    dx: *mut f32,
    x_len: usize,
) {
    fill(dx, x_len, 0.0);
    for i in 0..y_len {
        let at = *argmax.add(i) as usize;
        if at < x_len {
            *dx.add(at) += *dy.add(i);
        }
    }
}

/// y ← mean of each window over the cells inside the image. y is write-only.
///
/// # Safety
/// `g` valid for pooling; x holds `batch·in_h·in_w·C` values, y `batch·out_h·out_w·C` writable
/// values, not overlapping.
pub unsafe fn avg_pool2d_forward(g: &Conv2dGeometry, x: *const f32, y: *mut f32) {
    if !is_valid_pool(g) {
        return;
    }
    let (c, w) = (g.in_c, g.in_w);
    for_each_window(g, |out, first, rows, cols| {
        let count = (rows * cols) as f32;
        let mut ch = 0;
        while ch + 4 <= c {
            let mut acc = F32x4::zero();
            for i in 0..rows {
                for j in 0..cols {
                    acc = acc.add(F32x4::load(x.add((first + i * w + j) * c + ch)));
                }
            }
            acc.div(F32x4::splat(count)).store(y.add(out * c + ch));
            ch += 4;
        }
        while ch < c {
            let mut acc = 0.0f32;
            for i in 0..rows {
                for j in 0..cols {
                    acc += *x.add((first + i * w + j) * c + ch);
                }
            }
            *y.add(out * c + ch) = acc / count;
            ch += 1;
        }
    });
}

/// dx ← ∂⟨avg_pool2d(x), dy⟩/∂x: each dy value divided by its window's count, added to the
/// window's cells. dx is write-only.
///
/// # Safety
/// As [`avg_pool2d_forward`] with dy read and dx written.
pub unsafe fn avg_pool2d_backward(g: &Conv2dGeometry, dy: *const f32, dx: *mut f32) {
    if !is_valid_pool(g) {
        return;
    }
    let (c, w) = (g.in_c, g.in_w);
    fill(dx, g.batch * g.in_h * w * c, 0.0);
    for_each_window(g, |out, first, rows, cols| {
        let count = (rows * cols) as f32;
        let mut ch = 0;
        while ch + 4 <= c {
            let share = F32x4::load(dy.add(out * c + ch)).div(F32x4::splat(count));
            for i in 0..rows {
                for j in 0..cols {
                    let p = dx.add((first + i * w + j) * c + ch);
                    F32x4::load(p).add(share).store(p);
                }
            }
            ch += 4;
        }
        while ch < c {
            let share = *dy.add(out * c + ch) / count;
            for i in 0..rows {
                for j in 0..cols {
                    *dx.add((first + i * w + j) * c + ch) += share;
                }
            }
            ch += 1;
        }
    });
}

/// y\[n, c\] ← mean over the `pixels` rows of x\[n, ·, c\] (x is `[batch, pixels, C]`). y is
/// write-only; zero pixels give NaN (0/0), like a mean of nothing.
///
/// # Safety
/// x holds `batch·pixels·C` values, y `batch·C` writable values, not overlapping.
pub unsafe fn global_avg_pool2d_forward(
    x: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    y: *mut f32,
) {
    let count = F32x4::splat(pixels as f32);
    for n in 0..batch {
        let yr = y.add(n * c);
        fill(yr, c, 0.0);
        for p in 0..pixels {
            let xr = x.add((n * pixels + p) * c);
            let mut ch = 0;
            while ch + 4 <= c {
                F32x4::load(yr.add(ch)).add(F32x4::load(xr.add(ch))).store(yr.add(ch));
                ch += 4;
            }
            while ch < c {
                *yr.add(ch) += *xr.add(ch);
                ch += 1;
            }
        }
        let mut ch = 0;
        while ch + 4 <= c {
            F32x4::load(yr.add(ch)).div(count).store(yr.add(ch));
            ch += 4;
        }
        while ch < c {
            *yr.add(ch) /= pixels as f32;
            ch += 1;
        }
    }
}

/// dx\[n, p, c\] ← dy\[n, c\] / pixels. dx is write-only.
///
/// # Safety
/// dy holds `batch·C` values, dx `batch·pixels·C` writable values, not overlapping.
pub unsafe fn global_avg_pool2d_backward(
    dy: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    dx: *mut f32,
) {
    let count = F32x4::splat(pixels as f32);
    for n in 0..batch {
        let gr = dy.add(n * c);
        for p in 0..pixels {
            let xr = dx.add((n * pixels + p) * c);
            let mut ch = 0;
            while ch + 4 <= c {
                F32x4::load(gr.add(ch)).div(count).store(xr.add(ch));
                ch += 4;
            }
            while ch < c {
                *xr.add(ch) = *gr.add(ch) / pixels as f32;
                ch += 1;
            }
        }
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;

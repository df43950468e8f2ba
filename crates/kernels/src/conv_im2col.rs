//! im2col and col2im: the copies between an NHWC image and the column matrix of a convolution.
//!
//! The column matrix has one row per output pixel (n, oy, ox) and one column per filter tap
//! (ky, kx, c), in the HWIO order of the filter, so that `columns × filter[K, outC]` is the
//! convolution. A block holds the rows `r0 .. r0 + rows` of it, in one of two layouts:
//!
//! - [`ColLayout::PixelMajor`] (`[rows, K]`, row stride K): each tap is a run of C consecutive
//!   channels in both the image and the block, copied with vectors. Used when C ≥ 4.
//! - [`ColLayout::TapMajor`] (`[K, rows]`, column stride `rows`): each tap is a run of output
//!   pixels along a row of the image; with stride 1 and C = 1 (the first layer of an image
//!   network) that run is contiguous in the image too, so it is copied with vectors as well.
//!
//! gemm takes either layout through its strides, so no transpose is ever copied. Cells over the
//! padding are zero in an im2col block; col2im skips them.

use crate::conv::Conv2dGeometry;
use crate::simd::F32x4;

/// How a column block is laid out in memory (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColLayout {
    PixelMajor,
    TapMajor,
}

impl ColLayout {
    /// The layout the kernels use for `channels` input channels.
    pub fn for_channels(channels: usize) -> Self {
        if channels >= 4 {
            ColLayout::PixelMajor
        } else {
            ColLayout::TapMajor
        }
    }

    /// (row stride, column stride) in elements of a `rows × patch` block in this layout.
    pub fn strides(self, rows: usize, patch: usize) -> (isize, isize) {
        match self {
            ColLayout::PixelMajor => (patch as isize, 1),
            ColLayout::TapMajor => (1, rows as isize),
        }
    }
}

/// Fills `col` with rows `r0 .. r0 + rows` of the column matrix of `x` in `layout`, zero over
/// the padding.
///
/// # Safety
/// `g` must be valid; `x` must hold the whole input and `col` `rows · g.patch_len()` values.
pub unsafe fn im2col(
    g: &Conv2dGeometry,
    layout: ColLayout,
    x: *const f32,
    r0: usize,
    rows: usize,
    col: *mut f32,
) {
    walk::<Gather>(g, layout, x as *mut f32, r0, rows, col)
}

/// Adds rows `r0 .. r0 + rows` of a column-matrix block back into the image `dx` (the adjoint of
/// [`im2col`]); cells over the padding are ignored.
///
/// # Safety
/// As [`im2col`], with `dx` writable.
pub unsafe fn col2im(
    g: &Conv2dGeometry,
    layout: ColLayout,
    dx: *mut f32,
    r0: usize,
    rows: usize,
    col: *const f32,
) {
    walk::<Scatter>(g, layout, dx, r0, rows, col as *mut f32)
}

/// The per-run operation of a walk: a gather (image → block) or a scatter-add (block → image).
trait Transfer {
    /// `len` consecutive image values and `len` consecutive block values.
    unsafe fn run(x: *mut f32, col: *mut f32, len: usize);
    /// Image values `stride` apart and `len` consecutive block values.
    unsafe fn strided(x: *mut f32, stride: usize, col: *mut f32, len: usize);
    /// `len` block cells that lie over the padding.
    unsafe fn pad(col: *mut f32, len: usize);
}

struct Gather;
struct Scatter;

impl Transfer for Gather {
    #[inline(always)]
    unsafe fn run(x: *mut f32, col: *mut f32, len: usize) {
        if len < 4 {
            for i in 0..len {
                *col.add(i) = *x.add(i);
            }
            return;
        }
        let mut i = 0;
        while i + 4 <= len {
            F32x4::load(x.add(i)).store(col.add(i));
            i += 4;
        }
        // The last values again as one vector ending at `len` (rewriting equal values is
        // harmless): cheaper than a scalar tail.
        if i < len {
            F32x4::load(x.add(len - 4)).store(col.add(len - 4));
        }
    }
    #[inline(always)]
    unsafe fn strided(x: *mut f32, stride: usize, col: *mut f32, len: usize) {
        for i in 0..len {
            *col.add(i) = *x.add(i * stride);
        }
    }
    #[inline(always)]
    unsafe fn pad(col: *mut f32, len: usize) {
        crate::conv::fill(col, len, 0.0)
    }
}

impl Transfer for Scatter {
    #[inline(always)]
    unsafe fn run(x: *mut f32, col: *mut f32, len: usize) {
        let mut i = 0;
        while i + 4 <= len {
            F32x4::load(x.add(i)).add(F32x4::load(col.add(i))).store(x.add(i));
            i += 4;
        }
        while i < len {
            *x.add(i) += *col.add(i);
            i += 1;
        }
    }
    #[inline(always)]
    unsafe fn strided(x: *mut f32, stride: usize, col: *mut f32, len: usize) {
        for i in 0..len {
            *x.add(i * stride) += *col.add(i);
        }
    }
    #[inline(always)]
    unsafe fn pad(_col: *mut f32, _len: usize) {}
}

unsafe fn walk<T: Transfer>(
    g: &Conv2dGeometry,
    layout: ColLayout,
    x: *mut f32,
    r0: usize,
    rows: usize,
    col: *mut f32,
) {
    match layout {
        ColLayout::PixelMajor => walk_pixel_major::<T>(g, x, r0, rows, col),
        ColLayout::TapMajor => walk_tap_major::<T>(g, x, r0, rows, col),
    }
}

/// Position of a row of the column matrix: output pixel (n, oy, ox), with the output sides
/// cached (computing them divides).
#[derive(Clone, Copy)]
struct Pixel {
    n: usize,
    oy: usize,
    ox: usize,
    oh: usize,
    ow: usize,
}

impl Pixel {
    fn of_row(g: &Conv2dGeometry, r: usize) -> Self {
        let (oh, ow) = (g.out_h(), g.out_w());
        Pixel { n: r / (oh * ow), oy: r / ow % oh, ox: r % ow, oh, ow }
    }
    /// Moves `count` pixels on, where `count` never crosses more than the end of this output row.
    #[inline(always)]
    fn advance(&mut self, count: usize) {
        self.ox += count;
        if self.ox == self.ow {
            self.ox = 0;
            self.oy += 1;
            if self.oy == self.oh {
                self.oy = 0;
                self.n += 1;
            }
        }
    }
    /// Input row of filter row `ky`, or None over the padding.
    #[inline(always)]
    fn input_row(self, g: &Conv2dGeometry, ky: usize) -> Option<usize> {
        let iy = (self.oy * g.stride_h + ky * g.dil_h).wrapping_sub(g.pad_top);
        if iy < g.in_h {
            Some(iy)
        } else {
            None
        }
    }
}

/// `[rows, K]` block: per output pixel, per filter row, one run of `k_w · C` values when the whole
/// filter row lies inside the image (and dilation is 1), else one run of C values per tap.
unsafe fn walk_pixel_major<T: Transfer>(
    g: &Conv2dGeometry,
    x: *mut f32,
    r0: usize,
    rows: usize,
    col: *mut f32,
) {
    let (w, c) = (g.in_w, g.in_c);
    let row_len = g.k_w * c;
    let patch = g.patch_len();
    let mut p = Pixel::of_row(g, r0);
    for r in 0..rows {
        let dst = col.add(r * patch);
        let ix0 = (p.ox * g.stride_w).wrapping_sub(g.pad_left);
        let whole_row = g.dil_w == 1 && ix0 < w && ix0 + g.k_w <= w;
        let image = x.add(p.n * g.in_h * w * c);
        for ky in 0..g.k_h {
            let d = dst.add(ky * row_len);
            let iy = match p.input_row(g, ky) {
                Some(iy) => iy,
                None => {
                    T::pad(d, row_len);
                    continue;
                }
            };
            let src = image.add(iy * w * c);
            if whole_row {
                T::run(src.add(ix0 * c), d, row_len);
                continue;
            }
            for kx in 0..g.k_w {
                let ix = ix0.wrapping_add(kx * g.dil_w);
                if ix < w {
                    T::run(src.add(ix * c), d.add(kx * c), c);
                } else {
                    T::pad(d.add(kx * c), c);
                }
            }
        }
        p.advance(1);
    }
}

/// `[K, rows]` block: per tap (ky, kx, c), per stretch of one output row inside the block, a run
/// of output pixels whose inputs lie `stride_w · C` apart (contiguous when that is 1).
unsafe fn walk_tap_major<T: Transfer>(
    g: &Conv2dGeometry,
    x: *mut f32,
    r0: usize,
    rows: usize,
    col: *mut f32,
) {
    let (w, c, sw) = (g.in_w, g.in_c, g.stride_w);
    let ow = g.out_w();
    let step = sw * c;
    for ky in 0..g.k_h {
        for kx in 0..g.k_w {
            // Output columns ox in [lo, hi) read inside the image: 0 ≤ ox·sw + kx·dw − pl < w.
            let shift = kx * g.dil_w;
            let lo = if shift >= g.pad_left { 0 } else { div_ceil(g.pad_left - shift, sw) };
            let hi = if w + g.pad_left > shift { div_ceil(w + g.pad_left - shift, sw) } else { 0 };
            let (lo, hi) = (lo.min(ow), hi.min(ow).max(lo.min(ow)));
            for ci in 0..c {
                let tap = (ky * g.k_w + kx) * c + ci;
                let dst = col.add(tap * rows);
                let mut p = Pixel::of_row(g, r0);
                let mut done = 0;
                while done < rows {
                    let seg = (rows - done).min(ow - p.ox);
                    let d = dst.add(done);
                    match p.input_row(g, ky) {
                        None => T::pad(d, seg),
                        Some(iy) => {
                            let (a, b) = (lo.max(p.ox).min(p.ox + seg), hi.min(p.ox + seg));
                            let b = b.max(a);
                            T::pad(d, a - p.ox);
                            if b > a {
                                let ix = a * sw + shift - g.pad_left;
                                let src = x.add(((p.n * g.in_h + iy) * w + ix) * c + ci);
                                let out = d.add(a - p.ox);
                                if step == 1 {
                                    T::run(src, out, b - a);
                                } else {
                                    T::strided(src, step, out, b - a);
                                }
                            }
                            T::pad(d.add(b - p.ox), p.ox + seg - b);
                        }
                    }
                    done += seg;
                    p.advance(seg);
                }
            }
        }
    }
}

#[inline(always)]
fn div_ceil(a: usize, b: usize) -> usize {
    (a + b - 1) / b
}

//! Winograd F(2×2, 3×3) forward convolution for 3×3 filters with stride 1 and dilation 1
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! Each 2×2 block of outputs ("tile") is computed from the 4×4 input window under it:
//! `Y = Aᵀ [Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)] A`. The sum over input channels is, for each of the 16
//! positions of the 4×4 transformed tile, a matrix product `V[pos][tiles, C] × U[pos][C, outC]`,
//! so a tile needs 16 multiply-adds per (input, output) channel pair where the direct convolution
//! needs 36: 2.25× fewer, paid for with input and output transforms whose cost grows with C and
//! outC only (not with their product).
//!
//! Tiles are numbered over the whole batch (image, tile row, tile column) and processed four at a
//! time, so tile rows that do not divide by four waste nothing. For each group the input
//! transform writes `V` (16 × 4 × C₄), the 4×8 register tile multiplies it by `U` (16 × C₄ × O₈,
//! the transformed filter, built once per call) into `M` (16 × 4 × O₈), and the output transform
//! adds the bias, applies the activation and stores the outputs that exist (C₄ and O₈ are the
//! channel counts rounded up to 4 and 8, the extra rows and columns zero). Everything but `U`
//! stays in L1.
//!
//! Rounding: the transforms add and subtract (and halve, for `U`), so results differ from the
//! direct sum by a few ulps of the largest term; with small-integer inputs they are exact.

use crate::conv::Conv2dGeometry;
use crate::gemm::{ACT_RELU, ACT_RELU6};
use crate::simd::F32x4;

/// Tiles per group (rows of the register tile).
const TILES: usize = 4;
/// Positions of a transformed 4×4 tile.
const POS: usize = 16;

/// True when the Winograd path computes `g`: a 3×3 filter, stride 1, dilation 1.
pub fn applies(g: &Conv2dGeometry) -> bool {
    g.k_h == 3 && g.k_w == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1
}

fn round_up(v: usize, to: usize) -> usize {
    (v + to - 1) / to * to
}

/// Largest zero-padded image copy, in f32 values (256 KiB: a ring of four stays in L2).
const PADDED_IMAGE_MAX: usize = 1 << 16;

/// Sides and size of the zero-padded copy of one image that every tile window of `g` lies in
/// (rows from −pad_top, columns from −pad_left, channels rounded up to 4), or None when larger
/// than [`PADDED_IMAGE_MAX`] (tiles then read the image itself, clipping at its edges).
fn padded_image(g: &Conv2dGeometry) -> Option<(usize, usize, usize)> {
    let rows = 2 * ((g.out_h() + 1) / 2) + 2;
    let cols = 2 * ((g.out_w() + 1) / 2) + 2;
    let len = rows.checked_mul(cols)?.checked_mul(round_up(g.in_c, 4))?;
    if len <= PADDED_IMAGE_MAX {
        Some((rows, cols, len))
    } else {
        None
    }
}

/// Workspace in f32 values: U, V and M (see the module documentation), then a ring of
/// [`TILES`] padded images when [`padded_image`] allows them.
pub fn workspace_len(g: &Conv2dGeometry) -> usize {
    let (c4, o8) = (round_up(g.in_c, 4), round_up(g.out_c, 8));
    let ring = padded_image(g).map_or(0, |(_, _, len)| TILES * len);
    POS * c4 * o8 + POS * TILES * c4 + POS * TILES * o8 + ring
}

/// A ring of zero-padded image copies: a group of tiles spans at most [`TILES`] images, so the
/// images of the current group all have a slot. Borders are zeroed once; each image copies only
/// its interior in.
struct Ring {
    base: *mut f32,
    rows: usize,
    cols: usize,
    len: usize,
    held: [usize; TILES],
}

impl Ring {
    unsafe fn new(g: &Conv2dGeometry, base: *mut f32) -> Option<Ring> {
        let (rows, cols, len) = padded_image(g)?;
        crate::conv::fill(base, TILES * len, 0.0);
        Some(Ring { base, rows, cols, len, held: [usize::MAX; TILES] })
    }

    /// The padded copy of image n (copied in on first use).
    unsafe fn image(&mut self, g: &Conv2dGeometry, x: *const f32, n: usize) -> *const f32 {
        let slot = n % TILES;
        let dst = self.base.add(slot * self.len);
        if self.held[slot] != n {
            self.held[slot] = n;
            let (h, w, c, c4) = (g.in_h, g.in_w, g.in_c, round_up(g.in_c, 4));
            let image = x.add(n * h * w * c);
            let copy_rows = h.min(self.rows - g.pad_top);
            let copy_cols = w.min(self.cols - g.pad_left);
            for iy in 0..copy_rows {
                let to = dst.add(((iy + g.pad_top) * self.cols + g.pad_left) * c4);
                let from = image.add(iy * w * c);
                if c == c4 {
                    crate::conv::copy(from, to, copy_cols * c);
                } else {
                    for ix in 0..copy_cols {
                        crate::conv::copy(from.add(ix * c), to.add(ix * c4), c);
                    }
                }
            }
        }
        dst
    }
}

/// y ← act(conv2d(x, filter) + bias) for a geometry where [`applies`] holds; `act` is one of the
/// `crate::gemm::ACT_*` codes (anything else is linear). bias may be null. y is write-only.
///
/// # Safety
/// `g` valid and [`applies`]; x holds `batch·in_h·in_w·in_c` values, filter `9·in_c·out_c`, bias
/// `out_c` (unless null), y `batch·out_h·out_w·out_c` writable values; `work` holds
/// [`workspace_len`] writable values, 16-byte aligned. y and work overlap nothing else.
pub unsafe fn conv2d_forward_winograd(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    forward(g, x, filter, bias, y, act, work, false)
}

/// The forward pass followed by a 2×2 max pooling with stride 2 (`valid`: the last output row
/// or column is dropped when out_h or out_w is odd), y `[batch, out_h/2, out_w/2, out_c]`. A
/// Winograd tile is exactly one pooling window, so each tile's four outputs are activated and
/// reduced to their maximum in its output transform, bit-equal to pooling the stored outputs
/// (the same values, compared in the same order), and tiles under no window are skipped.
///
/// # Safety
/// As [`conv2d_forward_winograd`], with y holding `batch·(out_h/2)·(out_w/2)·out_c` values.
pub unsafe fn conv2d_forward_winograd_maxpool2(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    forward(g, x, filter, bias, y, act, work, true)
}

/// One copy for both entry points (`pooled` only picks the output transform per tile).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn forward(
    g: &Conv2dGeometry,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
    pooled: bool,
) {
    let (c4, o8) = (round_up(g.in_c, 4), round_up(g.out_c, 8));
    let u = work;
    let v = u.add(POS * c4 * o8);
    let m = v.add(POS * TILES * c4);
    let mut ring = Ring::new(g, m.add(POS * TILES * o8));
    transform_filter(g, filter, u, c4, o8);
    let shape = Shape { oh: g.out_h(), ow: g.out_w(), o8 };
    // Pooled, only the tiles under a whole window: exactly (out/2) per side.
    let (th, tw) = if pooled {
        (shape.oh / 2, shape.ow / 2)
    } else {
        ((shape.oh + 1) / 2, (shape.ow + 1) / 2)
    };
    let total = g.batch * th * tw;
    // Tiles are walked in order (image, tile row, tile column) without dividing.
    let mut next = Tile { n: 0, ty: 0, tx: 0 };
    let mut t0 = 0;
    while t0 < total {
        let count = TILES.min(total - t0);
        let mut tiles = [next; TILES];
        for (i, t) in tiles.iter_mut().enumerate() {
            // Missing tiles of the last group repeat the first one: their products are
            // computed and never stored.
            if i < count {
                *t = next;
                next.advance(th, tw);
            }
        }
        for (i, t) in tiles.iter().enumerate() {
            match ring.as_mut() {
                Some(r) => {
                    let image = r.image(g, x, t.n);
                    let at = image.add((2 * t.ty * r.cols + 2 * t.tx) * c4);
                    transform_window(at, r.cols * c4, c4, v.add(i * c4), c4);
                }
                None => transform_input(g, x, *t, v.add(i * c4), c4),
            }
        }
        multiply(u, v, m, c4, o8);
        for (i, t) in tiles.iter().take(count).enumerate() {
            if pooled {
                transform_output_pooled(g, (th, tw), o8, m.add(i * o8), *t, bias, y, act);
            } else {
                transform_output(g, &shape, m.add(i * o8), *t, bias, y, act);
            }
        }
        t0 += count;
    }
}

/// Sizes the output transform needs, computed once per call (out_h/out_w divide).
struct Shape {
    oh: usize,
    ow: usize,
    o8: usize,
}

/// Tile (ty, tx) of image n: outputs rows 2ty, 2ty+1 and columns 2tx, 2tx+1.
#[derive(Clone, Copy)]
struct Tile {
    n: usize,
    ty: usize,
    tx: usize,
}

impl Tile {
    /// The next tile in (image, tile row, tile column) order.
    #[inline(always)]
    fn advance(&mut self, th: usize, tw: usize) {
        self.tx += 1;
        if self.tx == tw {
            self.tx = 0;
            self.ty += 1;
            if self.ty == th {
                self.ty = 0;
                self.n += 1;
            }
        }
    }
}

/// M[pos][tile][o] ← Σ_c V[pos][tile][c] · U[pos][c][o] for the four tiles of a group: per
/// position and 8 output channels, a 4×8 register tile over c (8 accumulators, two U vectors,
/// one broadcast: V8 keeps them all in registers).
#[inline(always)]
unsafe fn multiply(u: *const f32, v: *const f32, m: *mut f32, c4: usize, o8: usize) {
    for pos in 0..POS {
        let up = u.add(pos * c4 * o8);
        let vp = v.add(pos * TILES * c4);
        let mp = m.add(pos * TILES * o8);
        let mut o = 0;
        while o < o8 {
            let mut acc = [F32x4::zero(); 8];
            let mut b = up.add(o);
            let mut a = vp;
            for _ in 0..c4 {
                let (b0, b1) = (F32x4::load(b), F32x4::load(b.add(4)));
                for i in 0..TILES {
                    let ai = F32x4::splat(*a.add(i * c4));
                    acc[2 * i] = ai.mul_add(b0, acc[2 * i]);
                    acc[2 * i + 1] = ai.mul_add(b1, acc[2 * i + 1]);
                }
                b = b.add(o8);
                a = a.add(1);
            }
            for i in 0..TILES {
                acc[2 * i].store(mp.add(i * o8 + o));
                acc[2 * i + 1].store(mp.add(i * o8 + o + 4));
            }
            o += 8;
        }
    }
}

/// The `ACT_*` activation of the conv epilogue (the same formulas as gemm's store).
#[inline(always)]
pub(crate) fn activate(v: F32x4, act: i32) -> F32x4 {
    match act {
        ACT_RELU => v.max(F32x4::zero()),
        ACT_RELU6 => v.max(F32x4::zero()).min(F32x4::splat(6.0)),
        _ => v,
    }
}

#[path = "conv_winograd_transform.rs"]
mod transform;
use transform::{
    transform_filter, transform_input, transform_output, transform_output_pooled, transform_window,
};

#[cfg(test)]
#[path = "conv_winograd_tests.rs"]
mod tests;

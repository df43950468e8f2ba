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
use crate::pool::max_value_step;
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

/// U[pos][c][o] ← (G g Gᵀ)[pos] for the 3×3 filter g of (c, o), zero for c ≥ in_c or o ≥ out_c.
/// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
unsafe fn transform_filter(
    g: &Conv2dGeometry,
    filter: *const f32,
    u: *mut f32,
    c4: usize,
    o8: usize,
) {
    let (c, oc) = (g.in_c, g.out_c);
    crate::conv::fill(u, POS * c4 * o8, 0.0);
    for ci in 0..c {
        for o in 0..oc {
            let w = |ky: usize, kx: usize| *filter.add(((ky * 3 + kx) * c + ci) * oc + o);
            // Rows: t = G·g (4×3).
            let mut t = [[0.0f32; 3]; 4];
            for kx in 0..3 {
                let (g0, g1, g2) = (w(0, kx), w(1, kx), w(2, kx));
                t[0][kx] = g0;
                t[1][kx] = 0.5 * (g0 + g1 + g2);
                t[2][kx] = 0.5 * (g0 - g1 + g2);
                t[3][kx] = g2;
            }
            // Columns: t·Gᵀ (4×4).
            for (r, row) in t.iter().enumerate() {
                let vals = [
                    row[0],
                    0.5 * (row[0] + row[1] + row[2]),
                    0.5 * (row[0] - row[1] + row[2]),
                    row[2],
                ];
                for (col, val) in vals.iter().enumerate() {
                    *u.add(((r * 4 + col) * c4 + ci) * o8 + o) = *val;
                }
            }
        }
    }
}

/// V[pos][tile][c] ← (Bᵀ d B)[pos] for the 4×4 input window d of the tile, channel by channel
/// (4 at a time), zero outside the image and for c ≥ in_c; `v` points at the tile's row, whose
/// positions lie `TILES·c4` apart. Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
#[inline(always)]
unsafe fn transform_input(g: &Conv2dGeometry, x: *const f32, t: Tile, v: *mut f32, c4: usize) {
    let (h, w, c) = (g.in_h, g.in_w, g.in_c);
    let top = (2 * t.ty).wrapping_sub(g.pad_top);
    let left = (2 * t.tx).wrapping_sub(g.pad_left);
    let image = x.add(t.n * h * w * c);
    let inside = top < h && top.wrapping_add(3) < h && left < w && left.wrapping_add(3) < w;
    if inside && c == c4 {
        // The bulk: the whole window inside the image and whole channel vectors.
        transform_window(image.add((top * w + left) * c), w * c, c, v, c4);
        return;
    }
    let row_in = |r: usize| top.wrapping_add(r) < h;
    let col_in = |q: usize| left.wrapping_add(q) < w;
    let mut ch = 0;
    while ch < c4 {
        let load = |r: usize, q: usize| -> F32x4 {
            if !(row_in(r) && col_in(q)) {
                return F32x4::zero();
            }
            let p = image.add((top.wrapping_add(r) * w + left.wrapping_add(q)) * c + ch);
            if ch + 4 <= c {
                return F32x4::load(p);
            }
            let mut l = [0.0f32; 4];
            for (k, lane) in l.iter_mut().enumerate().take(c.saturating_sub(ch).min(4)) {
                *lane = *p.add(k);
            }
            F32x4::new(l[0], l[1], l[2], l[3])
        };
        transform_input_vectors(load, v.add(ch), c4);
        ch += 4;
    }
}

/// V for a 4×4 window wholly in memory: pixel (r, q) at `base + r·row + q·pixel`, whole
/// vectors of `c4` channels, so every load is a plain vector load at a constant offset.
#[inline(always)]
unsafe fn transform_window(base: *const f32, row: usize, pixel: usize, v: *mut f32, c4: usize) {
    let mut ch = 0;
    while ch < c4 {
        let p = base.add(ch);
        transform_input_vectors(|r, q| F32x4::load(p.add(r * row + q * pixel)), v.add(ch), c4);
        ch += 4;
    }
}

/// Bᵀ d B for one vector of channels, d\[r\]\[q\] = `load(r, q)`, stored at `v` + position·TILES·c4.
#[inline(always)]
unsafe fn transform_input_vectors(load: impl Fn(usize, usize) -> F32x4, v: *mut f32, c4: usize) {
    let pos_stride = TILES * c4;
    // s = Bᵀ d (column by column), then V[r][·] = s[r]·B. Rows of s are produced in pairs that
    // share their loads (1 and 2, then 0, then 3), so that at most two rows are live: sixteen
    // live vectors would not fit V8's register file.
    let put = |r: usize, row: [F32x4; 4]| {
        let out = [row[0].sub(row[2]), row[1].add(row[2]), row[2].sub(row[1]), row[1].sub(row[3])];
        for (q, val) in out.iter().enumerate() {
            val.store(v.add((r * 4 + q) * pos_stride));
        }
    };
    let (mut s1, mut s2) = ([F32x4::zero(); 4], [F32x4::zero(); 4]);
    for q in 0..4 {
        let (d1, d2) = (load(1, q), load(2, q));
        s1[q] = d1.add(d2);
        s2[q] = d2.sub(d1);
    }
    put(1, s1);
    put(2, s2);
    let mut s0 = [F32x4::zero(); 4];
    for (q, lane) in s0.iter_mut().enumerate() {
        *lane = load(0, q).sub(load(2, q));
    }
    put(0, s0);
    let mut s3 = [F32x4::zero(); 4];
    for (q, lane) in s3.iter_mut().enumerate() {
        *lane = load(1, q).sub(load(3, q));
    }
    put(3, s3);
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

/// The 2×2 outputs of a tile: Aᵀ M A + bias, activated, stored where they exist.
/// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]. `m` points at the tile's row of M.
#[inline(always)]
unsafe fn transform_output(
    g: &Conv2dGeometry,
    shape: &Shape,
    m: *const f32,
    t: Tile,
    bias: *const f32,
    y: *mut f32,
    act: i32,
) {
    let (oh, ow, oc) = (shape.oh, shape.ow, g.out_c);
    let (oy, ox) = (2 * t.ty, 2 * t.tx);
    let rows = 2.min(oh - oy);
    let cols = 2.min(ow - ox);
    let pos_stride = TILES * shape.o8;
    let out = y.add(((t.n * oh + oy) * ow + ox) * oc);
    let whole = rows == 2 && cols == 2 && oc % 4 == 0;
    let mut o = 0;
    while o < oc {
        let mp = m.add(o);
        let tile = transform_output_vector(|pos| F32x4::load(mp.add(pos * pos_stride)));
        let b = bias_vector(bias, o, oc);
        if whole {
            for (i, val) in tile.iter().enumerate() {
                let p = out.add(((i >> 1) * ow + (i & 1)) * oc + o);
                activate(val.add(b), act).store(p);
            }
        } else {
            for (i, val) in tile.iter().enumerate() {
                let (r, q) = (i >> 1, i & 1);
                if r >= rows || q >= cols {
                    continue;
                }
                let p = out.add((r * ow + q) * oc + o);
                store_lanes(activate(val.add(b), act), p, oc - o);
            }
        }
        o += 4;
    }
}

/// The pooled output of a tile: the maximum of its four activated outputs, taken in row-major
/// order with max pooling's comparison (NaN wins), stored at pixel (ty, tx) of the
/// `pooled.0 × pooled.1` output image. `m` points at the tile's row of M.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn transform_output_pooled(
    g: &Conv2dGeometry,
    pooled: (usize, usize),
    o8: usize,
    m: *const f32,
    t: Tile,
    bias: *const f32,
    y: *mut f32,
    act: i32,
) {
    let oc = g.out_c;
    let pos_stride = TILES * o8;
    let out = y.add(((t.n * pooled.0 + t.ty) * pooled.1 + t.tx) * oc);
    let mut o = 0;
    while o < oc {
        let mp = m.add(o);
        let tile = transform_output_vector(|pos| F32x4::load(mp.add(pos * pos_stride)));
        let b = bias_vector(bias, o, oc);
        let mut best = activate(tile[0].add(b), act);
        for val in &tile[1..] {
            best = max_value_step(best, activate(val.add(b), act));
        }
        store_lanes(best, out.add(o), oc - o);
        o += 4;
    }
}

/// Bias of channels o .. o + 4 (zero past `oc`, or everywhere for a null bias).
#[inline(always)]
unsafe fn bias_vector(bias: *const f32, o: usize, oc: usize) -> F32x4 {
    if bias.is_null() {
        F32x4::zero()
    } else if o + 4 <= oc {
        F32x4::load(bias.add(o))
    } else {
        let mut l = [0.0f32; 4];
        for (k, lane) in l.iter_mut().enumerate().take(oc - o) {
            *lane = *bias.add(o + k);
        }
        F32x4::new(l[0], l[1], l[2], l[3])
    }
}

/// Stores the first `count` lanes of `v` (all four when count ≥ 4) at `p`.
#[inline(always)]
unsafe fn store_lanes(v: F32x4, p: *mut f32, count: usize) {
    if count >= 4 {
        v.store(p);
    } else {
        for (k, lane) in v.lanes().iter().enumerate().take(count) {
            *p.add(k) = *lane;
        }
    }
}

/// Aᵀ M A for one vector of channels, M\[pos\] = `at(pos)`: outputs (0,0), (0,1), (1,0), (1,1).
#[inline(always)]
fn transform_output_vector(at: impl Fn(usize) -> F32x4) -> [F32x4; 4] {
    // Columns: s[r][q] = (Aᵀ M)[r][q].
    let mut s = [[F32x4::zero(); 4]; 2];
    for q in 0..4 {
        let (m0, m1, m2, m3) = (at(q), at(4 + q), at(8 + q), at(12 + q));
        s[0][q] = m0.add(m1).add(m2);
        s[1][q] = m1.sub(m2).sub(m3);
    }
    let [s0, s1] = s;
    [
        s0[0].add(s0[1]).add(s0[2]),
        s0[1].sub(s0[2]).sub(s0[3]),
        s1[0].add(s1[1]).add(s1[2]),
        s1[1].sub(s1[2]).sub(s1[3]),
    ]
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

#[cfg(test)]
#[path = "conv_winograd_tests.rs"]
mod tests;

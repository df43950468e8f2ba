//! The transforms of the Winograd F(2×2, 3×3) forward ([`super`]): the filter transform
//! `U = G g Gᵀ`, the input transform `V = Bᵀ d B` of each tile's 4×4 window, and the output
//! transform `Aᵀ M A` with bias and activation (or their 2×2 maximum, for the pooling fusion).

use super::{activate, Shape, Tile, POS, TILES};
use crate::conv::Conv2dGeometry;
use crate::pool::max_value_step;
use crate::simd::F32x4;

/// U[pos][c][o] ← (G g Gᵀ)[pos] for the 3×3 filter g of (c, o), zero for c ≥ in_c or o ≥ out_c.
/// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
pub(super) unsafe fn transform_filter(
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
pub(super) unsafe fn transform_input(
    g: &Conv2dGeometry,
    x: *const f32,
    t: Tile,
    v: *mut f32,
    c4: usize,
) {
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
pub(super) unsafe fn transform_window(
    base: *const f32,
    row: usize,
    pixel: usize,
    v: *mut f32,
    c4: usize,
) {
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

/// The 2×2 outputs of a tile: Aᵀ M A + bias, activated, stored where they exist.
/// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]. `m` points at the tile's row of M.
#[inline(always)]
pub(super) unsafe fn transform_output(
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
pub(super) unsafe fn transform_output_pooled(
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

//! Recurrent-layer kernels: the fused per-timestep gate math of LSTM and GRU cells (forward and
//! backward), a 3-D strided row copy that moves sequences between the batch-major layout users
//! see ([batch, time, features]) and the time-major layout the layers compute in, and the
//! scatter-add of embedding gradients.
//!
//! The layers do the matrix products with the gemm kernel: one gemm projects the inputs of every
//! timestep at once, one gemm per step adds the recurrent term, and the fused kernels here apply
//! the gate nonlinearities and state updates in one pass over the gates, so each step reads and
//! writes its gate matrix once. GRU's `reset_after = false` form needs a second gemm inside the
//! step ((r·h_prev)·U_h), so its step is split into two kernels around it, forward and backward.
//! Gate layout follows Keras/tfjs: a [batch, k·units] row holds the gates side by side, LSTM
//! i, f, c, o (k = 4), GRU z, r, h (k = 3).
//!
//! Every kernel is written once against [`F32x4`]: full vectors of four units, then the leftover
//! units as one partial vector (loaded into a zero-padded register, stored lane by lane), so that
//! the tail does the very same arithmetic.

use crate::math::{sigmoid, tanh};
use crate::simd::F32x4;

/// Loads `n` ≤ 4 consecutive values (zero-padded when `n` < 4).
#[inline(always)]
unsafe fn load_n(p: *const f32, n: usize) -> F32x4 {
    if n == 4 {
        F32x4::load(p)
    } else {
        let mut t = [0.0f32; 4];
        for (k, v) in t.iter_mut().enumerate().take(n) {
            *v = *p.add(k);
        }
        F32x4::load(t.as_ptr())
    }
}

/// Stores the first `n` ≤ 4 lanes.
#[inline(always)]
unsafe fn store_n(v: F32x4, p: *mut f32, n: usize) {
    if n == 4 {
        v.store(p)
    } else {
        for (k, x) in v.lanes().iter().enumerate().take(n) {
            *p.add(k) = *x;
        }
    }
}

/// Gate activation codes (`gate_act`): Keras' sigmoid, or tfjs/Keras 2's hard sigmoid
/// clip(0.2·x + 0.5, 0, 1) (tfjs-layers' default recurrentActivation).
pub const GATE_SIGMOID: i32 = 0;
pub const GATE_HARD_SIGMOID: i32 = 1;

/// The gate activation of a pre-activation vector.
#[inline(always)]
fn gate(hard: bool, x: F32x4) -> F32x4 {
    if hard {
        x.mul(F32x4::splat(0.2)).add(F32x4::splat(0.5)).max(F32x4::zero()).min(F32x4::splat(1.0))
    } else {
        sigmoid(x)
    }
}

/// The gate activation's derivative from its output y: y(1 − y) for sigmoid; 0.2 inside the
/// linear part of the hard sigmoid (0 < y < 1) and 0 where it is clipped.
#[inline(always)]
fn gate_grad(hard: bool, y: F32x4) -> F32x4 {
    let one = F32x4::splat(1.0);
    if hard {
        let inside = y.gt(F32x4::zero()).and(y.lt(one));
        F32x4::select(inside, F32x4::splat(0.2), F32x4::zero())
    } else {
        y.mul(one.sub(y))
    }
}

/// Calls `f(j, n)` for the unit blocks of a row: j = 0, 4, 8, … with n = 4, then the leftover
/// units (n < 4) once.
#[inline(always)]
fn for_blocks(units: usize, mut f: impl FnMut(usize, usize)) {
    let mut j = 0;
    while j + 4 <= units {
        f(j, 4);
        j += 4;
    }
    if j < units {
        f(j, units - j);
    }
}

/// LSTM cell forward for one timestep (Keras equations, gate order i, f, c, o):
/// i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o), c = f·c_prev + i·g, h = o·tanh(c).
///
/// `z` holds the pre-activations x·W + b + h_prev·U ([batch, 4·units], contiguous) and is
/// overwritten in place with the activations i, f, g, o (what the backward step needs).
///
/// # Safety
/// `z` readable and writable for batch·4·units values; `c_prev` readable, `c` and `h` writable for
/// batch·units values each; `c` and `h` do not overlap each other, `z` or `c_prev`.
pub unsafe fn lstm_forward_step(
    batch: usize,
    units: usize,
    z: *mut f32,
    c_prev: *const f32,
    c: *mut f32,
    h: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    for b in 0..batch {
        let zr = z.add(b * 4 * units);
        let cp = c_prev.add(b * units);
        let cr = c.add(b * units);
        let hr = h.add(b * units);
        for_blocks(units, |j, n| {
            let gi = gate(hard, load_n(zr.add(j), n));
            let gf = gate(hard, load_n(zr.add(units + j), n));
            let gg = tanh(load_n(zr.add(2 * units + j), n));
            let go = gate(hard, load_n(zr.add(3 * units + j), n));
            let cn = gf.mul(load_n(cp.add(j), n)).add(gi.mul(gg));
            store_n(gi, zr.add(j), n);
            store_n(gf, zr.add(units + j), n);
            store_n(gg, zr.add(2 * units + j), n);
            store_n(go, zr.add(3 * units + j), n);
            store_n(cn, cr.add(j), n);
            store_n(go.mul(tanh(cn)), hr.add(j), n);
        });
    }
}

/// LSTM cell backward for one timestep, from the activations `gates` = (i, f, g, o) that
/// [`lstm_forward_step`] left, the cell states `c_prev` and `c`, the gradient `dh` reaching h_t
/// (output gradient plus recurrent gradient), and `dc` = ∂L/∂c_t through c_{t+1}:
///
/// dc_t = dc + dh·o·(1 − tanh²c); dz_o = dh·tanh(c)·o(1 − o); dz_i = dc_t·g·i(1 − i);
/// dz_f = dc_t·c_prev·f(1 − f); dz_c = dc_t·i·(1 − g²); and dc ← dc_t·f (= ∂L/∂c_{t−1}).
///
/// Writes the pre-activation gradients dz ([batch, 4·units]) over `gates` in place.
///
/// # Safety
/// `gates` readable and writable for batch·4·units values; `c_prev`, `c`, `dh` readable and `dc`
/// readable and writable for batch·units values each; `dc` overlaps none of the others.
#[allow(clippy::too_many_arguments)]
pub unsafe fn lstm_backward_step(
    batch: usize,
    units: usize,
    gates: *mut f32,
    c_prev: *const f32,
    c: *const f32,
    dh: *const f32,
    dc: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    let one = F32x4::splat(1.0);
    for b in 0..batch {
        let gr = gates.add(b * 4 * units);
        let cp = c_prev.add(b * units);
        let cr = c.add(b * units);
        let dhr = dh.add(b * units);
        let dcr = dc.add(b * units);
        for_blocks(units, |j, n| {
            let gi = load_n(gr.add(j), n);
            let gf = load_n(gr.add(units + j), n);
            let gg = load_n(gr.add(2 * units + j), n);
            let go = load_n(gr.add(3 * units + j), n);
            let tc = tanh(load_n(cr.add(j), n));
            let d = load_n(dhr.add(j), n);
            let dct = load_n(dcr.add(j), n).add(d.mul(go).mul(one.sub(tc.mul(tc))));
            let dzo = d.mul(tc).mul(gate_grad(hard, go));
            let dzi = dct.mul(gg).mul(gate_grad(hard, gi));
            let dzf = dct.mul(load_n(cp.add(j), n)).mul(gate_grad(hard, gf));
            let dzg = dct.mul(gi).mul(one.sub(gg.mul(gg)));
            store_n(dzi, gr.add(j), n);
            store_n(dzf, gr.add(units + j), n);
            store_n(dzg, gr.add(2 * units + j), n);
            store_n(dzo, gr.add(3 * units + j), n);
            store_n(dct.mul(gf), dcr.add(j), n);
        });
    }
}

/// GRU cell forward for one timestep, Keras' `reset_after = true` form (gate order z, r, h):
/// with x_* = x·W + b_in (in `x`) and rec_* = h_prev·U (in `rec`) plus the recurrent bias `brec`,
/// z = σ(x_z + rec_z), r = σ(x_r + rec_r), ĥ = tanh(x_h + r·rec_h), h = z·h_prev + (1 − z)·ĥ.
///
/// Overwrites `x` in place with (z, r, ĥ) and the h block of `rec` with rec_h + b_rec (what the
/// backward step needs). `brec` (3·units values) may be null for no recurrent bias.
///
/// # Safety
/// `x` and `rec` readable and writable for batch·3·units values; `brec` null or readable for
/// 3·units; `h_prev` readable and `h` writable for batch·units; `h` overlaps none of the others.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gru_forward_step(
    batch: usize,
    units: usize,
    x: *mut f32,
    rec: *mut f32,
    brec: *const f32,
    h_prev: *const f32,
    h: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    let one = F32x4::splat(1.0);
    for b in 0..batch {
        let xr = x.add(b * 3 * units);
        let rr = rec.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        let hr = h.add(b * units);
        for_blocks(units, |j, n| {
            let mut rz = load_n(rr.add(j), n);
            let mut rg = load_n(rr.add(units + j), n);
            let mut rh = load_n(rr.add(2 * units + j), n);
            if !brec.is_null() {
                rz = rz.add(load_n(brec.add(j), n));
                rg = rg.add(load_n(brec.add(units + j), n));
                rh = rh.add(load_n(brec.add(2 * units + j), n));
            }
            let gz = gate(hard, load_n(xr.add(j), n).add(rz));
            let gr = gate(hard, load_n(xr.add(units + j), n).add(rg));
            let gh = tanh(load_n(xr.add(2 * units + j), n).add(gr.mul(rh)));
            let hprev = load_n(hp.add(j), n);
            store_n(gz, xr.add(j), n);
            store_n(gr, xr.add(units + j), n);
            store_n(gh, xr.add(2 * units + j), n);
            store_n(rh, rr.add(2 * units + j), n);
            // h = z·h_prev + (1 − z)·ĥ
            store_n(gz.mul(hprev).add(one.sub(gz).mul(gh)), hr.add(j), n);
        });
    }
}

/// GRU cell backward for one timestep (`reset_after = true`), from what [`gru_forward_step`] left
/// (`gates` = z, r, ĥ; the h block of `rec` = rec_h + b_rec), `h_prev`, and the gradient `dh`
/// reaching h_t. With a_* the pre-activations:
///
/// dĥ = dh·(1 − z), da_h = dĥ·(1 − ĥ²), da_z = dh·(h_prev − ĥ)·z(1 − z),
/// da_r = da_h·rec_h·r(1 − r).
///
/// Writes the input-side gradients (da_z, da_r, da_h) over `gates` and the recurrent-side ones
/// (da_z, da_r, da_h·r) over `rec`, in place, and adds the direct part dh·z of ∂L/∂h_prev into
/// `dh_prev` (null: skipped; the recurrent part rec-gradient·Uᵀ is the caller's gemm).
///
/// # Safety
/// `gates` and `rec` readable and writable for batch·3·units values; `h_prev`, `dh` readable and
/// `dh_prev` (unless null) readable and writable for batch·units; `dh_prev` overlaps none of the
/// others.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gru_backward_step(
    batch: usize,
    units: usize,
    gates: *mut f32,
    rec: *mut f32,
    h_prev: *const f32,
    dh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    let one = F32x4::splat(1.0);
    for b in 0..batch {
        let gr = gates.add(b * 3 * units);
        let rr = rec.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        let dhr = dh.add(b * units);
        for_blocks(units, |j, n| {
            let gz = load_n(gr.add(j), n);
            let gg = load_n(gr.add(units + j), n);
            let gh = load_n(gr.add(2 * units + j), n);
            let rh = load_n(rr.add(2 * units + j), n);
            let hprev = load_n(hp.add(j), n);
            let d = load_n(dhr.add(j), n);
            let dah = d.mul(one.sub(gz)).mul(one.sub(gh.mul(gh)));
            let daz = d.mul(hprev.sub(gh)).mul(gate_grad(hard, gz));
            let dar = dah.mul(rh).mul(gate_grad(hard, gg));
            store_n(daz, gr.add(j), n);
            store_n(dar, gr.add(units + j), n);
            store_n(dah, gr.add(2 * units + j), n);
            store_n(daz, rr.add(j), n);
            store_n(dar, rr.add(units + j), n);
            store_n(dah.mul(gg), rr.add(2 * units + j), n);
            if !dh_prev.is_null() {
                let p = dh_prev.add(b * units + j);
                store_n(load_n(p, n).add(d.mul(gz)), p, n);
            }
        });
    }
}

/// GRU forward, Keras' `reset_after = false` form, first half of a timestep: with x_* = x·W + b
/// (in `x`) and rec_z, rec_r = h_prev·U_z, h_prev·U_r (the z and r blocks of `rec`),
/// z = σ(x_z + rec_z), r = σ(x_r + rec_r). Writes z and r over their blocks of `x` and r·h_prev into
/// the h block of `rec` (the caller then adds (r·h_prev)·U_h to the h block of `x` by a gemm and
/// finishes with [`gru_reset_before_output`]).
///
/// # Safety
/// `x` and `rec` readable and writable for batch·3·units values; `h_prev` readable for
/// batch·units and not overlapping `rec`.
pub unsafe fn gru_reset_before_gates(
    batch: usize,
    units: usize,
    x: *mut f32,
    rec: *mut f32,
    h_prev: *const f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    for b in 0..batch {
        let xr = x.add(b * 3 * units);
        let rr = rec.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        for_blocks(units, |j, n| {
            let gz = gate(hard, load_n(xr.add(j), n).add(load_n(rr.add(j), n)));
            let gr = gate(hard, load_n(xr.add(units + j), n).add(load_n(rr.add(units + j), n)));
            store_n(gz, xr.add(j), n);
            store_n(gr, xr.add(units + j), n);
            store_n(gr.mul(load_n(hp.add(j), n)), rr.add(2 * units + j), n);
        });
    }
}

/// GRU forward (`reset_after = false`), second half of a timestep: ĥ = tanh(a_h) from the h block
/// of `x` (a_h = x·W_h + b_h + (r·h_prev)·U_h), h = z·h_prev + (1 − z)·ĥ with z from the z block.
/// Writes ĥ over the h block of `x`, and h.
///
/// # Safety
/// `x` readable and writable for batch·3·units values; `h_prev` readable and `h` writable for
/// batch·units; `h` overlaps neither.
pub unsafe fn gru_reset_before_output(
    batch: usize,
    units: usize,
    x: *mut f32,
    h_prev: *const f32,
    h: *mut f32,
) {
    let one = F32x4::splat(1.0);
    for b in 0..batch {
        let xr = x.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        let hr = h.add(b * units);
        for_blocks(units, |j, n| {
            let gz = load_n(xr.add(j), n);
            let gh = tanh(load_n(xr.add(2 * units + j), n));
            store_n(gh, xr.add(2 * units + j), n);
            store_n(gz.mul(load_n(hp.add(j), n)).add(one.sub(gz).mul(gh)), hr.add(j), n);
        });
    }
}

/// GRU backward (`reset_after = false`), first half of a timestep, from `gates` = (z, r, ĥ) and the
/// gradient `dh` reaching h_t: da_h = dh·(1 − z)·(1 − ĥ²) over the h block and
/// da_z = dh·(h_prev − ĥ)·z(1 − z) over the z block (r is kept for [`gru_reset_before_backward_gates`]);
/// adds dh·z into `dh_prev` unless it is null.
///
/// # Safety
/// `gates` readable and writable for batch·3·units values; `h_prev`, `dh` readable and `dh_prev`
/// (unless null) readable and writable for batch·units; `dh_prev` overlaps none of the others.
pub unsafe fn gru_reset_before_backward_output(
    batch: usize,
    units: usize,
    gates: *mut f32,
    h_prev: *const f32,
    dh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    let one = F32x4::splat(1.0);
    for b in 0..batch {
        let gr = gates.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        let dhr = dh.add(b * units);
        for_blocks(units, |j, n| {
            let gz = load_n(gr.add(j), n);
            let gh = load_n(gr.add(2 * units + j), n);
            let d = load_n(dhr.add(j), n);
            let hprev = load_n(hp.add(j), n);
            store_n(d.mul(one.sub(gz)).mul(one.sub(gh.mul(gh))), gr.add(2 * units + j), n);
            store_n(d.mul(hprev.sub(gh)).mul(gate_grad(hard, gz)), gr.add(j), n);
            if !dh_prev.is_null() {
                let p = dh_prev.add(b * units + j);
                store_n(load_n(p, n).add(d.mul(gz)), p, n);
            }
        });
    }
}

/// GRU backward (`reset_after = false`), second half: from the r block of `gates` and
/// drh = ∂L/∂(r·h_prev) (= da_h·U_hᵀ, the caller's gemm), writes da_r = drh·h_prev·r(1 − r) over the
/// r block and adds drh·r into `dh_prev` unless it is null.
///
/// # Safety
/// `gates` readable and writable for batch·3·units values; `h_prev`, `drh` readable and `dh_prev`
/// (unless null) readable and writable for batch·units; `dh_prev` overlaps none of the others.
pub unsafe fn gru_reset_before_backward_gates(
    batch: usize,
    units: usize,
    gates: *mut f32,
    h_prev: *const f32,
    drh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    let hard = gate_act == GATE_HARD_SIGMOID;
    for b in 0..batch {
        let gr = gates.add(b * 3 * units);
        let hp = h_prev.add(b * units);
        let dr = drh.add(b * units);
        for_blocks(units, |j, n| {
            let r = load_n(gr.add(units + j), n);
            let d = load_n(dr.add(j), n);
            store_n(d.mul(load_n(hp.add(j), n)).mul(gate_grad(hard, r)), gr.add(units + j), n);
            if !dh_prev.is_null() {
                let p = dh_prev.add(b * units + j);
                store_n(load_n(p, n).add(d.mul(r)), p, n);
            }
        });
    }
}

/// dst[i·ds0 + j·ds1 + k] ← src[i·ss0 + j·ss1 + k] for i < n0, j < n1, k < len: copies n0·n1 rows
/// of `len` contiguous values between two 3-D strided layouts. A swap of the strides transposes
/// [batch, time, ·] to [time, batch, ·]; a negative time stride reverses the sequence.
///
/// # Safety
/// Every addressed element of `src` readable and of `dst` writable; the two spans do not overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn copy_rows_3d(
    n0: usize,
    n1: usize,
    len: usize,
    src: *const f32,
    ss0: isize,
    ss1: isize,
    dst: *mut f32,
    ds0: isize,
    ds1: isize,
) {
    for i in 0..n0 as isize {
        for j in 0..n1 as isize {
            let from = src.offset(i * ss0 + j * ss1);
            let to = dst.offset(i * ds0 + j * ds1);
            let mut k = 0;
            while k + 4 <= len {
                F32x4::load(from.add(k)).store(to.add(k));
                k += 4;
            }
            while k < len {
                *to.add(k) = *from.add(k);
                k += 1;
            }
        }
    }
}

/// dst[indices[r], :] += src[r, :] for r in 0..count, rows of `row_len` values, in order of r
/// (repeated indices accumulate): the gradient of an embedding lookup (a row gather).
///
/// # Safety
/// `indices` holds `count` values, each a valid row of `dst`; `src` readable for count·row_len
/// values; `dst` does not overlap `src`.
pub unsafe fn scatter_add_rows(
    count: usize,
    indices: *const u32,
    row_len: usize,
    src: *const f32,
    dst: *mut f32,
) {
    for r in 0..count {
        let from = src.add(r * row_len);
        let to = dst.add(*indices.add(r) as usize * row_len);
        let mut k = 0;
        while k + 4 <= row_len {
            F32x4::load(to.add(k)).add(F32x4::load(from.add(k))).store(to.add(k));
            k += 4;
        }
        while k < row_len {
            *to.add(k) += *from.add(k);
            k += 1;
        }
    }
}

#[cfg(test)]
#[path = "rnn_tests.rs"]
mod tests;

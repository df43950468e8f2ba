//! Fused optimizer updates, regularization penalties and gradient clipping over flat buffers.
//!
//! Layout contract: every parameter of a model lives in one contiguous f32 buffer `p`, its
//! gradient in `g` with the same layout, and each optimizer state (moments, accumulators) in a
//! buffer of the same layout. Each kernel walks a range of `n` elements once, reading `g` and
//! updating `p` and the states in place, so any sub-range (one tensor, only the kernels and not
//! the biases) is updated by passing its pointers and length. Buffers must not overlap each other.
//!
//! Formulations follow Keras 3 (`keras.optimizers.*`, `update_step`), which equals PyTorch's
//! `torch.optim` for a constant learning rate except where noted per kernel (mostly where epsilon
//! sits). Step-dependent factors (bias corrections, Nadam's momentum schedule) are computed in f64
//! by the caller (packages/wasmgrad/src/runtime/kernels/optim.ts) and passed in as f32 scalars,
//! so kernels stay free of `pow` and of the step counter.
//!
//! Every kernel handles full vectors of [`F32x4`], then copies the last `n % 4` elements through
//! a zero-padded stack vector, so the SIMD128 build and its scalar twin do the same arithmetic.

use crate::simd::F32x4;

/// Runs `step` over `n` elements: `R` read-only streams (`ins`) and `W` streams updated in place
/// (`outs`). `step` gets four elements of each stream at a time; the tail is zero-padded.
///
/// # Safety
/// Every pointer must address `n` valid f32 values (readable; writable for `outs`).
#[inline(always)]
unsafe fn zip<const R: usize, const W: usize>(
    n: usize,
    ins: [*const f32; R],
    outs: [*mut f32; W],
    mut step: impl FnMut(&[F32x4; R], &mut [F32x4; W]),
) {
    let full = n - n % 4;
    let mut i = 0;
    while i < full {
        let x = ins.map(|p| F32x4::load(p.add(i)));
        let mut y = outs.map(|p| F32x4::load(p.add(i)));
        step(&x, &mut y);
        for (v, o) in y.iter().zip(outs.iter()) {
            v.store(o.add(i));
        }
        i += 4;
    }
    let rest = n - full;
    if rest > 0 {
        // Zero padding keeps the spare lanes finite for every update rule (0/√eps, max(0, 0)).
        let x = ins.map(|p| F32x4::load(padded(p, full, rest).as_ptr()));
        let mut y = outs.map(|p| F32x4::load(padded(p as *const f32, full, rest).as_ptr()));
        step(&x, &mut y);
        for (v, o) in y.iter().zip(outs.iter()) {
            for (l, e) in v.lanes().iter().enumerate().take(rest) {
                *o.add(full + l) = *e;
            }
        }
    }
}

/// The `rest` (< 4) values at `p + from`, zero-padded to four.
#[inline(always)]
unsafe fn padded(p: *const f32, from: usize, rest: usize) -> [f32; 4] {
    let mut a = [0.0f32; 4];
    for (l, e) in a.iter_mut().enumerate().take(rest) {
        *e = *p.add(from + l);
    }
    a
}

// ---- SGD (Keras `SGD`) ----

/// Plain SGD: `p ← p − lr·g`.
///
/// # Safety
/// `p` and `g` address `n` f32 values each (`p` writable); they do not overlap.
pub unsafe fn sgd(n: usize, p: *mut f32, g: *const f32, lr: f32) {
    let lr = F32x4::splat(lr);
    zip(n, [g], [p], |[g], [p]| *p = p.sub(g.mul(lr)));
}

/// SGD with momentum, Keras formulation: `v ← m·v − lr·g; p ← p + v`.
///
/// PyTorch keeps `b ← m·b + g; p ← p − lr·b`; for a constant learning rate `v = −lr·b`, so both
/// give the same parameters (PyTorch's state differs by the factor −lr).
///
/// # Safety
/// `p`, `g`, `v` address `n` f32 values each (`p`, `v` writable); they do not overlap.
pub unsafe fn sgd_momentum(
    n: usize,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    lr: f32,
    momentum: f32,
) {
    let (lr, mo) = (F32x4::splat(lr), F32x4::splat(momentum));
    zip(n, [g], [p, v], |[g], [p, v]| {
        *v = v.mul(mo).sub(g.mul(lr));
        *p = p.add(*v);
    });
}

/// SGD with Nesterov momentum, Keras formulation: `v ← m·v − lr·g; p ← p + m·v − lr·g`
/// (PyTorch's `nesterov=True` is the same update for a constant learning rate).
///
/// # Safety
/// As [`sgd_momentum`].
pub unsafe fn sgd_nesterov(
    n: usize,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    lr: f32,
    momentum: f32,
) {
    let (lr, mo) = (F32x4::splat(lr), F32x4::splat(momentum));
    zip(n, [g], [p, v], |[g], [p, v]| {
        let lg = g.mul(lr);
        *v = v.mul(mo).sub(lg);
        *p = p.add(v.mul(mo).sub(lg));
    });
}

// ---- Adam, AdamW, AMSGrad (Keras `Adam`, `AdamW`) ----

/// Adam, Keras formulation, with optional decoupled weight decay (AdamW) and AMSGrad:
///
/// ```text
/// p ← p − decay·p                              (AdamW; decay = lr·weight_decay; skipped if 0)
/// m ← m + (g − m)·(1 − β1)
/// v ← v + (g² − v)·(1 − β2)
/// v̂ ← max(v̂, v)                               (AMSGrad only; the denominator uses v̂)
/// p ← p − lr_t·m / (√v + eps_t)
/// ```
///
/// Bias correction is folded into the two scalars the caller computes for step t (1-based):
/// Keras uses `lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ)` and `eps_t = eps`; PyTorch's
/// `p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)` is the same update with
/// `eps_t = eps·√(1−β2ᵗ)`. So one kernel serves both epsilon placements exactly.
///
/// `vhat` may be null: then AMSGrad is off and `vhat` is never touched.
///
/// # Safety
/// `p`, `g`, `m`, `v` (and `vhat` unless null) address `n` f32 values each, all but `g`
/// writable; they do not overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn adam(
    n: usize,
    p: *mut f32,
    g: *const f32,
    m: *mut f32,
    v: *mut f32,
    vhat: *mut f32,
    lr_t: f32,
    beta1: f32,
    beta2: f32,
    eps_t: f32,
    decay: f32,
) {
    let c = AdamConsts {
        lr: F32x4::splat(lr_t),
        b1c: F32x4::splat(1.0 - beta1),
        b2c: F32x4::splat(1.0 - beta2),
        eps: F32x4::splat(eps_t),
        decay: F32x4::splat(decay),
    };
    match (vhat.is_null(), decay == 0.0) {
        (true, true) => zip(n, [g], [p, m, v], |[g], [p, m, v]| {
            c.moments(*g, m, v);
            *p = c.apply(*p, *m, *v);
        }),
        (true, false) => zip(n, [g], [p, m, v], |[g], [p, m, v]| {
            *p = p.sub(p.mul(c.decay));
            c.moments(*g, m, v);
            *p = c.apply(*p, *m, *v);
        }),
        (false, true) => zip(n, [g], [p, m, v, vhat], |[g], [p, m, v, vh]| {
            c.moments(*g, m, v);
            *vh = vh.max(*v);
            *p = c.apply(*p, *m, *vh);
        }),
        (false, false) => zip(n, [g], [p, m, v, vhat], |[g], [p, m, v, vh]| {
            *p = p.sub(p.mul(c.decay));
            c.moments(*g, m, v);
            *vh = vh.max(*v);
            *p = c.apply(*p, *m, *vh);
        }),
    }
}

struct AdamConsts {
    lr: F32x4,
    b1c: F32x4,
    b2c: F32x4,
    eps: F32x4,
    decay: F32x4,
}

impl AdamConsts {
    #[inline(always)]
    fn moments(&self, g: F32x4, m: &mut F32x4, v: &mut F32x4) {
        *m = m.add(g.sub(*m).mul(self.b1c));
        *v = v.add(g.mul(g).sub(*v).mul(self.b2c));
    }
    #[inline(always)]
    fn apply(&self, p: F32x4, m: F32x4, v: F32x4) -> F32x4 {
        p.sub(m.mul(self.lr).div(v.sqrt().add(self.eps)))
    }
}

/// Adamax, Keras formulation:
/// `m ← m + (g − m)·(1 − β1); u ← max(β2·u, |g|); p ← p − lr_t·m / (u + eps)`
/// with `lr_t = lr/(1 − β1ᵗ)` from the caller. PyTorch adds eps inside the max instead
/// (`u ← max(β2·u, |g| + eps)`, no eps in the denominator); both agree for eps = 0.
///
/// # Safety
/// `p`, `g`, `m`, `u` address `n` f32 values each (all but `g` writable); no overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn adamax(
    n: usize,
    p: *mut f32,
    g: *const f32,
    m: *mut f32,
    u: *mut f32,
    lr_t: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
) {
    let (lr, b1c, b2) = (F32x4::splat(lr_t), F32x4::splat(1.0 - beta1), F32x4::splat(beta2));
    let eps = F32x4::splat(eps);
    zip(n, [g], [p, m, u], |[g], [p, m, u]| {
        *m = m.add(g.sub(*m).mul(b1c));
        *u = u.mul(b2).max(g.abs());
        *p = p.sub(lr.mul(*m).div(u.add(eps)));
    });
}

/// Nadam, Keras formulation (Dozat 2016 with Keras's momentum schedule):
///
/// ```text
/// m ← m + (g − m)·(1 − β1);  v ← v + (g² − v)·(1 − β2)
/// p ← p − (c_m·m + c_g·g) / (√(v·v_scale) + eps)
/// ```
///
/// with, from the caller, `μ_t = β1·(1 − ½·0.96^(ψ·t))`, `Π_t = μ_1⋯μ_t`,
/// `c_m = lr·μ_{t+1}/(1 − Π_t·μ_{t+1})`, `c_g = lr·(1 − μ_t)/(1 − Π_t)`, `v_scale = 1/(1 − β2ᵗ)`.
/// Keras uses ψ = 1; PyTorch's `NAdam` uses ψ = `momentum_decay` = 0.004 and otherwise the same
/// update (epsilon outside the square root in both).
///
/// # Safety
/// `p`, `g`, `m`, `v` address `n` f32 values each (all but `g` writable); no overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn nadam(
    n: usize,
    p: *mut f32,
    g: *const f32,
    m: *mut f32,
    v: *mut f32,
    c_m: f32,
    c_g: f32,
    beta1: f32,
    beta2: f32,
    v_scale: f32,
    eps: f32,
) {
    let (cm, cg) = (F32x4::splat(c_m), F32x4::splat(c_g));
    let (b1c, b2c) = (F32x4::splat(1.0 - beta1), F32x4::splat(1.0 - beta2));
    let (vs, eps) = (F32x4::splat(v_scale), F32x4::splat(eps));
    zip(n, [g], [p, m, v], |[g], [p, m, v]| {
        *m = m.add(g.sub(*m).mul(b1c));
        *v = v.add(g.mul(*g).sub(*v).mul(b2c));
        let num = cm.mul(*m).add(cg.mul(*g));
        *p = p.sub(num.div(v.mul(vs).sqrt().add(eps)));
    });
}

// ---- RMSprop, Adagrad, Adadelta ----

/// RMSprop, Keras formulation:
///
/// ```text
/// v ← ρ·v + (1 − ρ)·g²
/// a ← ρ·a + (1 − ρ)·g                       (centered: `mg` not null)
/// d ← v − a² + eps   (centered)   or   v + eps
/// inc ← lr·g / √d
/// mom ← μ·mom + inc; p ← p − mom          (`mom` not null), else p ← p − inc
/// ```
///
/// PyTorch puts eps outside the root (`√(v − a²) + eps`) and lr outside the momentum buffer
/// (`b ← μ·b + g/(…); p ← p − lr·b`); for a constant lr the two agree up to eps placement.
///
/// # Safety
/// `p`, `g`, `v` and the non-null ones of `mg`, `mom` address `n` f32 values each (all but `g`
/// writable); no overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rmsprop(
    n: usize,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    mg: *mut f32,
    mom: *mut f32,
    lr: f32,
    rho: f32,
    momentum: f32,
    eps: f32,
) {
    let (lr, r, rc) = (F32x4::splat(lr), F32x4::splat(rho), F32x4::splat(1.0 - rho));
    let (mu, eps) = (F32x4::splat(momentum), F32x4::splat(eps));
    let square = |g: F32x4, v: &mut F32x4| *v = r.mul(*v).add(rc.mul(g.mul(g)));
    let centered = |g: F32x4, v: F32x4, a: &mut F32x4| {
        *a = r.mul(*a).add(rc.mul(g));
        v.sub(a.mul(*a)).add(eps)
    };
    let inc = |g: F32x4, d: F32x4| lr.mul(g).div(d.sqrt());
    match (mg.is_null(), mom.is_null()) {
        (true, true) => zip(n, [g], [p, v], |[g], [p, v]| {
            square(*g, v);
            *p = p.sub(inc(*g, v.add(eps)));
        }),
        (true, false) => zip(n, [g], [p, v, mom], |[g], [p, v, b]| {
            square(*g, v);
            *b = mu.mul(*b).add(inc(*g, v.add(eps)));
            *p = p.sub(*b);
        }),
        (false, true) => zip(n, [g], [p, v, mg], |[g], [p, v, a]| {
            square(*g, v);
            let d = centered(*g, *v, a);
            *p = p.sub(inc(*g, d));
        }),
        (false, false) => zip(n, [g], [p, v, mg, mom], |[g], [p, v, a, b]| {
            square(*g, v);
            let d = centered(*g, *v, a);
            *b = mu.mul(*b).add(inc(*g, d));
            *p = p.sub(*b);
        }),
    }
}

/// Adagrad, Keras formulation: `acc ← acc + g²; p ← p − lr·g / √(acc + eps)`.
/// The accumulator starts at Keras's `initial_accumulator_value` (0.1; the caller fills it).
/// PyTorch uses `√acc + eps` (eps outside the root) and starts at 0.
///
/// # Safety
/// `p`, `g`, `acc` address `n` f32 values each (`p`, `acc` writable); no overlap.
pub unsafe fn adagrad(n: usize, p: *mut f32, g: *const f32, acc: *mut f32, lr: f32, eps: f32) {
    let (lr, eps) = (F32x4::splat(lr), F32x4::splat(eps));
    zip(n, [g], [p, acc], |[g], [p, a]| {
        *a = a.add(g.mul(*g));
        *p = p.sub(lr.mul(*g).div(a.add(eps).sqrt()));
    });
}

/// Adadelta (Zeiler 2012), Keras formulation, identical to PyTorch's:
///
/// ```text
/// ag ← ρ·ag + (1 − ρ)·g²
/// δ  ← −√(ad + eps) · g / √(ag + eps)
/// ad ← ρ·ad + (1 − ρ)·δ²
/// p  ← p + lr·δ
/// ```
///
/// # Safety
/// `p`, `g`, `ag`, `ad` address `n` f32 values each (all but `g` writable); no overlap.
#[allow(clippy::too_many_arguments)]
pub unsafe fn adadelta(
    n: usize,
    p: *mut f32,
    g: *const f32,
    ag: *mut f32,
    ad: *mut f32,
    lr: f32,
    rho: f32,
    eps: f32,
) {
    let (lr, r, rc) = (F32x4::splat(lr), F32x4::splat(rho), F32x4::splat(1.0 - rho));
    let eps = F32x4::splat(eps);
    zip(n, [g], [p, ag, ad], |[g], [p, ag, ad]| {
        *ag = r.mul(*ag).add(rc.mul(g.mul(*g)));
        let delta = ad.add(eps).sqrt().mul(*g).div(ag.add(eps).sqrt()).neg();
        *ad = r.mul(*ad).add(rc.mul(delta.mul(delta)));
        *p = p.add(lr.mul(delta));
    });
}

/// Decoupled weight decay on its own (Keras 3 `weight_decay` of any optimizer, applied before the
/// update): `p ← p − factor·p` with `factor = lr·weight_decay`.
///
/// # Safety
/// `p` addresses `n` writable f32 values.
pub unsafe fn weight_decay(n: usize, p: *mut f32, factor: f32) {
    let f = F32x4::splat(factor);
    zip(n, [], [p], |[], [p]| *p = p.sub(p.mul(f)));
}

// ---- Penalties (Keras `regularizers.L1L2`) ----

// sign(x) without compares: x·2¹⁰⁰·2¹⁰⁰ is ±∞-or-huge for every nonzero x (even the smallest
// subnormal, 2⁻¹⁴⁹·2²⁰⁰), so clamping to [−1, 1] gives ±1; ±0 stays ±0 and NaN stays NaN.
#[inline(always)]
fn sign(x: F32x4) -> F32x4 {
    let big = F32x4::splat(1.2676506e30); // 2^100
    x.mul(big).mul(big).max(F32x4::splat(-1.0)).min(F32x4::splat(1.0))
}

/// Adds the gradient of the penalty `l1·Σ|p| + l2·Σp²` into `g`: `g ← g + l1·sign(p) + 2·l2·p`
/// (Keras `L1L2(l1, l2)`; sign(0) = 0; a zero coefficient skips its term).
///
/// # Safety
/// `p`, `g` address `n` f32 values each (`g` writable); no overlap.
pub unsafe fn add_penalty_grad(n: usize, p: *const f32, g: *mut f32, l1: f32, l2: f32) {
    let (a, b) = (F32x4::splat(l1), F32x4::splat(2.0 * l2));
    // A zero coefficient drops its term (as Keras does), so an infinite p adds no 0·∞ = NaN.
    match (l1 == 0.0, l2 == 0.0) {
        (true, true) => {}
        (false, true) => zip(n, [p], [g], |[p], [g]| *g = g.add(a.mul(sign(*p)))),
        (true, false) => zip(n, [p], [g], |[p], [g]| *g = g.add(b.mul(*p))),
        (false, false) => zip(n, [p], [g], |[p], [g]| *g = g.add(a.mul(sign(*p))).add(b.mul(*p))),
    }
}

/// Σ|x| and Σx² over `n` values: four f32 lanes within blocks of 1024 elements, blocks summed in
/// f64, so the error stays near f32 rounding even for millions of elements.
unsafe fn abs_and_square_sums(n: usize, x: *const f32) -> (f64, f64) {
    const BLOCK: usize = 1024;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut start = 0;
    while start < n {
        let len = if n - start < BLOCK { n - start } else { BLOCK };
        let (mut a1, mut a2) = (F32x4::zero(), F32x4::zero());
        zip(len, [x.add(start)], [], |[v], []| {
            a1 = a1.add(v.abs());
            a2 = a2.add(v.mul(*v));
        });
        s1 += a1.sum() as f64;
        s2 += a2.sum() as f64;
        start += len;
    }
    (s1, s2)
}

/// The penalty `l1·Σ|p| + l2·Σp²` over `n` values (Keras `L1L2.__call__`), accumulated in f64.
///
/// # Safety
/// `p` addresses `n` readable f32 values.
pub unsafe fn penalty(n: usize, p: *const f32, l1: f32, l2: f32) -> f32 {
    let (s1, s2) = abs_and_square_sums(n, p);
    let mut total = 0.0f64;
    if l1 != 0.0 {
        total += l1 as f64 * s1;
    }
    if l2 != 0.0 {
        total += l2 as f64 * s2;
    }
    total as f32
}

// ---- Clipping (Keras `clipvalue`, `clipnorm`, `global_clipnorm`) ----

/// Clamps each gradient into [lo, hi] (Keras `clipvalue=c` is lo = −c, hi = c). NaN stays NaN.
///
/// # Safety
/// `g` addresses `n` writable f32 values.
pub unsafe fn clip_by_value(n: usize, g: *mut f32, lo: f32, hi: f32) {
    let (lo, hi) = (F32x4::splat(lo), F32x4::splat(hi));
    zip(n, [], [g], |[], [g]| *g = g.max(lo).min(hi));
}

/// √s for an f64 sum of squares, in f32 without std: scaled by 2⁻⁶⁴ first when s exceeds the f32
/// range, so that norms up to ~1.8e19·2³² stay finite.
fn sqrt_of_sum(s: f64) -> f32 {
    let (s, k) = if s > 1.0e30 { (s * 5.421010862427522e-20, 4294967296.0f32) } else { (s, 1.0) };
    F32x4::splat(s as f32).sqrt().lanes()[0] * k
}

/// Multiplies `g` by `clip / max(norm, clip)`: the rescaling step of clip-by-norm given a norm
/// computed elsewhere (a global norm over several ranges). Nothing is written when
/// `norm ≤ clip`; a NaN norm makes every gradient NaN (as `tf.clip_by_global_norm`), an infinite
/// one scales finite gradients to 0 (and infinite ones to NaN).
///
/// # Safety
/// `g` addresses `n` writable f32 values.
pub unsafe fn clip_scale(n: usize, g: *mut f32, norm: f32, clip: f32) {
    if norm <= clip {
        return;
    }
    let c = F32x4::splat(clip);
    let s = c.div(F32x4::splat(norm).max(c));
    zip(n, [], [g], |[], [g]| *g = g.mul(s));
}

/// Clips `g` to L2 norm at most `clip` (Keras `clipnorm` per tensor; over the whole flat
/// gradient buffer it is `global_clipnorm`): `g ← g·clip/max(‖g‖, clip)`. Returns ‖g‖ before
/// clipping.
///
/// # Safety
/// `g` addresses `n` writable f32 values.
pub unsafe fn clip_by_norm(n: usize, g: *mut f32, clip: f32) -> f32 {
    let norm = sqrt_of_sum(abs_and_square_sums(n, g).1);
    clip_scale(n, g, norm, clip);
    norm
}

#[cfg(test)]
#[path = "optim_tests.rs"]
mod tests;

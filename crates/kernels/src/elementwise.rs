//! Activation functions, forward and backward, over contiguous buffers of n elements.
//!
//! One entry pair, [`activation_forward`] / [`activation_backward`], selects the function by an
//! i32 code ([`Activation`]); the codes are mirrored in packages/wasmgrad/src/runtime/kernels/
//! elementwise.ts (`ACTIVATION`). Codes 0 (linear) and 1 (relu) are shared with the fused gemm
//! epilogue.
//!
//! Contract: forward writes y[i] = f(x[i]) for i < n; y may equal x (in place), otherwise the
//! buffers must not overlap. Backward writes dx[i] = dy[i]·f'(x[i]) (or adds it to dx[i] when
//! `accumulate` is non-zero); it reads x and y = f(x) (the forward output; sigmoid, tanh, elu
//! and selu take their derivative from y, the others from x), so both must be given. dx may
//! equal dy. Every lane is computed by the same vector code (the tail is padded into a vector),
//! so results do not depend on n or position.
//!
//! IEEE behaviour: NaN in x gives NaN in y and dx (relu(NaN) = NaN); NaN in dy gives NaN in dx.
//! ±Inf give the limits: relu(−Inf) = 0, silu/gelu/mish(−Inf) = −0 with derivative 0,
//! silu/gelu/mish(+Inf) = +Inf with derivative 1.

use crate::math::{erf, exp, expm1, log1p, sigmoid, tanh};
use crate::simd::F32x4;

/// Activation codes of [`activation_forward`] / [`activation_backward`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(i32)]
pub enum Activation {
    /// f(x) = x.
    Linear = 0,
    /// max(x, 0).
    Relu = 1,
    /// min(max(x, 0), 6).
    Relu6 = 2,
    /// x for x > 0, α·x otherwise.
    LeakyRelu = 3,
    /// x for x > 0, α·(eˣ − 1) otherwise.
    Elu = 4,
    /// λ·x for x > 0, λ·α·(eˣ − 1) otherwise, α = 1.6732632, λ = 1.0507010 (Klambauer et al.).
    Selu = 5,
    /// 1/(1 + e⁻ˣ).
    Sigmoid = 6,
    /// tanh(x).
    Tanh = 7,
    /// log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|).
    Softplus = 8,
    /// x·σ(x) (swish with β = 1).
    Silu = 9,
    /// x·Φ(x) = ½·x·(1 + erf(x/√2)) (exact GELU).
    Gelu = 10,
    /// x·σ(1.702·x) (the sigmoid approximation of GELU).
    GeluSigmoid = 11,
    /// ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x·σ(2·√(2/π)·(x + 0.044715·x³)).
    GeluTanh = 12,
    /// x·tanh(softplus(x)) (Misra 2019).
    Mish = 13,
}

impl Activation {
    /// The activation with code `k`, or None for an unknown code.
    pub fn from_code(k: i32) -> Option<Self> {
        use Activation::*;
        const ALL: [Activation; 14] = [
            Linear,
            Relu,
            Relu6,
            LeakyRelu,
            Elu,
            Selu,
            Sigmoid,
            Tanh,
            Softplus,
            Silu,
            Gelu,
            GeluSigmoid,
            GeluTanh,
            Mish,
        ];
        if (0..ALL.len() as i32).contains(&k) {
            Some(ALL[k as usize])
        } else {
            None
        }
    }
}

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_LAMBDA: f32 = 1.050_701;
const GELU_SIGMOID_K: f32 = 1.702;
/// 2·√(2/π): tanh(z) = 2σ(2z) − 1, so ½(1 + tanh(z)) = σ(2z).
const GELU_TANH_2K: f32 = 1.595_769;
const GELU_TANH_C: f32 = 0.044_715;
const FRAC_1_SQRT_2: f32 = core::f32::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
/// Above this x, tanh(softplus(x)) rounds to 1 in f32 (and e^{2x} would overflow).
const MISH_CLAMP: f32 = 20.0;

#[inline(always)]
fn splat(x: f32) -> F32x4 {
    F32x4::splat(x)
}

/// For gated activations x·g(x): the limits at ±Inf (−0 and +Inf), where x·g gives NaN at −Inf.
#[inline(always)]
fn gated(x: F32x4, g: F32x4) -> F32x4 {
    F32x4::select(x.eq(splat(f32::NEG_INFINITY)), splat(-0.0), x.mul(g))
}

/// Derivatives of gated activations: 0 at −Inf, 1 at +Inf (d would be 0·Inf = NaN there).
#[inline(always)]
fn gated_grad(x: F32x4, d: F32x4) -> F32x4 {
    let d = F32x4::select(x.eq(splat(f32::NEG_INFINITY)), F32x4::zero(), d);
    F32x4::select(x.eq(splat(f32::INFINITY)), splat(1.0), d)
}

/// Mish gate tanh(softplus(x)) = n/(n + 2) with n = eˣ·(eˣ + 2): no cancellation for x < 0.
#[inline(always)]
fn mish_gate(x: F32x4) -> F32x4 {
    let t = exp(x.min(splat(MISH_CLAMP)));
    let n = t.mul(t.add(splat(2.0)));
    n.div(n.add(splat(2.0)))
}

/// GELU-tanh gate argument 2·√(2/π)·(x + 0.044715·x³).
#[inline(always)]
fn gelu_tanh_arg(x: F32x4) -> F32x4 {
    x.mul(x).mul(splat(GELU_TANH_C)).mul_add(x, x).mul(splat(GELU_TANH_2K))
}

#[inline(always)]
fn forward_one(kind: Activation, x: F32x4, alpha: f32) -> F32x4 {
    let zero = F32x4::zero();
    match kind {
        Activation::Linear => x,
        Activation::Relu => x.max(zero),
        Activation::Relu6 => x.max(zero).min(splat(6.0)),
        Activation::LeakyRelu => F32x4::select(x.gt(zero), x, x.mul(splat(alpha))),
        Activation::Elu => F32x4::select(x.gt(zero), x, expm1(x).mul(splat(alpha))),
        Activation::Selu => {
            F32x4::select(x.gt(zero), x, expm1(x).mul(splat(SELU_ALPHA))).mul(splat(SELU_LAMBDA))
        }
        Activation::Sigmoid => sigmoid(x),
        Activation::Tanh => tanh(x),
        Activation::Softplus => x.max(zero).add(log1p(exp(x.abs().neg()))),
        Activation::Silu => gated(x, sigmoid(x)),
        Activation::Gelu => {
            gated(x, splat(0.5).mul(splat(1.0).add(erf(x.mul(splat(FRAC_1_SQRT_2))))))
        }
        Activation::GeluSigmoid => gated(x, sigmoid(x.mul(splat(GELU_SIGMOID_K)))),
        Activation::GeluTanh => gated(x, sigmoid(gelu_tanh_arg(x))),
        Activation::Mish => gated(x, mish_gate(x)),
    }
}

/// f'(x), from x and y = f(x).
#[inline(always)]
fn derivative(kind: Activation, x: F32x4, y: F32x4, alpha: f32) -> F32x4 {
    let zero = F32x4::zero();
    let one = splat(1.0);
    let d = match kind {
        Activation::Linear => one,
        Activation::Relu => F32x4::select(x.gt(zero), one, zero),
        Activation::Relu6 => {
            F32x4::select(x.gt(zero), F32x4::select(x.lt(splat(6.0)), one, zero), zero)
        }
        Activation::LeakyRelu => F32x4::select(x.gt(zero), one, splat(alpha)),
        // α·eˣ = y + α for x ≤ 0.
        Activation::Elu => F32x4::select(x.gt(zero), one, y.add(splat(alpha))),
        // λα·eˣ = y + λα for x ≤ 0.
        Activation::Selu => {
            F32x4::select(x.gt(zero), splat(SELU_LAMBDA), y.add(splat(SELU_LAMBDA * SELU_ALPHA)))
        }
        Activation::Sigmoid => y.mul(one.sub(y)),
        Activation::Tanh => one.sub(y.mul(y)),
        // d/dx log(1 + eˣ) = σ(x).
        Activation::Softplus => sigmoid(x),
        // σ + xσ(1 − σ) = σ·(1 + x·(1 − σ)).
        Activation::Silu => {
            let s = sigmoid(x);
            gated_grad(x, s.mul(x.mul(one.sub(s)).add(one)))
        }
        // Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π).
        Activation::Gelu => {
            let cdf = splat(0.5).mul(one.add(erf(x.mul(splat(FRAC_1_SQRT_2)))));
            let pdf = exp(x.mul(x).mul(splat(-0.5))).mul(splat(FRAC_1_SQRT_2PI));
            gated_grad(x, x.mul_add(pdf, cdf))
        }
        // s + k·x·s(1 − s), s = σ(kx).
        Activation::GeluSigmoid => {
            let s = sigmoid(x.mul(splat(GELU_SIGMOID_K)));
            let ds = s.mul(one.sub(s)).mul(x).mul(splat(GELU_SIGMOID_K));
            gated_grad(x, s.add(ds))
        }
        // s + x·s(1 − s)·z', s = σ(z), z = 2k(x + c·x³), z' = 2k(1 + 3c·x²).
        Activation::GeluTanh => {
            let s = sigmoid(gelu_tanh_arg(x));
            let dz = x.mul(x).mul_add(splat(3.0 * GELU_TANH_C), one).mul(splat(GELU_TANH_2K));
            gated_grad(x, s.mul(one.sub(s)).mul(dz).mul_add(x, s))
        }
        // g + x·(1 − g²)·σ(x), g = tanh(softplus(x)).
        Activation::Mish => {
            let g = mish_gate(x);
            let dg = one.sub(g.mul(g)).mul(sigmoid(x));
            gated_grad(x, x.mul_add(dg, g))
        }
    };
    // NaN in x reaches dx even where the derivative is a constant.
    F32x4::select(x.is_nan(), x, d)
}

/// Loads `len` < 4 values into a vector padded with zeros.
#[inline(always)]
unsafe fn load_tail(p: *const f32, len: usize) -> F32x4 {
    let mut buf = [0.0f32; 4];
    core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), len);
    F32x4::load(buf.as_ptr())
}

/// Stores the first `len` < 4 lanes of `v`.
#[inline(always)]
unsafe fn store_tail(v: F32x4, p: *mut f32, len: usize) {
    let mut buf = [0.0f32; 4];
    v.store(buf.as_mut_ptr());
    core::ptr::copy_nonoverlapping(buf.as_ptr(), p, len);
}

#[inline(always)]
unsafe fn forward_loop(kind: Activation, n: usize, x: *const f32, y: *mut f32, alpha: f32) {
    let n4 = n - n % 4;
    let mut i = 0;
    while i < n4 {
        forward_one(kind, F32x4::load(x.add(i)), alpha).store(y.add(i));
        i += 4;
    }
    if i < n {
        store_tail(forward_one(kind, load_tail(x.add(i), n - i), alpha), y.add(i), n - i);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn backward_loop(
    kind: Activation,
    n: usize,
    x: *const f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    alpha: f32,
    accumulate: bool,
) {
    let step = |xv: F32x4, yv: F32x4, dyv: F32x4, old: F32x4| {
        let g = dyv.mul(derivative(kind, xv, yv, alpha));
        if accumulate {
            old.add(g)
        } else {
            g
        }
    };
    let n4 = n - n % 4;
    let mut i = 0;
    while i < n4 {
        let old = if accumulate { F32x4::load(dx.add(i)) } else { F32x4::zero() };
        let v = step(F32x4::load(x.add(i)), F32x4::load(y.add(i)), F32x4::load(dy.add(i)), old);
        v.store(dx.add(i));
        i += 4;
    }
    if i < n {
        let len = n - i;
        let old = if accumulate { load_tail(dx.add(i), len) } else { F32x4::zero() };
        let v = step(
            load_tail(x.add(i), len),
            load_tail(y.add(i), len),
            load_tail(dy.add(i), len),
            old,
        );
        store_tail(v, dx.add(i), len);
    }
}

/// y[i] = f(x[i]) for i < n, f chosen by `kind` (an [`Activation`] code); `alpha` is the α of
/// leakyRelu and elu (ignored otherwise). Returns 0, or −1 for an unknown code (nothing written).
///
/// # Safety
/// x must be readable and y writable for n elements; y equals x or does not overlap it.
pub unsafe fn activation_forward(
    kind: i32,
    n: usize,
    x: *const f32,
    y: *mut f32,
    alpha: f32,
) -> i32 {
    // One monomorphized loop per code: the match on `kind` is outside the element loop.
    macro_rules! dispatch {
        ($($k:ident),*) => {
            match Activation::from_code(kind) {
                $(Some(Activation::$k) => forward_loop(Activation::$k, n, x, y, alpha),)*
                None => return -1,
            }
        };
    }
    dispatch!(
        Linear,
        Relu,
        Relu6,
        LeakyRelu,
        Elu,
        Selu,
        Sigmoid,
        Tanh,
        Softplus,
        Silu,
        Gelu,
        GeluSigmoid,
        GeluTanh,
        Mish
    );
    0
}

/// dx[i] = dy[i]·f'(x[i]) for i < n, or dx[i] += dy[i]·f'(x[i]) when `accumulate` ≠ 0. Reads x
/// and the forward output y = f(x) (see the module doc). Returns 0, or −1 for an unknown code.
///
/// # Safety
/// x, y, dy readable and dx writable (and readable when accumulating) for n elements; dx equals
/// dy or does not overlap it, and does not overlap x or y.
#[allow(clippy::too_many_arguments)]
pub unsafe fn activation_backward(
    kind: i32,
    n: usize,
    x: *const f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    alpha: f32,
    accumulate: i32,
) -> i32 {
    let acc = accumulate != 0;
    macro_rules! dispatch {
        ($($k:ident),*) => {
            match (Activation::from_code(kind), acc) {
                $(
                    (Some(Activation::$k), true) => backward_loop(Activation::$k, n, x, y, dy, dx, alpha, true),
                    (Some(Activation::$k), false) => backward_loop(Activation::$k, n, x, y, dy, dx, alpha, false),
                )*
                (None, _) => return -1,
            }
        };
    }
    dispatch!(
        Linear,
        Relu,
        Relu6,
        LeakyRelu,
        Elu,
        Selu,
        Sigmoid,
        Tanh,
        Softplus,
        Silu,
        Gelu,
        GeluSigmoid,
        GeluTanh,
        Mish
    );
    0
}

#[cfg(test)]
#[path = "elementwise_tests.rs"]
mod tests;

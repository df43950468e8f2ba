//! The whole C ABI of the wasm module, one function per kernel: gemm, gather and the optimizer
//! updates here, the other kernels by concern in the `exports_*` files below.
//!
//! Pointers arrive as byte addresses into the runtime's memory; sizes and strides were checked by
//! the TypeScript bindings (packages/wasmgrad/src/runtime/kernels.ts), which declare the same
//! names and arities (a test asserts they match).
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

use crate::gemm;

#[no_mangle]
pub unsafe extern "C" fn f32_gemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    work: *mut f32,
) {
    gemm::gemm(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, work)
}

#[no_mangle]
pub extern "C" fn f32_gemm_workspace_len() -> usize {
    gemm::GEMM_WORKSPACE_F32
}

// ---- gemm (fused dense epilogue, batched) ----

#[no_mangle]
pub unsafe extern "C" fn f32_gemm_bias_act(
    m: usize,
    n: usize,
    k: usize,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    bias: *const f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    act: i32,
    work: *mut f32,
) {
    gemm::gemm_bias_act(m, n, k, a, rsa, csa, b, rsb, csb, bias, c, rsc, csc, act, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gemm_batched(
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    sa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    sb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
    sc: isize,
    work: *mut f32,
) {
    gemm::gemm_batched(
        batch, m, n, k, alpha, a, rsa, csa, sa, b, rsb, csb, sb, beta, c, rsc, csc, sc, work,
    )
}

// ---- gather ----

#[no_mangle]
pub unsafe extern "C" fn f32_gather_rows(
    count: usize,
    indices: *const u32,
    row_len: usize,
    src: *const f32,
    dst: *mut f32,
) {
    crate::gather::gather_rows(count, indices, row_len, src, dst)
}

// ---- optim ----

#[no_mangle]
pub unsafe extern "C" fn f32_sgd(n: usize, p: *mut f32, g: *const f32, lr: f32) {
    crate::optim::sgd(n, p, g, lr)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sgd_momentum(
    n: usize,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    lr: f32,
    momentum: f32,
) {
    crate::optim::sgd_momentum(n, p, g, v, lr, momentum)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sgd_nesterov(
    n: usize,
    p: *mut f32,
    g: *const f32,
    v: *mut f32,
    lr: f32,
    momentum: f32,
) {
    crate::optim::sgd_nesterov(n, p, g, v, lr, momentum)
}

#[no_mangle]
pub unsafe extern "C" fn f32_adam(
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
    crate::optim::adam(n, p, g, m, v, vhat, lr_t, beta1, beta2, eps_t, decay)
}

#[no_mangle]
pub unsafe extern "C" fn f32_adamax(
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
    crate::optim::adamax(n, p, g, m, u, lr_t, beta1, beta2, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_nadam(
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
    crate::optim::nadam(n, p, g, m, v, c_m, c_g, beta1, beta2, v_scale, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_rmsprop(
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
    crate::optim::rmsprop(n, p, g, v, mg, mom, lr, rho, momentum, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_adagrad(
    n: usize,
    p: *mut f32,
    g: *const f32,
    acc: *mut f32,
    lr: f32,
    eps: f32,
) {
    crate::optim::adagrad(n, p, g, acc, lr, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_adadelta(
    n: usize,
    p: *mut f32,
    g: *const f32,
    ag: *mut f32,
    ad: *mut f32,
    lr: f32,
    rho: f32,
    eps: f32,
) {
    crate::optim::adadelta(n, p, g, ag, ad, lr, rho, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_weight_decay(n: usize, p: *mut f32, factor: f32) {
    crate::optim::weight_decay(n, p, factor)
}

#[no_mangle]
pub unsafe extern "C" fn f32_add_penalty_grad(
    n: usize,
    p: *const f32,
    g: *mut f32,
    l1: f32,
    l2: f32,
) {
    crate::optim::add_penalty_grad(n, p, g, l1, l2)
}

#[no_mangle]
pub unsafe extern "C" fn f32_penalty(n: usize, p: *const f32, l1: f32, l2: f32) -> f32 {
    crate::optim::penalty(n, p, l1, l2)
}

#[no_mangle]
pub unsafe extern "C" fn f32_clip_by_value(n: usize, g: *mut f32, lo: f32, hi: f32) {
    crate::optim::clip_by_value(n, g, lo, hi)
}

#[no_mangle]
pub unsafe extern "C" fn f32_clip_by_norm(n: usize, g: *mut f32, clip: f32) -> f32 {
    crate::optim::clip_by_norm(n, g, clip)
}

#[no_mangle]
pub unsafe extern "C" fn f32_clip_scale(n: usize, g: *mut f32, norm: f32, clip: f32) {
    crate::optim::clip_scale(n, g, norm, clip)
}

#[path = "exports_conv.rs"]
mod conv;
#[path = "exports_elementwise.rs"]
mod elementwise;
#[path = "exports_reduce.rs"]
mod reduce;

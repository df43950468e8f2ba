//! The whole C ABI of the wasm module, one line per kernel.
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

// ---- reduce / softmax / loss / norm ----
// Null pointers (0) mark optional outputs and parameters where the kernel documents it.

#[no_mangle]
pub unsafe extern "C" fn f32_sum_rows(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut f32,
    scale: f32,
    accumulate: u32,
) {
    crate::reduce::sum_rows(rows, cols, x, ldx, out, scale, accumulate != 0)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sum_cols(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut f32,
    scale: f32,
    accumulate: u32,
) {
    crate::reduce::sum_cols(rows, cols, x, ldx, out, scale, accumulate != 0)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sum(n: usize, x: *const f32) -> f32 {
    crate::reduce::sum(n, x)
}

#[no_mangle]
pub unsafe extern "C" fn f32_mean(n: usize, x: *const f32) -> f32 {
    crate::reduce::mean(n, x)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sum_squares(n: usize, x: *const f32) -> f32 {
    crate::reduce::sum_squares(n, x)
}

#[no_mangle]
pub unsafe extern "C" fn f32_l2_norm(n: usize, x: *const f32) -> f32 {
    crate::reduce::l2_norm(n, x)
}

#[no_mangle]
pub unsafe extern "C" fn f32_max_rows(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut f32,
) {
    crate::reduce::max_rows(rows, cols, x, ldx, out)
}

#[no_mangle]
pub unsafe extern "C" fn f32_argmax_rows(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    out: *mut i32,
) {
    crate::reduce::argmax_rows(rows, cols, x, ldx, out)
}

#[no_mangle]
pub unsafe extern "C" fn f32_count_argmax_equal(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    labels: *const i32,
) -> usize {
    crate::reduce::count_argmax_equal(rows, cols, x, ldx, labels)
}

#[no_mangle]
pub unsafe extern "C" fn f32_count_argmax_match(
    rows: usize,
    cols: usize,
    x: *const f32,
    ldx: usize,
    y: *const f32,
    ldy: usize,
) -> usize {
    crate::reduce::count_argmax_match(rows, cols, x, ldx, y, ldy)
}

#[no_mangle]
pub unsafe extern "C" fn f32_softmax(rows: usize, cols: usize, x: *const f32, y: *mut f32) {
    crate::softmax::softmax(rows, cols, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_log_softmax(rows: usize, cols: usize, x: *const f32, y: *mut f32) {
    crate::softmax::log_softmax(rows, cols, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_softmax_backward(
    rows: usize,
    cols: usize,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
) {
    crate::softmax::softmax_backward(rows, cols, y, dy, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_log_softmax_backward(
    rows: usize,
    cols: usize,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
) {
    crate::softmax::log_softmax_backward(rows, cols, y, dy, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_softmax_cross_entropy(
    rows: usize,
    cols: usize,
    x: *const f32,
    t: *const f32,
    dx: *mut f32,
    scale: f32,
) -> f32 {
    crate::loss::softmax_cross_entropy(rows, cols, x, t, dx, scale)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sparse_softmax_cross_entropy(
    rows: usize,
    cols: usize,
    x: *const f32,
    labels: *const i32,
    dx: *mut f32,
    scale: f32,
) -> f32 {
    crate::loss::sparse_softmax_cross_entropy(rows, cols, x, labels, dx, scale)
}

#[no_mangle]
pub unsafe extern "C" fn f32_sigmoid_cross_entropy(
    rows: usize,
    cols: usize,
    x: *const f32,
    y: *const f32,
    dx: *mut f32,
    scale: f32,
) -> f32 {
    crate::loss::sigmoid_cross_entropy(rows, cols, x, y, dx, scale)
}

#[no_mangle]
pub unsafe extern "C" fn f32_cross_entropy_probs(
    rows: usize,
    cols: usize,
    p: *const f32,
    t: *const f32,
    dp: *mut f32,
    scale: f32,
    eps: f32,
) -> f32 {
    crate::loss::cross_entropy_probs(rows, cols, p, t, dp, scale, eps)
}

#[no_mangle]
pub unsafe extern "C" fn f32_mse(
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    da: *mut f32,
    scale: f32,
) -> f32 {
    crate::loss::mse(rows, cols, a, b, da, scale)
}

#[no_mangle]
pub unsafe extern "C" fn f32_mae(
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    da: *mut f32,
    scale: f32,
) -> f32 {
    crate::loss::mae(rows, cols, a, b, da, scale)
}

#[no_mangle]
pub unsafe extern "C" fn f32_huber(
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    da: *mut f32,
    scale: f32,
    delta: f32,
) -> f32 {
    crate::loss::huber(rows, cols, a, b, da, scale, delta)
}

#[no_mangle]
pub unsafe extern "C" fn f32_batch_norm_train(
    n: usize,
    c: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    momentum: f32,
    y: *mut f32,
    mean: *mut f32,
    invstd: *mut f32,
    moving_mean: *mut f32,
    moving_var: *mut f32,
) {
    crate::norm::batch_norm_train(
        n,
        c,
        x,
        gamma,
        beta,
        eps,
        momentum,
        y,
        mean,
        invstd,
        moving_mean,
        moving_var,
    )
}

#[no_mangle]
pub unsafe extern "C" fn f32_batch_norm_inference(
    n: usize,
    c: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    moving_mean: *const f32,
    moving_var: *const f32,
    eps: f32,
    y: *mut f32,
) {
    crate::norm::batch_norm_inference(n, c, x, gamma, beta, moving_mean, moving_var, eps, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_batch_norm_backward(
    n: usize,
    c: usize,
    x: *const f32,
    dy: *const f32,
    gamma: *const f32,
    mean: *const f32,
    invstd: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
) {
    crate::norm::batch_norm_backward(n, c, x, dy, gamma, mean, invstd, dx, dgamma, dbeta)
}

#[no_mangle]
pub unsafe extern "C" fn f32_layer_norm(
    rows: usize,
    cols: usize,
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    eps: f32,
    y: *mut f32,
    mean: *mut f32,
    rstd: *mut f32,
) {
    crate::norm::layer_norm(rows, cols, x, gamma, beta, eps, y, mean, rstd)
}

#[no_mangle]
pub unsafe extern "C" fn f32_layer_norm_backward(
    rows: usize,
    cols: usize,
    x: *const f32,
    dy: *const f32,
    gamma: *const f32,
    mean: *const f32,
    rstd: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
) {
    crate::norm::layer_norm_backward(rows, cols, x, dy, gamma, mean, rstd, dx, dgamma, dbeta)
}

// ---- conv ----
// Geometry arguments, in this order everywhere: batch, in_h, in_w, in_c, k_h, k_w, then out_c
// (conv2d) or the channel multiplier (depthwise), stride_h, stride_w, dil_h, dil_w, pad_top,
// pad_left, pad_bottom, pad_right; pooling has no out_c and no dilation.

fn conv_geometry(d: [usize; 15]) -> crate::conv::Conv2dGeometry {
    let [batch, in_h, in_w, in_c, k_h, k_w, out_c, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, pad_bottom, pad_right] =
        d;
    crate::conv::Conv2dGeometry {
        batch,
        in_h,
        in_w,
        in_c,
        k_h,
        k_w,
        out_c,
        stride_h,
        stride_w,
        dil_h,
        dil_w,
        pad_top,
        pad_left,
        pad_bottom,
        pad_right,
    }
}

#[no_mangle]
pub extern "C" fn f32_conv2d_workspace_len(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
) -> usize {
    conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]).workspace_len()
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_forward(&g, x, filter, bias, y, act, work)
}

/// Workspace (f32 values) of [`f32_conv2d_forward_maxpool2`].
#[no_mangle]
pub extern "C" fn f32_conv2d_maxpool2_workspace_len(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
) -> usize {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_maxpool::workspace_len(&g)
}

/// y ← 2×2/2 max pooling of act(conv2d(x, filter) + bias), for inference.
#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_forward_maxpool2(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
    act: i32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_maxpool::conv2d_forward_maxpool2(&g, x, filter, bias, y, act, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_input(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_backward_input(&g, dy, filter, dx, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_filter(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    oc: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
    work: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv::conv2d_backward_filter(&g, x, dy, dfilter, work)
}

#[no_mangle]
pub unsafe extern "C" fn f32_conv2d_backward_bias(
    dy: *const f32,
    rows: usize,
    oc: usize,
    dbias: *mut f32,
) {
    crate::conv::conv2d_backward_bias(dy, rows, oc, dbias)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    filter: *const f32,
    bias: *const f32,
    y: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_forward(&g, x, filter, bias, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_backward_input(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    filter: *const f32,
    dx: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_backward_input(&g, dy, filter, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_depthwise_conv2d_backward_filter(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    mult: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    dy: *const f32,
    dfilter: *mut f32,
) {
    let oc = c.saturating_mul(mult);
    let g = conv_geometry([n, h, w, c, kh, kw, oc, sh, sw, dh, dw, pt, pl, pb, pr]);
    crate::conv_depthwise::depthwise_conv2d_backward_filter(&g, x, dy, dfilter)
}

// ---- pool ----

#[no_mangle]
pub unsafe extern "C" fn f32_max_pool2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    y: *mut f32,
    argmax: *mut i32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::max_pool2d_forward(&g, x, y, argmax)
}

#[no_mangle]
pub unsafe extern "C" fn f32_max_pool2d_backward(
    dy: *const f32,
    argmax: *const i32,
    y_len: usize,
    dx: *mut f32,
    x_len: usize,
) {
    crate::pool::max_pool2d_backward(dy, argmax, y_len, dx, x_len)
}

#[no_mangle]
pub unsafe extern "C" fn f32_avg_pool2d_forward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    x: *const f32,
    y: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::avg_pool2d_forward(&g, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_avg_pool2d_backward(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    pb: usize,
    pr: usize,
    dy: *const f32,
    dx: *mut f32,
) {
    let g = conv_geometry([n, h, w, c, kh, kw, c, sh, sw, 1, 1, pt, pl, pb, pr]);
    crate::pool::avg_pool2d_backward(&g, dy, dx)
}

#[no_mangle]
pub unsafe extern "C" fn f32_global_avg_pool2d_forward(
    x: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    y: *mut f32,
) {
    crate::pool::global_avg_pool2d_forward(x, batch, pixels, c, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_global_avg_pool2d_backward(
    dy: *const f32,
    batch: usize,
    pixels: usize,
    c: usize,
    dx: *mut f32,
) {
    crate::pool::global_avg_pool2d_backward(dy, batch, pixels, c, dx)
}

// ---- random ----

#[no_mangle]
pub unsafe extern "C" fn f32_random_uniform(
    n: usize,
    out: *mut f32,
    lo: f32,
    hi: f32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    offset: usize,
) {
    let s = crate::random::Stream::new(seed_lo, seed_hi, stream);
    crate::random::uniform(n, out, lo, hi, s, offset)
}

#[no_mangle]
pub unsafe extern "C" fn f32_random_normal(
    n: usize,
    out: *mut f32,
    mean: f32,
    stddev: f32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    offset: usize,
) {
    let s = crate::random::Stream::new(seed_lo, seed_hi, stream);
    crate::random::normal(n, out, mean, stddev, s, offset)
}

#[no_mangle]
pub unsafe extern "C" fn f32_random_truncated_normal(
    n: usize,
    out: *mut f32,
    mean: f32,
    stddev: f32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    offset: usize,
) {
    let s = crate::random::Stream::new(seed_lo, seed_hi, stream);
    crate::random::truncated_normal(n, out, mean, stddev, s, offset)
}

#[no_mangle]
pub unsafe extern "C" fn f32_dropout(
    n: usize,
    x: *const f32,
    y: *mut f32,
    rate: f32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    offset: usize,
) {
    let s = crate::random::Stream::new(seed_lo, seed_hi, stream);
    crate::random::dropout(n, x, y, rate, s, offset)
}

#[no_mangle]
pub unsafe extern "C" fn f32_dropout_mask(
    n: usize,
    out: *mut f32,
    rate: f32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,
    offset: usize,
) {
    let s = crate::random::Stream::new(seed_lo, seed_hi, stream);
    crate::random::dropout_mask(n, out, rate, s, offset)
}

// ---- elementwise ----

#[no_mangle]
pub unsafe extern "C" fn f32_activation_forward(
    kind: i32,
    n: usize,
    x: *const f32,
    y: *mut f32,
    alpha: f32,
) -> i32 {
    crate::elementwise::activation_forward(kind, n, x, y, alpha)
}

#[no_mangle]
pub unsafe extern "C" fn f32_activation_backward(
    kind: i32,
    n: usize,
    x: *const f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    alpha: f32,
    accumulate: i32,
) -> i32 {
    crate::elementwise::activation_backward(kind, n, x, y, dy, dx, alpha, accumulate)
}

#[no_mangle]
pub unsafe extern "C" fn f32_broadcast_binary(
    op: i32,
    rows: usize,
    cols: usize,
    a: *const f32,
    b: *const f32,
    rsb: isize,
    csb: isize,
    y: *mut f32,
) -> i32 {
    crate::elementwise_binary::broadcast_binary(op, rows, cols, a, b, rsb, csb, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_unary(op: i32, n: usize, x: *const f32, y: *mut f32) -> i32 {
    crate::elementwise_unary::unary(op, n, x, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_scale(n: usize, x: *const f32, alpha: f32, beta: f32, y: *mut f32) {
    crate::elementwise_binary::scale(n, x, alpha, beta, y)
}

#[no_mangle]
pub unsafe extern "C" fn f32_axpy(n: usize, alpha: f32, x: *const f32, y: *mut f32) {
    crate::elementwise_binary::axpy(n, alpha, x, y)
}

// ---- rnn ----

#[no_mangle]
pub unsafe extern "C" fn f32_lstm_forward_step(
    batch: usize,
    units: usize,
    z: *mut f32,
    c_prev: *const f32,
    c: *mut f32,
    h: *mut f32,
    gate_act: i32,
) {
    crate::rnn::lstm_forward_step(batch, units, z, c_prev, c, h, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_lstm_backward_step(
    batch: usize,
    units: usize,
    gates: *mut f32,
    c_prev: *const f32,
    c: *const f32,
    dh: *const f32,
    dc: *mut f32,
    gate_act: i32,
) {
    crate::rnn::lstm_backward_step(batch, units, gates, c_prev, c, dh, dc, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_forward_step(
    batch: usize,
    units: usize,
    x: *mut f32,
    rec: *mut f32,
    brec: *const f32,
    h_prev: *const f32,
    h: *mut f32,
    gate_act: i32,
) {
    crate::rnn::gru_forward_step(batch, units, x, rec, brec, h_prev, h, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_backward_step(
    batch: usize,
    units: usize,
    gates: *mut f32,
    rec: *mut f32,
    h_prev: *const f32,
    dh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    crate::rnn::gru_backward_step(batch, units, gates, rec, h_prev, dh, dh_prev, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_reset_before_gates(
    batch: usize,
    units: usize,
    x: *mut f32,
    rec: *mut f32,
    h_prev: *const f32,
    gate_act: i32,
) {
    crate::rnn::gru_reset_before_gates(batch, units, x, rec, h_prev, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_reset_before_output(
    batch: usize,
    units: usize,
    x: *mut f32,
    h_prev: *const f32,
    h: *mut f32,
) {
    crate::rnn::gru_reset_before_output(batch, units, x, h_prev, h)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_reset_before_backward_output(
    batch: usize,
    units: usize,
    gates: *mut f32,
    h_prev: *const f32,
    dh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    crate::rnn::gru_reset_before_backward_output(batch, units, gates, h_prev, dh, dh_prev, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_gru_reset_before_backward_gates(
    batch: usize,
    units: usize,
    gates: *mut f32,
    h_prev: *const f32,
    drh: *const f32,
    dh_prev: *mut f32,
    gate_act: i32,
) {
    crate::rnn::gru_reset_before_backward_gates(batch, units, gates, h_prev, drh, dh_prev, gate_act)
}

#[no_mangle]
pub unsafe extern "C" fn f32_copy_rows_3d(
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
    crate::rnn::copy_rows_3d(n0, n1, len, src, ss0, ss1, dst, ds0, ds1)
}

#[no_mangle]
pub unsafe extern "C" fn f32_scatter_add_rows(
    count: usize,
    indices: *const u32,
    row_len: usize,
    src: *const f32,
    dst: *mut f32,
) {
    crate::rnn::scatter_add_rows(count, indices, row_len, src, dst)
}

//! C ABI, part of [`super`]: reductions, softmax, losses and normalization.
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

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

//! C ABI, part of [`super`]: random numbers and dropout, elementwise kernels, and the recurrent
//! (LSTM/GRU) step kernels.
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

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

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

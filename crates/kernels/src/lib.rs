//! wasmgrad's compute kernels.
//!
//! Pure functions over caller-owned memory: no kernel allocates. The TypeScript runtime owns the
//! `WebAssembly.Memory`, hands kernels pointers (and a workspace pointer where scratch space is
//! needed), and checks every size, stride and bound before a call. On wasm32 the crate is `no_std`;
//! on the host it links std only so that `cargo test` can run the very same blocking code through
//! the scalar twin of [`simd::F32x4`].
#![cfg_attr(target_arch = "wasm32", no_std)]

pub mod conv;
pub mod conv_block3x3;
pub mod conv_depthwise;
pub mod conv_direct;
pub mod conv_im2col;
pub mod conv_maxpool;
pub mod conv_winograd;
pub mod elementwise;
pub mod elementwise_binary;
pub mod elementwise_unary;
pub mod gather;
pub mod gemm;
pub mod loss;
pub mod math;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod rnn;
pub mod simd;
pub mod softmax;

#[cfg(target_arch = "wasm32")]
pub mod exports;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

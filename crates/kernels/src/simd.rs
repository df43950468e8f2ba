//! One four-lane f32 vector type, [`F32x4`], with two bodies of the same name:
//! a WebAssembly SIMD128 body (wasm32 built with `+simd128`) and a scalar twin (host builds and the
//! scalar wasm build). Kernels are written once against this type, so host `cargo test` exercises
//! exactly the blocking, edge handling and operation order that ships in the SIMD build.
//!
//! Contract of the twin: every operation does the same IEEE single-precision arithmetic per lane,
//! in the same order (no fused multiply-add: `mul_add` is a multiply, then an add), so both bodies
//! give bitwise identical results for the same inputs.
//!
//! Methods are named like the operators (`add`, `mul`, ...) on purpose: they read like the
//! SIMD128 instruction names, and operator traits would hide which body runs.
#![allow(clippy::should_implement_trait)]

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[path = "simd_wasm.rs"]
mod imp;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[path = "simd_scalar.rs"]
mod imp;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use imp::f32_sqrt;
pub use imp::{F32x4, I32x4};

#[cfg(test)]
#[path = "simd_tests.rs"]
mod tests;

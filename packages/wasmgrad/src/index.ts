/**
 * wasmgrad: train neural networks in browsers, Node and Deno on Rust SIMD128 kernels.
 *
 * ```ts
 * import * as wg from 'wasmgrad';
 * await wg.ready();
 * const c = wg.matMul(wg.tensor2d([1, 2, 3, 4], [2, 2]), wg.tensor2d([5, 6, 7, 8], [2, 2]));
 * console.log(c.dataSync());
 * ```
 * @module
 */
export * from './errors.js';
export { Allocator } from './runtime/allocator.js';
export { KERNEL_SIGNATURES } from './runtime/kernels/signatures.js';
export { simdSupported, type WasmSource } from './runtime/loader.js';
export { createRuntime, Runtime, type RuntimeOptions, runtime } from './runtime/runtime.js';
// ---- tensors, ops, autograd ----
export * from './tensor/index.js';

import { type RuntimeOptions, ready as readyRuntime } from './runtime/runtime.js';

/** Loads the wasm module (once) and resolves when kernels can run. */
export async function ready(options?: RuntimeOptions): Promise<void> {
  await readyRuntime(options);
}

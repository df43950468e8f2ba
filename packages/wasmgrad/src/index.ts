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
// The public API, one line per module in path order: models and layers, data, the runtime,
// tensors/ops/autograd (re-exported whole), and training in workers (`wg.worker.spawn`).
export { type Callback, History, type Logs } from './callbacks/callback.js';
export * as callbacks from './callbacks/index.js';
export * as data from './data/index.js';
export * from './errors.js';
export { type Initializer, initializers } from './initializers/initializers.js';
export {
  type Checkpoint,
  type CheckpointStore,
  type FitCursor,
  loadCheckpoint,
  MemoryCheckpointStore,
  restoreCheckpoint,
  saveCheckpoint,
} from './io/checkpoint.js';
export * as io from './io/index.js';
export { loadModel, type ModelArtifacts, saveModel } from './io/model-io.js';
export type { ActivationIdentifier, ActivationName } from './layers/activations.js';
export * as layers from './layers/index.js';
export { type InputArgs, input } from './layers/input.js';
export type { LossIdentifier, LossName } from './losses/losses.js';
export type { FunctionalJSON, LayersModelJSON } from './model/base.js';
export { Functional, type FunctionalArgs, model } from './model/functional.js';
export {
  type CompileArgs,
  type FitArgs,
  LayersModel,
  NonFiniteLossError,
  Sequential,
  sequential,
} from './model/model.js';
export type { ModelJSON } from './model/sequential.js';
export { modelFromJSON } from './model/serialize.js';
export { GraphError, SymbolicTensor } from './model/symbolic.js';
export { type Optimizer, type OptimizerIdentifier, optimizers } from './optimizers/optimizers.js';
export { LearningRateSchedule, type SerializedSchedule, schedules } from './optimizers/schedules.js';
export { setSeed } from './random.js';
export { type Regularizer, regularizers } from './regularizers/regularizers.js';
export { Allocator } from './runtime/allocator.js';
export { KERNEL_SIGNATURES } from './runtime/kernels/signatures.js';
export { simdSupported, type WasmSource } from './runtime/loader.js';
export { createRuntime, getThreads, Runtime, type RuntimeOptions, runtime, setThreads } from './runtime/runtime.js';
export * from './tensor/index.js';
export * as tune from './tune/index.js';
export * as worker from './worker/index.js';

import { type RuntimeOptions, ready as readyRuntime } from './runtime/runtime.js';

/** Loads the wasm module (once) and resolves when kernels can run. */
export async function ready(options?: RuntimeOptions): Promise<void> {
  await readyRuntime(options);
}

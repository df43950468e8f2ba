/**
 * Every function the wasm module exports, by name, with its parameter names: the one TypeScript
 * declaration of each kernel (its checked wrapper lives beside it in this folder). A test asserts
 * that this table and the module's exports match name for name and arity for arity.
 *
 * Pointers are byte addresses into the runtime's memory; strides are in elements.
 */
import { CONV_SIGNATURES } from './conv.js';
import { ELEMENTWISE_SIGNATURES } from './elementwise.js';
import { GATHER_SIGNATURES } from './gather.js';
import { GEMM_SIGNATURES } from './gemm.js';
import { LOSS_SIGNATURES } from './loss.js';
import { NORM_SIGNATURES } from './norm.js';
import { OPTIM_SIGNATURES } from './optim.js';
import { POOL_SIGNATURES } from './pool.js';
import { RANDOM_SIGNATURES } from './random.js';
import { REDUCE_SIGNATURES } from './reduce.js';
import { RNN_SIGNATURES } from './rnn.js';
import { SOFTMAX_SIGNATURES } from './softmax.js';

export const KERNEL_SIGNATURES = {
  ...GEMM_SIGNATURES,
  ...CONV_SIGNATURES,
  ...POOL_SIGNATURES,
  ...GATHER_SIGNATURES,
  ...REDUCE_SIGNATURES,
  ...SOFTMAX_SIGNATURES,
  ...LOSS_SIGNATURES,
  ...NORM_SIGNATURES,
  ...OPTIM_SIGNATURES,
  ...RANDOM_SIGNATURES,
  ...ELEMENTWISE_SIGNATURES,
  ...RNN_SIGNATURES,
} as const;

export type KernelName = keyof typeof KERNEL_SIGNATURES;

type Params<T extends readonly string[]> = { [I in keyof T]: number };

/** The raw, unchecked exports, typed from {@link KERNEL_SIGNATURES}. */
export type RawKernels = {
  readonly [K in KernelName]: (...args: Params<(typeof KERNEL_SIGNATURES)[K]>) => number;
};

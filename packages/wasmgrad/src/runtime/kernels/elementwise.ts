/**
 * Checked bindings of the elementwise kernels (crates/kernels/src/elementwise.rs and
 * elementwise_binary.rs): activations forward/backward selected by a code, broadcast binary
 * arithmetic, affine scaling and axpy. All buffers are contiguous f32 arrays in the wasm heap.
 */
import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';

export const ELEMENTWISE_SIGNATURES = {
  f32_activation_forward: ['kind', 'n', 'x', 'y', 'alpha'],
  f32_activation_backward: ['kind', 'n', 'x', 'y', 'dy', 'dx', 'alpha', 'accumulate'],
  f32_broadcast_binary: ['op', 'rows', 'cols', 'a', 'b', 'rsb', 'csb', 'y'],
  f32_unary: ['op', 'n', 'x', 'y'],
  f32_scale: ['n', 'x', 'alpha', 'beta', 'y'],
  f32_axpy: ['n', 'alpha', 'x', 'y'],
} as const;

/**
 * Activation codes, mirrored from `Activation` in elementwise.rs (0 and 1 are shared with the
 * fused gemm epilogue). `alpha` is used by leakyRelu and elu only.
 */
export const ACTIVATION = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyRelu: 3,
  elu: 4,
  selu: 5,
  sigmoid: 6,
  tanh: 7,
  softplus: 8,
  silu: 9,
  gelu: 10,
  geluSigmoid: 11,
  geluTanh: 12,
  mish: 13,
} as const;
export type ActivationName = keyof typeof ACTIVATION;

/** Binary op codes, mirrored from `BinaryOp` in elementwise_binary.rs. */
export const BINARY_OP = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export type BinaryOpName = keyof typeof BINARY_OP;

function checkCount(op: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
}

function checkBuf(rt: Runtime, op: string, name: string, ptr: number, n: number): void {
  if (n > 0) checkBytes(rt, op, name, ptr, 4 * n);
}

function activationCode(op: string, kind: ActivationName): number {
  if (!Object.hasOwn(ACTIVATION, kind)) {
    throw new ValueError(
      op,
      `unknown activation '${String(kind)}'; expected one of ${Object.keys(ACTIVATION).join(', ')}`,
    );
  }
  return ACTIVATION[kind];
}

function checkScalar(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(op, `${name} must be a number, got ${v}`);
}

/** y[i] = f(x[i]) for i < n; y may equal x. `alpha` is leakyRelu's slope / elu's α (default 0). */
export function activationForward(
  rt: Runtime,
  kind: ActivationName,
  n: number,
  x: number,
  y: number,
  alpha = 0,
  op = 'activationForward',
): void {
  const code = activationCode(op, kind);
  checkCount(op, 'n', n);
  checkScalar(op, 'alpha', alpha);
  checkBuf(rt, op, 'x', x, n);
  checkBuf(rt, op, 'y', y, n);
  rt.kernels.f32_activation_forward(code, n, x, y, alpha);
}

/**
 * dx[i] = dy[i]·f'(x[i]) (or dx[i] += … when `accumulate`), reading x and the forward output
 * y = f(x). dx may equal dy.
 */
export function activationBackward(
  rt: Runtime,
  kind: ActivationName,
  n: number,
  x: number,
  y: number,
  dy: number,
  dx: number,
  { alpha = 0, accumulate = false }: { alpha?: number; accumulate?: boolean } = {},
  op = 'activationBackward',
): void {
  const code = activationCode(op, kind);
  checkCount(op, 'n', n);
  checkScalar(op, 'alpha', alpha);
  for (const [name, p] of [
    ['x', x],
    ['y', y],
    ['dy', dy],
    ['dx', dx],
  ] as const) {
    checkBuf(rt, op, name, p, n);
  }
  rt.kernels.f32_activation_backward(code, n, x, y, dy, dx, alpha, accumulate ? 1 : 0);
}

/** Shape of the right operand of {@link broadcastBinary}. */
export type BroadcastShape = 'full' | 'row' | 'column' | 'scalar';

/**
 * y = a ∘ b for a rows×cols row-major `a` and `b` of shape 'full' [rows, cols], 'row' [cols]
 * (e.g. a bias), 'column' [rows] or 'scalar' [1]; y may equal a. The gradient of a broadcast
 * operand is a reduction of dy over the broadcast axis (reduce kernels).
 */
export function broadcastBinary(
  rt: Runtime,
  opName: BinaryOpName,
  rows: number,
  cols: number,
  a: number,
  b: number,
  shape: BroadcastShape,
  y: number,
  op = opName,
): void {
  if (!Object.hasOwn(BINARY_OP, opName)) throw new ValueError(op, `unknown binary op '${String(opName)}'`);
  checkCount(op, 'rows', rows);
  checkCount(op, 'cols', cols);
  const strides: Record<BroadcastShape, [number, number, number]> = {
    full: [cols, 1, rows * cols],
    row: [0, 1, cols],
    column: [1, 0, rows],
    scalar: [0, 0, 1],
  };
  if (!Object.hasOwn(strides, shape)) throw new ValueError(op, `unknown broadcast shape '${String(shape)}'`);
  const [rsb, csb, bLen] = strides[shape];
  checkBuf(rt, op, 'a', a, rows * cols);
  checkBuf(rt, op, 'y', y, rows * cols);
  if (rows * cols > 0) checkBuf(rt, op, 'b', b, bLen);
  rt.kernels.f32_broadcast_binary(BINARY_OP[opName], rows, cols, a, b, rsb, csb, y);
}

/** Unary math op codes, mirrored from `UnaryOp` in elementwise_unary.rs. */
export const UNARY_OP = {
  exp: 0,
  log: 1,
  expm1: 2,
  log1p: 3,
  sqrt: 4,
  abs: 5,
  neg: 6,
  square: 7,
  reciprocal: 8,
  erf: 9,
} as const;
export type UnaryOpName = keyof typeof UNARY_OP;

/** y[i] = g(x[i]) for i < n (exp and log within 1 ulp); y may equal x. */
export function unary(rt: Runtime, opName: UnaryOpName, n: number, x: number, y: number, op: string = opName): void {
  if (!Object.hasOwn(UNARY_OP, opName)) throw new ValueError(op, `unknown unary op '${String(opName)}'`);
  checkCount(op, 'n', n);
  checkBuf(rt, op, 'x', x, n);
  checkBuf(rt, op, 'y', y, n);
  rt.kernels.f32_unary(UNARY_OP[opName], n, x, y);
}

/** y[i] = alpha·x[i] + beta for i < n; y may equal x. */
export function scale(rt: Runtime, n: number, x: number, alpha: number, beta: number, y: number, op = 'scale'): void {
  checkCount(op, 'n', n);
  checkScalar(op, 'alpha', alpha);
  checkScalar(op, 'beta', beta);
  checkBuf(rt, op, 'x', x, n);
  checkBuf(rt, op, 'y', y, n);
  rt.kernels.f32_scale(n, x, alpha, beta, y);
}

/** y[i] += alpha·x[i] for i < n (gradient accumulation). */
export function axpy(rt: Runtime, n: number, alpha: number, x: number, y: number, op = 'axpy'): void {
  checkCount(op, 'n', n);
  checkScalar(op, 'alpha', alpha);
  checkBuf(rt, op, 'x', x, n);
  checkBuf(rt, op, 'y', y, n);
  rt.kernels.f32_axpy(n, alpha, x, y);
}

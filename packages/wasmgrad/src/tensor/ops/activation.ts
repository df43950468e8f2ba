/**
 * Elementwise unary functions and activations. Each is the one primitive `unary` with a `kind`:
 * a fused forward kernel and a fused backward kernel per kind (the backward kernel gets x, y and dy,
 * so e.g. sigmoid's derivative reuses y instead of recomputing it).
 */
import { ValueError } from '../../errors.js';
import { dropIntermediates, record } from '../engine.js';
import { empty, type Tensor } from '../tensor.js';
import { add, mul, neg } from './binary.js';
import { mathForward, unaryBackward, unaryForward } from './kernels.js';

/** Every elementwise function with a fused kernel pair. */
export const ACTIVATION_KINDS = [
  'linear',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softplus',
  'swish',
  'mish',
  'gelu',
  'geluTanh',
  'geluSigmoid',
] as const;

/** Name of an elementwise function (see {@link ACTIVATION_KINDS}). */
export type ActivationKind = (typeof ACTIVATION_KINDS)[number];

/** y = f(x) elementwise for the function `kind` (`alpha`: slope of leakyRelu, scale of elu). */
export function unary(x: Tensor, kind: ActivationKind, alpha = 0): Tensor {
  if (!(ACTIVATION_KINDS as readonly string[]).includes(kind)) {
    throw new ValueError(
      'unary',
      `unknown elementwise function '${kind}'; expected one of ${ACTIVATION_KINDS.join(', ')}`,
    );
  }
  const y = empty(x.shape, kind, x.runtime);
  unaryForward(x.runtime, kind, kind, alpha, x.size, x.ptr, y.ptr);
  return record('unary', [x], y, { kind, alpha });
}

/**
 * dx = f'(x)·dy for the function `kind`, given x, y = f(x) and dy; added into `into` (an
 * accumulated gradient the engine handed over) instead of a new tensor when given.
 */
export function activationBackward(
  kind: ActivationKind,
  x: Tensor,
  y: Tensor,
  dy: Tensor,
  alpha: number,
  into?: Tensor,
): Tensor {
  const op = `${kind} (backward)`;
  const dx = into ?? empty(x.shape, op, x.runtime);
  unaryBackward(x.runtime, op, kind, alpha, x.size, x.ptr, y.ptr, dy.ptr, dx.ptr, into !== undefined);
  return dx;
}

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unary(x, 'relu');
/** min(max(x, 0), 6). */
export const relu6 = (x: Tensor): Tensor => unary(x, 'relu6');
/** x for x > 0, α·x otherwise (default α = 0.2, as tfjs). */
export const leakyRelu = (x: Tensor, alpha = 0.2): Tensor => unary(x, 'leakyRelu', alpha);
/** x for x > 0, α·(eˣ − 1) otherwise (default α = 1). */
export const elu = (x: Tensor, alpha = 1): Tensor => unary(x, 'elu', alpha);
/** λ·elu(x, α) with the self-normalizing constants λ ≈ 1.0507, α ≈ 1.6733. */
export const selu = (x: Tensor): Tensor => unary(x, 'selu');
/** 1 / (1 + e⁻ˣ). */
export const sigmoid = (x: Tensor): Tensor => unary(x, 'sigmoid');
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary(x, 'tanh');
/** log(1 + eˣ). */
export const softplus = (x: Tensor): Tensor => unary(x, 'softplus');
/** x·σ(x) (SiLU). */
export const swish = (x: Tensor): Tensor => unary(x, 'swish');
/** x·tanh(softplus(x)). */
export const mish = (x: Tensor): Tensor => unary(x, 'mish');
/** Exact GELU: x·Φ(x) = x·(1 + erf(x/√2))/2. */
export const gelu = (x: Tensor): Tensor => unary(x, 'gelu');
/** GELU, tanh approximation: x·(1 + tanh(√(2/π)·(x + 0.044715x³)))/2. */
export const geluTanh = (x: Tensor): Tensor => unary(x, 'geluTanh');
/** GELU, sigmoid approximation: x·σ(1.702x). */
export const geluSigmoid = (x: Tensor): Tensor => unary(x, 'geluSigmoid');
/** Elementwise math functions with a forward kernel; their gradients are composites (backward.ts). */
export const MATH_KINDS = ['exp', 'expm1', 'log', 'log1p', 'sqrt', 'reciprocal'] as const;
/** Name of an elementwise math function (see {@link MATH_KINDS}). */
export type MathKind = (typeof MATH_KINDS)[number];

/** y = g(x) elementwise for the math function `kind`, recorded under its own name. */
function math(x: Tensor, kind: MathKind): Tensor {
  const y = empty(x.shape, kind, x.runtime);
  mathForward(x.runtime, kind, kind, x.size, x.ptr, y.ptr);
  return record(kind, [x], y);
}

/** eˣ. */
export const exp = (x: Tensor): Tensor => math(x, 'exp');
/** eˣ − 1, accurate near 0. */
export const expm1 = (x: Tensor): Tensor => math(x, 'expm1');
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => math(x, 'log');
/** log(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => math(x, 'log1p');
/** Square root. */
export const sqrt = (x: Tensor): Tensor => math(x, 'sqrt');
/** 1/x. */
export const reciprocal = (x: Tensor): Tensor => math(x, 'reciprocal');
/** x², composite x·x (its gradient 2x·dy comes from mul's rule). */
export const square = (x: Tensor): Tensor => mul(x, x);
/** |x|, composite relu(x) + relu(−x) (exact; gradient sign(x), 0 at 0). */
export function abs(x: Tensor): Tensor {
  const n = neg(x);
  const p = relu(x);
  const q = relu(n);
  const y = add(p, q);
  dropIntermediates(n, p, q);
  return y;
}

import { ValueError } from '../errors.js';
import {
  activationBackward as elementwiseBackward,
  activationForward as elementwiseForward,
  type ActivationName as KernelActivation,
} from '../runtime/kernels/elementwise.js';
import type { GemmActivation } from '../runtime/kernels/gemm.js';
import { softmax, softmaxBackward } from '../runtime/kernels/softmax.js';
import type { Runtime } from '../runtime/runtime.js';

/** Activation names accepted by layers (tfjs camelCase; Keras snake_case aliases map onto them). */
export const ACTIVATION_NAMES = [
  'linear',
  'sigmoid',
  'tanh',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'softplus',
  'softmax',
  'swish',
  'mish',
  'gelu',
  'geluSigmoid',
  'geluTanh',
] as const;

export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** An activation by name, or with its parameter: `{ name: 'leakyRelu', alpha: 0.1 }`. */
export type ActivationIdentifier = ActivationName | { name: ActivationName; alpha?: number };

/** A resolved activation: its name and parameter. */
export interface Activation {
  readonly name: ActivationName;
  readonly alpha: number;
}

const ALIASES: Record<string, ActivationName> = {
  leaky_relu: 'leakyRelu',
  leakyrelu: 'leakyRelu',
  silu: 'swish',
  gelu_sigmoid: 'geluSigmoid',
  gelu_tanh: 'geluTanh',
  gelu_new: 'geluTanh',
};

/** Default parameters: leakyRelu 0.2 (tfjs), elu 1. */
const DEFAULT_ALPHA: Partial<Record<ActivationName, number>> = { leakyRelu: 0.2, elu: 1 };

/** Resolves an identifier; unknown names throw a ValueError listing the known ones. */
export function getActivation(id: ActivationIdentifier | undefined | null, op: string): Activation {
  if (id === undefined || id === null) return { name: 'linear', alpha: 0 };
  const raw = typeof id === 'string' ? id : id.name;
  const name = (ACTIVATION_NAMES as readonly string[]).includes(raw)
    ? (raw as ActivationName)
    : Object.hasOwn(ALIASES, raw)
      ? ALIASES[raw]
      : undefined;
  if (!name) throw new ValueError(op, `unknown activation '${raw}'; known: ${ACTIVATION_NAMES.join(', ')}`);
  const alpha = typeof id === 'object' && id.alpha !== undefined ? id.alpha : (DEFAULT_ALPHA[name] ?? 0);
  if (!Number.isFinite(alpha)) throw new ValueError(op, `activation ${name} alpha must be finite, got ${alpha}`);
  return { name, alpha };
}

/** The serializable form: a name, or `{ name, alpha }` when alpha differs from the default. */
export function activationConfig(a: Activation): ActivationIdentifier {
  return a.alpha === (DEFAULT_ALPHA[a.name] ?? 0) ? a.name : { name: a.name, alpha: a.alpha };
}

/** The gemm epilogue that applies `a` while storing, when the gemm kernel has it. */
export function gemmEpilogue(a: Activation): GemmActivation | undefined {
  return a.name === 'linear' || a.name === 'relu' || a.name === 'relu6' ? a.name : undefined;
}

/** The elementwise kernel's name of an activation (softmax is not elementwise). */
function kernelName(name: Exclude<ActivationName, 'softmax'>): KernelActivation {
  return name === 'swish' ? 'silu' : name;
}

/** y = a(x) over `rows` rows of `cols` values (softmax: per row). */
export function activationForward(rt: Runtime, a: Activation, rows: number, cols: number, x: number, y: number): void {
  if (a.name === 'softmax') softmax(rt, rows, cols, x, y, 'softmax');
  else if (a.name === 'linear') rt.f32.copyWithin(y >>> 2, x >>> 2, (x >>> 2) + rows * cols);
  else elementwiseForward(rt, kernelName(a.name), rows * cols, x, y, a.alpha);
}

/** dx = dy·a'(x), from the forward's input x and output y. */
export function activationBackward(
  rt: Runtime,
  a: Activation,
  rows: number,
  cols: number,
  x: number,
  y: number,
  dy: number,
  dx: number,
): void {
  if (a.name === 'softmax') softmaxBackward(rt, rows, cols, y, dy, dx, 'softmax');
  else if (a.name === 'linear') rt.f32.copyWithin(dx >>> 2, dy >>> 2, (dy >>> 2) + rows * cols);
  else elementwiseBackward(rt, kernelName(a.name), rows * cols, x, y, dy, dx, { alpha: a.alpha });
}

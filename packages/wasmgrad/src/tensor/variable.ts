/** Mutable tensors (parameters): `variable()`, `assign()`, and the registry variableGrads reads. */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { untrack } from './engine.js';
import { Storage, Tensor, type Tensor as TensorT } from './tensor.js';

const registry = new Map<string, Variable>();
let unnamed = 0;

/** Copies the values of `src` into `dst` (same size); memmove within one runtime's memory. */
export function copyValues(dst: TensorT, src: TensorT): void {
  if (dst.runtime === src.runtime) {
    const s = src.ptr >>> 2;
    dst.runtime.f32.copyWithin(dst.ptr >>> 2, s, s + src.size);
  } else {
    dst.runtime.write(dst.ptr, src.dataSync());
  }
}

/**
 * A tensor whose values can change with {@link Variable.assign}: model parameters. Variables are
 * never disposed by `tidy`; gradients of `variableGrads` are taken with respect to the trainable ones.
 */
export class Variable extends Tensor {
  /** Unique name (the registry key of `variableGrads`). */
  readonly name: string;
  /** Whether `variableGrads` differentiates with respect to this variable by default. */
  trainable: boolean;

  /** @internal use {@link variable}. */
  constructor(storage: Storage, shape: readonly number[], trainable: boolean, name: string) {
    super(storage, shape);
    this.trainable = trainable;
    this.name = name;
    untrack(this);
  }

  /** Overwrites the values with those of `value` (same shape); the memory stays the same. */
  assign(value: TensorT): void {
    if (value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new ShapeError(
        'assign',
        `variable '${this.name}' has shape ${fmtShape(this.shape)}, the new value ${fmtShape(value.shape)}`,
      );
    }
    copyValues(this, value);
  }

  override dispose(): void {
    if (registry.get(this.name) === this) registry.delete(this.name);
    super.dispose();
  }
}

/**
 * A new variable holding a copy of `initial`'s values. `name` must be unique among live variables
 * (default: a generated one).
 */
export function variable(initial: TensorT, trainable = true, name?: string): Variable {
  const varName = name ?? `variable_${++unnamed}`;
  if (typeof varName !== 'string' || varName.length === 0)
    throw new ValueError('variable', `name must be a non-empty string`);
  if (registry.has(varName)) throw new ValueError('variable', `a variable named '${varName}' already exists`);
  const rt = initial.runtime;
  void initial.ptr; // throws when disposed
  const v = new Variable(
    new Storage(rt, rt.allocF32(initial.size, 'variable'), initial.size * 4),
    initial.shape,
    trainable,
    varName,
  );
  copyValues(v, initial);
  registry.set(varName, v);
  return v;
}

/** @internal live trainable variables, in creation order. */
export function trainableVariables(): Variable[] {
  return [...registry.values()].filter((v) => v.trainable && !v.isDisposed);
}

/**
 * Reverse-mode autodiff over the tape: `grad`, `grads`, `valueAndGrad`, `valueAndGrads`,
 * `variableGrads`. Recording happens only while one of these runs `f`; the backward pass walks the
 * tape in reverse and applies the rules of {@link BACKWARD} (backward.ts), accumulating gradients in
 * place where a buffer is exclusively owned. Every intermediate of the forward and backward pass is
 * freed when the call returns; only the value and the gradients survive.
 */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { BACKWARD, type GradSlot } from './backward.js';
import { activeTape, beginScope, endScope, setTape, type Tape } from './engine.js';
import { addInPlace } from './ops/binary.js';
import { sameShape } from './ops/util.js';
import { empty, filled, nextTensorId, type Tensor, view } from './tensor.js';
import { trainableVariables, type Variable } from './variable.js';

/** A private copy of `t` (memmove of the wasm memory; not recorded). */
function copyOf(t: Tensor): Tensor {
  const c = empty(t.shape, 'grad', t.runtime);
  const s = t.ptr >>> 2;
  t.runtime.f32.copyWithin(c.ptr >>> 2, s, s + t.size);
  return c;
}

/** Gradient bookkeeping of one backward pass. */
class GradTable {
  private readonly grads = new Map<number, Tensor>();
  /** How many table slots hold each tensor; in-place accumulation needs exactly one. */
  private readonly uses = new Map<Tensor, number>();

  /** Tensors with an id ≥ `firstOwned` were created by this backward pass. */
  constructor(private readonly firstOwned: number) {}

  owns(t: Tensor): boolean {
    return t.id >= this.firstOwned;
  }

  get(x: Tensor): Tensor | undefined {
    return this.grads.get(x.id);
  }

  /** The gradient buffer of `x` if it may be overwritten in place (exclusively ours), else undefined. */
  exclusive(x: Tensor): Tensor | undefined {
    const g = this.grads.get(x.id);
    if (g && this.uses.get(g) === 1 && this.owns(g) && g.storage.refs === 1) return g;
    return undefined;
  }

  /** grad(x) += g, in place when possible. */
  accumulate(x: Tensor, g: Tensor, op: string): void {
    if (!sameShape(g.shape, x.shape)) {
      throw new ShapeError(
        `${op} (backward)`,
        `gradient of shape ${fmtShape(g.shape)} for an input of shape ${fmtShape(x.shape)}`,
      );
    }
    const prev = this.grads.get(x.id);
    if (prev === g) return; // the rule accumulated into the buffer itself
    if (prev === undefined) this.set(x, g);
    else if (this.exclusive(x)) addInPlace(prev, g);
    else {
      // prev is shared (e.g. the same dy reached two inputs): sum into a private copy.
      const sum = copyOf(prev);
      addInPlace(sum, g);
      this.set(x, sum);
    }
  }

  /** Drops the slot of `x` (its node has been processed). */
  release(x: Tensor): void {
    const g = this.grads.get(x.id);
    if (!g) return;
    this.grads.delete(x.id);
    this.uses.set(g, (this.uses.get(g) ?? 1) - 1);
  }

  private set(x: Tensor, g: Tensor): void {
    const prev = this.grads.get(x.id);
    if (prev) this.uses.set(prev, (this.uses.get(prev) ?? 1) - 1);
    this.grads.set(x.id, g);
    this.uses.set(g, (this.uses.get(g) ?? 0) + 1);
  }
}

/**
 * Runs the tape backward from `y` (seeded with `dy`, default ones) and returns d(Σ dy·y)/dx for
 * each of `xs` (zeros when y does not depend on x). Must run inside a scope that disposes the
 * intermediates; the returned tensors are new and distinct.
 */
function backprop(tape: Tape, y: Tensor, xs: readonly Tensor[], dy: Tensor | undefined, firstOwned: number): Tensor[] {
  if (dy !== undefined && !sameShape(dy.shape, y.shape)) {
    throw new ShapeError('grad', `dy has shape ${fmtShape(dy.shape)}, f(x) has shape ${fmtShape(y.shape)}`);
  }
  const table = new GradTable(firstOwned);
  table.accumulate(y, dy ?? filled(y.shape, 1, 'grad', y.runtime), 'grad');
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i] as (typeof tape.nodes)[number];
    const g = table.get(node.output);
    if (g === undefined) continue;
    const rule = BACKWARD[node.op];
    if (!rule) throw new ValueError('grad', `no backward rule for op '${node.op}'`);
    const slots: GradSlot[] = node.inputs.map((x) => ({
      needed: tape.needsGrad.has(x.id),
      existing: () => table.exclusive(x),
    }));
    const inputGrads = rule(g, node, slots);
    table.release(node.output);
    node.inputs.forEach((x, j) => {
      const gx = inputGrads[j];
      if (gx && slots[j]?.needed) table.accumulate(x, gx, node.op);
    });
  }
  const seen = new Set<Tensor>();
  return xs.map((x) => {
    let g = table.get(x) ?? filled(x.shape, 0, 'grad', x.runtime);
    // Each returned gradient must be its own tensor, not an input the caller may dispose.
    if (seen.has(g) || !table.owns(g)) g = view(g, g.shape);
    seen.add(g);
    return g;
  });
}

/** Runs `f(xs)` under a new tape watching `xs`; returns the value and the gradients. */
function differentiate<T extends Tensor>(
  op: string,
  f: (...xs: Tensor[]) => T,
  xs: readonly Tensor[],
  dy?: Tensor,
): { value: T; grads: Tensor[]; created: boolean } {
  if (typeof f !== 'function') throw new ValueError(op, 'expects a function');
  if (activeTape() !== null)
    throw new ValueError(op, 'nested gradient computations are not supported (first order only)');
  const tape: Tape = { nodes: [], needsGrad: new Set(xs.map((x) => x.id)), saved: new Set() };
  const firstId = nextTensorId();
  beginScope();
  let keep = new Set<Tensor>();
  try {
    setTape(tape);
    let value: T;
    try {
      value = f(...xs);
    } finally {
      setTape(null);
    }
    if (!(value?.shape && typeof value.dataSync === 'function')) throw new ValueError(op, 'f must return a Tensor');
    const grads = backprop(tape, value, xs, dy, nextTensorId());
    keep = new Set([value, ...grads]);
    return { value, grads, created: value.id >= firstId };
  } finally {
    endScope(keep);
  }
}

/**
 * `grad(f)` returns a function `(x, dy?) => df/dx` (tfjs semantics: for a non-scalar f(x) the
 * gradient of Σ dy·f(x), dy defaulting to ones).
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  return (x, dy) => {
    const { value, grads, created } = differentiate('grad', f, [x], dy);
    if (created) value.dispose();
    return grads[0] as Tensor;
  };
}

/** `grads(f)` returns a function `(xs, dy?) => [df/dx0, df/dx1, ...]`. */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => Tensor[] {
  return (xs, dy) => {
    const { value, grads: gs, created } = differentiate('grads', f, xs, dy);
    if (created) value.dispose();
    return gs;
  };
}

/** `valueAndGrad(f)` returns a function `(x, dy?) => { value: f(x), grad: df/dx }`. */
export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  return (x, dy) => {
    const { value, grads: gs } = differentiate('valueAndGrad', f, [x], dy);
    return { value, grad: gs[0] as Tensor };
  };
}

/** `valueAndGrads(f)` returns a function `(xs, dy?) => { value, grads }`. */
export function valueAndGrads(
  f: (...xs: Tensor[]) => Tensor,
): (xs: Tensor[], dy?: Tensor) => { value: Tensor; grads: Tensor[] } {
  return (xs, dy) => {
    const { value, grads: gs } = differentiate('valueAndGrads', f, xs, dy);
    return { value, grads: gs };
  };
}

/**
 * Evaluates the scalar-valued `f()` and the gradients of its value with respect to `varList`
 * (default: every live trainable variable), keyed by variable name, as tfjs's `variableGrads`.
 */
export function variableGrads(
  f: () => Tensor,
  varList?: readonly Variable[],
): { value: Tensor; grads: Record<string, Tensor> } {
  const vars = varList ?? trainableVariables();
  const { value, grads: gs, created } = differentiate('variableGrads', () => f(), vars);
  if (value.size !== 1) {
    const shape = fmtShape(value.shape);
    if (created) value.dispose();
    for (const g of gs) g.dispose();
    throw new ShapeError('variableGrads', `f must return a scalar, got shape ${shape}`);
  }
  const out: Record<string, Tensor> = {};
  vars.forEach((v, i) => {
    out[v.name] = gs[i] as Tensor;
  });
  return { value, grads: out };
}

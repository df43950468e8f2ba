/**
 * The bookkeeping shared by every tensor: live counts for `memory()`, the stack of `tidy` scopes,
 * and the active tape (if any) that differentiable ops record into.
 */
import { type Runtime, runtime } from '../runtime/runtime.js';
import type { Tensor } from './tensor.js';

/** Op attributes kept on the tape for the backward rule (numbers, flags, axis lists). */
export type Attrs = Readonly<Record<string, number | boolean | string | readonly number[] | undefined>>;

/** One recorded application of a primitive: `output = op(inputs; attrs)`. */
export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: Attrs;
}

/** The record of one differentiated computation. */
export interface Tape {
  readonly nodes: TapeNode[];
  /** Ids of tensors whose gradient is wanted or that depend on one (only their ops are recorded). */
  readonly needsGrad: Set<number>;
  /** Tensors the recorded nodes refer to: a `tidy` inside the differentiated function must not free them. */
  readonly saved: Set<Tensor>;
}

interface Scope {
  readonly tensors: Tensor[];
}

const state = {
  numTensors: 0,
  numBytes: 0,
  scopes: [] as Scope[],
  tape: null as Tape | null,
  kept: new WeakSet<Tensor>(),
  runtimeOverride: undefined as Runtime | undefined,
};

/** The runtime new tensors are created in: the one set by {@link withRuntime}, else the default. */
export function currentRuntime(): Runtime {
  return state.runtimeOverride ?? runtime();
}

/**
 * Runs `fn` with tensors created by `tensor()`, `zeros()`, etc. placed in `rt` instead of the
 * default runtime (e.g. a scalar build made with `createRuntime({ simd: false })`).
 */
export function withRuntime<T>(rt: Runtime, fn: () => T): T {
  const saved = state.runtimeOverride;
  state.runtimeOverride = rt;
  try {
    return fn();
  } finally {
    state.runtimeOverride = saved;
  }
}

/** @internal called by the Tensor constructor. */
export function trackCreated(t: Tensor): void {
  state.numTensors++;
  if (t.storage.refs === 1) state.numBytes += t.storage.bytes;
  const scope = state.scopes[state.scopes.length - 1];
  if (scope) scope.tensors.push(t);
}

/** @internal called by Tensor.dispose with the bytes actually freed. */
export function trackDisposed(_t: Tensor, freedBytes: number): void {
  state.numTensors--;
  state.numBytes -= freedBytes;
}

/** Live tensors and the bytes their (shared) storage holds. */
export function liveCounts(): { numTensors: number; numBytes: number } {
  return { numTensors: state.numTensors, numBytes: state.numBytes };
}

/** @internal opens a tidy scope. */
export function beginScope(): void {
  state.scopes.push({ tensors: [] });
}

/**
 * @internal closes the innermost scope: disposes its tensors except those in `keep`, those marked
 * with `keep()` and those the active tape still needs; survivors move to the enclosing scope so an
 * outer tidy (or the gradient computation) still owns them.
 */
export function endScope(keep: ReadonlySet<Tensor>): void {
  const scope = state.scopes.pop();
  if (!scope) return;
  const parent = state.scopes[state.scopes.length - 1];
  const saved = state.tape?.saved;
  for (const t of scope.tensors) {
    if (t.isDisposed) continue;
    if (keep.has(t) || saved?.has(t)) parent?.tensors.push(t);
    else if (!state.kept.has(t)) t.dispose();
  }
}

/** @internal the tensors created so far in the innermost scope. */
export function scopeTensors(): readonly Tensor[] {
  return state.scopes[state.scopes.length - 1]?.tensors ?? [];
}

/** Marks `t` so that no enclosing `tidy` disposes it; returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  state.kept.add(t);
  return t;
}

/** @internal excludes a tensor from every tidy scope (variables). */
export function untrack(t: Tensor): void {
  state.kept.add(t);
}

/** @internal the active tape, or null. */
export function activeTape(): Tape | null {
  return state.tape;
}

/** @internal sets the active tape (null pauses recording); returns the previous one. */
export function setTape(tape: Tape | null): Tape | null {
  const prev = state.tape;
  state.tape = tape;
  return prev;
}

/**
 * @internal records `output = op(inputs)` on the active tape when some input needs a gradient.
 * Ops call this after computing their output; with no tape (the usual inference case) it costs one
 * comparison.
 */
export function record(op: string, inputs: readonly Tensor[], output: Tensor, attrs: Attrs = {}): Tensor {
  const tape = state.tape;
  if (tape === null) return output;
  for (const x of inputs) {
    if (tape.needsGrad.has(x.id)) {
      tape.nodes.push({ op, inputs, output, attrs });
      tape.needsGrad.add(output.id);
      for (const t of inputs) tape.saved.add(t);
      tape.saved.add(output);
      return output;
    }
  }
  return output;
}

/**
 * @internal disposes intermediates of a composite op right away when nothing is being recorded
 * (under a tape the backward pass may need them; the enclosing scope frees them afterwards).
 */
export function dropIntermediates(...ts: Tensor[]): void {
  if (state.tape === null) for (const t of ts) t.dispose();
}

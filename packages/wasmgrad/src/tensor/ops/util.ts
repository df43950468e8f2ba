/** Small checks shared by the ops. */
import { fmtShape, ShapeError, ValueError } from '../../errors.js';
import type { Tensor } from '../tensor.js';

/** Throws unless every tensor lives in the first one's runtime. */
export function sameRuntime(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (typeof t !== 'object' || t === null || !('runtime' in t)) {
      throw new ValueError(op, `expected tensors (or numbers), got ${t === null ? 'null' : typeof t}`);
    }
  }
  const rt = ts[0]?.runtime;
  for (const t of ts) if (t.runtime !== rt) throw new ValueError(op, 'the tensors live in different wasm runtimes');
}

/** True when the two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws a ShapeError naming the op and both shapes unless they are equal. */
export function assertSameShape(op: string, a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
  }
}

/** Normalizes an axis (negative counts from the end) and checks it against `rank`. */
export function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ValueError(op, `axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Sorted, unique, normalized axes; `undefined` or `null` means all axes. */
export function normAxes(op: string, axis: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
  return out;
}

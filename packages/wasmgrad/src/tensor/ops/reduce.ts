/**
 * Reductions over axes (sum, mean, max) and `broadcastTo`, their adjoint.
 *
 * A reduction over any set of axes of a row-major tensor is done in passes: adjacent axes of the
 * same kind merge, the last reduced group is summed as an [outer, R, inner] block (one kernel call
 * when outer or inner is 1: the column sums of `[R, inner]` or the row sums of `[outer, R]`), and
 * the pass repeats until no reduced group is left. The common cases (bias gradients, losses, the
 * last axis) are one kernel call.
 */
import { fmtShape, ValueError } from '../../errors.js';
import { dropIntermediates, record } from '../engine.js';
import { empty, sizeOf, type Tensor } from '../tensor.js';
import { argmaxRows, maxRows, sumCols, sumRows } from './kernels.js';
import { reshape, transpose } from './shape.js';
import { normAxes, normAxis, sameShape } from './util.js';

/** Shape after reducing `axes` (kept as 1 when keepDims). */
function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Writes scale·Σ over `axes` of x into `out` (a buffer of the reduced size). */
function sumInto(op: string, x: Tensor, axes: readonly number[], factor: number, out: Tensor): void {
  // Merge adjacent axes into groups [size, reduced?], dropping size-1 axes.
  let groups: { size: number; reduced: boolean }[] = [];
  x.shape.forEach((d, i) => {
    if (d === 1) return;
    const reduced = axes.includes(i);
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else groups.push({ size: d, reduced });
  });
  const rt = x.runtime;
  let src = x;
  let scale = factor;
  const temps: Tensor[] = [];
  for (;;) {
    let g = -1;
    for (let i = groups.length - 1; i >= 0; i--)
      if (groups[i]?.reduced) {
        g = i;
        break;
      }
    const outer = sizeOf(groups.slice(0, Math.max(g, 0)).map((q) => q.size));
    const inner = sizeOf(groups.slice(g + 1).map((q) => q.size));
    const r = g < 0 ? 1 : (groups[g] as { size: number }).size;
    const remaining = groups.slice(0, Math.max(g, 0)).some((q) => q.reduced);
    const dst = remaining ? empty([outer * inner], op, rt) : out;
    if (remaining) temps.push(dst);
    if (g < 0 || x.size === 0) {
      // Nothing (left) to reduce: a scaled copy, or zeros for an empty input.
      if (x.size === 0) rt.f32.fill(0, dst.ptr >>> 2, (dst.ptr >>> 2) + dst.size);
      else sumRows(rt, op, 1, outer * inner, src.ptr, outer * inner, dst.ptr, scale, false);
    } else if (inner === 1) sumCols(rt, op, outer, r, src.ptr, r, dst.ptr, scale, false);
    else if (outer === 1) sumRows(rt, op, r, inner, src.ptr, inner, dst.ptr, scale, false);
    else
      for (let o = 0; o < outer; o++)
        sumRows(rt, op, r, inner, src.ptr + 4 * o * r * inner, inner, dst.ptr + 4 * o * inner, scale, false);
    if (!remaining) break;
    src = dst;
    scale = 1;
    groups = [...groups.slice(0, g), ...groups.slice(g + 1)];
    // Re-merge neighbours that became adjacent.
    const merged: typeof groups = [];
    for (const q of groups) {
      const last = merged[merged.length - 1];
      if (last && last.reduced === q.reduced) last.size *= q.size;
      else merged.push({ ...q });
    }
    groups = merged;
  }
  for (const t of temps) t.dispose();
}

/** factor·x as a new tensor (the reduction kernel's scale over a single row; not recorded). */
export function scaledCopy(x: Tensor, factor: number): Tensor {
  const out = empty(x.shape, 'scale', x.runtime);
  if (x.size > 0) sumRows(x.runtime, 'scale', 1, x.size, x.ptr, x.size, out.ptr, factor, false);
  return out;
}

/** Sum over `axis` (a number, a list, or all axes when omitted); `keepDims` keeps them as size 1. */
export function sum(x: Tensor, axis?: number | readonly number[] | null, keepDims = false): Tensor {
  const axes = normAxes('sum', axis, x.rank);
  const out = empty(reducedShape(x.shape, axes, keepDims), 'sum', x.runtime);
  sumInto('sum', x, axes, 1, out);
  return record('sum', [x], out, { axes });
}

/** Mean over `axis` (a number, a list, or all axes when omitted). */
export function mean(x: Tensor, axis?: number | readonly number[] | null, keepDims = false): Tensor {
  const axes = normAxes('mean', axis, x.rank);
  const count = sizeOf(axes.map((a) => x.shape[a] as number));
  const factor = count === 0 ? Number.NaN : 1 / count;
  const out = empty(reducedShape(x.shape, axes, keepDims), 'mean', x.runtime);
  sumInto('mean', x, axes, factor, out);
  return record('mean', [x], out, { axes, factor });
}

/**
 * Maximum over one axis (default: the last). Other axes than the last are moved last by a
 * transpose first. The gradient flows to the first maximal element of each row.
 */
export function max(x: Tensor, axis = -1, keepDims = false): Tensor {
  const op = 'max';
  if (x.rank === 0) throw new ValueError(op, 'expects a tensor of rank ≥ 1, got a scalar');
  const a = normAxis(op, axis, x.rank);
  const cols = x.shape[a] as number;
  if (cols === 0) throw new ValueError(op, `axis ${a} of ${fmtShape(x.shape)} is empty`);
  if (a !== x.rank - 1 && sizeOf(x.shape.slice(a + 1)) !== 1) {
    const perm = [...x.shape.keys()].filter((i) => i !== a).concat(a);
    const moved = transpose(x, perm);
    const m = max(moved, -1, false);
    const out = reshape(m, reducedShape(x.shape, [a], keepDims));
    dropIntermediates(moved, m);
    return out;
  }
  const rows = x.size / cols;
  const out = empty(reducedShape(x.shape, [a], keepDims), op, x.runtime);
  maxRows(x.runtime, op, rows, cols, x.ptr, cols, out.ptr);
  return record(op, [x], out);
}

/** Gradient of max over the last axis: dy at the (first) argmax of each row, zeros elsewhere. */
export function maxBackward(dy: Tensor, x: Tensor, _y: Tensor): Tensor {
  const op = 'max (backward)';
  const rt = x.runtime;
  const cols = x.shape[x.rank - 1] as number;
  const rows = x.size / cols;
  const g = empty(x.shape, op, rt);
  const idxPtr = rt.allocator.alloc(4 * Math.max(rows, 1), op);
  try {
    argmaxRows(rt, op, rows, cols, x.ptr, cols, idxPtr);
    const f32 = rt.f32;
    const base = g.ptr >>> 2;
    f32.fill(0, base, base + g.size);
    const idx = new Int32Array(rt.memory.buffer, idxPtr, rows);
    const d = dy.ptr >>> 2;
    for (let r = 0; r < rows; r++) f32[base + r * cols + (idx[r] as number)] = f32[d + r] as number;
  } finally {
    rt.allocator.release(idxPtr);
  }
  return g;
}

/**
 * `x` repeated along the axes where its (right-aligned) shape has 1 or is missing, up to `shape`.
 * A copy, made with row copies and fills of the wasm memory.
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return record('broadcastTo', [x], broadcastCopy(x, shape));
}

/** {@link broadcastTo} without recording (temporaries of other ops). */
export function broadcastCopy(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'broadcastTo';
  const rank = shape.length;
  const xs = x.shape;
  if (xs.length > rank || xs.some((d, i) => d !== 1 && d !== shape[rank - xs.length + i])) {
    throw new ValueError(op, `cannot broadcast ${fmtShape(xs)} to ${fmtShape(shape)}`);
  }
  const out = empty(shape, op, x.runtime);
  if (sameShape(xs, shape)) {
    x.runtime.f32.copyWithin(out.ptr >>> 2, x.ptr >>> 2, (x.ptr >>> 2) + x.size);
    return out;
  }
  // Element strides of x in the output's axes (0 where broadcast).
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = xs.length - 1; i >= 0; i--) {
    const o = rank - xs.length + i;
    strides[o] = xs[i] === 1 ? 0 : s;
    s *= xs[i] as number;
  }
  const f32 = x.runtime.f32;
  const inner = shape[rank - 1] ?? 1;
  const rows = inner === 0 ? 0 : out.size / inner;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let dst = out.ptr >>> 2;
  const src0 = x.ptr >>> 2;
  for (let r = 0; r < rows; r++) {
    let p = src0;
    for (let i = 0; i < rank - 1; i++) p += (idx[i] as number) * (strides[i] as number);
    if (strides[rank - 1] === 0 || rank === 0) f32.fill(f32[p] as number, dst, dst + inner);
    else f32.copyWithin(dst, p, p + inner);
    dst += inner;
    for (let i = rank - 2; i >= 0; i--) {
      idx[i] = (idx[i] as number) + 1;
      if ((idx[i] as number) < (shape[i] as number)) break;
      idx[i] = 0;
    }
  }
  return out;
}

/**
 * Shape ops: reshape (a view), clone, transpose, concat, expandDims/squeeze. These move data, they do
 * no arithmetic: copies use the typed-array memmove (`copyWithin`) of the wasm memory.
 */
import { fmtShape, ShapeError, ValueError } from '../../errors.js';
import { record } from '../engine.js';
import { checkShape, empty, sizeOf, type Tensor, view } from '../tensor.js';
import { normAxis, sameRuntime } from './util.js';

/**
 * The same values under another shape of the same size; one dimension may be -1 (inferred).
 * Returns a view sharing memory (freed when the last view is disposed).
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'reshape';
  const dims = [...shape];
  const infer = dims.indexOf(-1);
  if (infer >= 0) {
    if (dims.indexOf(-1, infer + 1) >= 0) throw new ShapeError(op, `shape ${fmtShape(shape)} has more than one -1`);
    const rest = sizeOf(dims.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(op, `cannot reshape ${fmtShape(x.shape)} (${x.size} values) to ${fmtShape(shape)}`);
    }
    dims[infer] = x.size / rest;
  }
  checkShape(op, dims);
  if (sizeOf(dims) !== x.size) {
    throw new ShapeError(
      op,
      `cannot reshape ${fmtShape(x.shape)} (${x.size} values) to ${fmtShape(shape)} (${sizeOf(dims)} values)`,
    );
  }
  return record(op, [x], view(x, dims));
}

/** A copy of `x` with its own memory. */
export function clone(x: Tensor): Tensor {
  const y = empty(x.shape, 'clone', x.runtime);
  const s = x.ptr >>> 2;
  x.runtime.f32.copyWithin(y.ptr >>> 2, s, s + x.size);
  return record('clone', [x], y);
}

/** `x` with a new axis of size 1 inserted at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  const a = normAxis('expandDims', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** `x` without its axes of size 1 (or only those in `axes`). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const drop = axes?.map((a) => normAxis('squeeze', a, x.rank));
  for (const a of drop ?? []) {
    if (x.shape[a] !== 1)
      throw new ShapeError('squeeze', `axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(
    x,
    x.shape.filter((d, i) => (drop ? !drop.includes(i) : d !== 1)),
  );
}

/**
 * Permutes the axes (default: reverses them; for a matrix, the transpose). A copy; the
 * gradient is the inverse permutation.
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const op = 'transpose';
  const rank = x.rank;
  const p = perm ? perm.map((a) => normAxis(op, a, rank)) : Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (p.length !== rank || new Set(p).size !== rank) {
    throw new ValueError(
      op,
      `perm ${fmtShape(perm ?? [])} is not a permutation of the ${rank} axes of ${fmtShape(x.shape)}`,
    );
  }
  const outShape = p.map((a) => x.shape[a] as number);
  const y = empty(outShape, op, x.runtime);
  permuteCopy(x, y, p);
  return record(op, [x], y, { perm: p });
}

/** Writes x permuted by `perm` into y (row-major). Rows of the innermost output axis are copied at a time. */
function permuteCopy(x: Tensor, y: Tensor, perm: readonly number[]): void {
  const rank = x.rank;
  const f32 = x.runtime.f32;
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= x.shape[i] as number;
  }
  const outShape = perm.map((a) => x.shape[a] as number);
  const strides = perm.map((a) => inStrides[a] as number);
  const src = x.ptr >>> 2;
  let dst = y.ptr >>> 2;
  if (y.size === 0) return;
  const inner = outShape[rank - 1] ?? 1;
  const innerStride = strides[rank - 1] ?? 1;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rows = y.size / inner;
  for (let r = 0; r < rows; r++) {
    let base = src;
    for (let i = 0; i < rank - 1; i++) base += (idx[i] as number) * (strides[i] as number);
    if (innerStride === 1) f32.copyWithin(dst, base, base + inner);
    else for (let j = 0; j < inner; j++) f32[dst + j] = f32[base + j * innerStride] as number;
    dst += inner;
    for (let i = rank - 2; i >= 0; i--) {
      idx[i] = (idx[i] as number) + 1;
      if ((idx[i] as number) < (outShape[i] as number)) break;
      idx[i] = 0;
    }
  }
}

/** Joins tensors along `axis` (all other dimensions equal). */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (!xs || xs.length === 0) throw new ValueError(op, 'expects a non-empty array of tensors');
  const first = xs[0] as Tensor;
  const a = normAxis(op, axis, first.rank);
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(op, `shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ outside axis ${a}`);
    }
  }
  sameRuntime(op, ...xs);
  const outShape = [...first.shape];
  outShape[a] = xs.reduce((s, t) => s + (t.shape[a] as number), 0);
  const y = empty(outShape, op, first.runtime);
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const rowOut = (outShape[a] as number) * inner;
  const f32 = first.runtime.f32;
  let offset = 0;
  const sizes: number[] = [];
  for (const t of xs) {
    const chunk = (t.shape[a] as number) * inner;
    const src = t.ptr >>> 2;
    const dst = (y.ptr >>> 2) + offset;
    for (let o = 0; o < outer; o++) f32.copyWithin(dst + o * rowOut, src + o * chunk, src + (o + 1) * chunk);
    offset += chunk;
    sizes.push(t.shape[a] as number);
  }
  return record(op, xs, y, { axis: a, sizes });
}

/** The part of `x` starting at `begin` with extent `size` (-1: to the end) along every axis. */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const op = 'slice';
  if (begin.length !== x.rank || (size && size.length !== x.rank)) {
    throw new ShapeError(
      op,
      `begin ${fmtShape(begin)} / size ${fmtShape(size ?? [])} do not match rank ${x.rank} of ${fmtShape(x.shape)}`,
    );
  }
  const ext = x.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - (begin[i] as number) : s;
  });
  x.shape.forEach((d, i) => {
    const b = begin[i] as number;
    const e = ext[i] as number;
    if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0 || b + e > d) {
      throw new ShapeError(op, `begin ${fmtShape(begin)} size ${fmtShape(ext)} exceed ${fmtShape(x.shape)}`);
    }
  });
  const y = empty(ext, op, x.runtime);
  copyBox(x, y, begin, false);
  return record(op, [x], y, { begin: [...begin] });
}

/**
 * Copies between `big` and the box of `small`'s shape at `begin` inside it: big → small, or
 * small → big when `intoBig` (other cells of big untouched). Contiguous last-axis runs at a time.
 */
export function copyBox(big: Tensor, small: Tensor, begin: readonly number[], intoBig: boolean): void {
  const rank = big.rank;
  if (small.size === 0) return;
  const f32 = big.runtime.f32;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= big.shape[i] as number;
  }
  const inner = small.shape[rank - 1] ?? 1;
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  const rows = small.size / inner;
  let sp = small.ptr >>> 2;
  for (let r = 0; r < rows; r++) {
    let bp = big.ptr >>> 2;
    for (let i = 0; i < rank; i++)
      bp += ((begin[i] as number) + (i < rank - 1 ? (idx[i] as number) : 0)) * (strides[i] as number);
    if (intoBig) f32.copyWithin(bp, sp, sp + inner);
    else f32.copyWithin(sp, bp, bp + inner);
    sp += inner;
    for (let i = rank - 2; i >= 0; i--) {
      idx[i] = (idx[i] as number) + 1;
      if ((idx[i] as number) < (small.shape[i] as number)) break;
      idx[i] = 0;
    }
  }
}

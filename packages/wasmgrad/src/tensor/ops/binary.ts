/**
 * Elementwise arithmetic with NumPy/tfjs broadcasting: add, sub, mul, div, neg, scalar ops, and the
 * gradient helper `sumTo` that reduces a gradient over the axes that were broadcast.
 *
 * Kernel paths, cheapest first: same shapes (one flat call); a "row" operand whose shape is a suffix
 * of the other's, e.g. [r, c] ⊕ [c] or a scalar (one call with row broadcasting); anything else
 * materializes the broadcast operand with `broadcastTo` (a copy) and takes the flat path.
 */
import { fmtShape, ShapeError, ValueError } from '../../errors.js';
import { dropIntermediates, record } from '../engine.js';
import { empty, sizeOf, type Tensor } from '../tensor.js';
import { axpy, type BinaryKind, type BroadcastKind, binary, scaleShift } from './kernels.js';
import { broadcastCopy, sum } from './reduce.js';
import { reshape } from './shape.js';
import { sameRuntime, sameShape } from './util.js';

/** The broadcast shape of two shapes (right-aligned; 1 stretches), or a ShapeError naming `op`. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        op,
        `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (axis ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * How `small` broadcasts against `full` in one kernel call: as a row (after leading 1s it is a
 * suffix of `full`: [r, c] ⊕ [c]), as a column (a prefix of `full` followed by 1s: [r, c] ⊕ [r, 1]),
 * a scalar, or not at all. Returns the layout and the rows×cols split of `full`.
 */
function layoutOf(
  small: readonly number[],
  full: readonly number[],
): { kind: BroadcastKind; rows: number; cols: number } | null {
  const n = sizeOf(full);
  const size = sizeOf(small);
  if (size === 1) return { kind: 'scalar', rows: 1, cols: n };
  const padded = [...new Array<number>(full.length - small.length).fill(1), ...small];
  let lead = 0;
  while (lead < padded.length && padded[lead] === 1) lead++;
  if (padded.slice(lead).every((d, i) => d === full[lead + i])) return { kind: 'row', rows: n / size, cols: size };
  let trail = padded.length;
  while (trail > 0 && padded[trail - 1] === 1) trail--;
  if (padded.slice(0, trail).every((d, i) => d === full[i])) return { kind: 'column', rows: size, cols: n / size };
  return null;
}

function binaryOp(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const op = kind;
  sameRuntime(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const rt = a.runtime;
  const out = empty(shape, op, rt);
  const n = out.size;
  if (n > 0) {
    const aFull = sameShape(a.shape, shape);
    const bFull = sameShape(b.shape, shape);
    const bLayout = aFull && !bFull ? layoutOf(b.shape, shape) : null;
    const aLayout = bFull && !aFull ? layoutOf(a.shape, shape) : null;
    if (aFull && bFull) binary(rt, op, kind, 1, n, a.ptr, b.ptr, 'full', out.ptr);
    else if (bLayout) binary(rt, op, kind, bLayout.rows, bLayout.cols, a.ptr, b.ptr, bLayout.kind, out.ptr);
    else if (aLayout && (kind === 'add' || kind === 'mul')) {
      binary(rt, op, kind, aLayout.rows, aLayout.cols, b.ptr, a.ptr, aLayout.kind, out.ptr);
    } else if (aLayout && kind === 'sub') {
      // a − b = −(b − a): the broadcast operand must be the kernel's right-hand side.
      binary(rt, op, kind, aLayout.rows, aLayout.cols, b.ptr, a.ptr, aLayout.kind, out.ptr);
      scaleShift(rt, op, n, -1, 0, out.ptr, out.ptr);
    } else {
      const fa = aFull ? a : broadcastCopy(a, shape);
      const fb = bFull ? b : broadcastCopy(b, shape);
      binary(rt, op, kind, 1, n, fa.ptr, fb.ptr, 'full', out.ptr);
      if (fa !== a) fa.dispose();
      if (fb !== b) fb.dispose();
    }
  }
  return record(op, [a, b], out);
}

/** y = α·x + β, elementwise (the primitive behind scalar arithmetic and `neg`). */
export function scale(x: Tensor, alpha: number, beta = 0): Tensor {
  const op = 'scale';
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) {
    throw new ValueError(op, `alpha and beta must be finite numbers, got ${alpha} and ${beta}`);
  }
  const out = empty(x.shape, op, x.runtime);
  scaleShift(x.runtime, op, x.size, alpha, beta, x.ptr, out.ptr);
  return record(op, [x], out, { alpha, beta });
}

const asTensor = (v: Tensor | number, like: Tensor): Tensor => (typeof v === 'number' ? runtimeScalar(v, like) : v);

/** A rank-0 tensor holding `v` in the runtime of `like`. */
function runtimeScalar(v: number, like: Tensor): Tensor {
  const t = empty([], 'scalar', like.runtime);
  like.runtime.write(t.ptr, [v]);
  return t;
}

/** a + b with broadcasting; either side may be a number. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, 1, b);
  if (typeof a === 'number' && typeof b !== 'number') return scale(b, 1, a);
  return binaryOp('add', a as Tensor, b as Tensor);
}

/** a − b with broadcasting; either side may be a number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, 1, -b);
  if (typeof a === 'number' && typeof b !== 'number') return scale(b, -1, a);
  return binaryOp('sub', a as Tensor, b as Tensor);
}

/** a · b elementwise with broadcasting; either side may be a number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, b);
  if (typeof a === 'number' && typeof b !== 'number') return scale(b, a);
  return binaryOp('mul', a as Tensor, b as Tensor);
}

/** a / b elementwise with broadcasting; either side may be a number. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') return scale(a, 1 / b);
  if (typeof a === 'number' && typeof b !== 'number') return binaryOp('div', asTensor(a, b), b);
  return binaryOp('div', a as Tensor, b as Tensor);
}

/** −x. */
export function neg(x: Tensor): Tensor {
  return scale(x, -1);
}

/** (a − b)², elementwise with broadcasting. */
export function squaredDifference(a: Tensor, b: Tensor): Tensor {
  const d = sub(a, b);
  const out = mul(d, d);
  dropIntermediates(d);
  return out;
}

/** dst += src in place (same shape); used to accumulate gradients. Not recorded on the tape. */
export function addInPlace(dst: Tensor, src: Tensor): void {
  if (!sameShape(dst.shape, src.shape)) {
    throw new ShapeError('addInPlace', `shapes ${fmtShape(dst.shape)} and ${fmtShape(src.shape)} differ`);
  }
  sameRuntime('addInPlace', dst, src);
  axpy(dst.runtime, 'addInPlace', dst.size, 1, src.ptr, dst.ptr);
}

/**
 * Sums `g` (shaped like a broadcast result) down to `shape`: over its extra leading axes and over
 * the axes where `shape` has 1. Returns `g` itself when the shapes already agree.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = sum(g, axes, false);
  if (sameShape(s.shape, shape)) return s;
  const out = reshape(s, shape);
  dropIntermediates(s);
  return out;
}

/** Stacking dataset elements into batch tensors: the leaf logic behind `Dataset.batch`. */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { currentRuntime } from '../tensor/engine.js';
import { empty, sizeOf, Tensor } from '../tensor/tensor.js';

/** A value `batch` can stack: a number, flat or nested arrays of numbers, or a typed array. */
export type DataLeaf = number | ArrayLike<number> | number[][] | Tensor;

/** What `batch` turns an element type into: every leaf becomes a tensor with a leading batch axis. */
export type Batched<T> = T extends DataLeaf ? Tensor : { [K in keyof T]: Batched<T[K]> };

/**
 * Per-element shapes known to a dataset built from tensors, keyed by the element path ('' for a
 * bare leaf, 'xs' for a key): `batch` uses them to keep e.g. [28,28,1] rows instead of flattening.
 */
export type RowShapes = ReadonlyMap<string, readonly number[]>;

const isTyped = (v: unknown): v is Float32Array => ArrayBuffer.isView(v) && !(v instanceof DataView);

/** A leaf's flat values and shape (without the batch axis). */
function leafOf(v: unknown, where: string): { values: ArrayLike<number>; shape: number[] } {
  if (typeof v === 'number') return { values: [v], shape: [] };
  if (v instanceof Tensor) return { values: v.dataSync(), shape: [...v.shape] };
  if (isTyped(v)) return { values: v, shape: [v.length] };
  if (Array.isArray(v)) {
    if (!v.some(Array.isArray)) return { values: v as number[], shape: [v.length] };
    const shape: number[] = [];
    for (let x: unknown = v; Array.isArray(x); x = x[0]) shape.push(x.length);
    const flat = (v as unknown[]).flat(shape.length) as number[];
    if (flat.length !== sizeOf(shape)) throw new ShapeError('batch', `ragged nested array at ${where}`);
    return { values: flat, shape };
  }
  throw new ValueError('batch', `cannot stack ${where} of type ${typeof v}`);
}

const isLeaf = (v: unknown): boolean => typeof v === 'number' || v instanceof Tensor || Array.isArray(v) || isTyped(v);

/** Stacks a group of elements leaf by leaf; on failure frees the tensors already made. */
export function stack<T>(group: T[], shapes: RowShapes | undefined): Batched<T> {
  const made: Tensor[] = [];
  const build = (pick: (e: T) => unknown, path: string): unknown => {
    const first = pick(group[0] as T);
    if (isLeaf(first)) return stackLeaf(group.map(pick), path, shapes?.get(path), made);
    if (first === null || typeof first !== 'object') {
      throw new ValueError('batch', `element ${path || '(root)'} is ${String(first)}, not a number, array or object`);
    }
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(first)) {
      out[key] = build((e) => (pick(e) as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    }
    return out;
  };
  try {
    return build((e) => e, '') as Batched<T>;
  } catch (err) {
    for (const t of made) t.dispose();
    throw err;
  }
}

function stackLeaf(values: unknown[], path: string, known: readonly number[] | undefined, made: Tensor[]): Tensor {
  const where = path || 'element';
  const first = leafOf(values[0], where);
  const len = first.values.length;
  const rowShape = known && sizeOf(known) === len ? known : first.shape;
  const out = new Float32Array(values.length * len);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Fast paths (typed-array rows, scalars) skip the generic leaf description.
    if (isTyped(v) && v.length === len) {
      if (len === 1) out[i] = v[0] as number;
      else out.set(v, i * len);
      continue;
    }
    if (typeof v === 'number' && first.shape.length === 0) {
      out[i] = v;
      continue;
    }
    const leaf = leafOf(v, where);
    if (leaf.values.length !== len) {
      throw new ShapeError(
        'batch',
        `${where} of element ${i} in the batch has ${leaf.values.length} values (shape ${fmtShape(leaf.shape)}), the first has ${len} (shape ${fmtShape(first.shape)})`,
      );
    }
    for (let j = 0; j < len; j++) out[i * len + j] = Number(leaf.values[j]);
  }
  const rt = currentRuntime();
  const t = empty([values.length, ...rowShape], 'batch', rt);
  made.push(t);
  rt.write(t.ptr, out);
  return t;
}

/**
 * Datasets in the spirit of tf.data: a re-iterable, lazy, asynchronous stream of elements with
 * chainable transformations (`map`, `filter`, `shuffle`, `batch`, `take`, `skip`, `repeat`).
 * Elements are host values (numbers, flat arrays, typed arrays, nested arrays, or plain objects of
 * those); `batch` stacks them into tensors in wasm memory, which the consumer disposes
 * (`fitDataset` does so after every step).
 */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { mulberry32, nextSeed } from '../random.js';
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

const MIX = 0x9e3779b1;

/**
 * A lazy, re-iterable asynchronous dataset. Every `for await` (or `iterator()`) starts a fresh pass
 * from the source, so a dataset can serve several epochs; transformations return new datasets.
 */
export class Dataset<T> implements AsyncIterable<T> {
  /**
   * @param source starts one pass over the elements
   * @param size element count when known (Infinity for endless), else null
   * @param rowShapes per-element shapes `batch` should use (see {@link RowShapes})
   */
  constructor(
    private readonly source: () => AsyncIterator<T>,
    readonly size: number | null = null,
    readonly rowShapes?: RowShapes,
  ) {}

  /** A fresh iterator over the elements (tfjs `dataset.iterator()`). */
  iterator(): AsyncIterator<T> {
    return this.source();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source();
  }

  /** Applies `fn` to every element (per-element shapes are forgotten: `fn` may change them). */
  map<U>(fn: (value: T) => U | Promise<U>): Dataset<U> {
    const parent = this;
    return new Dataset(async function* () {
      for await (const v of parent) yield await fn(v);
    }, this.size);
  }

  /** Keeps the elements for which `predicate` is true. */
  filter(predicate: (value: T) => boolean | Promise<boolean>): Dataset<T> {
    const parent = this;
    return new Dataset(
      async function* () {
        for await (const v of parent) if (await predicate(v)) yield v;
      },
      null,
      this.rowShapes,
    );
  }

  /** The first `count` elements (all when the dataset is shorter). */
  take(count: number): Dataset<T> {
    checkCount('take', count);
    const parent = this;
    return new Dataset(
      async function* () {
        if (count === 0) return;
        let i = 0;
        for await (const v of parent) {
          yield v;
          if (++i >= count) return;
        }
      },
      this.size === null ? null : Math.min(this.size, count),
      this.rowShapes,
    );
  }

  /** Every element after the first `count`. */
  skip(count: number): Dataset<T> {
    checkCount('skip', count);
    const parent = this;
    return new Dataset(
      async function* () {
        let i = 0;
        for await (const v of parent) if (i++ >= count) yield v;
      },
      this.size === null ? null : Math.max(0, this.size - count),
      this.rowShapes,
    );
  }

  /** The elements repeated `count` times (forever when omitted). */
  repeat(count = Number.POSITIVE_INFINITY): Dataset<T> {
    if (!(count === Number.POSITIVE_INFINITY || (Number.isSafeInteger(count) && count >= 0))) {
      throw new ValueError('repeat', `count must be a non-negative integer or Infinity, got ${count}`);
    }
    const parent = this;
    return new Dataset(
      async function* () {
        for (let r = 0; r < count; r++) {
          let any = false;
          for await (const v of parent) {
            any = true;
            yield v;
          }
          if (!any) return; // an empty dataset repeated forever must not spin
        }
      },
      this.size === null ? null : this.size === 0 ? 0 : this.size * count,
      this.rowShapes,
    );
  }

  /**
   * Seeded shuffle through a buffer of `bufferSize` elements (tf.data semantics: a buffer as large
   * as the dataset, or 'full', gives a uniform permutation; smaller buffers shuffle locally and use
   * bounded memory). The same seed gives the same order; with `reshuffleEachIteration` (default)
   * pass k uses a seed derived from (seed, k), so epochs differ but the whole run is repeatable.
   */
  shuffle(bufferSize: number | 'full', seed?: number, reshuffleEachIteration = true): Dataset<T> {
    const cap = bufferSize === 'full' ? Number.POSITIVE_INFINITY : bufferSize;
    if (!(cap === Number.POSITIVE_INFINITY || (Number.isSafeInteger(cap) && cap >= 1))) {
      throw new ValueError('shuffle', `bufferSize must be a positive integer or 'full', got ${bufferSize}`);
    }
    if (seed !== undefined && !Number.isFinite(seed))
      throw new ValueError('shuffle', `seed must be a number, got ${seed}`);
    const base = (seed ?? nextSeed()) >>> 0;
    const parent = this;
    let pass = 0;
    return new Dataset(
      async function* () {
        const rand = mulberry32(reshuffleEachIteration ? (base + Math.imul(pass++, MIX)) >>> 0 : base);
        const buffer: T[] = [];
        const it = parent.iterator();
        try {
          let done = false;
          while (!done && buffer.length < cap) {
            const r = await it.next();
            if (r.done) done = true;
            else buffer.push(r.value);
          }
          while (buffer.length > 0) {
            const j = Math.floor(rand() * buffer.length);
            const out = buffer[j] as T;
            const r = done ? undefined : await it.next();
            if (r && !r.done) buffer[j] = r.value;
            else {
              done = true;
              buffer[j] = buffer[buffer.length - 1] as T;
              buffer.pop();
            }
            yield out;
          }
        } finally {
          await it.return?.();
        }
      },
      this.size,
      this.rowShapes,
    );
  }

  /**
   * Groups `batchSize` consecutive elements and stacks every leaf into a tensor with a leading
   * batch axis (the last batch may be smaller unless `smallLastBatch` is false). The tensors live
   * in the current runtime and belong to the consumer, who disposes them.
   */
  batch(batchSize: number, smallLastBatch = true): Dataset<Batched<T>> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new ValueError('batch', `batchSize must be a positive integer, got ${batchSize}`);
    }
    const parent = this;
    const shapes = this.rowShapes;
    const size =
      this.size === null ? null : smallLastBatch ? Math.ceil(this.size / batchSize) : Math.floor(this.size / batchSize);
    return new Dataset(async function* () {
      let group: T[] = [];
      for await (const v of parent) {
        group.push(v);
        if (group.length === batchSize) {
          const out = stack(group, shapes);
          group = [];
          yield out;
        }
      }
      if (group.length > 0 && smallLastBatch) yield stack(group, shapes);
    }, size);
  }

  /** Calls `fn` on every element in order. */
  async forEachAsync(fn: (value: T) => void | Promise<void>): Promise<void> {
    for await (const v of this) await fn(v);
  }

  /** Every element in an array (refuses endless datasets). */
  async toArray(): Promise<T[]> {
    if (this.size === Number.POSITIVE_INFINITY) throw new ValueError('toArray', 'the dataset is endless');
    const out: T[] = [];
    for await (const v of this) out.push(v);
    return out;
  }
}

function checkCount(op: string, count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValueError(op, `count must be a non-negative integer, got ${count}`);
  }
}

/** A leaf's flat values and shape (without the batch axis). */
function leafOf(v: unknown, where: string): { values: ArrayLike<number>; shape: number[] } {
  if (typeof v === 'number') return { values: [v], shape: [] };
  if (v instanceof Tensor) return { values: v.dataSync(), shape: [...v.shape] };
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return { values: v as unknown as ArrayLike<number>, shape: [(v as unknown as ArrayLike<number>).length] };
  }
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

const isLeaf = (v: unknown): boolean =>
  typeof v === 'number' || v instanceof Tensor || Array.isArray(v) || ArrayBuffer.isView(v);

/** Stacks a group of elements leaf by leaf; on failure frees the tensors already made. */
function stack<T>(group: T[], shapes: RowShapes | undefined): Batched<T> {
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
  const rt = currentRuntime();
  const out = new Float32Array(values.length * len);
  for (let i = 0; i < values.length; i++) {
    const leaf = i === 0 ? first : leafOf(values[i], where);
    if (leaf.values.length !== len) {
      throw new ShapeError(
        'batch',
        `${where} of element ${i} in the batch has ${leaf.values.length} values (shape ${fmtShape(leaf.shape)}), the first has ${len} (shape ${fmtShape(first.shape)})`,
      );
    }
    if (ArrayBuffer.isView(leaf.values)) out.set(leaf.values as unknown as ArrayLike<number>, i * len);
    else for (let j = 0; j < len; j++) out[i * len + j] = Number(leaf.values[j]);
  }
  const t = empty([values.length, ...rowShape], 'batch', rt);
  made.push(t);
  rt.write(t.ptr, out);
  return t;
}

/** A dataset over the items of an array (tfjs `tf.data.array`). */
export function array<T>(items: readonly T[]): Dataset<T> {
  if (!Array.isArray(items)) throw new ValueError('data.array', `expects an array, got ${typeof items}`);
  const copy = items.slice();
  return new Dataset(async function* () {
    yield* copy;
  }, copy.length);
}

/**
 * A dataset from a function returning a (sync or async) iterator, called once per pass
 * (tfjs `tf.data.generator`).
 */
export function generator<T>(make: () => Iterator<T> | AsyncIterator<T>): Dataset<T> {
  if (typeof make !== 'function') throw new ValueError('data.generator', 'expects a function returning an iterator');
  return new Dataset(async function* () {
    const it = make();
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  });
}

type Zipped<T> = { [K in keyof T]: T[K] extends Dataset<infer U> ? U : never };

/**
 * Combines datasets element-wise into arrays or objects (tfjs `tf.data.zip`): `zip({xs, ys})`.
 * Ends with the shortest dataset.
 */
export function zip<T extends Record<string, Dataset<unknown>> | Dataset<unknown>[]>(datasets: T): Dataset<Zipped<T>> {
  if (!datasets || typeof datasets !== 'object')
    throw new ValueError('data.zip', 'expects an array or object of datasets');
  const keys = Object.keys(datasets);
  const list = keys.map((k) => (datasets as Record<string, unknown>)[k]);
  list.forEach((d, i) => {
    if (!(d instanceof Dataset)) throw new ValueError('data.zip', `entry '${keys[i]}' is not a Dataset`);
  });
  const sets = list as Dataset<unknown>[];
  const sizes = sets.map((d) => d.size);
  const size = sizes.some((s) => s === null) ? null : Math.min(...(sizes as number[]));
  const shapes = new Map<string, readonly number[]>();
  sets.forEach((d, i) => {
    for (const [p, s] of d.rowShapes ?? []) shapes.set(p ? `${keys[i]}.${p}` : (keys[i] as string), s);
  });
  return new Dataset(
    async function* () {
      const its = sets.map((d) => d.iterator());
      try {
        for (;;) {
          const rs = await Promise.all(its.map((it) => it.next()));
          if (rs.some((r) => r.done)) return;
          const out: Record<string, unknown> | unknown[] = Array.isArray(datasets) ? [] : Object.create(null);
          rs.forEach((r, i) => {
            (out as Record<string, unknown>)[keys[i] as string] = r.value;
          });
          yield out as Zipped<T>;
        }
      } finally {
        await Promise.all(its.map((it) => it.return?.()));
      }
    },
    size,
    shapes,
  );
}

/**
 * A dataset of the rows of tensors sharing their first dimension: `fromTensors(x)` yields rows of
 * x, `fromTensors({xs: x, ys: y})` yields `{xs, ys}` rows (Float32Array copies). The values are
 * read once, now; the tensors may be disposed afterwards. `batch` restores the row shapes.
 */
export function fromTensors<T extends Tensor | Record<string, Tensor>>(
  tensors: T,
): Dataset<T extends Tensor ? Float32Array : { [K in keyof T]: Float32Array }> {
  const single = tensors instanceof Tensor;
  const entries: [string, Tensor][] = single
    ? [['', tensors as Tensor]]
    : Object.keys(tensors as object).map((k) => [k, (tensors as Record<string, Tensor>)[k] as Tensor]);
  if (entries.length === 0) throw new ValueError('data.fromTensors', 'expects a tensor or an object of tensors');
  for (const [k, t] of entries) {
    if (!(t instanceof Tensor)) throw new ValueError('data.fromTensors', `'${k}' is not a Tensor`);
    if (t.rank < 1) throw new ShapeError('data.fromTensors', `'${k}' must have a batch axis, got shape []`);
  }
  const n = (entries[0] as [string, Tensor])[1].shape[0] as number;
  for (const [k, t] of entries) {
    if (t.shape[0] !== n) {
      throw new ShapeError(
        'data.fromTensors',
        `'${k}' has ${t.shape[0]} rows, expected ${n} (shape ${fmtShape(t.shape)})`,
      );
    }
  }
  const cols = entries.map(([k, t]) => ({ key: k, values: t.dataSync(), len: t.size / Math.max(n, 1) }));
  const shapes = new Map(entries.map(([k, t]) => [k, t.shape.slice(1)]));
  return new Dataset(
    async function* () {
      for (let i = 0; i < n; i++) {
        if (single) {
          const c = cols[0] as (typeof cols)[number];
          yield c.values.slice(i * c.len, (i + 1) * c.len) as never;
        } else {
          const row: Record<string, Float32Array> = Object.create(null);
          for (const c of cols) row[c.key] = c.values.slice(i * c.len, (i + 1) * c.len);
          yield row as never;
        }
      }
    },
    n,
    shapes,
  );
}

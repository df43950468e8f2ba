/**
 * Datasets in the spirit of tf.data: a re-iterable, lazy, asynchronous stream of elements with
 * chainable transformations (`map`, `filter`, `shuffle`, `batch`, `take`, `skip`, `repeat`).
 * Elements are host values (numbers, flat arrays, typed arrays, nested arrays, or plain objects of
 * those); `batch` stacks them into tensors in wasm memory, which the consumer disposes
 * (`fitDataset` does so after every step).
 *
 * Internally elements travel in chunks (arrays of up to ~1,000 elements, e.g. the rows of one read
 * of a file), so the cost of asynchronous iteration is paid per chunk rather than per element: a
 * pipeline of several stages streams hundreds of thousands of rows per second. Stages therefore
 * run up to one chunk ahead of the consumer (like tf.data's prefetching).
 */
import { ValueError } from '../errors.js';
import { mulberry32, nextSeed } from '../random.js';
import { type Batched, type RowShapes, stack } from './stack.js';

export type { Batched, DataLeaf, RowShapes } from './stack.js';

/** Starts one pass: an iterator of non-empty chunks of elements. */
export type ChunkSource<T> = () => AsyncIterator<T[]>;

/** Elements per chunk made by in-memory sources. */
export const CHUNK = 1024;
const MIX = 0x9e3779b1;

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';

/** Runs `each` over every chunk of `source`, closing it when the consumer stops early. */
async function* over<T, U>(
  source: ChunkSource<T>,
  each: (chunk: T[]) => U[] | Promise<U[]> | 'stop',
): AsyncGenerator<U[]> {
  const it = source();
  let finished = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        return;
      }
      const out = each(r.value);
      if (out === 'stop') return;
      const chunk = isThenable(out) ? await out : out;
      if (chunk.length > 0) yield chunk;
    }
  } finally {
    if (!finished) await it.return?.();
  }
}

/**
 * A lazy, re-iterable asynchronous dataset. Every `for await` (or `iterator()`) starts a fresh pass
 * from the source, so a dataset can serve several epochs; transformations return new datasets.
 */
export class Dataset<T> implements AsyncIterable<T> {
  /**
   * @param chunks starts one pass over the elements, delivered in non-empty chunks
   * @param size element count when known (Infinity for endless), else null
   * @param rowShapes per-element shapes `batch` should use (see {@link RowShapes})
   */
  constructor(
    readonly chunks: ChunkSource<T>,
    readonly size: number | null = null,
    readonly rowShapes?: RowShapes,
  ) {}

  /** A fresh iterator over the elements (tfjs `dataset.iterator()`). */
  iterator(): AsyncIterator<T> {
    const chunks = this.chunks;
    return (async function* () {
      const it = chunks();
      let finished = false;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) {
            finished = true;
            return;
          }
          yield* r.value;
        }
      } finally {
        if (!finished) await it.return?.();
      }
    })();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterator();
  }

  /** Applies `fn` to every element (per-element shapes are forgotten: `fn` may change them). */
  map<U>(fn: (value: T) => U | Promise<U>): Dataset<U> {
    if (typeof fn !== 'function') throw new ValueError('map', 'expects a function');
    const chunks = this.chunks;
    return new Dataset(
      () =>
        over(chunks, async (chunk) => {
          const out: U[] = new Array(chunk.length);
          for (let i = 0; i < chunk.length; i++) {
            const v = fn(chunk[i] as T);
            out[i] = (isThenable(v) ? await v : v) as U;
          }
          return out;
        }),
      this.size,
    );
  }

  /** Keeps the elements for which `predicate` is true. */
  filter(predicate: (value: T) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof predicate !== 'function') throw new ValueError('filter', 'expects a function');
    const chunks = this.chunks;
    return new Dataset(
      () =>
        over(chunks, async (chunk) => {
          const out: T[] = [];
          for (const v of chunk) {
            const keep = predicate(v);
            if (isThenable(keep) ? await keep : keep) out.push(v);
          }
          return out;
        }),
      null,
      this.rowShapes,
    );
  }

  /** The first `count` elements (all when the dataset is shorter). */
  take(count: number): Dataset<T> {
    checkCount('take', count);
    const chunks = this.chunks;
    return new Dataset(
      () => {
        let left = count;
        return over(chunks, (chunk) => {
          if (left <= 0) return 'stop';
          const out = chunk.length <= left ? chunk : chunk.slice(0, left);
          left -= out.length;
          return out;
        });
      },
      this.size === null ? null : Math.min(this.size, count),
      this.rowShapes,
    );
  }

  /** Every element after the first `count`. */
  skip(count: number): Dataset<T> {
    checkCount('skip', count);
    const chunks = this.chunks;
    return new Dataset(
      () => {
        let left = count;
        return over(chunks, (chunk) => {
          if (left === 0) return chunk;
          const out = chunk.slice(Math.min(left, chunk.length));
          left -= chunk.length - out.length;
          return out;
        });
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
          for await (const chunk of { [Symbol.asyncIterator]: parent.chunks }) {
            any = true;
            yield chunk;
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
    const chunks = this.chunks;
    let pass = 0;
    return new Dataset(
      async function* () {
        const rand = mulberry32(reshuffleEachIteration ? (base + Math.imul(pass++, MIX)) >>> 0 : base);
        const buffer: T[] = [];
        // Fill the buffer; once full, each arriving element replaces a random one, which is emitted.
        for await (const chunk of { [Symbol.asyncIterator]: chunks }) {
          const out: T[] = [];
          for (const v of chunk) {
            if (buffer.length < cap) buffer.push(v);
            else {
              const j = Math.floor(rand() * buffer.length);
              out.push(buffer[j] as T);
              buffer[j] = v;
            }
          }
          if (out.length > 0) yield out;
        }
        // Drain in random order.
        while (buffer.length > 0) {
          const out: T[] = [];
          for (let k = 0; k < CHUNK && buffer.length > 0; k++) {
            const j = Math.floor(rand() * buffer.length);
            out.push(buffer[j] as T);
            buffer[j] = buffer[buffer.length - 1] as T;
            buffer.pop();
          }
          yield out;
        }
      },
      this.size,
      this.rowShapes,
    );
  }

  /**
   * Groups `batchSize` consecutive elements and stacks every leaf into a tensor with a leading
   * batch axis (the last batch may be smaller unless `smallLastBatch` is false). The tensors live
   * in the current runtime and belong to the consumer, who disposes them. Batches are made one at
   * a time, only when the consumer asks for the next.
   */
  batch(batchSize: number, smallLastBatch = true): Dataset<Batched<T>> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new ValueError('batch', `batchSize must be a positive integer, got ${batchSize}`);
    }
    const chunks = this.chunks;
    const shapes = this.rowShapes;
    const size =
      this.size === null ? null : smallLastBatch ? Math.ceil(this.size / batchSize) : Math.floor(this.size / batchSize);
    return new Dataset(async function* () {
      let group: T[] = [];
      for await (const chunk of { [Symbol.asyncIterator]: chunks }) {
        let i = 0;
        while (i < chunk.length) {
          const take = Math.min(batchSize - group.length, chunk.length - i);
          for (let k = 0; k < take; k++) group.push(chunk[i + k] as T);
          i += take;
          if (group.length === batchSize) {
            const out = stack(group, shapes);
            group = [];
            yield [out];
          }
        }
      }
      if (group.length > 0 && smallLastBatch) yield [stack(group, shapes)];
    }, size);
  }

  /** This dataset's elements followed by `other`'s (tfjs `concatenate`). */
  concatenate(other: Dataset<T>): Dataset<T> {
    if (!(other instanceof Dataset)) throw new ValueError('concatenate', 'expects a Dataset');
    const [a, b] = [this.chunks, other.chunks];
    const size = this.size === null || other.size === null ? null : this.size + other.size;
    return new Dataset(async function* () {
      yield* { [Symbol.asyncIterator]: a };
      yield* { [Symbol.asyncIterator]: b };
    }, size);
  }

  /**
   * tfjs `prefetch`, accepted for compatibility: elements already travel in chunks read ahead of
   * the consumer, so this returns the dataset unchanged.
   */
  prefetch(_bufferSize?: number): Dataset<T> {
    return this;
  }

  /** Calls `fn` on every element in order. */
  async forEachAsync(fn: (value: T) => void | Promise<void>): Promise<void> {
    for await (const v of this) await fn(v);
  }

  /** Every element in an array (refuses endless datasets). */
  async toArray(): Promise<T[]> {
    if (this.size === Number.POSITIVE_INFINITY) throw new ValueError('toArray', 'the dataset is endless');
    const out: T[] = [];
    for await (const chunk of { [Symbol.asyncIterator]: this.chunks }) for (const v of chunk) out.push(v);
    return out;
  }
}

function checkCount(op: string, count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValueError(op, `count must be a non-negative integer, got ${count}`);
  }
}

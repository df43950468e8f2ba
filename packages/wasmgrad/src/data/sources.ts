/** Where datasets start: arrays, generators, tensors, and the zip of several datasets (tf.data names). */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { CHUNK, Dataset } from './dataset.js';

/** A dataset over the items of an array (tfjs `tf.data.array`); the array is copied. */
export function array<T>(items: readonly T[]): Dataset<T> {
  if (!Array.isArray(items)) throw new ValueError('data.array', `expects an array, got ${typeof items}`);
  const copy = items.slice();
  return new Dataset(async function* () {
    for (let i = 0; i < copy.length; i += CHUNK) yield copy.slice(i, i + CHUNK);
  }, copy.length);
}

/**
 * A dataset from a function returning a (sync or async) iterator, called once per pass
 * (tfjs `tf.data.generator`). A synchronous iterator is drained up to ~1,000 elements ahead.
 */
export function generator<T>(make: () => Iterator<T> | AsyncIterator<T>): Dataset<T> {
  if (typeof make !== 'function') throw new ValueError('data.generator', 'expects a function returning an iterator');
  return new Dataset(async function* () {
    const it = make();
    if (!it || typeof it.next !== 'function')
      throw new ValueError('data.generator', 'the function must return an iterator');
    let finished = false;
    try {
      for (;;) {
        const chunk: T[] = [];
        while (chunk.length < CHUNK) {
          const step = it.next();
          const r = step instanceof Promise ? await step : (step as IteratorResult<T>);
          if (r.done) {
            finished = true;
            break;
          }
          chunk.push(r.value);
          if (step instanceof Promise) break; // async sources: hand each element on as it comes
        }
        if (chunk.length > 0) yield chunk;
        if (finished) return;
      }
    } finally {
      if (!finished) await it.return?.();
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
  const sets = keys.map((k) => (datasets as Record<string, unknown>)[k]) as Dataset<unknown>[];
  sets.forEach((d, i) => {
    if (!(d instanceof Dataset)) throw new ValueError('data.zip', `entry '${keys[i]}' is not a Dataset`);
  });
  const sizes = sets.map((d) => d.size);
  const size = sizes.some((s) => s === null) ? null : Math.min(...(sizes as number[]));
  const shapes = new Map<string, readonly number[]>();
  sets.forEach((d, i) => {
    for (const [p, s] of d.rowShapes ?? []) shapes.set(p ? `${keys[i]}.${p}` : (keys[i] as string), s);
  });
  const asArray = Array.isArray(datasets);
  return new Dataset(
    async function* () {
      const its = sets.map((d) => d.chunks());
      // Per input: the chunk being consumed and the position in it.
      const pending: unknown[][] = sets.map(() => []);
      const at = sets.map(() => 0);
      try {
        for (;;) {
          for (let k = 0; k < its.length; k++) {
            if ((at[k] as number) < (pending[k] as unknown[]).length) continue;
            const r = await (its[k] as AsyncIterator<unknown[]>).next();
            if (r.done) return;
            pending[k] = r.value;
            at[k] = 0;
          }
          const n = Math.min(...pending.map((p, k) => p.length - (at[k] as number)));
          const out: Zipped<T>[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const el: Record<string, unknown> | unknown[] = asArray ? [] : Object.create(null);
            keys.forEach((key, k) => {
              (el as Record<string, unknown>)[key] = (pending[k] as unknown[])[(at[k] as number) + i];
            });
            out[i] = el as Zipped<T>;
          }
          for (let k = 0; k < its.length; k++) at[k] = (at[k] as number) + n;
          yield out;
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
  const row = (c: (typeof cols)[number], i: number) => c.values.slice(i * c.len, (i + 1) * c.len);
  return new Dataset(
    async function* () {
      for (let start = 0; start < n; start += CHUNK) {
        const out: unknown[] = [];
        for (let i = start; i < Math.min(n, start + CHUNK); i++) {
          if (single) out.push(row(cols[0] as (typeof cols)[number], i));
          else {
            const el: Record<string, Float32Array> = Object.create(null);
            for (const c of cols) el[c.key] = row(c, i);
            out.push(el);
          }
        }
        yield out as never[];
      }
    },
    n,
    shapes,
  );
}

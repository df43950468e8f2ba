/**
 * Seeded train/validation/test splits of tensors (scikit-learn `train_test_split` semantics, three
 * ways), optionally stratified so that every class keeps its proportion in each part.
 */
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { mulberry32, nextSeed } from '../random.js';
import { currentRuntime } from '../tensor/engine.js';
import { empty, Tensor } from '../tensor/tensor.js';

/** Options of {@link split}. */
export interface SplitOptions {
  /** Fraction of the samples for validation, in [0, 1) (default 0). */
  validation?: number;
  /** Fraction of the samples for testing, in [0, 1) (default 0). */
  test?: number;
  /** Seed of the permutation (default: the next seed of the global sequence, see `wg.setSeed`). */
  seed?: number;
  /** Shuffle before splitting (default true); false keeps order: train, then validation, then test. */
  shuffle?: boolean;
  /**
   * Keep class proportions in every part (needs y): classes are y's values for [n] or [n,1]
   * labels, the argmax of each row for one-hot rows.
   */
  stratify?: boolean;
}

/** One part of a split: its rows of x (and y) and their indices in the input. */
export interface SplitPart {
  x: Tensor;
  y: Tensor | undefined;
  indices: Uint32Array;
}

/** What {@link split} returns; empty parts are undefined. */
export interface Split {
  train: SplitPart;
  validation: SplitPart | undefined;
  test: SplitPart | undefined;
}

function fraction(name: string, v: number | undefined): number {
  const f = v ?? 0;
  if (!(typeof f === 'number' && f >= 0 && f < 1)) throw new ValueError('split', `${name} must be in [0, 1), got ${v}`);
  return f;
}

/** Class of every row of y: the value of [n]/[n,1] labels, else the argmax of the row. */
function classesOf(y: Tensor): Int32Array | Float64Array {
  const n = y.shape[0] as number;
  const v = y.dataSync();
  const len = n === 0 ? 0 : v.length / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (len === 1) out[i] = v[i] as number;
    else {
      let best = 0;
      for (let j = 1; j < len; j++) if ((v[i * len + j] as number) > (v[i * len + best] as number)) best = j;
      out[i] = best;
    }
  }
  return out;
}

/**
 * Splits x (and y) into train, validation and test parts: `round(n·validation)` and
 * `round(n·test)` samples go to validation and test, the rest to train. The same seed gives the
 * same parts. With `stratify`, samples of each class are spread evenly over the parts (each class
 * keeps its share within one sample).
 */
export function split(x: Tensor, y?: Tensor, options: SplitOptions = {}): Split {
  if (!(x instanceof Tensor) || x.rank < 1) throw new ValueError('split', 'x must be a Tensor with a batch axis');
  const n = x.shape[0] as number;
  if (y !== undefined) {
    if (!(y instanceof Tensor) || y.rank < 1) throw new ValueError('split', 'y must be a Tensor with a batch axis');
    if (y.shape[0] !== n)
      throw new ShapeError('split', `x has ${n} samples but y has ${y.shape[0]} (shape ${fmtShape(y.shape)})`);
  }
  const val = fraction('validation', options.validation);
  const tst = fraction('test', options.test);
  const nVal = Math.round(n * val);
  const nTest = Math.round(n * tst);
  if (n - nVal - nTest < 1) {
    throw new ValueError('split', `validation ${val} and test ${tst} of ${n} samples leave no training samples`);
  }
  if (options.stratify && !y) throw new ValueError('split', 'stratify needs y');
  const seed = (options.seed ?? nextSeed()) >>> 0;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  if (options.shuffle ?? true) {
    const rand = mulberry32(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
  }
  let arranged = order;
  if (options.stratify && y) {
    // Each sample's key = (rank within its class + ½) / class size: sorting by it interleaves the
    // classes in proportion, so any prefix holds every class at its share (±1 sample).
    const cls = classesOf(y);
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) counts.set(cls[i] as number, (counts.get(cls[i] as number) ?? 0) + 1);
    const seen = new Map<number, number>();
    const key = new Float64Array(n);
    for (const i of order) {
      const c = cls[i] as number;
      const r = seen.get(c) ?? 0;
      seen.set(c, r + 1);
      key[i] = (r + 0.5) / (counts.get(c) as number);
    }
    const pos = new Uint32Array(n);
    order.forEach((i, p) => {
      pos[i] = p;
    });
    arranged = Uint32Array.from(order).sort(
      (a, b) => (key[a] as number) - (key[b] as number) || (pos[a] as number) - (pos[b] as number),
    );
  }
  // Held-out parts take the front of the arrangement when stratified (the even interleaving), the
  // back otherwise (so shuffle: false keeps train first, like Keras validationSplit).
  const take = (start: number, count: number) => arranged.slice(start, start + count);
  let testIdx: Uint32Array;
  let valIdx: Uint32Array;
  let trainIdx: Uint32Array;
  if (options.stratify) {
    testIdx = take(0, nTest);
    valIdx = take(nTest, nVal);
    trainIdx = take(nTest + nVal, n - nTest - nVal);
  } else {
    trainIdx = take(0, n - nVal - nTest);
    valIdx = take(n - nVal - nTest, nVal);
    testIdx = take(n - nTest, nTest);
  }
  const xs = x.dataSync();
  const ys = y?.dataSync();
  const part = (idx: Uint32Array): SplitPart | undefined => {
    if (idx.length === 0) return undefined;
    return { x: gather(x, xs, idx), y: y && ys ? gather(y, ys, idx) : undefined, indices: idx };
  };
  return { train: part(trainIdx) as SplitPart, validation: part(valIdx), test: part(testIdx) };
}

function gather(t: Tensor, values: Float32Array, idx: Uint32Array): Tensor {
  const n = t.shape[0] as number;
  const len = n === 0 ? 0 : values.length / n;
  const out = new Float32Array(idx.length * len);
  idx.forEach((r, i) => {
    out.set(values.subarray(r * len, (r + 1) * len), i * len);
  });
  const rt = currentRuntime();
  const result = empty([idx.length, ...t.shape.slice(1)], 'split', rt);
  rt.write(result.ptr, out);
  return result;
}

/** Datasets (tf.data-style), seeded shuffles and splits, and scalers fitted on training data only. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose } from '../shared/tolerance.js';

beforeAll(async () => {
  await wg.ready();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Dataset', () => {
  it('array, map, filter, take, skip, repeat, with sizes', async () => {
    const ds = wg.data.array(range(10));
    expect(ds.size).toBe(10);
    expect(
      await ds
        .map((v) => v * 2)
        .take(3)
        .toArray(),
    ).toEqual([0, 2, 4]);
    expect(await ds.skip(7).toArray()).toEqual([7, 8, 9]);
    expect(await ds.filter((v) => v % 3 === 0).toArray()).toEqual([0, 3, 6, 9]);
    expect(await ds.take(2).repeat(3).toArray()).toEqual([0, 1, 0, 1, 0, 1]);
    expect([ds.take(20).size, ds.skip(20).size, ds.repeat(2).size, ds.batch(4).size, ds.batch(4, false).size]).toEqual([
      10, 0, 20, 3, 2,
    ]);
    expect(await ds.repeat().take(12).toArray()).toEqual([...range(10), 0, 1]);
    expect(await wg.data.array([]).repeat().take(5).toArray()).toEqual([]);
    const both = ds.take(2).concatenate(wg.data.array([7, 8]));
    expect([both.size, await both.toArray()]).toEqual([4, [0, 1, 7, 8]]);
    expect(ds.prefetch(4)).toBe(ds);
    // Re-iterable: every pass starts over.
    expect(await ds.toArray()).toEqual(await ds.toArray());
    expect(() => ds.take(-1)).toThrow(wg.ValueError);
    expect(() => ds.batch(0)).toThrow(/batchSize must be a positive integer/);
    expect(() => ds.shuffle(0)).toThrow(/bufferSize/);
  });

  it('generator and zip (ends with the shortest)', async () => {
    const g = wg.data.generator(function* () {
      for (let i = 0; i < 4; i++) yield i * i;
    });
    expect(await g.toArray()).toEqual([0, 1, 4, 9]);
    expect(await g.toArray()).toEqual([0, 1, 4, 9]);
    const z = wg.data.zip({ xs: g, ys: wg.data.array(['a', 'b', 'c']) });
    expect((await z.toArray()).map((e) => [e.xs, e.ys])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [4, 'c'],
    ]);
    const pairs = await wg.data.zip([wg.data.array([1, 2]), wg.data.array([3, 4])]).toArray();
    expect(pairs).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('batch stacks numbers, arrays, nested arrays and objects into tensors', async () => {
    const rows = [
      { xs: [1, 2], ys: 0, img: [[1], [2]] },
      { xs: new Float32Array([3, 4]), ys: 1, img: [[3], [4]] },
      { xs: [5, 6], ys: 2, img: [[5], [6]] },
    ];
    const batches = await wg.data.array(rows).batch(2).toArray();
    expect(batches.map((b) => [b.xs.shape, b.ys.shape, b.img.shape])).toEqual([
      [[2, 2], [2], [2, 2, 1]],
      [[1, 2], [1], [1, 2, 1]],
    ]);
    expect(Array.from((batches[0] as (typeof batches)[0]).xs.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from((batches[1] as (typeof batches)[0]).img.dataSync())).toEqual([5, 6]);
    for (const b of batches) for (const t of [b.xs, b.ys, b.img]) t.dispose();
    const before = wg.memory().numTensors;
    await expect(
      wg.data
        .array([{ xs: [1, 2] }, { xs: [1, 2, 3] }])
        .batch(2)
        .toArray(),
    ).rejects.toThrow(/xs of element 1 in the batch has 3 values .* the first has 2/);
    expect(wg.memory().numTensors).toBe(before);
  });

  it('fromTensors yields rows and batch restores their shapes', async () => {
    const x = wg.tensor(range(24), [6, 2, 2]);
    const y = wg.tensor(range(6), [6, 1]);
    const ds = wg.data.fromTensors({ xs: x, ys: y });
    x.dispose(); // the values were read when the dataset was made
    const rows = await ds.toArray();
    expect(Array.from((rows[1] as (typeof rows)[0]).xs)).toEqual([4, 5, 6, 7]);
    const [b] = await ds.shuffle(6, 1).batch(4).take(1).toArray();
    expect(b?.xs.shape).toEqual([4, 2, 2]);
    expect(b?.ys.shape).toEqual([4, 1]);
    // Rows stay paired through the shuffle: row i holds 4i..4i+3 and label i.
    const xv = b?.xs.dataSync() as Float32Array;
    const yv = b?.ys.dataSync() as Float32Array;
    for (let i = 0; i < 4; i++) expect(xv[4 * i]).toBe(4 * (yv[i] as number));
    b?.xs.dispose();
    b?.ys.dispose();
    y.dispose();
    expect(() => wg.data.fromTensors({ a: wg.zeros([3, 1]), b: wg.zeros([2, 1]) })).toThrow(
      /'b' has 2 rows, expected 3/,
    );
  });

  it('shuffle is a seeded permutation: same seed same order, epochs differ, buffers bound locality', async () => {
    const ds = wg.data.array(range(100));
    const a = ds.shuffle('full', 42);
    const b = ds.shuffle('full', 42);
    const a1 = await a.toArray();
    const a2 = await a.toArray();
    expect(a1).toEqual(await b.toArray());
    expect(a2).toEqual(await b.toArray());
    expect(a1).not.toEqual(a2); // reshuffled each iteration
    expect([...a1].sort((p, q) => p - q)).toEqual(range(100));
    expect(a1).not.toEqual(range(100));
    expect(await ds.shuffle('full', 42, false).toArray()).toEqual(await ds.shuffle('full', 42, false).toArray());
    expect(await ds.shuffle(100, 7).toArray()).not.toEqual(await ds.shuffle(100, 8).toArray());
    // A buffer of 5 can emit element i only after reading it, so the i-th output is ≤ i + 4.
    const local = await ds.shuffle(5, 3).toArray();
    local.forEach((v, i) => {
      expect(v).toBeLessThanOrEqual(i + 4);
    });
    expect([...local].sort((p, q) => p - q)).toEqual(range(100));
    // setSeed fixes the default seed.
    wg.setSeed(5);
    const s1 = await ds.shuffle(10).toArray();
    wg.setSeed(5);
    expect(await ds.shuffle(10).toArray()).toEqual(s1);
  });

  it("a full shuffle is close to uniform (each position's mean near the middle)", async () => {
    const n = 8;
    const sums = new Float64Array(n);
    const ds = wg.data.array(range(n)).shuffle('full', 99);
    const passes = 4000;
    for (let p = 0; p < passes; p++) {
      const order = await ds.toArray();
      for (let i = 0; i < n; i++) sums[i] = (sums[i] as number) + (order[i] as number);
    }
    // Mean 3.5, per-pass sd of one position ≈ 2.29 → sd of the mean ≈ 0.036; allow 5 sd.
    for (const s of sums) expect(Math.abs(s / passes - 3.5)).toBeLessThan(0.18);
  });
});

describe('split', () => {
  const n = 100;
  const x = () => wg.tensor(range(n * 2), [n, 2]);
  const labels = range(n).map((i) => (i < 80 ? 0 : i < 95 ? 1 : 2)); // 80/15/5
  const y = () => wg.tensor(labels, [n, 1]);

  it('splits into disjoint parts of round(n·fraction), deterministic for a seed', () => {
    const [xt, yt] = [x(), y()];
    const s = wg.data.split(xt, yt, { validation: 0.1, test: 0.2, seed: 3 });
    expect([s.train.indices.length, s.validation?.indices.length, s.test?.indices.length]).toEqual([70, 10, 20]);
    const all = [...s.train.indices, ...(s.validation?.indices ?? []), ...(s.test?.indices ?? [])].sort(
      (a, b) => a - b,
    );
    expect(all).toEqual(range(n));
    // Rows follow their indices, x and y together.
    const tx = s.test?.x.dataSync() as Float32Array;
    const ty = s.test?.y?.dataSync() as Float32Array;
    s.test?.indices.forEach((r, i) => {
      expect(tx[2 * i]).toBe(2 * r);
      expect(ty[i]).toBe(labels[r]);
    });
    expect(s.test?.x.shape).toEqual([20, 2]);
    const again = wg.data.split(xt, yt, { validation: 0.1, test: 0.2, seed: 3 });
    expect(Array.from(again.test?.indices ?? [])).toEqual(Array.from(s.test?.indices ?? []));
    const other = wg.data.split(xt, yt, { validation: 0.1, test: 0.2, seed: 4 });
    expect(Array.from(other.test?.indices ?? [])).not.toEqual(Array.from(s.test?.indices ?? []));
    const ordered = wg.data.split(xt, undefined, { validation: 0.25, shuffle: false });
    expect(Array.from(ordered.train.indices)).toEqual(range(75));
    expect(ordered.test).toBeUndefined();
    for (const p of [s, again, other, ordered])
      for (const part of [p.train, p.validation, p.test]) {
        part?.x.dispose();
        part?.y?.dispose();
      }
    xt.dispose();
    yt.dispose();
  });

  it('stratify keeps class shares in every part (one-hot labels too)', () => {
    const xt = x();
    const oneHot = wg.tensor(
      labels.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))),
      [n, 3],
    );
    for (const yt of [y(), oneHot]) {
      const s = wg.data.split(xt, yt, { validation: 0.2, test: 0.2, seed: 11, stratify: true });
      for (const part of [s.train, s.validation, s.test]) {
        const idx = part?.indices as Uint32Array;
        const counts = [0, 0, 0];
        for (const r of idx) counts[labels[r] as number] = (counts[labels[r] as number] as number) + 1;
        [0.8, 0.15, 0.05].forEach((share, c) => {
          expect(Math.abs((counts[c] as number) - share * idx.length)).toBeLessThanOrEqual(1);
        });
        part?.x.dispose();
        part?.y?.dispose();
      }
      yt.dispose();
    }
    expect(() => wg.data.split(xt, undefined, { stratify: true })).toThrow(/stratify needs y/);
    expect(() => wg.data.split(xt, undefined, { validation: 0.6, test: 0.5 })).toThrow(
      /must be in \[0, 1\)|leave no training/,
    );
    expect(() => wg.data.split(xt, wg.zeros([3, 1]))).toThrow(/x has 100 samples but y has 3/);
    xt.dispose();
  });
});

describe('scalers', () => {
  // Training and test data with very different statistics: the test data must be scaled with the
  // training mean/std (or min/max), never its own.
  const train = [
    [1, 10],
    [2, 20],
    [3, 30],
    [4, 40],
  ];
  const test = [
    [100, -5],
    [101, 5],
  ];

  it('standardScaler: training mean and population std, applied unchanged to test data', () => {
    const s = wg.data.standardScaler();
    expect(() => s.transform(wg.tensor(test))).toThrow(wg.RuntimeStateError);
    s.fit(wg.tensor(train));
    const mean = [2.5, 25];
    const std = [Math.sqrt(1.25), Math.sqrt(125)];
    assertClose(s.means, mean, { atol: 1e-12, rtol: 0 });
    assertClose(s.stds, std, { atol: 1e-12, rtol: 0 });
    const tt = s.transform(wg.tensor(test));
    const want = test.flatMap((r) => r.map((v, j) => (v - (mean[j] as number)) / (std[j] as number)));
    assertClose(tt.dataSync(), want, { atol: 1e-5, rtol: 1e-6 });
    // Had the test statistics leaked in, transformed test columns would have mean 0.
    expect(Math.abs((tt.dataSync()[0] as number) + (tt.dataSync()[2] as number))).toBeGreaterThan(100);
    const back = s.inverseTransform(tt);
    assertClose(back.dataSync(), test.flat(), { atol: 1e-4, rtol: 1e-6 });
    // Transforming test data does not refit.
    expect(s.means).toEqual(mean);
    expect(() => s.transform(wg.zeros([2, 3]))).toThrow(/fitted on 2 features/);
    const restored = wg.data.scalerFromConfig(JSON.parse(JSON.stringify(s.getConfig())));
    assertClose(restored.transform(wg.tensor(test)).dataSync(), want, { atol: 1e-5, rtol: 1e-6 });
    tt.dispose();
    back.dispose();
  });

  it('partialFit / fitDataset in pieces equals fit on everything (f64 accumulation)', async () => {
    const rows = range(1000).map((i) => [1e4 + Math.sin(i), i % 17]);
    const whole = wg.data.standardScaler().fit(rows);
    const pieces = wg.data.standardScaler();
    for (let i = 0; i < rows.length; i += 97) pieces.partialFit(rows.slice(i, i + 97));
    assertClose(pieces.means, whole.means, { atol: 1e-9, rtol: 1e-12 });
    assertClose(pieces.stds, whole.stds, { atol: 1e-9, rtol: 1e-9 });
    const fromDs = await wg.data.standardScaler().fitDataset(wg.data.array(rows.map((r) => ({ xs: r }))), 'xs');
    assertClose(fromDs.stds, whole.stds, { atol: 1e-9, rtol: 1e-9 });
    // A constant feature is centred, not divided by zero.
    const c = wg.data.standardScaler().fit([[5], [5]]);
    expect(Array.from(c.transformValues(new Float32Array([5, 6])))).toEqual([0, 1]);
  });

  it('minMaxScaler: training range, test values may fall outside [0, 1]', () => {
    const s = wg.data.minMaxScaler();
    expect(() => s.transformValues(new Float32Array(2))).toThrow(/not fitted/);
    s.fit(wg.tensor(train));
    const out = s.transform(wg.tensor(test));
    assertClose(out.dataSync(), [33, -0.5, 100 / 3, -1 / 6], { atol: 1e-5, rtol: 1e-6 });
    const r = wg.data.minMaxScaler({ featureRange: [-1, 1] }).fit(train);
    assertClose(r.transformValues(new Float32Array([1, 40, 2.5, 25])), [-1, 1, 0, 0], { atol: 1e-6, rtol: 0 });
    const restored = wg.data.scalerFromConfig(r.getConfig());
    assertClose(restored.transformValues(new Float32Array([4, 10])), [1, -1], { atol: 1e-6, rtol: 0 });
    expect(() => wg.data.minMaxScaler({ featureRange: [1, 0] })).toThrow(/featureRange/);
    expect(() =>
      wg.data.scalerFromConfig({ className: 'StandardScaler', config: { count: 2, mean: [1], std: [-1] } }),
    ).toThrow(/std must be/);
    expect(() => wg.data.scalerFromConfig(JSON.parse('{"className":"__proto__","config":{"count":1}}'))).toThrow(
      /unknown className/,
    );
    out.dispose();
  });
});

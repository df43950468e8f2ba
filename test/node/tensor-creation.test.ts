import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

beforeAll(async () => {
  await wg.ready();
});

describe('tensor creation', () => {
  it('infers shapes from nested arrays and round-trips through arraySync', () => {
    wg.tidy(() => {
      const t = wg.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.rank).toBe(2);
      expect(t.size).toBe(6);
      expect(t.dtype).toBe('float32');
      expect(t.arraySync()).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      const t3 = wg.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
      expect(t3.arraySync()).toEqual([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
      ]);
      expect(wg.scalar(3.5).arraySync()).toBe(3.5);
      expect(wg.scalar(3.5).shape).toEqual([]);
      expect(wg.tensor1d(new Float32Array([1, 2])).arraySync()).toEqual([1, 2]);
      expect(wg.tensor4d([1, 2], [1, 1, 1, 2]).shape).toEqual([1, 1, 1, 2]);
      expect(wg.tensor(7, [2, 2]).arraySync()).toEqual([
        [7, 7],
        [7, 7],
      ]);
      expect(wg.tensor([], [0, 3]).arraySync()).toEqual([]);
    });
  });

  it('stores values as f32', async () => {
    const t = wg.tensor1d([0.1, 1e40]);
    const d = await t.data();
    expect(d[0]).toBe(Math.fround(0.1));
    expect(d[1]).toBe(Number.POSITIVE_INFINITY);
    expect(await t.array()).toEqual([Math.fround(0.1), Number.POSITIVE_INFINITY]);
    t.dispose();
  });

  it('fills constants and *Like tensors', () => {
    wg.tidy(() => {
      expect(wg.zeros([2, 2]).arraySync()).toEqual([
        [0, 0],
        [0, 0],
      ]);
      expect(wg.ones([3]).arraySync()).toEqual([1, 1, 1]);
      expect(wg.fill([2], -2.5).arraySync()).toEqual([-2.5, -2.5]);
      const x = wg.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      expect(wg.zerosLike(x).shape).toEqual([3, 2]);
      expect(Array.from(wg.onesLike(x).dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
    });
  });

  it('rejects bad values and shapes with typed errors naming the op', () => {
    expect(() => wg.tensor([[1, 2], [3]])).toThrow(wg.ShapeError);
    expect(() => wg.tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array: values\[1\] has 1 values, expected 2/);
    expect(() => wg.tensor2d([1, 2, 3], [2, 2])).toThrow(/tensor2d: 3 values do not fill shape \[2,2\]/);
    expect(() => wg.tensor2d([1, 2, 3, 4])).toThrow(wg.ShapeError);
    expect(() => wg.tensor3d([[1, 2]])).toThrow(/tensor3d: expected rank 3, the values have shape \[1,2\]/);
    expect(() => wg.tensor([1, 2], [Number.NaN])).toThrow(wg.ValueError);
    expect(() => wg.zeros([-1])).toThrow(/zeros: shape \[-1\] has a dimension that is not a non-negative integer/);
    expect(() => wg.tensor(['a' as unknown as number])).toThrow(wg.ValueError);
  });
});

describe('views, copies and shape ops', () => {
  it('reshape shares memory and frees it with the last view', () => {
    const before = wg.memory();
    const x = wg.tensor([1, 2, 3, 4, 5, 6]);
    const y = x.reshape([2, -1]);
    expect(y.shape).toEqual([2, 3]);
    expect(y.arraySync()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(wg.memory().numTensors).toBe(before.numTensors + 2);
    expect(wg.memory().numBytes).toBe(before.numBytes + 24);
    x.dispose();
    expect(y.dataSync()[5]).toBe(6);
    y.dispose();
    expect(wg.memory().numTensors).toBe(before.numTensors);
    expect(wg.memory().numBytes).toBe(before.numBytes);
    expect(() => wg.reshape(wg.tensor([1, 2, 3]), [2, 2])).toThrow(
      /reshape: cannot reshape \[3\] \(3 values\) to \[2,2\]/,
    );
  });

  it('clone copies; transpose, concat, slice, expandDims and squeeze move values', () => {
    wg.tidy(() => {
      const x = wg.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const c = x.clone();
      expect(c.ptr).not.toBe(x.ptr);
      expect(c.arraySync()).toEqual(x.arraySync());
      expect(wg.transpose(x).arraySync()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      const t3 = wg.tensor3d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 3, 2]);
      expect(wg.transpose(t3, [1, 0, 2]).arraySync()).toEqual([
        [
          [0, 1],
          [6, 7],
        ],
        [
          [2, 3],
          [8, 9],
        ],
        [
          [4, 5],
          [10, 11],
        ],
      ]);
      expect(wg.concat([x, wg.tensor2d([[7, 8, 9]])], 0).arraySync()).toEqual([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ]);
      expect(wg.concat([x, wg.tensor2d([[7], [8]])], 1).arraySync()).toEqual([
        [1, 2, 3, 7],
        [4, 5, 6, 8],
      ]);
      expect(wg.slice(x, [0, 1], [2, 2]).arraySync()).toEqual([
        [2, 3],
        [5, 6],
      ]);
      expect(wg.expandDims(x, 1).shape).toEqual([2, 1, 3]);
      expect(wg.squeeze(wg.zeros([1, 3, 1])).shape).toEqual([3]);
      expect(() => wg.concat([x, wg.zeros([3, 3])], 1)).toThrow(
        /concat: shapes \[2,3\] and \[3,3\] differ outside axis 1/,
      );
      expect(() => wg.transpose(x, [0, 0])).toThrow(wg.ValueError);
    });
  });

  it('refuses use after dispose with DisposedError', () => {
    const x = wg.tensor([1, 2]);
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => x.dataSync()).toThrow(wg.DisposedError);
    expect(() => wg.reshape(x, [2, 1])).toThrow(wg.DisposedError);
    expect(() => wg.matMul(x, x)).toThrow(wg.ShapeError);
  });
});

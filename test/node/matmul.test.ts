import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, matMulReference, seededRandom } from '../shared/tolerance.js';

describe.each([
  ['simd', true],
  ['scalar', false],
])('matMul on the %s build', (_name, simd) => {
  it('matches the f64 reference for sizes around the vector width', async () => {
    const rt = await wg.createRuntime({ simd });
    expect(rt.simd).toBe(simd);
    const rand = seededRandom(42);
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 7],
      [4, 8, 4],
      [17, 13, 9],
      [2, 17, 257],
      [64, 64, 64],
    ] as const) {
      const a = Array.from({ length: m * k }, () => rand());
      const b = Array.from({ length: k * n }, () => rand());
      const ta = wg.empty([m, k], 'test', rt);
      const tb = wg.empty([k, n], 'test', rt);
      rt.write(ta.ptr, a);
      rt.write(tb.ptr, b);
      const c = wg.matMul(ta, tb);
      expect(c.shape).toEqual([m, n]);
      assertClose(c.dataSync(), matMulReference(a, b, m, k, n), { atol: 1e-5, rtol: 1e-5 }, `matMul ${m}x${k}x${n}`);
      for (const t of [ta, tb, c]) t.dispose();
    }
  });
});

describe('matMul on the default runtime', () => {
  it('multiplies tensor2d values', async () => {
    await wg.ready();
    const c = wg.matMul(
      wg.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]),
      wg.tensor2d([
        [7, 8],
        [9, 10],
        [11, 12],
      ]),
    );
    expect(Array.from(c.dataSync())).toEqual([58, 64, 139, 154]);
  });

  it('rejects bad input with typed errors naming the op and shapes, and stays usable', async () => {
    await wg.ready();
    const a = wg.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = wg.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => wg.matMul(a, b)).toThrow(wg.ShapeError);
    expect(() => wg.matMul(a, b)).toThrow(/matMul: inner dimensions differ: \[2,3\] × \[2,2\]/);
    expect(() => wg.tensor2d([1, 2, 3], [2, 2])).toThrow(/tensor2d: 3 values do not fill shape \[2,2\]/);
    expect(() => wg.tensor2d([1, 2], [Number.NaN, 2])).toThrow(wg.ValueError);
    expect(() => wg.tensor2d([1, 2], [Number.POSITIVE_INFINITY, 2])).toThrow(/not a non-negative integer/);
    expect(() => wg.tensor2d([1, 2], [-1, -2])).toThrow(wg.ValueError);
    const ok = wg.matMul(a, wg.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]));
    expect(Array.from(ok.dataSync())).toEqual([4, 5, 10, 11]);
  });

  it('rejects use after dispose', async () => {
    await wg.ready();
    const a = wg.tensor2d([1], [1, 1]);
    a.dispose();
    expect(() => wg.matMul(a, a)).toThrow(wg.DisposedError);
  });
});

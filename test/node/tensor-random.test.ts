import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { checkOp } from '../shared/gradcheck.js';

beforeAll(async () => {
  await wg.ready();
});

const stats = (v: Float32Array) => {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...v), max: Math.max(...v) };
};

describe('seeded random tensors', () => {
  it('randomUniform lies in [min, max), repeats for a seed and differs between seeds', () => {
    wg.tidy(() => {
      const a = wg.randomUniform([100, 100], -2, 3, 42).dataSync();
      const b = wg.randomUniform([100, 100], -2, 3, 42).dataSync();
      const c = wg.randomUniform([100, 100], -2, 3, 43).dataSync();
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
      const s = stats(a);
      expect(s.min).toBeGreaterThanOrEqual(-2);
      expect(s.max).toBeLessThan(3);
      // Uniform on [-2, 3): mean 0.5, sd 5/√12 ≈ 1.443; 4σ bounds for 10⁴ draws.
      expect(Math.abs(s.mean - 0.5)).toBeLessThan((4 * (5 / Math.sqrt(12))) / 100);
      expect(Math.abs(s.std - 5 / Math.sqrt(12))).toBeLessThan(0.05);
      expect(wg.randomUniform([3]).shape).toEqual([3]);
    });
  });

  it('randomNormal and truncatedNormal have the requested moments; truncation stays within 2σ', () => {
    wg.tidy(() => {
      const n = stats(wg.randomNormal([200, 100], 1, 2, 7).dataSync());
      expect(Math.abs(n.mean - 1)).toBeLessThan((4 * 2) / Math.sqrt(2e4));
      expect(Math.abs(n.std - 2)).toBeLessThan(0.05);
      const t = stats(wg.truncatedNormal([200, 100], -1, 0.5, 7).dataSync());
      expect(t.min).toBeGreaterThanOrEqual(-2);
      expect(t.max).toBeLessThanOrEqual(0);
      // A normal truncated at ±2σ has sd ≈ 0.8796σ.
      expect(Math.abs(t.std - 0.8796 * 0.5)).toBeLessThan(0.02);
      expect(Math.abs(t.mean + 1)).toBeLessThan(0.02);
    });
  });

  it('rejects bad parameters with ValueError', () => {
    expect(() => wg.randomUniform([2], 1, 1)).toThrow(/randomUniform: minval 1 must be below maxval 1/);
    expect(() => wg.randomNormal([2], 0, -1)).toThrow(wg.ValueError);
    expect(() => wg.randomNormal([2], 0, 1, -3)).toThrow(/seed must be a non-negative integer/);
    expect(() =>
      wg.dropout(
        wg.tidy(() => wg.ones([2])),
        1,
      ),
    ).toThrow(/dropout: rate must be in \[0, 1\)/);
  });
});

describe('dropout', () => {
  it('zeros about `rate` of the values, scales the rest by 1/(1 − rate), and differentiates through the same mask', () => {
    const rate = 0.3;
    const mask = wg.tidy(() => wg.dropout(wg.ones([40, 50]), rate, 11)).dataSync();
    const dropped = mask.filter((v) => v === 0).length / mask.length;
    expect(Math.abs(dropped - rate)).toBeLessThan(0.03);
    for (const v of mask) if (v !== 0) expect(v).toBeCloseTo(1 / (1 - rate), 6);
    // With a fixed seed dropout is the linear map x ↦ x·mask: gradient dy·mask.
    checkOp({
      name: 'dropout',
      op: (x) => wg.dropout(x as wg.Tensor, rate, 11),
      ref: (x) => x.map((v, i) => v * (mask[i] as number)),
      shapes: [[40, 50]],
    });
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { ValueError } from '../../packages/wasmgrad/src/errors.js';
import * as r from '../../packages/wasmgrad/src/runtime/kernels/random.js';
import { createRuntime, type Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';
import { assertClose } from '../shared/tolerance.js';

// The package index is imported piecewise so that these kernel tests do not depend on the layers above.

// ---- Philox-4x32-10 in plain TypeScript: the reference of the counter layout (random.rs) ----

/** High and low 32 bits of the 64-bit product of two u32 (16-bit halves keep f64 exact). */
function mulhilo(a: number, b: number): [number, number] {
  const [aL, aH, bL, bH] = [a & 0xffff, a >>> 16, b & 0xffff, b >>> 16];
  const [ll, lh, hl, hh] = [aL * bL, aL * bH, aH * bL, aH * bH];
  const mid = Math.floor(ll / 65536) + (lh % 65536) + (hl % 65536);
  const hi = hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536);
  return [hi >>> 0, Math.imul(a, b) >>> 0];
}

function philox(ctr: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = ctr as [number, number, number, number];
  let [k0, k1] = key as [number, number];
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

const KIND = { uniform: 0, normal: 1 << 24, dropout: 2 << 24 };
const SEED = 0x9abc12345678; // 2^53 > seed > 2^32: both key words in use
const KEY = { seed: SEED, stream: 7 };
const keyWords = [SEED % 2 ** 32, Math.floor(SEED / 2 ** 32)];

/** Word `i` of a stream: lane i % 4 of counter block i / 4. */
function word(i: number, kind: number, stream = 7): number {
  const b = Math.floor(i / 4);
  return philox([b % 2 ** 32, Math.floor(b / 2 ** 32), kind, stream], keyWords)[i % 4] as number;
}

/** The uniform kernel's f32 arithmetic, exactly (f64 then fround is correctly rounded here). */
function uniformRef(i: number, lo: number, hi: number): number {
  const u = (word(i, KIND.uniform) >>> 8) / 16777216;
  const top = nextBelow(Math.fround(hi));
  return Math.min(Math.fround(Math.fround(u * Math.fround(hi - lo)) + Math.fround(lo)), top);
}

function nextBelow(x: number): number {
  const b = new Float32Array([x]);
  const u = new Uint32Array(b.buffer);
  if (x > 0) u[0] = (u[0] as number) - 1;
  else if (x === 0) u[0] = 0x80000001;
  else u[0] = (u[0] as number) + 1;
  return b[0] as number;
}

/** Box–Muller in f64 from the same words (element i of group i/8; lanes 0–3 cos, 4–7 sin). */
function normalRef(i: number, attempt = 0): number {
  const g = Math.floor(i / 8);
  const l = i % 4;
  const w1 = philox([(2 * g) % 2 ** 32, 0, KIND.normal | attempt, 7], keyWords)[l] as number;
  const w2 = philox([(2 * g + 1) % 2 ** 32, 0, KIND.normal | attempt, 7], keyWords)[l] as number;
  const radius = Math.sqrt(-2 * Math.log(((w1 >>> 8) + 1) / 16777216));
  const theta = (2 * Math.PI * (w2 >>> 8)) / 16777216;
  return i % 8 < 4 ? radius * Math.cos(theta) : radius * Math.sin(theta);
}

const runtimes: Record<string, Runtime> = {};
beforeAll(async () => {
  runtimes.simd = await createRuntime({ simd: true });
  runtimes.scalar = await createRuntime({ simd: false });
});

type Fill = (rt: Runtime, n: number, out: number, offset: number) => void;
const FILLS: Record<string, Fill> = {
  uniform: (rt, n, out, offset) => r.randomUniform(rt, n, out, -2, 3, { ...KEY, offset }),
  normal: (rt, n, out, offset) => r.randomNormal(rt, n, out, 1, 2, { ...KEY, offset }),
  truncated: (rt, n, out, offset) => r.truncatedNormal(rt, n, out, 0, 1, { ...KEY, offset }),
  mask: (rt, n, out, offset) => r.dropoutMask(rt, n, out, 0.3, { ...KEY, offset }),
};

/** Fills n values (output pre-filled with NaN, one guard on each side) and reads them back. */
function fill(rt: Runtime, n: number, offset: number, f: Fill): Float32Array {
  const buf = rt.allocF32(n + 2, 'test');
  rt.write(buf, new Float32Array(n + 2).fill(Number.NaN));
  f(rt, n, buf + 4, offset);
  const all = rt.read(buf, n + 2);
  expect(Number.isNaN(all[0] as number) && Number.isNaN(all[n + 1] as number), 'guards untouched').toBe(true);
  return all.subarray(1, n + 1);
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.slice().buffer));

function moments(v: Float32Array): [number, number] {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return [mean, q / v.length];
}

describe('Philox-4x32-10 reference', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(philox([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const ones = 0xffffffff;
    expect(philox([ones, ones, ones, ones], [ones, ones])).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });
});

describe.each(['simd', 'scalar'])('random kernels on the %s build', (build) => {
  const rt = () => runtimes[build] as Runtime;

  it('uniform equals the Philox reference bit for bit and stays in [lo, hi)', () => {
    const v = fill(rt(), 1003, 0, FILLS.uniform as Fill);
    const want = Array.from({ length: 1003 }, (_, i) => uniformRef(i, -2, 3));
    expect(bits(v)).toEqual(bits(Float32Array.from(want)));
    // A tiny span where rounding up to hi would happen without the clamp.
    const t = fill(rt(), 500, 0, (rt, n, out, offset) => r.randomUniform(rt, n, out, 1, 1.0000001, { ...KEY, offset }));
    expect(t.every((x) => x === 1)).toBe(true);
  });

  it.each(Object.keys(FILLS))('%s does not depend on how the range is split', (name) => {
    const f = FILLS[name] as Fill;
    const n = 203;
    const whole = fill(rt(), n, 0, f);
    expect(whole.some(Number.isNaN)).toBe(false);
    for (const [a, b] of [
      [1, 2],
      [3, 9],
      [4, 8],
      [5, 100],
      [7, 202],
      [101, 101],
    ] as const) {
      const parts = [...fill(rt(), a, 0, f), ...fill(rt(), b - a, a, f), ...fill(rt(), n - b, b, f)];
      expect(bits(Float32Array.from(parts)), `split at ${a}, ${b}`).toEqual(bits(whole));
    }
    // A window far into the stream.
    const far = fill(rt(), 11, 3_000_000_001, f);
    const tail = fill(rt(), 16, 3_000_000_000, f).subarray(1, 12);
    expect(bits(far)).toEqual(bits(tail));
  });

  it('normal follows Box–Muller on the same counters, with unit moments over 1e6 draws', () => {
    const n = 1_000_000;
    const v = fill(rt(), n, 0, (rt, n, out, offset) => r.randomNormal(rt, n, out, 0, 1, { ...KEY, offset }));
    const idx = Array.from({ length: 500 }, (_, j) => j * 1999);
    assertClose(
      idx.map((i) => v[i] as number),
      idx.map((i) => normalRef(i)),
      { atol: 2e-6, rtol: 1e-6 },
      'normal vs f64 Box–Muller',
    );
    const [mean, variance] = moments(v);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    for (const [kk, p] of [
      [1, 0.682689],
      [2, 0.9545],
      [3, 0.9973],
    ] as const) {
      const frac = v.filter((x) => Math.abs(x) < kk).length / n;
      expect(Math.abs(frac - p), `P(|z| < ${kk}) = ${frac}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
    const scaled = fill(rt(), 64, 0, (rt, n, out, offset) => r.randomNormal(rt, n, out, 3, 0.5, { ...KEY, offset }));
    assertClose(
      scaled,
      Array.from(v.subarray(0, 64), (z) => 3 + 0.5 * z),
      { atol: 1e-6, rtol: 1e-6 },
      'mean + sd·z',
    );
  });

  it('truncated normal redraws beyond 2σ and keeps the rest of the normal stream', () => {
    const n = 1_000_000;
    const z = fill(rt(), n, 0, (rt, n, out, offset) => r.randomNormal(rt, n, out, 0, 1, { ...KEY, offset }));
    const t = fill(rt(), n, 0, FILLS.truncated as Fill);
    let redrawn = 0;
    for (let i = 0; i < n; i++) {
      const ti = t[i] as number;
      if (!(Math.abs(ti) <= 2)) throw new Error(`[${i}] ${ti} outside [-2, 2]`);
      if (Math.abs(z[i] as number) <= 2) {
        if (ti !== z[i]) throw new Error(`[${i}] kept value ${ti} differs from the normal ${z[i]}`);
      } else redrawn++;
    }
    const p = 0.0455;
    expect(Math.abs(redrawn / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    // Variance of N(0, 1) truncated to [−2, 2]: 1 − 4φ(2)/(Φ(2) − Φ(−2)) = 0.773741.
    const [mean, variance] = moments(t);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(0.7737 / n));
    expect(Math.abs(variance - 0.773741)).toBeLessThan(0.004);
  });

  it('dropout keeps ≈ 1 − rate with exact scaling; backward applies the same mask', () => {
    const n = 200_003;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 97) * 0.37 - 11);
    const dy = Float32Array.from({ length: n }, (_, i) => (i % 13) - 6);
    const px = rt().allocF32(n, 'test');
    const py = rt().allocF32(n, 'test');
    const pdy = rt().allocF32(n, 'test');
    const pdx = rt().allocF32(n, 'test');
    for (const rate of [0, 0.1, 0.5, 0.9]) {
      rt().write(px, x);
      rt().write(pdy, dy);
      r.dropout(rt(), n, px, py, rate, KEY);
      r.dropoutBackward(rt(), n, pdy, pdx, rate, KEY);
      const y = rt().read(py, n);
      const dx = rt().read(pdx, n);
      const mask = fill(rt(), n, 0, (rt, n, out, offset) => r.dropoutMask(rt, n, out, rate, { ...KEY, offset }));
      const keep = Math.fround(1 - Math.fround(rate));
      let kept = 0;
      for (let i = 0; i < n; i++) {
        const expectKeep = (word(i, KIND.dropout) >>> 8) / 16777216 >= Math.fround(rate);
        if ((mask[i] === 1) !== expectKeep) throw new Error(`rate ${rate} [${i}]: mask ${mask[i]}`);
        const wantY = expectKeep ? Math.fround((x[i] as number) / keep) : 0;
        const wantDx = expectKeep ? Math.fround((dy[i] as number) / keep) : 0;
        if (y[i] !== wantY || dx[i] !== wantDx) {
          throw new Error(`rate ${rate} [${i}]: y ${y[i]} (want ${wantY}), dx ${dx[i]} (want ${wantDx})`);
        }
        if (expectKeep) kept++;
      }
      const p = 1 - rate;
      expect(Math.abs(kept / n - p), `kept ${kept / n} at rate ${rate}`).toBeLessThanOrEqual(
        5 * Math.sqrt((p * (1 - p)) / n),
      );
    }
    // In place, and a different stream gives a different mask.
    rt().write(px, x);
    r.dropout(rt(), n, px, px, 0.5, KEY);
    const other = fill(rt(), 1000, 0, (rt, n, out) => r.dropoutMask(rt, n, out, 0.5, { ...KEY, stream: 8 }));
    const mine = fill(rt(), 1000, 0, (rt, n, out) => r.dropoutMask(rt, n, out, 0.5, KEY));
    const agree = other.filter((value, i) => value === mine[i]).length;
    expect(Math.abs(agree - 500)).toBeLessThan(5 * Math.sqrt(250));
    const inPlace = rt().read(px, 1000);
    const want = Array.from({ length: 1000 }, (_, i) => (mine[i] === 1 ? Math.fround((x[i] as number) / 0.5) : 0));
    expect(Array.from(inPlace)).toEqual(want);
  });
});

describe('random kernels across builds and arguments', () => {
  it('SIMD and scalar builds draw bitwise identical streams', () => {
    for (const [name, f] of Object.entries(FILLS)) {
      const a = fill(runtimes.simd as Runtime, 1001, 12345, f);
      const b = fill(runtimes.scalar as Runtime, 1001, 12345, f);
      expect(bits(a), name).toEqual(bits(b));
    }
  });

  it('rejects bad arguments with typed errors that name the op', () => {
    const rt = runtimes.simd as Runtime;
    const out = rt.allocF32(8, 'test');
    expect(() => r.randomUniform(rt, 8, out, 1, 1, KEY)).toThrow(ValueError);
    expect(() => r.randomUniform(rt, 8, out, 1, 0, KEY)).toThrow(/randomUniform: needs lo < hi/);
    expect(() => r.randomUniform(rt, 8, out, -3e38, 3e38, KEY)).toThrow(/finite f32 span/);
    expect(() => r.randomUniform(rt, 8, out, 0, Number.NaN, KEY)).toThrow(/hi must be a finite number/);
    expect(() => r.randomNormal(rt, 8, out, 0, -1, KEY)).toThrow(/randomNormal: stddev must be ≥ 0/);
    expect(() => r.randomNormal(rt, -1, out, 0, 1, KEY)).toThrow(/n must be a non-negative integer/);
    expect(() => r.randomNormal(rt, 8, 4, 0, 1, KEY)).toThrow(/outside the heap/);
    expect(() => r.truncatedNormal(rt, 8, out, 0, 1, { seed: -1 })).toThrow(/seed must be an integer in \[0, 2\^53\)/);
    expect(() => r.truncatedNormal(rt, 8, out, 0, 1, { seed: 1.5 })).toThrow(ValueError);
    expect(() => r.randomUniform(rt, 8, out, 0, 1, { seed: 1, stream: 2 ** 32 })).toThrow(/stream must be/);
    expect(() => r.randomUniform(rt, 8, out, 0, 1, { seed: 1, offset: -4 })).toThrow(/offset must be/);
    expect(() => r.dropout(rt, 8, out, out, 1, KEY)).toThrow(/dropout: rate must be in \[0, 1\) as an f32, got 1$/);
    expect(() => r.dropout(rt, 8, out, out, 0.99999999, KEY)).toThrow(/as an f32/);
    expect(() => r.dropout(rt, 8, out, out + 4, 0.5, KEY)).toThrow(/overlap without being the same buffer/);
    expect(() => r.dropoutBackward(rt, 8, out, out, Number.NaN, KEY)).toThrow(/dropoutBackward: rate/);
    expect(() => r.dropoutMask(rt, 8, out, -0.1, KEY)).toThrow(ValueError);
  });
});

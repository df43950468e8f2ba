/**
 * Checked bindings of the counter-based random kernels (crates/kernels/src/random.rs,
 * Philox-4x32-10). Element `i` of a fill is a pure function of `(seed, stream, offset + i)`: the
 * same key gives the same numbers in every build and runtime, however the range is split between
 * calls or threads. Use a distinct `stream` (or seed) for every independent draw, e.g. one stream
 * per layer and training step for dropout.
 */
import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';

export const RANDOM_SIGNATURES = {
  f32_random_uniform: ['n', 'out', 'lo', 'hi', 'seed_lo', 'seed_hi', 'stream', 'offset'],
  f32_random_normal: ['n', 'out', 'mean', 'stddev', 'seed_lo', 'seed_hi', 'stream', 'offset'],
  f32_random_truncated_normal: ['n', 'out', 'mean', 'stddev', 'seed_lo', 'seed_hi', 'stream', 'offset'],
  f32_dropout: ['n', 'x', 'y', 'rate', 'seed_lo', 'seed_hi', 'stream', 'offset'],
  f32_dropout_mask: ['n', 'out', 'rate', 'seed_lo', 'seed_hi', 'stream', 'offset'],
} as const;

/** Which numbers to draw: element `i` of a call is number `offset + i` of `(seed, stream)`. */
export interface RandomKey {
  /** Integer in [0, 2⁵³). */
  seed: number;
  /** Integer in [0, 2³²). Default 0. */
  stream?: number;
  /** Index of the first element in the stream, integer in [0, 2³²). Default 0. */
  offset?: number;
}

const TWO32 = 4294967296;

/** Validates a key and splits the seed into the kernel's (lo, hi) 32-bit words. */
function keyWords(op: string, key: RandomKey): [number, number, number, number] {
  const { seed, stream = 0, offset = 0 } = key;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ValueError(op, `seed must be an integer in [0, 2^53), got ${seed}`);
  }
  for (const [name, v] of [
    ['stream', stream],
    ['offset', offset],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v >= TWO32) {
      throw new ValueError(op, `${name} must be an integer in [0, 2^32), got ${v}`);
    }
  }
  // Numbers ≥ 2³¹ wrap to the same 32 bits when passed as wasm i32 arguments.
  return [seed % TWO32, Math.floor(seed / TWO32), stream, offset];
}

function checkOut(rt: Runtime, op: string, name: string, n: number, ptr: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ValueError(op, `n must be a non-negative integer, got ${n}`);
  if (n > 0) checkBytes(rt, op, name, ptr, 4 * n);
}

function checkFinite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValueError(op, `${name} must be a finite number, got ${v}`);
}

/**
 * Fills `n` values at `out` with uniform numbers in [lo, hi) (Keras `RandomUniform`); each is
 * `lo + (hi − lo)·u` with `u` a multiple of 2⁻²⁴.
 */
export function randomUniform(
  rt: Runtime,
  n: number,
  out: number,
  lo: number,
  hi: number,
  key: RandomKey,
  op = 'randomUniform',
): void {
  checkFinite(op, 'lo', lo);
  checkFinite(op, 'hi', hi);
  const [flo, fhi] = [Math.fround(lo), Math.fround(hi)];
  if (!(flo < fhi) || !Number.isFinite(Math.fround(fhi - flo))) {
    throw new ValueError(op, `needs lo < hi with a finite f32 span, got [${lo}, ${hi})`);
  }
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkOut(rt, op, 'out', n, out);
  rt.kernels.f32_random_uniform(n, out, flo, fhi, s0, s1, stream, offset);
}

function checkNormal(op: string, mean: number, stddev: number): void {
  checkFinite(op, 'mean', mean);
  checkFinite(op, 'stddev', stddev);
  if (stddev < 0) throw new ValueError(op, `stddev must be ≥ 0, got ${stddev}`);
}

/** Fills `n` values at `out` with `mean + stddev·z`, z standard normal (Keras `RandomNormal`). */
export function randomNormal(
  rt: Runtime,
  n: number,
  out: number,
  mean: number,
  stddev: number,
  key: RandomKey,
  op = 'randomNormal',
): void {
  checkNormal(op, mean, stddev);
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkOut(rt, op, 'out', n, out);
  rt.kernels.f32_random_normal(n, out, mean, stddev, s0, s1, stream, offset);
}

/**
 * Fills `n` values at `out` with `mean + stddev·z`, z standard normal redrawn while |z| > 2
 * (Keras `TruncatedNormal`; the values' standard deviation is ≈ 0.88·stddev).
 */
export function truncatedNormal(
  rt: Runtime,
  n: number,
  out: number,
  mean: number,
  stddev: number,
  key: RandomKey,
  op = 'truncatedNormal',
): void {
  checkNormal(op, mean, stddev);
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkOut(rt, op, 'out', n, out);
  rt.kernels.f32_random_truncated_normal(n, out, mean, stddev, s0, s1, stream, offset);
}

function checkRate(op: string, rate: number): void {
  // The kernel sees rate as f32: 0.99999999 would round to 1 and divide by zero.
  if (typeof rate !== 'number' || !(rate >= 0 && Math.fround(rate) < 1)) {
    throw new ValueError(op, `rate must be in [0, 1) as an f32, got ${rate}`);
  }
}

/** `x` and `y` must be the same buffer (in place) or disjoint. */
function checkInOut(rt: Runtime, op: string, n: number, x: number, y: number, names: [string, string]): void {
  checkOut(rt, op, names[1], n, y);
  if (n > 0) checkBytes(rt, op, names[0], x, 4 * n);
  if (x !== y && x < y + 4 * n && y < x + 4 * n) {
    throw new ValueError(op, `${names[0]} and ${names[1]} overlap without being the same buffer`);
  }
}

/**
 * Dropout forward: `y = x/(1 − rate)` where kept, exactly 0 where dropped (each element dropped
 * with probability `rate`). The mask is not stored: {@link dropoutBackward} with the same key
 * regenerates it.
 */
export function dropout(
  rt: Runtime,
  n: number,
  x: number,
  y: number,
  rate: number,
  key: RandomKey,
  op = 'dropout',
): void {
  checkRate(op, rate);
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkInOut(rt, op, n, x, y, ['x', 'y']);
  rt.kernels.f32_dropout(n, x, y, rate, s0, s1, stream, offset);
}

/**
 * Dropout backward: `dx = dy·mask/(1 − rate)` with the mask of the forward call of the same
 * `rate` and key (the same kernel: the mask is regenerated from the counters, not stored).
 */
export function dropoutBackward(
  rt: Runtime,
  n: number,
  dy: number,
  dx: number,
  rate: number,
  key: RandomKey,
  op = 'dropoutBackward',
): void {
  checkRate(op, rate);
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkInOut(rt, op, n, dy, dx, ['dy', 'dx']);
  rt.kernels.f32_dropout(n, dy, dx, rate, s0, s1, stream, offset);
}

/** Writes the dropout mask (1 kept, 0 dropped) that {@link dropout} applies for the same key. */
export function dropoutMask(rt: Runtime, n: number, out: number, rate: number, key: RandomKey, op = 'dropout'): void {
  checkRate(op, rate);
  const [s0, s1, stream, offset] = keyWords(op, key);
  checkOut(rt, op, 'out', n, out);
  rt.kernels.f32_dropout_mask(n, out, rate, s0, s1, stream, offset);
}

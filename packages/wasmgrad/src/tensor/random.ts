/**
 * Seeded random tensors and dropout, drawn by the counter-based random kernels: element i of a
 * draw is a pure function of (seed, i), so results do not depend on the build or on call order.
 */
import { ValueError } from '../errors.js';
import { record } from './engine.js';
import { dropoutApply, randomNormalFill, randomUniformFill, truncatedNormalFill } from './ops/kernels.js';
import { empty, type Tensor } from './tensor.js';

let seedCounter = 0x2545f491;

/** A fresh 32-bit seed when none is given (a splitmix32 step of a module counter). */
function autoSeed(): number {
  seedCounter = (seedCounter + 0x9e3779b9) >>> 0;
  let z = seedCounter;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function checkSeed(op: string, seed: number | undefined): number {
  if (seed === undefined) return autoSeed();
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new ValueError(op, `seed must be a non-negative integer, got ${seed}`);
  return seed;
}

function finite(op: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ValueError(op, `${k} must be a finite number, got ${v}`);
  }
}

/** Values uniform in [minval, maxval), seeded (tfjs `randomUniform`). */
export function randomUniform(shape: readonly number[], minval = 0, maxval = 1, seed?: number): Tensor {
  const op = 'randomUniform';
  finite(op, { minval, maxval });
  if (!(minval < maxval)) throw new ValueError(op, `minval ${minval} must be below maxval ${maxval}`);
  const s = checkSeed(op, seed);
  const t = empty(shape, op);
  randomUniformFill(t.runtime, op, t.size, t.ptr, minval, maxval, s);
  return t;
}

/** Normal values with the given mean and standard deviation, seeded (tfjs `randomNormal`). */
export function randomNormal(shape: readonly number[], mean = 0, stdDev = 1, seed?: number): Tensor {
  const op = 'randomNormal';
  finite(op, { mean, stdDev });
  if (stdDev < 0) throw new ValueError(op, `stdDev must be ≥ 0, got ${stdDev}`);
  const s = checkSeed(op, seed);
  const t = empty(shape, op);
  randomNormalFill(t.runtime, op, t.size, t.ptr, mean, stdDev, s);
  return t;
}

/** Normal values redrawn when farther than two standard deviations from the mean (tfjs `truncatedNormal`). */
export function truncatedNormal(shape: readonly number[], mean = 0, stdDev = 1, seed?: number): Tensor {
  const op = 'truncatedNormal';
  finite(op, { mean, stdDev });
  if (stdDev < 0) throw new ValueError(op, `stdDev must be ≥ 0, got ${stdDev}`);
  const s = checkSeed(op, seed);
  const t = empty(shape, op);
  truncatedNormalFill(t.runtime, op, t.size, t.ptr, mean, stdDev, s);
  return t;
}

/**
 * Inverted dropout: each element is zeroed with probability `rate` and the survivors are scaled by
 * 1/(1 − rate), seeded. Differentiable: the backward pass re-applies the same counter-based mask
 * to dy (same seed, same element indices), so no mask is stored.
 */
export function dropout(x: Tensor, rate: number, seed?: number): Tensor {
  const op = 'dropout';
  finite(op, { rate });
  if (rate < 0 || rate >= 1) throw new ValueError(op, `rate must be in [0, 1), got ${rate}`);
  const s = checkSeed(op, seed);
  return record(op, [x], applyDropout(x, rate, s, op), { rate, seed: s });
}

/** y = x·mask/(1 − rate) for the mask of `seed` (not recorded). */
export function applyDropout(x: Tensor, rate: number, seed: number, op = 'dropout'): Tensor {
  const y = empty(x.shape, op, x.runtime);
  dropoutApply(x.runtime, op, x.size, x.ptr, y.ptr, rate, seed);
  return y;
}

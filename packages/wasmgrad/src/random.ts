/**
 * Seeds. Every random draw in wasmgrad (initializers, shuffling, dropout) comes from a
 * counter-based generator keyed by a seed, so a run is reproducible: `setSeed(s)` before building
 * a model fixes everything that follows in program order. Seeds not given explicitly are taken
 * from one global sequence.
 */
import { ValueError } from './errors.js';

let state = 0x9e3779b9;

/** Resets the global seed sequence (like `keras.utils.set_random_seed`). */
export function setSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new ValueError('setSeed', `seed must be a finite number, got ${String(seed)}`);
  }
  state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/** The next seed of the global sequence (a splitmix32 step): a 32-bit unsigned integer. */
export function nextSeed(): number {
  state = (state + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A small seeded generator of uniform [0, 1) numbers, for host-side shuffles. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `out` in place with a seeded generator. */
export function shuffleInPlace(out: Uint32Array, seed: number): void {
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
}

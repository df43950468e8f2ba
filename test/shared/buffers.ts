/**
 * Buffers in a runtime's wasm memory for kernel tests, and central finite differences of f64
 * references (shared by the kernel suites).
 */
import type { Runtime } from '../../packages/wasmgrad/src/runtime/runtime.js';

/** Copies f32 values into a new heap block (at least one element) and returns its address. */
export function put(rt: Runtime, values: ArrayLike<number>): number {
  const p = rt.allocF32(Math.max(1, values.length), 'test');
  rt.write(p, values);
  return p;
}

/** Copies i32 values (labels) into a new heap block and returns its address. */
export function putI32(rt: Runtime, values: ArrayLike<number>): number {
  const p = rt.allocF32(Math.max(1, values.length), 'test');
  new Int32Array(rt.memory.buffer, p, values.length).set(Array.from(values));
  return p;
}

/** A block of `n` NaNs: outputs pre-filled so that unwritten cells show. */
export function nanBuf(rt: Runtime, n: number): number {
  return put(rt, new Float32Array(n).fill(Number.NaN));
}

/** `n` seeded uniform values in [lo, hi), rounded to f32. */
export function randArray(rand: (lo?: number, hi?: number) => number, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => Math.fround(rand(lo, hi)));
}

/** ∂f/∂x by central differences of an f64 scalar function (step h). */
export function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-6): Float64Array {
  const v = Float64Array.from(x);
  const g = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const old = v[k] as number;
    v[k] = old + h;
    const up = f(v);
    v[k] = old - h;
    const down = f(v);
    v[k] = old;
    g[k] = (up - down) / (2 * h);
  }
  return g;
}

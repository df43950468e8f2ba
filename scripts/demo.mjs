#!/usr/bin/env node
// Demo of the compute core until training lands in the CLI: multiplies random matrices with the
// wasm SIMD128 gemm, checks a sample of entries against a plain f64 loop, and prints GFLOP/s.
import * as wg from '../packages/wasmgrad/dist/index.js';

await wg.ready();
const rt = wg.runtime();
console.log(`wasmgrad ${rt.simd ? 'SIMD128' : 'scalar'} build loaded`);
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
for (const n of [128, 256, 512]) {
  const av = Float32Array.from({ length: n * n }, rand);
  const bv = Float32Array.from({ length: n * n }, rand);
  const a = wg.tensor2d(av, [n, n]);
  const b = wg.tensor2d(bv, [n, n]);
  wg.matMul(a, b).dispose(); // warm-up
  const reps = Math.max(3, Math.round(2e9 / (2 * n ** 3)));
  const t0 = performance.now();
  let c;
  for (let r = 0; r < reps; r++) {
    c?.dispose();
    c = wg.matMul(a, b);
  }
  const seconds = (performance.now() - t0) / 1e3 / reps;
  const out = c.dataSync();
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = (s * 7919) % n;
    const j = (s * 104729) % n;
    let ref = 0;
    for (let p = 0; p < n; p++) ref += av[i * n + p] * bv[p * n + j];
    worst = Math.max(worst, Math.abs(out[i * n + j] - ref) / Math.max(1, Math.abs(ref)));
  }
  console.log(
    `matMul ${n}x${n}x${n}: ${((2 * n ** 3) / seconds / 1e9).toFixed(1)} GFLOP/s, max rel. error vs f64 ${worst.toExponential(1)}`,
  );
  for (const t of [a, b, c]) t.dispose();
}

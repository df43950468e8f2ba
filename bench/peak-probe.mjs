// A SIMD128 register-peak probe, assembled byte by byte so that no compiler choice sits between
// the measurement and the engine: `peak(iters)` runs `chains` independent f32x4 multiply-add
// chains (acc ← acc·m + c), each step 8 FLOPs (4 lanes × mul + add), with every value in a
// register. The best chain count (enough to hide latency, few enough not to spill) measures the
// engine's SIMD128 arithmetic peak on this core.

const SIMD = 0xfd;
const OP = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Sub: 0x6b,
};
const F32X4 = { splat: 0x13, extractLane: 0x1f, add: 0xe4, mul: 0xe6 };
const V128 = 0x7b;

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const f32Bytes = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
const simd = (op) => [SIMD, ...uleb(op)];
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
const vec = (items) => [...uleb(items.length), ...items.flat()];

/** Bytes of a module exporting `peak(iters: i32) -> f32` with `chains` accumulator chains. */
export function peakModuleBytes(chains) {
  // Locals: 0 = iters (param); 1..chains = accumulators; chains+1 = m; chains+2 = c.
  const acc = (i) => 1 + i;
  const mLocal = chains + 1;
  const cLocal = chains + 2;
  const body = [];
  const splatConst = (x, local) =>
    body.push(OP.f32Const, ...f32Bytes(x), ...simd(F32X4.splat), OP.localSet, ...uleb(local));
  splatConst(0.9999, mLocal);
  splatConst(1e-4, cLocal);
  for (let i = 0; i < chains; i++) splatConst(0.5 + i / 64, acc(i));
  body.push(OP.loop, 0x40);
  for (let i = 0; i < chains; i++) {
    body.push(OP.localGet, ...uleb(acc(i)), OP.localGet, ...uleb(mLocal), ...simd(F32X4.mul));
    body.push(OP.localGet, ...uleb(cLocal), ...simd(F32X4.add), OP.localSet, ...uleb(acc(i)));
  }
  body.push(OP.localGet, 0, OP.i32Const, 1, OP.i32Sub, OP.localTee, 0, OP.brIf, 0, OP.end);
  // Sum every chain so none is dead code.
  body.push(OP.localGet, ...uleb(acc(0)));
  for (let i = 1; i < chains; i++) body.push(OP.localGet, ...uleb(acc(i)), ...simd(F32X4.add));
  body.push(...simd(F32X4.extractLane), 0, OP.end);
  const locals = vec([[...uleb(chains + 2), V128]]);
  const func = [...locals, ...body];
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, 1, 0x7f, 1, 0x7d]])), // type 0: (i32) -> f32
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(7, vec([[...uleb(name.length), ...name, 0x00, 0]])), // export "peak" = func 0
    ...section(10, vec([[...uleb(func.length), ...func]])),
  ]);
}

/**
 * Measures the SIMD128 peak in GFLOP/s: for each chain count, the median of `runs` timed calls
 * (after a warm-up that gets the function to the optimizing tier); returns the best count.
 */
export async function measurePeak({ chainCounts = [8, 10, 12], runs = 7, flopsPerRun = 4e8 } = {}) {
  const results = [];
  for (const chains of chainCounts) {
    const { instance } = await WebAssembly.instantiate(peakModuleBytes(chains));
    const peak = instance.exports.peak;
    const iters = Math.round(flopsPerRun / (8 * chains));
    for (let i = 0; i < 3; i++) peak(iters);
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      peak(iters);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)];
    results.push({ chains, gflops: (8 * chains * iters) / (median * 1e6) });
  }
  return results.reduce((best, r) => (r.gflops > best.gflops ? r : best));
}

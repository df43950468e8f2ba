#!/usr/bin/env node
// Kernel benchmark: wasmgrad's gemm (and conv2d forward, when its kernels are built) against
// tfjs-backend-wasm (XNNPACK) in the same Node process, next to the SIMD128 register peak
// measured by a hand-assembled probe (bench/peak-probe.mjs).
//
//   node_modules/.bin/tsc -p packages/wasmgrad/tsconfig.json   # builds packages/wasmgrad/dist
//   node scripts/build-wasm.mjs                                 # builds the .wasm modules
//   node bench/kernels.mjs [--wall] [--runs N] [--sizes 64,128,...] [--thread-sizes 256,512,1024]
//                          [--threads-only]
//
// Each figure is the median of N timed runs (default 7); a run repeats the call until it takes
// ≥ 20 ms, and the runs of all rows (the peak probe included) are interleaved round by round, so
// a change of machine load affects every row alike. By default the table uses process CPU time (user + system), which leaves out the time
// other processes hold the core: on a shared machine wall time mostly measures the neighbours.
// `--wall` switches the table to wall time; the JSON (bench/results/kernels.json) holds both.
// The threads table (gemm on 1 vs 2 threads: the single-thread module against the shared-memory
// module with one helper) always uses WALL time: CPU time sums the threads, so it cannot show a
// speed-up. `--threads-only` runs that table alone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurePeak, peakModuleBytes } from './peak-probe.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const clock = flag('--wall') ? 'wall' : 'cpu';
const RUNS = Math.max(5, Number(option('--runs', 7)));
const SIZES = option('--sizes', '64,128,256,512,1024').split(',').map(Number);
const THREAD_SIZES = option('--thread-sizes', '128,256,512,1024').split(',').map(Number);
const MIN_RUN_MS = 40;

let wg;
let gemmKernels;
try {
  wg = await import('../packages/wasmgrad/dist/index.js');
  gemmKernels = await import('../packages/wasmgrad/dist/runtime/kernels/gemm.js');
} catch (err) {
  console.error(`Could not load the built package (${err.message}).`);
  console.error(
    'Build it first: node_modules/.bin/tsc -p packages/wasmgrad/tsconfig.json && node scripts/build-wasm.mjs',
  );
  process.exit(1);
}
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend('wasm');
await tf.ready();

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * A timed workload: `fn` does `flops` per call; a run repeats it `reps` times (≥ MIN_RUN_MS / 2).
 * Runs of all cases are interleaved round by round (see runRounds), so a change in machine load
 * falls on every row alike instead of on whichever row happened to be running.
 */
function benchCase(fn, flops) {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t0 >= MIN_RUN_MS / 2 || reps >= 1 << 20) break;
    reps *= 2;
  }
  return { fn, flops, reps, wall: [], cpu: [] };
}

function runRounds(cases) {
  for (let r = 0; r < RUNS; r++) {
    for (const c of cases) {
      const w0 = performance.now();
      const c0 = cpuMs();
      for (let i = 0; i < c.reps; i++) c.fn();
      c.cpu.push((c.flops * c.reps) / ((cpuMs() - c0) * 1e6));
      c.wall.push((c.flops * c.reps) / ((performance.now() - w0) * 1e6));
    }
  }
}

/** Median GFLOP/s by wall and CPU time, plus the best single run. */
const summary = (c) => ({
  wall: median(c.wall),
  cpu: median(c.cpu),
  best: Math.max(...c.wall, ...c.cpu.filter(Number.isFinite)),
});

/** The probe, as a case like every other row so the percentages compare like with like. */
async function peakCase() {
  const best = await measurePeak({ runs: 3, flopsPerRun: 5e7 });
  const { instance } = await WebAssembly.instantiate(peakModuleBytes(best.chains));
  const iters = 200_000;
  return { chains: best.chains, ...benchCase(() => instance.exports.peak(iters), 8 * best.chains * iters) };
}

function randomFill(rt, ptr, count, seed) {
  const f = rt.f32;
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[(ptr >>> 2) + i] = s / 2 ** 32 - 0.5;
  }
}

function gemmRows(rt) {
  const rows = [];
  for (const n of SIZES) {
    const flops = 2 * n * n * n;
    const [a, b, c] = [1, 2, 3].map(() => rt.allocF32(n * n));
    randomFill(rt, a, n * n, 1);
    randomFill(rt, b, n * n, 2);
    const ref = (ptr) => ({ ptr, rowStride: n, colStride: 1 });
    const ours = benchCase(() => gemmKernels.gemm(rt, n, n, n, 1, ref(a), ref(b), 0, ref(c)), flops);
    const ta = tf.randomUniform([n, n], -0.5, 0.5);
    const tb = tf.randomUniform([n, n], -0.5, 0.5);
    const theirs = benchCase(() => tf.matMul(ta, tb).dispose(), flops);
    rows.push({ op: 'matMul', shape: `${n}×${n}×${n}`, flops, ours, tfjs: theirs, tensors: [ta, tb] });
  }
  return rows;
}

// ---- conv2d rows (add further conv shapes here) ----
// Shapes of the README's CNN at batch 64: conv 28×28×1 → 16 filters 3×3 valid, then (after a 2×2
// pool) 13×13×16 → 32 filters 3×3 valid. Runs only when the conv kernels are in the build.
const CONV_SHAPES = [
  { x: [64, 28, 28, 1], filter: [3, 3, 1, 16] },
  { x: [64, 13, 13, 16], filter: [3, 3, 16, 32] },
];

async function convRows(rt) {
  let conv;
  try {
    conv = await import('../packages/wasmgrad/dist/runtime/kernels/conv.js');
  } catch {
    return [];
  }
  if (typeof rt.kernels.f32_conv2d_forward !== 'function' || typeof conv.conv2dForward !== 'function') return [];
  const rows = [];
  for (const { x: xShape, filter: fShape } of CONV_SHAPES) {
    const g = conv.conv2dGeometry(xShape, fShape, { padding: 'valid' });
    const s = conv.convSizes(g);
    const [kh, kw, inC, outC] = fShape;
    const flops = 2 * s.y * kh * kw * inC;
    const x = rt.allocF32(s.x);
    const filter = rt.allocF32(s.filter);
    const y = rt.allocF32(s.y);
    const work = rt.allocF32(conv.conv2dWorkspaceLength(rt, g));
    randomFill(rt, x, s.x, 3);
    randomFill(rt, filter, s.filter, 4);
    const ours = benchCase(() => conv.conv2dForward(rt, g, x, filter, 0, y, work), flops);
    const tx = tf.randomUniform(xShape, -0.5, 0.5);
    const tfFilter = tf.randomUniform(fShape, -0.5, 0.5);
    const theirs = benchCase(() => tf.conv2d(tx, tfFilter, 1, 'valid').dispose(), flops);
    rows.push({
      op: 'conv2d',
      shape: `[${xShape}] * [${kh},${kw},${inC},${outC}]`,
      flops,
      ours,
      tfjs: theirs,
      tensors: [tx, tfFilter],
    });
  }
  return rows;
}
// ---- end of conv2d rows ----

// ---- threads rows ----
/** gemm n×n×n on the single-thread runtime (`one`) and on `many` (2 threads), same inputs. */
function threadRows(one, many) {
  const rows = [];
  for (const n of THREAD_SIZES) {
    const flops = 2 * n * n * n;
    const cases = [one, many].map((rt) => {
      const [a, b, c] = [1, 2, 3].map(() => rt.allocF32(n * n));
      randomFill(rt, a, n * n, 1);
      randomFill(rt, b, n * n, 2);
      const ref = (ptr) => ({ ptr, rowStride: n, colStride: 1 });
      return benchCase(() => gemmKernels.gemm(rt, n, n, n, 1, ref(a), ref(b), 0, ref(c)), flops);
    });
    rows.push({ n, one: cases[0], two: cases[1] });
  }
  return rows;
}

/**
 * MLP 784-256-128-10 (ReLU, softmax, Adam) training on synthetic data, batch 128: samples/s by
 * wall time on 1 and 2 threads of the default runtime, runs alternating (median of RUNS).
 */
async function mlpThreads() {
  await wg.ready();
  const n = 128 * 40;
  const x = wg.tensor(
    Float32Array.from({ length: n * 784 }, (_, i) => Math.sin(i) * 0.5 + 0.5),
    [n, 784],
  );
  const y = wg.tensor(
    Float32Array.from({ length: n * 10 }, (_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)),
    [n, 10],
  );
  const epoch = async (threads) => {
    await wg.setThreads(threads);
    wg.setSeed(1);
    const model = wg.sequential([
      wg.layers.dense({ units: 256, activation: 'relu', inputShape: [784] }),
      wg.layers.dense({ units: 128, activation: 'relu' }),
      wg.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: wg.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
    const t0 = performance.now();
    await model.fit(x, y, { epochs: 1, batchSize: 128, shuffle: false });
    return n / ((performance.now() - t0) / 1000);
  };
  const rates = { 1: [], 2: [] };
  await epoch(1);
  await epoch(2);
  for (let r = 0; r < RUNS; r++) for (const t of [1, 2]) rates[t].push(await epoch(t));
  await wg.setThreads(1);
  return { one: median(rates[1]), two: median(rates[2]), runs: rates };
}

function printThreadRows(rows, threads) {
  console.log(`\n| gemm n×n×n | 1 thread GFLOP/s | ${threads} threads GFLOP/s | speed-up | CPU efficiency |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.n} | ${fmt(r.one.wall)} | ${fmt(r.two.wall)} | ${fmt(r.two.wall / r.one.wall, 2)}× | ${fmt((100 * r.two.cpu) / r.one.cpu, 0)}% |`,
    );
  }
  console.log(
    '(GFLOP/s by wall time: CPU time would sum both threads. CPU efficiency = FLOPs per CPU-second on 2 threads\n' +
      'over 1 thread: the cost of splitting (redundant packing, spinning), which a loaded machine cannot hide.)',
  );
}
// ---- end of threads rows ----

const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/**
 * Runs every workload for a while before anything is timed: V8 compiles wasm lazily (Liftoff
 * first, TurboFan later on background threads), and that compile time would otherwise land in
 * the first rows — in their CPU time too, since background threads count.
 */
function warmUp(rt, ms = 1500) {
  const n = 128;
  const [a, b, c] = [1, 2, 3].map(() => rt.allocF32(n * n));
  const ref = (ptr) => ({ ptr, rowStride: n, colStride: 1 });
  const ta = tf.randomUniform([n, n]);
  const tb = tf.randomUniform([n, n]);
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (const m of [8, 64, n]) gemmKernels.gemm(rt, m, m, m, 1, ref(a), ref(b), 0, ref(c));
    tf.matMul(ta, tb).dispose();
  }
  tf.dispose([ta, tb]);
}

async function threadsOnly() {
  const one = await wg.createRuntime({ simd: true });
  const many = await wg.createRuntime({ simd: true, threads: 2 });
  warmUp(one);
  warmUp(many);
  const loadBefore = loadavg()[0];
  const rows = threadRows(one, many);
  runRounds(rows.flatMap((r) => [r.one, r.two]));
  const loadAfter = loadavg()[0];
  for (const r of rows) {
    r.one = summary(r.one);
    r.two = summary(r.two);
  }
  console.log(
    `load average ${fmt(loadBefore, 2)} → ${fmt(loadAfter, 2)} on ${cpus().length} cores; medians of ${RUNS} runs`,
  );
  printThreadRows(rows, many.threads);
  const threads = many.threads;
  await many.setThreads(1);
  const mlp = await mlpThreads();
  console.log(
    `\nMLP 784-256-128-10 training, batch 128 (wall): 1 thread ${fmt(mlp.one, 0)} samples/s, 2 threads ${fmt(mlp.two, 0)} samples/s, ${fmt(mlp.two / mlp.one, 2)}×`,
  );
  return { threads, loadAverage: [loadBefore, loadAfter], rows, mlp };
}

async function main() {
  if (flag('--threads-only')) {
    await threadsOnly();
    return;
  }
  const rt = await wg.createRuntime({ simd: true });
  const many = await wg.createRuntime({ simd: true, threads: 2 });
  warmUp(rt);
  warmUp(many);
  const loadBefore = loadavg()[0];
  const peakRow = await peakCase();
  const rows = [...gemmRows(rt), ...(await convRows(rt))];
  const tRows = threadRows(rt, many);
  runRounds([peakRow, ...rows.flatMap((r) => [r.ours, r.tfjs]), ...tRows.flatMap((r) => [r.one, r.two])]);
  const loadAfter = loadavg()[0];
  for (const r of tRows) {
    r.one = summary(r.one);
    r.two = summary(r.two);
  }
  for (const r of rows) {
    tf.dispose(r.tensors);
    delete r.tensors;
    r.ours = summary(r.ours);
    r.tfjs = summary(r.tfjs);
  }
  const peak = { chains: peakRow.chains, ...summary(peakRow) };

  console.log(`SIMD128 register peak (${peak.chains} chains): ${fmt(peak[clock])} GFLOP/s by ${clock} time`);
  console.log(
    `tfjs backend: ${tf.getBackend()} ${tf.version_core}; node ${process.version}; ${cpus()[0]?.model ?? ''}`,
  );
  console.log(
    `load average ${fmt(loadBefore, 2)} → ${fmt(loadAfter, 2)} on ${cpus().length} cores; medians of ${RUNS} runs, ${clock} time\n`,
  );
  console.log('| op | size | ours GFLOP/s | tfjs-wasm GFLOP/s | ours / tfjs | ours % of peak |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const ours = r.ours[clock];
    const theirs = r.tfjs[clock];
    console.log(
      `| ${r.op} | ${r.shape} | ${fmt(ours)} | ${fmt(theirs)} | ${fmt(ours / theirs, 2)}× | ${fmt((100 * ours) / peak[clock], 0)}% |`,
    );
  }
  console.log(`| peak probe | ${peak.chains} × f32x4 mul+add | ${fmt(peak[clock])} | | | 100% |`);
  printThreadRows(tRows, many.threads);
  const threadCount = many.threads;
  await many.setThreads(1);

  const out = join(here, 'results');
  mkdirSync(out, { recursive: true });
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadAverage: [loadBefore, loadAfter],
    clock,
    runs: RUNS,
    tfjs: { backend: tf.getBackend(), version: tf.version_core },
    peak,
    rows,
    threads: { count: threadCount, clock: 'wall', rows: tRows },
  };
  writeFileSync(join(out, 'kernels.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${join('bench', 'results', 'kernels.json')}`);
}

await main();

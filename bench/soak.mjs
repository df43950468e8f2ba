#!/usr/bin/env node
// Load and soak (RELIABILITY.md, "Load"); run by `npm run soak` (needs dist/: `npm run build` or
// `node_modules/.bin/tsc -p packages/wasmgrad/tsconfig.json`).
//
// 1. 16 models training concurrently in one Node process, each in its own worker
//    (wg.worker.spawn, one kernel thread each). Model 7 gets a NaN in its data on purpose: its fit
//    must reject with a typed error while the other 15 finish; each of those must end with weights
//    bit-equal to the same training run on the calling thread (isolation: nobody else's data,
//    seed or failure leaks in). Process RSS is sampled while they run (bounded memory) and after
//    the workers are terminated.
// 2. 10,000 training steps of an MLP on the calling thread (fit, 100 epochs × 100 batches):
//    wasm memory, live heap bytes and live tensor count every 500 steps, then the peak against
//    parameters + gradients + Adam state + one batch of activations and their gradients.
// Usage: node bench/soak.mjs [--quick]   (--quick: 4 models, 2,000 steps)
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const MODELS = quick ? 4 : 16;
const FAILING = quick ? 1 : 7;
const STEPS = quick ? 2000 : 10000;
const mb = (b) => (b / 1048576).toFixed(1);
let failures = 0;
const check = (ok, what) => {
  if (!ok) {
    failures++;
    console.log(`FAIL: ${what}`);
  }
};

await wg.ready({ threads: 1 });

// ---- 1. concurrent models ----
const N = 512;
const F = 16;
/** Synthetic regression data of model `i` (each model its own); `bad` puts a NaN in batch 5. */
function data(i, bad) {
  const x = new Float32Array(N * F);
  const y = new Float32Array(N * 4);
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < F; j++) x[r * F + j] = Math.sin(r * 0.37 + j * 1.3 + i);
    for (let k = 0; k < 4; k++) y[r * 4 + k] = Math.cos(r * 0.11 * (k + 1) + i);
  }
  if (bad) x[5 * 32 * F + 3] = Number.NaN;
  return { x, y };
}
const compileArgs = () => ({ optimizer: wg.optimizers.adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
function makeModel(i) {
  wg.setSeed(1000 + i);
  return wg.sequential([
    wg.layers.dense({ units: 32, inputShape: [F], activation: 'relu' }),
    wg.layers.dropout({ rate: 0.1 }),
    wg.layers.dense({ units: 4 }),
  ]);
}
const fitArgs = (i) => ({ epochs: 8, batchSize: 32, seed: 50 + i });
const bits = (arrays) => arrays.map((a) => Array.from(new Uint32Array(Float32Array.from(a).buffer)));

const rss = [process.memoryUsage().rss];
const rssBefore = rss[0];
const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 50);
const t0 = performance.now();
const trainers = await Promise.all(
  Array.from({ length: MODELS }, (_, i) => wg.worker.spawn(makeModel(i), { compile: compileArgs(), threads: 1 })),
);
const results = await Promise.allSettled(
  trainers.map(async (t, i) => {
    const { x, y } = data(i, i === FAILING);
    await t.fit({ values: x, shape: [N, F] }, { values: y, shape: [N, 4] }, fitArgs(i));
    return (await t.getWeights()).map((w) => w.values);
  }),
);
const concurrentMs = performance.now() - t0;
const rssPeakWorkers = Math.max(...rss);
for (const t of trainers) await t.terminate();
clearInterval(sampler);

const failed = results[FAILING];
check(failed.status === 'rejected', `model ${FAILING} (NaN data) should fail`);
const reason = failed.status === 'rejected' ? failed.reason : undefined;
console.log(
  `concurrent: ${MODELS} models in ${MODELS} workers, ${(concurrentMs / 1000).toFixed(1)} s; model ${FAILING} failed on purpose with ${reason?.constructor?.name}: ${String(reason?.message).slice(0, 100)}`,
);
check(reason instanceof wg.WasmgradError, 'the failure is a typed WasmgradError');
let equal = 0;
for (let i = 0; i < MODELS; i++) {
  if (i === FAILING) continue;
  const r = results[i];
  if (r.status !== 'fulfilled') {
    check(false, `model ${i} failed: ${r.reason?.message}`);
    continue;
  }
  const m = makeModel(i);
  m.compile(compileArgs());
  const { x, y } = data(i, false);
  const [xt, yt] = [wg.tensor(x, [N, F]), wg.tensor(y, [N, 4])];
  await m.fit(xt, yt, fitArgs(i));
  const local = m.getWeights();
  const same = JSON.stringify(bits(local.map((t) => t.dataSync()))) === JSON.stringify(bits(r.value));
  check(same, `model ${i}: worker weights bit-equal to the calling thread's run`);
  if (same) equal++;
  wg.dispose([...local, xt, yt]);
  m.dispose?.();
}
global.gc?.();
await new Promise((r) => setTimeout(r, 200));
const rssAfter = process.memoryUsage().rss;
console.log(
  `  ${equal} / ${MODELS - 1} surviving models bit-equal to an isolated run on the calling thread; ` +
    `RSS ${mb(rssBefore)} MB before, peak ${mb(rssPeakWorkers)} MB with ${MODELS} workers, ${mb(rssAfter)} MB after terminate`,
);
check(rssPeakWorkers - rssBefore < MODELS * 64 * 1048576, `RSS growth under ${MODELS} × 64 MB`);

// ---- 2. 10,000-step soak ----
const B = 64;
const IN = 64;
const H = [128, 64];
const OUT = 10;
const SAMPLES = B * 100;
wg.setSeed(7);
const mlp = wg.sequential([
  wg.layers.dense({ units: H[0], inputShape: [IN], activation: 'relu' }),
  wg.layers.dense({ units: H[1], activation: 'relu' }),
  wg.layers.dense({ units: OUT, activation: 'softmax' }),
]);
mlp.compile({
  optimizer: wg.optimizers.adam({ learningRate: 1e-3 }),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});
const xs = new Float32Array(SAMPLES * IN);
const ys = new Float32Array(SAMPLES * OUT);
for (let r = 0; r < SAMPLES; r++) {
  for (let j = 0; j < IN; j++) xs[r * IN + j] = Math.sin(r * 0.013 * (j + 1));
  ys[r * OUT + (r % OUT)] = 1;
}
const [sx, sy] = [wg.tensor(xs, [SAMPLES, IN]), wg.tensor(ys, [SAMPLES, OUT])];
const rows = [];
let step = 0;
const sample = () => {
  const m = wg.memory();
  rows.push({ step, wasm: m.wasmBytes, heap: m.heapLiveBytes, tensors: m.numTensors, rss: process.memoryUsage().rss });
};
sample();
const t1 = performance.now();
await mlp.fit(sx, sy, {
  epochs: STEPS / 100,
  batchSize: B,
  callbacks: [
    {
      onBatchEnd: () => {
        step++;
        if (step % 500 === 0) sample();
      },
    },
  ],
});
const soakMs = performance.now() - t1;
console.log(
  `\nsoak: ${step} steps (batch ${B}, MLP ${IN}-${H.join('-')}-${OUT}, Adam) in ${(soakMs / 1000).toFixed(1)} s`,
);
console.log('  step   wasm MB   live heap KB   live tensors   RSS MB');
for (const r of rows) {
  console.log(
    `  ${String(r.step).padStart(5)}   ${mb(r.wasm).padStart(7)}   ${(r.heap / 1024).toFixed(1).padStart(12)}   ${String(r.tensors).padStart(12)}   ${mb(r.rss).padStart(6)}`,
  );
}
const P = IN * H[0] + H[0] + H[0] * H[1] + H[1] + H[1] * OUT + OUT;
const widths = [IN, ...H, OUT];
const acts = B * widths.reduce((a, b) => a + b, 0);
const expected = 4 * (P * 4 + 2 * acts); // weights + grads + Adam m, v; activations + their gradients
const after = rows.slice(1);
const flat = (k) => after.every((r) => r[k] === after[0][k]);
const peakHeap = Math.max(...rows.map((r) => r.heap));
const peakWasm = Math.max(...rows.map((r) => r.wasm));
console.log(
  `  params ${P} → weights+grads+Adam state ${mb(16 * P)} MB; one batch of activations+gradients ${((8 * acts) / 1024).toFixed(0)} KB; ` +
    `sum ${(expected / 1024).toFixed(0)} KB (+ the dataset tensors ${((4 * SAMPLES * (IN + OUT)) / 1024).toFixed(0)} KB); peak live heap ${(peakHeap / 1024).toFixed(0)} KB, peak wasm memory ${mb(peakWasm)} MB`,
);
console.log(
  `  flat after the first 500 steps: wasm ${flat('wasm')}, live heap ${flat('heap')}, live tensors ${flat('tensors')}`,
);
check(flat('wasm') && flat('heap') && flat('tensors'), 'wasm memory, live heap and live tensors flat over the soak');
wg.dispose([sx, sy]);
console.log(failures === 0 ? '\nsoak: all checks passed' : `\nsoak: ${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;

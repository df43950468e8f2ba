#!/usr/bin/env node
// Peak memory of the MLP (784-256-128-10, ReLU, softmax, Adam 1e-3, batch 128) training on
// Fashion-MNIST for 10,000 steps (trainOnBatch; each batch is copied in from JS and disposed, so
// the training set does not sit in wasm memory), single thread, against the theoretical minimum:
// parameters + their gradients + Adam's two moments (4 floats a parameter) + one batch of
// activations and their gradients (input, both hidden layers and the output, twice).
// Sampled every 500 steps: the wasm heap in use (the allocator's top above its start: parameters,
// optimizer state and the per-step arena, the true peak since arena chunks are kept), the wasm
// memory size, live allocator bytes, live tensors and the JS heap (after a GC when run with
// --expose-gc). "Flat" means no growth after the first sample (step 500).
// Writes bench/results/memory.json (memory-quick.json with --quick). Usage: node --expose-gc bench/memory.mjs [--quick] (1,000 steps)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const STEPS = quick ? 1000 : 10000;
const EVERY = quick ? 100 : 500;
const B = 128;
const WIDTHS = [784, 256, 128, 10];
const here = dirname(fileURLToPath(import.meta.url));

await wg.ready({ threads: 1 });
const rt = wg.runtime();
const heap0 = rt.allocator.stats().heapBytes;
// Raw arrays (wg.data.fashionMnist would put the whole set into wasm memory first).
const { train } = await wg.data.loadMnistLike({ limit: 12800 });
const trainX = train.images;
const trainY = new Float32Array(train.count * 10);
for (let i = 0; i < train.count; i++) trainY[i * 10 + train.labels[i]] = 1;
const base = rt.allocator.stats();

wg.setSeed(1);
const model = wg.sequential([
  wg.layers.dense({ units: WIDTHS[1], activation: 'relu', inputShape: [WIDTHS[0]], kernelInitializer: 'heUniform' }),
  wg.layers.dense({ units: WIDTHS[2], activation: 'relu', kernelInitializer: 'heUniform' }),
  wg.layers.dense({ units: WIDTHS[3], activation: 'softmax' }),
]);
model.compile({ optimizer: wg.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });

const gc = globalThis.gc ?? (() => {});
const rows = [];
const sample = (step) => {
  gc();
  const s = rt.allocator.stats();
  const m = wg.memory();
  rows.push({
    step,
    heapInUse: s.heapBytes - base.heapBytes,
    wasmBytes: s.wasmBytes,
    liveBytes: s.liveBytes,
    arenaBytes: s.arenaBytes,
    tensors: m.numTensors,
    jsHeap: process.memoryUsage().heapUsed,
  });
};
const batches = trainX.length / 784 / B;
const t0 = performance.now();
let loss = 0;
for (let step = 1; step <= STEPS; step++) {
  const i = (step - 1) % batches;
  const x = wg.tensor(trainX.subarray(i * B * 784, (i + 1) * B * 784), [B, 784]);
  const y = wg.tensor(trainY.subarray(i * B * 10, (i + 1) * B * 10), [B, 10]);
  loss = model.trainOnBatch(x, y);
  wg.dispose([x, y]);
  if (step % EVERY === 0) sample(step);
}
const seconds = (performance.now() - t0) / 1000;

const P = WIDTHS.slice(1).reduce((sum, w, l) => sum + WIDTHS[l] * w + w, 0);
const acts = B * WIDTHS.reduce((a, b) => a + b, 0);
const minimum = 4 * (4 * P + 2 * acts);
const peak = Math.max(...rows.map((r) => r.heapInUse));
const first = rows[0];
const last = rows[rows.length - 1];
const growth = (k) => last[k] - first[k];
const result = {
  date: new Date().toISOString(),
  steps: STEPS,
  batch: B,
  seconds,
  finalLoss: loss,
  parameters: P,
  minimumBytes: minimum,
  minimumParts: { weightsGradsAdam: 16 * P, activationsAndGradients: 8 * acts },
  peakHeapInUse: peak,
  peakOverMinimum: peak / minimum,
  runtimeBaseBytes: heap0,
  wasmBytes: { base: base.wasmBytes, peak: Math.max(...rows.map((r) => r.wasmBytes)) },
  growthAfterFirstSample: {
    heapInUse: growth('heapInUse'),
    wasmBytes: growth('wasmBytes'),
    liveBytes: growth('liveBytes'),
    tensors: growth('tensors'),
    jsHeap: growth('jsHeap'),
  },
  jsHeapMeasuredAfterGc: globalThis.gc !== undefined,
  rows,
};
result.flat =
  result.growthAfterFirstSample.heapInUse === 0 &&
  result.growthAfterFirstSample.wasmBytes === 0 &&
  result.growthAfterFirstSample.tensors === 0;
const mb = (b) => (b / 1048576).toFixed(2);
console.log(`\nMemory: MLP 784-256-128-10, Adam, batch ${B}, ${STEPS} steps in ${seconds.toFixed(1)} s (wall)`);
console.log(
  `minimum ${mb(minimum)} MB (weights+grads+Adam ${mb(16 * P)} MB for ${P} parameters, one batch of activations+gradients ${mb(8 * acts)} MB)`,
);
console.log(
  `peak wasm heap in use ${mb(peak)} MB = ${(peak / minimum).toFixed(2)}× the minimum (target ≤ 1.5×); ` +
    `wasm memory ${mb(result.wasmBytes.base)} MB before the model, ${mb(result.wasmBytes.peak)} MB peak`,
);
console.log('  step   heap in use MB   wasm MB   live tensors   JS heap MB');
for (const r of rows) {
  console.log(
    `  ${String(r.step).padStart(5)}   ${mb(r.heapInUse).padStart(14)}   ${mb(r.wasmBytes).padStart(7)}   ${String(r.tensors).padStart(12)}   ${mb(r.jsHeap).padStart(10)}`,
  );
}
console.log(
  `flat after step ${first.step}: ${result.flat} (JS heap ${growth('jsHeap') >= 0 ? '+' : ''}${(growth('jsHeap') / 1024).toFixed(0)} KB${result.jsHeapMeasuredAfterGc ? ', after GC' : ', no --expose-gc'})`,
);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `memory${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);

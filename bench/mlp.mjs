#!/usr/bin/env node
// Side-by-side benchmark of the MLP (784-256-128-10, ReLU, softmax, Adam 1e-3, batch 128)
// on Fashion-MNIST: wasmgrad against tfjs-layers on tfjs-backend-wasm (and tfjs-backend-cpu on a
// subset), in the same process on the same data. Prints training samples/s, test accuracy after
// one epoch, inference samples/s at batch 1024, and ratios. Usage: node bench/mlp.mjs [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
// Rates use process CPU time (user + system): on a shared 2-core machine wall time mostly measures
// the neighbours. Every run is single-threaded (wasmgrad pinned to one kernel thread: wg.ready()
// would start a pool, and CPU time sums threads), so CPU time is comparable between them.
// Writes bench/results/mlp.json (mlp-quick.json with --quick).
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);

await wg.ready({ threads: 1 });
wg.setSeed(1);
const { train, test } = await wg.data.fashionMnist({ flatten: true });
const trainX = train.x.dataSync();
const trainY = train.y.dataSync();
const testX = test.x.dataSync();
const testY = test.y.dataSync();
const N = quick ? 12800 : 60000;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ours() {
  wg.setSeed(1);
  const model = wg.sequential([
    wg.layers.dense({ units: 256, activation: 'relu', inputShape: [784], kernelInitializer: 'heUniform' }),
    wg.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heUniform' }),
    wg.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: 1e-3 }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const x = wg.tensor(trainX.subarray(0, N * 784), [N, 784]);
  const y = wg.tensor(trainY.subarray(0, N * 10), [N, 10]);
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: 128 });
  const trainRate = N / ((cpuNow() - t0) / 1000);
  const acc = model.evaluate(test.x, test.y, { batchSize: 1024 }).accuracy;
  const xb = wg.tensor(testX.subarray(0, 1024 * 784), [1024, 784]);
  const times = [];
  for (let r = 0; r < 12; r++) {
    const t = cpuNow();
    model.predict(xb, { batchSize: 1024 }).dispose();
    times.push(cpuNow() - t);
  }
  return { trainRate, acc, inferRate: 1024 / (median(times.slice(2)) / 1000) };
}

async function tfjs(backend, n) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 256, activation: 'relu', inputShape: [784], kernelInitializer: 'heUniform' }),
      tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heUniform' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor2d(trainX.subarray(0, n * 784), [n, 784]);
  const y = tf.tensor2d(trainY.subarray(0, n * 10), [n, 10]);
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: 128, shuffle: true, verbose: 0 });
  const trainRate = n / ((cpuNow() - t0) / 1000);
  const tx = tf.tensor2d(testX, [10000, 784]);
  const ty = tf.tensor2d(testY, [10000, 10]);
  const [, accT] = model.evaluate(tx, ty, { batchSize: 1024 });
  const acc = (await accT.data())[0];
  const xb = tf.tensor2d(testX.subarray(0, 1024 * 784), [1024, 784]);
  const times = [];
  for (let r = 0; r < (backend === 'cpu' ? 4 : 12); r++) {
    const t = cpuNow();
    const out = model.predict(xb);
    await out.data();
    out.dispose();
    times.push(cpuNow() - t);
  }
  tf.dispose([x, y, tx, ty, xb]);
  model.dispose();
  return { trainRate, acc, inferRate: 1024 / (median(times.slice(backend === 'cpu' ? 1 : 2)) / 1000), n };
}

const results = {
  date: new Date().toISOString(),
  samples: N,
  threads: wg.getThreads(),
  wasmgrad: await ours(),
  tfjsWasm: await tfjs('wasm', N),
  tfjsCpu: await tfjs('cpu', quick ? 2560 : 6400),
};
const r = results;
const ratio = (a, b) => `${(a / b).toFixed(1)}×`;
const fmt = (x) => x.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
console.log(`\nMLP 784-256-128-10 on Fashion-MNIST, Adam 1e-3, batch 128, 1 epoch on ${N} samples (${r.date})\n`);
console.log('| | wasmgrad | tfjs-backend-wasm | tfjs-backend-cpu | wasmgrad / tfjs-wasm |');
console.log('|---|---|---|---|---|');
console.log(
  `| training samples/s | ${fmt(r.wasmgrad.trainRate)} | ${fmt(r.tfjsWasm.trainRate)} | ${fmt(r.tfjsCpu.trainRate)} (${r.tfjsCpu.n} samples) | ${ratio(r.wasmgrad.trainRate, r.tfjsWasm.trainRate)} |`,
);
console.log(
  `| test accuracy after the epoch | ${r.wasmgrad.acc.toFixed(4)} | ${r.tfjsWasm.acc.toFixed(4)} | (subset) | |`,
);
console.log(
  `| inference samples/s, batch 1024 | ${fmt(r.wasmgrad.inferRate)} | ${fmt(r.tfjsWasm.inferRate)} | ${fmt(r.tfjsCpu.inferRate)} | ${ratio(r.wasmgrad.inferRate, r.tfjsWasm.inferRate)} |`,
);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `mlp${quick ? '-quick' : ''}.json`), `${JSON.stringify(results, null, 2)}\n`);

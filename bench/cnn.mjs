#!/usr/bin/env node
// Side-by-side benchmark of the CNN (conv16 3x3 relu → maxpool 2 → conv32 3x3 relu →
// maxpool 2 → flatten → dense10 softmax; 'same' padding, He-uniform kernels and seed 3 as in
// test/node/model-cnn-fashion.test.ts, every peer on that same architecture) on Fashion-MNIST,
// batch 64, in one process on the same data: wasmgrad training (Adam 1e-3) against convnetjs 0.3
// (adadelta, the adaptive method that release has; the update is a negligible part of a step) and
// tfjs-layers on tfjs-backend-cpu
// (tfjs-backend-wasm cannot train it: Conv2DBackpropFilter is missing there), then forward-only
// predict at batch 256 against tfjs-backend-wasm, the two taking turns. Prints a markdown table
// with the ratios.
// Usage: node bench/cnn.mjs [--quick]   (needs packages/wasmgrad/dist: npm run build)
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
// the neighbours. Every run here is single-threaded, so CPU time is comparable between them.
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const convnetjs = require('convnetjs');
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);

// One thread: the rates compare process CPU time with single-threaded peers.
await wg.ready({ threads: 1 });
const SEED = 3;
wg.setSeed(SEED);
const { train, test } = await wg.data.fashionMnist();
const trainX = train.x.dataSync();
const trainY = train.y.dataSync();
const testX = test.x.dataSync();
const N = quick ? 12000 : 60000;
const BATCH = 64;
const PREDICT_BATCH = 256;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ours() {
  wg.setSeed(SEED);
  const conv = { kernelSize: 3, activation: 'relu', padding: 'same', kernelInitializer: 'heUniform' };
  const model = wg.sequential([
    wg.layers.conv2d({ filters: 16, ...conv, inputShape: [28, 28, 1] }),
    wg.layers.maxPooling2d({ poolSize: 2 }),
    wg.layers.conv2d({ filters: 32, ...conv }),
    wg.layers.maxPooling2d({ poolSize: 2 }),
    wg.layers.flatten(),
    wg.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: 1e-3 }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const x = wg.tensor(trainX.subarray(0, N * 784), [N, 28, 28, 1]);
  const y = wg.tensor(trainY.subarray(0, N * 10), [N, 10]);
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: BATCH, seed: SEED });
  const trainRate = N / ((cpuNow() - t0) / 1000);
  const acc = model.evaluate(test.x, test.y, { batchSize: 1000 }).accuracy;
  for (const t of [x, y]) t.dispose();
  // The trained model stays for the forward comparison, which alternates with tfjs-wasm.
  return { trainRate, acc, model };
}

function convnet(n) {
  const layers = [
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 3, filters: 16, stride: 1, pad: 1, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 3, filters: 32, stride: 1, pad: 1, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'softmax', num_classes: 10 },
  ];
  const net = new convnetjs.Net();
  net.makeLayers(layers);
  const trainer = new convnetjs.Trainer(net, { method: 'adadelta', batch_size: BATCH, l2_decay: 0 });
  const vols = [];
  const labels = [];
  for (let i = 0; i < n; i++) {
    const v = new convnetjs.Vol(28, 28, 1, 0);
    for (let j = 0; j < 784; j++) v.w[j] = trainX[i * 784 + j];
    vols.push(v);
    labels.push(trainY.subarray(i * 10, i * 10 + 10).indexOf(1));
  }
  const t0 = cpuNow();
  for (let i = 0; i < n; i++) trainer.train(vols[i], labels[i]);
  return { trainRate: n / ((cpuNow() - t0) / 1000), n };
}

function tfjsModel() {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', padding: 'same', inputShape: [28, 28, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

async function tfjsCpuTrain(n) {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = tfjsModel();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(trainX.subarray(0, n * 784), [n, 28, 28, 1]);
  const y = tf.tensor2d(trainY.subarray(0, n * 10), [n, 10]);
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0 });
  const trainRate = n / ((cpuNow() - t0) / 1000);
  tf.dispose([x, y]);
  model.dispose();
  return { trainRate, n };
}

/**
 * Forward at batch 256: wasmgrad's trained model and tfjs-layers on tfjs-backend-wasm take turns
 * on the same batch, so that a neighbour's load on the shared machine hits both alike.
 */
async function predictBoth(ourModel) {
  await tf.setBackend('wasm');
  await tf.ready();
  const model = tfjsModel();
  const data = testX.subarray(0, PREDICT_BATCH * 784);
  const xt = tf.tensor4d(data, [PREDICT_BATCH, 28, 28, 1]);
  const xw = wg.tensor(data, [PREDICT_BATCH, 28, 28, 1]);
  const ours = [];
  const theirs = [];
  for (let r = 0; r < 30; r++) {
    let t = cpuNow();
    ourModel.predict(xw, { batchSize: PREDICT_BATCH }).dispose();
    ours.push(cpuNow() - t);
    t = cpuNow();
    const out = model.predict(xt, { batchSize: PREDICT_BATCH });
    await out.data();
    out.dispose();
    theirs.push(cpuNow() - t);
  }
  tf.dispose(xt);
  xw.dispose();
  model.dispose();
  const rate = (times) => PREDICT_BATCH / (median(times.slice(5)) / 1000);
  return { ours: rate(ours), tfjsWasm: rate(theirs) };
}

const trained = await ours();
const predict = await predictBoth(trained.model);
trained.model.dispose();
const results = {
  date: new Date().toISOString(),
  samples: N,
  wasmgrad: { trainRate: trained.trainRate, acc: trained.acc, predictRate: predict.ours },
  convnetjs: convnet(quick ? 1280 : 3200),
  tfjsCpu: await tfjsCpuTrain(quick ? 128 : 320),
  tfjsWasm: { predictRate: predict.tfjsWasm },
};
const r = results;
const ratio = (a, b) => `${(a / b).toFixed(1)}×`;
const fmt = (x) => x.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
console.log(
  `\nCNN conv16-3x3 → maxpool → conv32-3x3 → maxpool → dense10 on Fashion-MNIST, batch ${BATCH} (${r.date}); ` +
    `samples/s of process CPU time\n`,
);
console.log('| | wasmgrad | convnetjs 0.3 | tfjs-backend-cpu | tfjs-backend-wasm | wasmgrad / peer |');
console.log('|---|---|---|---|---|---|');
console.log(
  `| training samples/s | ${fmt(r.wasmgrad.trainRate)} (${N} samples, Adam) | ${fmt(r.convnetjs.trainRate)} (${r.convnetjs.n} samples, adadelta) | ` +
    `${fmt(r.tfjsCpu.trainRate)} (${r.tfjsCpu.n} samples, Adam) | cannot train | ` +
    `${ratio(r.wasmgrad.trainRate, r.convnetjs.trainRate)} convnetjs, ${ratio(r.wasmgrad.trainRate, r.tfjsCpu.trainRate)} tfjs-cpu |`,
);
console.log(
  `| forward (predict) samples/s, batch ${PREDICT_BATCH} | ${fmt(r.wasmgrad.predictRate)} | | | ${fmt(r.tfjsWasm.predictRate)} | ` +
    `${ratio(r.wasmgrad.predictRate, r.tfjsWasm.predictRate)} tfjs-wasm |`,
);
console.log(`| wasmgrad test accuracy after the epoch | ${r.wasmgrad.acc.toFixed(4)} | | | | |`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `cnn${quick ? '-quick' : ''}.json`), `${JSON.stringify(results, null, 2)}\n`);

#!/usr/bin/env node
// LSTM and GRU training throughput: wasmgrad against tfjs-layers on tfjs-backend-wasm and
// tfjs-backend-cpu, same model and data in the same process (units 64, 32 timesteps of 16
// features, batch 32, Adam). Prints training samples/s (process CPU time) and the ratios.
// Usage: node bench/rnn.mjs [--quick]   (needs `tsc -p packages/wasmgrad/tsconfig.json` first)
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);

const [T, F, U, B] = [32, 16, 64, 32];
const N = quick ? 256 : 1024;
const xs = new Float32Array(N * T * F).map((_, i) => Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3));
const ys = new Float32Array(N).map((_, i) => i % 2);

async function ours(kind) {
  await wg.ready();
  wg.setSeed(1);
  const layer =
    kind === 'lstm'
      ? wg.layers.lstm({ units: U, inputShape: [T, F] })
      : wg.layers.gru({ units: U, inputShape: [T, F] });
  const model = wg.sequential([layer, wg.layers.dense({ units: 1, activation: 'sigmoid' })]);
  model.compile({ optimizer: wg.optimizers.adam({ learningRate: 1e-3 }), loss: 'binaryCrossentropy' });
  const x = wg.tensor(xs, [N, T, F]);
  const y = wg.tensor(ys, [N, 1]);
  await model.fit(x, y, { epochs: 1, batchSize: B }); // warm-up
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: B });
  return N / ((cpuNow() - t0) / 1000);
}

async function theirs(kind, backend, n) {
  await tf.setBackend(backend);
  await tf.ready();
  const layer =
    kind === 'lstm'
      ? tfl.layers.lstm({
          units: U,
          inputShape: [T, F],
          recurrentActivation: 'sigmoid',
          recurrentInitializer: 'glorotUniform',
        })
      : tfl.layers.gru({
          units: U,
          inputShape: [T, F],
          recurrentActivation: 'sigmoid',
          recurrentInitializer: 'glorotUniform',
        });
  const model = tfl.sequential({ layers: [layer, tfl.layers.dense({ units: 1, activation: 'sigmoid' })] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  const x = tf.tensor3d(xs.subarray(0, n * T * F), [n, T, F]);
  const y = tf.tensor2d(ys.subarray(0, n), [n, 1]);
  await model.fit(x, y, { epochs: 1, batchSize: B, verbose: 0 }); // warm-up
  const t0 = cpuNow();
  await model.fit(x, y, { epochs: 1, batchSize: B, verbose: 0 });
  return n / ((cpuNow() - t0) / 1000);
}

for (const kind of ['lstm', 'gru']) {
  const a = await ours(kind);
  const w = await theirs(kind, 'wasm', quick ? 64 : 256);
  const c = await theirs(kind, 'cpu', quick ? 64 : 128);
  console.log(
    `${kind} (T=${T}, F=${F}, units=${U}, batch=${B}) training samples/s: wasmgrad ${a.toFixed(0)}, ` +
      `tfjs-wasm ${w.toFixed(0)} (${(a / w).toFixed(1)}×), tfjs-cpu ${c.toFixed(0)} (${(a / c).toFixed(1)}×)`,
  );
}

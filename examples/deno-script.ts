// A Deno script: train a small classifier on two Gaussian blobs, save it to a temporary directory,
// load it back and check the predictions agree.
// Usage: deno run --allow-read --allow-write --allow-env examples/deno-script.ts
import * as wg from '../packages/wasmgrad/dist/index.js';

await wg.ready();
const n = 400;
const values = new Float32Array(2 * n);
const labels = new Float32Array(n);
wg.setSeed(7);
const noise = wg.randomNormal([2 * n], 0, 0.6).dataSync();
for (let i = 0; i < n; i++) {
  const c = i % 2;
  values[2 * i] = (c ? 1.5 : -1.5) + (noise[2 * i] as number);
  values[2 * i + 1] = (c ? 1 : -1) + (noise[2 * i + 1] as number);
  labels[i] = c;
}
const xs = wg.tensor(values, [n, 2]);
const ys = wg.tensor(labels, [n, 1]);
const model = wg.sequential([
  wg.layers.dense({ units: 4, activation: 'relu', inputShape: [2] }),
  wg.layers.dense({ units: 1, activation: 'sigmoid' }),
]);
model.compile({
  optimizer: wg.optimizers.adam({ learningRate: 0.05 }),
  loss: 'binaryCrossentropy',
  metrics: ['accuracy'],
});
await model.fit(xs, ys, { epochs: 30, batchSize: 32 });
const { accuracy } = model.evaluate(xs, ys);
const dir = await Deno.makeTempDir();
await model.save(dir);
const loaded = await wg.loadModel(dir);
const a = model.predict(xs).dataSync();
const b = loaded.predict(xs).dataSync();
const same = a.every((v, i) => v === b[i]);
console.log(`deno: training accuracy ${accuracy.toFixed(4)}, saved to ${dir}, reloaded predictions identical: ${same}`);
if (!same || accuracy < 0.9) Deno.exit(1);

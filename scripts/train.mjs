#!/usr/bin/env node
// The main job until the `wasmgrad` CLI lands: trains the MLP 784-256-128-10 (ReLU, softmax,
// Adam 1e-3, batch 128) on Fashion-MNIST from Debian's dataset-fashion-mnist and prints progress,
// samples/s and the test accuracy. Options: --epochs N (default 2), --batch-size N, --seed N.
import * as wg from '../packages/wasmgrad/dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const epochs = arg('epochs', 2);
const batchSize = arg('batch-size', 128);
wg.setSeed(arg('seed', 1));

await wg.ready();
console.log(`wasmgrad: ${wg.runtime().simd ? 'SIMD128' : 'scalar'} build`);
const { train, test } = await wg.data.fashionMnist({ flatten: true });
console.log(`Fashion-MNIST: ${train.x.shape[0]} training and ${test.x.shape[0]} test images`);
const model = wg.sequential([
  wg.layers.dense({ units: 256, activation: 'relu', inputShape: [784], kernelInitializer: 'heUniform' }),
  wg.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heUniform' }),
  wg.layers.dense({ units: 10, activation: 'softmax' }),
]);
model.summary();
model.compile({
  optimizer: wg.optimizers.adam({ learningRate: 1e-3 }),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});

let t0 = 0;
const batchesPerEpoch = Math.ceil(train.x.shape[0] / batchSize);
await model.fit(train.x, train.y, {
  epochs,
  batchSize,
  validationData: [test.x, test.y],
  callbacks: {
    onEpochBegin: () => {
      t0 = performance.now();
    },
    onBatchEnd: (batch, logs) => {
      if ((batch + 1) % 100 === 0) {
        process.stdout.write(`  batch ${batch + 1}/${batchesPerEpoch}  loss ${logs.loss.toFixed(4)}\n`);
      }
    },
    onEpochEnd: (epoch, logs) => {
      const seconds = (performance.now() - t0) / 1000;
      console.log(
        `epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.acc?.toFixed(4) ?? logs.accuracy.toFixed(4)}, ` +
          `test loss ${logs.val_loss.toFixed(4)}, test accuracy ${logs.val_accuracy.toFixed(4)} ` +
          `(${(train.x.shape[0] / seconds).toFixed(0)} samples/s incl. evaluation)`,
      );
    },
  },
});
const { accuracy } = model.evaluate(test.x, test.y, { batchSize: 1000 });
console.log(`test accuracy: ${accuracy.toFixed(4)}`);

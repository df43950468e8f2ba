// Training in a worker with progress events, an early stop, and the trained model pulled back:
// an MLP on 6,000 Fashion-MNIST images (Debian's dataset-fashion-mnist, or the package's sample).
// Usage: node examples/worker-training.mjs
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as wg from 'wasmgrad';

await wg.ready();
const debian = '/usr/share/datasets/fashion-mnist';
const dir = existsSync(debian)
  ? debian
  : fileURLToPath(new URL('../packages/wasmgrad/data/fashion-mnist-sample', import.meta.url));
const { train, test } = await wg.data.fashionMnist({ dir, flatten: true, limit: 6000 });
const model = wg.sequential([
  wg.layers.dense({ units: 128, activation: 'relu', inputShape: [784] }),
  wg.layers.dense({ units: 10, activation: 'softmax' }),
]);
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const trainer = await wg.worker.spawn(model);
const result = await trainer.fit(train.x, train.y, {
  epochs: 50,
  batchSize: 64,
  onProgress: ({ epoch, logs }) => {
    console.log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)} accuracy ${logs.accuracy.toFixed(4)}`);
    if (logs.accuracy > 0.85) void trainer.stop(); // good enough: end after the current batch
  },
});
console.log(`stopped early: ${result.stopped} after ${result.epoch.length} epochs`);
const trained = await trainer.pull(); // a model on this thread with the worker's weights
await trainer.terminate();
const { accuracy } = trained.evaluate(test.x, test.y);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);

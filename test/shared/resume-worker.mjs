// A Node worker_threads script for faults.test.ts: trains a small model with wasmgrad (dist/)
// under backupAndRestore to workerData.dir, posting { epoch, batch, step } after every batch (and
// sleeping workerData.slowMs so that the parent can terminate it mid-epoch), then { done, bits,
// restoredFrom, batches } at the end. Worker callbacks cannot cross wg.worker.spawn, so the
// library is driven here directly.
import { parentPort, workerData } from 'node:worker_threads';
import * as wg from '../../packages/wasmgrad/dist/index.js';

const { dir, slowMs = 0 } = workerData;
await wg.ready({ threads: 1 });
wg.setSeed(1234);
const model = wg.sequential([
  wg.layers.dense({ units: 8, inputShape: [6], activation: 'relu' }),
  wg.layers.dropout({ rate: 0.3 }),
  wg.layers.dense({ units: 3, activation: 'softmax' }),
]);
model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy' });
const N = 40;
const x = new Float32Array(N * 6);
const y = new Float32Array(N * 3);
for (let i = 0; i < N; i++) {
  for (let j = 0; j < 6; j++) x[i * 6 + j] = Math.sin(i * 1.7 + j * 0.9) + 0.1 * j;
  y[i * 3 + (i % 3)] = 1;
}
const backup = wg.callbacks.backupAndRestore({ backupDir: dir, saveFreq: 2 });
let epoch = 0;
let batches = 0;
await model.fit(wg.tensor(x, [N, 6]), wg.tensor(y, [N, 3]), {
  epochs: 4,
  batchSize: 8,
  shuffle: true,
  seed: 77,
  callbacks: [
    backup,
    {
      onEpochBegin: (e) => {
        epoch = e;
      },
      onBatchEnd: async (batch) => {
        batches++;
        parentPort.postMessage({ epoch, batch, step: model.fitCursor.step });
        if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
      },
    },
  ],
});
const bits = model.getWeights().map((t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)));
parentPort.postMessage({ done: true, bits, restoredFrom: backup.restoredFrom ?? null, batches });

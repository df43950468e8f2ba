#!/usr/bin/env node
// Training throughput in a worker (wg.worker.spawn, Node worker_threads) against the same training
// on the calling thread: the MLP (784-256-128-10, ReLU, softmax, Adam 1e-3, batch 128) on
// Fashion-MNIST, one epoch per fit, interleaved repetitions, medians. The worker's time includes
// sending the data on every fit:
// - shared: a Float32Array over a SharedArrayBuffer (shared, then one copy into wasm memory);
// - copied: a plain Float32Array, copied into the trainer's reused shared staging buffer, then
//   into wasm memory;
// - copied, no shared memory (spawn option sharedMemory: false, as on a page that is not
//   cross-origin isolated): copied into a fresh array, transferred, copied into wasm memory;
// - uploaded once (trainer.upload, the way to train on one dataset many times): copied,
//   transferred and kept in the worker's wasm memory; the upload counts in the first timed fit.
// Prints samples/s by wall time and by process CPU time (all threads) and worker/calling ratios.
// Both sides run their kernels on the same number of threads: wg.ready()'s default, or --threads=N.
// Usage: node bench/worker.mjs [--quick] [--threads=N]
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const N = quick ? 6400 : 25600;
const REPS = quick ? 3 : 5;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await wg.ready();
const threadsArg = process.argv.find((a) => a.startsWith('--threads='));
if (threadsArg) await wg.setThreads(Number(threadsArg.slice('--threads='.length)));
const { train } = await wg.data.fashionMnist({ flatten: true });
const xs = train.x.dataSync().subarray(0, N * 784);
const ys = train.y.dataSync().subarray(0, N * 10);
const sharedCopy = (a) => {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
};
const sxs = sharedCopy(xs);
const sys = sharedCopy(ys);
const x = wg.tensor(xs, [N, 784]);
const y = wg.tensor(ys, [N, 10]);

const makeModel = () => {
  wg.setSeed(1);
  return wg.sequential([
    wg.layers.dense({ units: 256, activation: 'relu', inputShape: [784] }),
    wg.layers.dense({ units: 128, activation: 'relu' }),
    wg.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
};
const compile = () => ({ optimizer: wg.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
const args = { epochs: 1, batchSize: 128, seed: 7 };

const local = makeModel();
local.compile(compile());
const trainer = await wg.worker.spawn(makeModel(), { compile: compile() });
const unshared = await wg.worker.spawn(makeModel(), { compile: compile(), sharedMemory: false });

async function timed(fn) {
  const w0 = performance.now();
  const c0 = cpuNow();
  await fn();
  return { wall: performance.now() - w0, cpu: cpuNow() - c0 };
}

// Warm-up: both engines tier up their wasm and JS before timing.
await local.fit(x, y, args);
await trainer.fit({ values: xs, shape: [N, 784] }, { values: ys, shape: [N, 10] }, args);
await unshared.fit({ values: xs, shape: [N, 784] }, { values: ys, shape: [N, 10] }, args);

const runs = { local: [], shared: [], copied: [], unshared: [], uploaded: [] };
let stored;
for (let r = 0; r < REPS; r++) {
  runs.local.push(await timed(() => local.fit(x, y, args)));
  runs.shared.push(
    await timed(() => trainer.fit({ values: sxs, shape: [N, 784] }, { values: sys, shape: [N, 10] }, args)),
  );
  runs.copied.push(
    await timed(() => trainer.fit({ values: xs, shape: [N, 784] }, { values: ys, shape: [N, 10] }, args)),
  );
  runs.unshared.push(
    await timed(() => unshared.fit({ values: xs, shape: [N, 784] }, { values: ys, shape: [N, 10] }, args)),
  );
  runs.uploaded.push(
    await timed(async () => {
      stored ??= await Promise.all([
        trainer.upload({ values: xs, shape: [N, 784] }),
        trainer.upload({ values: ys, shape: [N, 10] }),
      ]);
      await trainer.fit(stored[0], stored[1], args);
    }),
  );
}
await trainer.terminate();
await unshared.terminate();

const rate = (ms) => Math.round((N / ms) * 1000).toLocaleString('en');
console.log(
  `MLP 784-256-128-10, Adam, batch 128, ${N} samples per epoch, median of ${REPS}, ${wg.getThreads()} kernel thread(s) on each side`,
);
const labels = {
  shared: 'worker, shared data',
  copied: 'worker, copied data',
  unshared: 'worker, copied data, no shared memory',
  uploaded: 'worker, uploaded once',
};
for (const k of ['wall', 'cpu']) {
  const l = median(runs.local.map((t) => t[k]));
  const parts = Object.entries(labels).map(([name, label]) => {
    const ms = median(runs[name].map((t) => t[k]));
    return `${label} ${rate(ms)} (${(l / ms).toFixed(3)}×)`;
  });
  console.log(`${k.padEnd(4)}: calling thread ${rate(l)} samples/s; ${parts.join('; ')}`);
}

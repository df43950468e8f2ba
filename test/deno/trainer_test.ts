// Runs in Deno (`deno test --allow-read test/deno`): `wg.worker.spawn` of the compiled package in a
// module Worker. A small model trains there with progress events, its predictions equal those of
// the model pulled back to this thread bit for bit, stop() ends a long fit early, and terminate()
// rejects a pending fit with a WorkerError.
import * as wg from '../../packages/wasmgrad/dist/index.js';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** The bits of float values, so that equality means bit for bit. */
const bits = (values: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(values).buffer)).join();

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
function spirals(n: number) {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 1.0 + 0.05;
      const t = (i / n) * 2.5 * Math.PI + c * Math.PI;
      xs.push(r * Math.cos(t), r * Math.sin(t));
      ys.push(c === 0 ? 1 : 0, c === 0 ? 0 : 1);
    }
  }
  return { x: { values: xs, shape: [2 * n, 2] }, y: { values: ys, shape: [2 * n, 2] } };
}

async function spawnSpirals(seed: number) {
  await wg.ready();
  wg.setSeed(seed);
  const model = wg.sequential([
    wg.layers.dense({ units: 16, activation: 'tanh', inputShape: [2] }),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  return wg.worker.spawn(model, {
    compile: { optimizer: wg.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy' },
  });
}

Deno.test('deno trainer · fit in a worker with progress, predictions equal the pulled model', async () => {
  const trainer = await spawnSpirals(1);
  try {
    const { x, y } = spirals(50);
    const epochs: number[] = [];
    const history = await trainer.fit(x, y, {
      epochs: 20,
      batchSize: 10,
      progressIntervalMs: 0,
      onProgress: (e: { epoch: number }) => epochs.push(e.epoch),
    });
    assert(history.epoch.length === 20 && !history.stopped, `fit ran ${history.epoch.length} epochs`);
    assert(epochs.join() === history.epoch.join(), `progress epochs ${epochs} differ from ${history.epoch}`);
    const losses = history.history.loss as number[];
    assert((losses[19] as number) < (losses[0] as number), `loss did not fall: ${losses[0]} → ${losses[19]}`);
    const pulled = await trainer.pull();
    const inputs = wg.tensor(
      Float32Array.from({ length: 2 * 32 }, (_, i) => Math.sin(i * 0.37)),
      [32, 2],
    );
    const remote = await trainer.predict(inputs);
    const here = pulled.predict(inputs);
    assert(remote.shape.join() === here.shape.join(), `shapes ${remote.shape} and ${here.shape}`);
    assert(bits(remote.values) === bits(here.dataSync()), 'worker and pulled predictions differ');
    pulled.dispose();
  } finally {
    await trainer.terminate();
  }
});

Deno.test('deno trainer · stop() ends a long fit, terminate() rejects a pending fit with a WorkerError', async () => {
  const trainer = await spawnSpirals(2);
  try {
    const { x, y } = spirals(100);
    let stopAt = 0;
    const history = await trainer.fit(x, y, {
      epochs: 1_000_000,
      batchSize: 8,
      onProgress: () => {
        if (stopAt) return;
        stopAt = performance.now();
        void trainer.stop();
      },
    });
    const late = performance.now() - stopAt;
    assert(history.stopped && history.epoch.length < 1000, `stop: ${history.epoch.length} epochs`);
    assert(late < 1000, `fit ended ${late.toFixed(0)} ms after stop()`);

    let started: () => void = () => {};
    const progressed = new Promise<void>((resolve) => {
      started = resolve;
    });
    const pending = trainer.fit(x, y, { epochs: 1_000_000, batchSize: 8, onProgress: () => started() });
    pending.catch(() => {});
    await progressed;
    const t0 = performance.now();
    await trainer.terminate();
    let caught: unknown;
    try {
      await pending;
    } catch (err) {
      caught = err;
    }
    assert(caught instanceof wg.WorkerError, `expected a WorkerError, got ${caught}`);
    assert(performance.now() - t0 < 1000, 'the pending fit was not rejected within a second');
  } finally {
    await trainer.terminate();
  }
});

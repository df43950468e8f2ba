/**
 * Training in a Node worker thread through `wg.worker.spawn`: fit with progress events, stop
 * mid-fit, pull a local model whose predictions equal the worker's bit for bit, the same fit as on
 * the calling thread, typed errors across threads, and a dying worker rejecting pending calls.
 * Node 20 cannot run .ts in worker_threads, so the worker is the compiled entry
 * (packages/wasmgrad/dist); the calling side is the source.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

const distUrl = new URL('../../packages/wasmgrad/dist/', import.meta.url);
const entry = fileURLToPath(new URL('worker/entry.js', distUrl));
const comlinkDir = new URL('../../node_modules/comlink/dist/esm/', import.meta.url);

/** The bits of float values, so that equality means bit for bit (and -0 ≠ 0, NaN = NaN). */
const bits = (values: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(values).buffer));

const xorData = () => ({
  x: { values: [0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2] },
  y: { values: [0, 1, 1, 0], shape: [4, 1] },
});

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
function spirals(n: number, seed: number) {
  const rand = seededRandom(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = (i / n) * 1.0 + 0.05;
      const t = (i / n) * 2.5 * Math.PI + c * Math.PI;
      xs.push(r * Math.cos(t) + rand(-0.02, 0.02), r * Math.sin(t) + rand(-0.02, 0.02));
      ys.push(c === 0 ? 1 : 0, c === 0 ? 0 : 1);
    }
  }
  return { x: { values: xs, shape: [2 * n, 2] }, y: { values: ys, shape: [2 * n, 2] } };
}

function xorModel(seed: number) {
  wg.setSeed(seed);
  return wg.sequential([
    wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }),
    wg.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
}

function spiralModel(seed: number) {
  wg.setSeed(seed);
  return wg.sequential([
    wg.layers.dense({ units: 16, activation: 'tanh', inputShape: [2] }),
    wg.layers.dense({ units: 16, activation: 'tanh' }),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
}

const XOR_COMPILE: wg.CompileArgs = { optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] };

/** A promise and its settlement time, so tests can assert how soon a call settled. */
function settleTime<T>(p: Promise<T>): Promise<{ ok: boolean; value?: T; error?: unknown; at: number }> {
  return p.then(
    (value) => ({ ok: true, value, at: performance.now() }),
    (error: unknown) => ({ ok: false, error, at: performance.now() }),
  );
}

const trainers: wg.worker.Trainer[] = [];
async function spawn(model: wg.Sequential, options: wg.worker.SpawnOptions = {}) {
  const t = await wg.worker.spawn(model, { entry, ...options });
  trainers.push(t);
  return t;
}

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the package first (tsc -p packages/wasmgrad)`);
  await wg.ready();
});

afterEach(async () => {
  for (const t of trainers.splice(0)) await t.terminate();
});

describe('wg.worker.spawn in Node worker_threads', () => {
  it('trainer · the worker starts from the model weights and learns XOR with progress events', async () => {
    const model = xorModel(3);
    model.compile(XOR_COMPILE);
    const trainer = await spawn(model, {
      compile: { ...XOR_COMPILE, optimizer: wg.optimizers.adam({ learningRate: 0.05 }) },
    });
    const start = await trainer.getWeights();
    const local = model.getWeights();
    expect(start.map((w) => w.shape)).toEqual(local.map((w) => w.shape));
    start.forEach((w, i) => {
      expect(bits(w.values)).toEqual(bits((local[i] as wg.Tensor).dataSync()));
    });

    const events: wg.worker.ProgressEvent[] = [];
    const { x, y } = xorData();
    const history = await trainer.fit(x, y, {
      epochs: 300,
      batchSize: 4,
      shuffle: false,
      progressIntervalMs: 0,
      onProgress: (e) => events.push(e),
    });
    expect(history.stopped).toBe(false);
    expect(history.epoch).toHaveLength(300);
    const losses = history.history.loss as number[];
    expect(losses[299]).toBeLessThan(0.2);
    expect(losses[299]).toBeLessThan(losses[0] as number);
    // progressIntervalMs 0: every epoch is reported, in order, with the History's values.
    expect(events.map((e) => e.epoch)).toEqual(history.epoch);
    expect(events.map((e) => e.logs.loss)).toEqual(losses);

    const p = await trainer.predict(x);
    expect(p.shape).toEqual([4, 1]);
    expect(Array.from(p.values, (v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    const logs = await trainer.evaluate(x, y);
    expect(logs.loss).toBeLessThan(0.2);
    expect(logs.acc ?? logs.accuracy).toBe(1);
  });

  it('trainer · progress events are throttled', async () => {
    const trainer = await spawn(xorModel(4), { compile: XOR_COMPILE });
    const events: wg.worker.ProgressEvent[] = [];
    const { x, y } = xorData();
    const t0 = performance.now();
    await trainer.fit(x, y, {
      epochs: 2000,
      batchSize: 4,
      progressIntervalMs: 60_000,
      onProgress: (e) => events.push(e),
    });
    const seconds = (performance.now() - t0) / 1000;
    // The first epoch and the last are always sent; in between at most one per minute.
    expect(events[0]?.epoch).toBe(0);
    expect(events[events.length - 1]?.epoch).toBe(1999);
    expect(events.length).toBeLessThanOrEqual(2 + Math.floor(seconds / 60));
  });

  it('trainer · pull() gives a local model whose predictions equal the worker’s bit for bit', async () => {
    const trainer = await spawn(spiralModel(5), {
      compile: { optimizer: wg.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy' },
    });
    const { x, y } = spirals(50, 2);
    await trainer.fit(x, y, { epochs: 30, batchSize: 10, seed: 9 });
    const pulled = await trainer.pull();
    const inputs = wg.tensor(
      Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i * 0.37) * 1.2),
      [64, 2],
    );
    const remote = await trainer.predict(inputs);
    const here = pulled.predict(inputs);
    expect(remote.shape).toEqual(here.shape);
    expect(bits(remote.values)).toEqual(bits(here.dataSync()));
    // pull() compiles with the spawn's compile arguments: evaluate agrees with the worker too.
    const local = pulled.evaluate(wg.tensor(x.values, x.shape), wg.tensor(y.values, y.shape));
    expect(bits([local.loss as number])).toEqual(bits([(await trainer.evaluate(x, y)).loss as number]));
    pulled.dispose();
  });

  it('trainer · a fit in the worker ends with the same weights as the same fit on the calling thread', async () => {
    const compile = () => ({
      optimizer: wg.optimizers.adam({ learningRate: 0.02 }),
      loss: 'categoricalCrossentropy' as const,
    });
    const model = spiralModel(6);
    const trainer = await spawn(model, { compile: compile() });
    model.compile(compile());
    const { x, y } = spirals(40, 3);
    const args = { epochs: 5, batchSize: 8, seed: 21 };
    await trainer.fit(x, y, args);
    await model.fit(wg.tensor(x.values, x.shape), wg.tensor(y.values, y.shape), args);
    const remote = await trainer.getWeights();
    const local = model.getWeights();
    for (const [i, w] of remote.entries()) {
      expect(bits(w.values), `weight ${i}`).toEqual(bits((local[i] as wg.Tensor).dataSync()));
    }
    model.dispose();
  });

  it('trainer · stop() ends a long fit within a batch or so, and the trainer stays usable', async () => {
    const trainer = await spawn(spiralModel(7), { compile: { optimizer: 'adam', loss: 'categoricalCrossentropy' } });
    const { x, y } = spirals(100, 4);
    let stopAt = 0;
    let stopped: Promise<wg.worker.StopResult> | undefined;
    const fit = settleTime(
      trainer.fit(x, y, {
        epochs: 1_000_000,
        batchSize: 8,
        onProgress: () => {
          if (stopped) return;
          stopAt = performance.now();
          stopped = trainer.stop();
        },
      }),
    );
    const result = await fit;
    await stopped;
    expect(result.ok, String(result.error)).toBe(true);
    const history = result.value as wg.worker.WorkerHistory;
    expect(history.stopped).toBe(true);
    expect(history.epoch.length).toBeGreaterThanOrEqual(1);
    expect(history.epoch.length).toBeLessThan(1000);
    expect(result.at - stopAt).toBeLessThan(1000);
    const p = await trainer.predict({ values: [0, 0], shape: [1, 2] });
    expect(p.shape).toEqual([1, 2]);
  });

  it('trainer · pause() holds a fit (weights stay put), resume() lets it go on', async () => {
    const trainer = await spawn(spiralModel(15), { compile: { optimizer: 'adam', loss: 'categoricalCrossentropy' } });
    const { x, y } = spirals(100, 6);
    const events: number[] = [];
    let first: () => void = () => {};
    const progressed = new Promise<void>((resolve) => {
      first = resolve;
    });
    const fit = settleTime(
      trainer.fit(x, y, {
        epochs: 1_000_000,
        batchSize: 8,
        progressIntervalMs: 0,
        onProgress: (e) => {
          events.push(e.epoch);
          first();
        },
      }),
    );
    await progressed;
    await trainer.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const held = await trainer.getWeights();
    const heldEvents = events.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await trainer.getWeights()).map((w) => bits(w.values))).toEqual(held.map((w) => bits(w.values)));
    expect(events.length).toBe(heldEvents);
    await trainer.resume();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.length).toBeGreaterThan(heldEvents);
    expect((await trainer.getWeights()).map((w) => bits(w.values))).not.toEqual(held.map((w) => bits(w.values)));
    // stop() also ends a paused fit.
    await trainer.pause();
    await trainer.stop();
    const result = await fit;
    expect(result.ok, String(result.error)).toBe(true);
    expect(result.value?.stopped).toBe(true);
  });

  it('trainer · inputs stay usable: plain arrays are copied, SharedArrayBuffer data is shared', async () => {
    const trainer = await spawn(xorModel(16), { compile: XOR_COMPILE });
    const plain = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
    const shared = new Float32Array(new SharedArrayBuffer(plain.byteLength));
    shared.set(plain);
    const y = new Float32Array([0, 1, 1, 0]);
    await trainer.fit({ values: plain, shape: [4, 2] }, { values: y, shape: [4, 1] }, { epochs: 3, batchSize: 4 });
    await trainer.fit({ values: shared, shape: [4, 2] }, { values: y, shape: [4, 1] }, { epochs: 3, batchSize: 4 });
    // Neither array was transferred away (a transferred buffer is detached: length 0).
    expect(plain.length).toBe(8);
    expect(y.length).toBe(4);
    expect(shared.length).toBe(8);
    const a = await trainer.predict({ values: plain, shape: [4, 2] });
    const b = await trainer.predict({ values: shared, shape: [4, 2] });
    expect(bits(b.values)).toEqual(bits(a.values));
  });

  it('trainer · upload({ transfer: true }) hands the caller’s buffer over without a copy and trains the same', async () => {
    const [a, b] = await Promise.all([
      spawn(xorModel(18), { compile: XOR_COMPILE }),
      spawn(xorModel(18), { compile: XOR_COMPILE }),
    ]);
    const { x, y } = xorData();
    const xs = new Float32Array(x.values);
    const ux = await b.upload({ values: xs, shape: x.shape }, { transfer: true });
    const uy = await b.upload(y);
    // The caller's array was transferred (detached), not copied.
    expect(xs.length).toBe(0);
    expect(ux.shape).toEqual([4, 2]);
    const args = { epochs: 20, batchSize: 2, seed: 3 };
    const [ha, hb] = await Promise.all([a.fit(x, y, args), b.fit(ux, uy, args)]);
    expect(bits(hb.history.loss as number[])).toEqual(bits(ha.history.loss as number[]));
    expect(hb.batches).toBe(40);
    // A subarray cannot be handed over whole: it is copied, and the caller's array stays usable.
    const big = new Float32Array(16);
    const part = big.subarray(0, 8);
    await b.upload({ values: part, shape: [4, 2] }, { transfer: true });
    expect(part.length).toBe(8);
    await expect(b.upload({ values: [1, 2, 3], shape: [2, 2] })).rejects.toBeInstanceOf(wg.ShapeError);
  });

  it('trainer · errors keep their type across the thread and the worker stays usable', async () => {
    const trainer = await spawn(xorModel(8), { compile: XOR_COMPILE });
    await expect(trainer.predict({ values: [1, 2, 3], shape: [1, 3] })).rejects.toBeInstanceOf(wg.ShapeError);
    await expect(trainer.fit({ values: [1, 2, 3], shape: [2, 2] }, xorData().y)).rejects.toBeInstanceOf(wg.ShapeError);
    await expect(trainer.compile({ optimizer: 'nope', loss: 'meanSquaredError' })).rejects.toThrow(
      /unknown optimizer 'nope'/,
    );
    expect((await trainer.predict(xorData().x)).shape).toEqual([4, 1]);
  });

  it('trainer · terminate() rejects a pending fit within a second with a WorkerError, and later calls at once', async () => {
    const trainer = await spawn(spiralModel(9), { compile: { optimizer: 'adam', loss: 'categoricalCrossentropy' } });
    const { x, y } = spirals(100, 5);
    let progressed: () => void = () => {};
    const firstProgress = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    const fit = settleTime(trainer.fit(x, y, { epochs: 1_000_000, batchSize: 8, onProgress: () => progressed() }));
    await firstProgress;
    const t0 = performance.now();
    await trainer.terminate();
    const result = await fit;
    expect(result.ok).toBe(false);
    expect(result.error).toBeInstanceOf(wg.WorkerError);
    expect((result.error as Error).message).toMatch(/worker\.fit: the worker was terminated/);
    expect(result.at - t0).toBeLessThan(1000);
    const later = await settleTime(trainer.predict(x));
    expect(later.error).toBeInstanceOf(wg.WorkerError);
    expect(later.at - t0).toBeLessThan(1000);
  });

  it('trainer · a worker that exits while a call is pending rejects it with a WorkerError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-trainer-'));
    const exiting = join(dir, 'exits.mjs');
    // A worker whose ready() never answers and which exits 50 ms after being asked.
    writeFileSync(
      exiting,
      [
        `import * as Comlink from ${JSON.stringify(new URL('comlink.mjs', comlinkDir).href)};`,
        `import nodeEndpoint from ${JSON.stringify(new URL('node-adapter.mjs', comlinkDir).href)};`,
        `import { parentPort } from 'node:worker_threads';`,
        'Comlink.expose({ ready: () => new Promise(() => setTimeout(() => process.exit(7), 50)) }, nodeEndpoint(parentPort));',
      ].join('\n'),
    );
    const t0 = performance.now();
    const result = await settleTime(wg.worker.spawn(xorModel(10), { entry: exiting }));
    expect(result.error).toBeInstanceOf(wg.WorkerError);
    expect((result.error as Error).message).toMatch(/worker\.ready: the worker exited with code 7/);
    expect(result.at - t0).toBeLessThan(5000);

    const throwing = join(dir, 'throws.mjs');
    writeFileSync(throwing, "throw new Error('broken worker module');\n");
    const broken = await settleTime(wg.worker.spawn(xorModel(11), { entry: pathToFileURL(throwing) }));
    expect(broken.error).toBeInstanceOf(wg.WorkerError);
    expect((broken.error as Error).message).toMatch(/the worker failed: .*broken worker module/);
  });

  it('trainer · a worker that crashes mid-fit rejects the pending fit within a second with a WorkerError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-trainer-'));
    const flag = join(dir, 'crash-now');
    const crashing = join(dir, 'crashes.mjs');
    // The real worker entry, plus a watchdog that exits the thread once the test drops a flag file.
    writeFileSync(
      crashing,
      [
        `import ${JSON.stringify(pathToFileURL(entry).href)};`,
        `import { existsSync } from 'node:fs';`,
        `setInterval(() => { if (existsSync(${JSON.stringify(flag)})) process.exit(3); }, 10);`,
      ].join('\n'),
    );
    const trainer = await spawn(spiralModel(17), {
      entry: crashing,
      compile: { optimizer: 'adam', loss: 'categoricalCrossentropy' },
    });
    const { x, y } = spirals(100, 7);
    let progressed: () => void = () => {};
    const firstProgress = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    const fit = settleTime(trainer.fit(x, y, { epochs: 1_000_000, batchSize: 8, onProgress: () => progressed() }));
    await firstProgress;
    const t0 = performance.now();
    writeFileSync(flag, '');
    const result = await fit;
    expect(result.error).toBeInstanceOf(wg.WorkerError);
    expect((result.error as Error).message).toMatch(/worker\.fit: the worker exited with code 3/);
    expect(result.at - t0).toBeLessThan(1000);
  });

  it('trainer · two trainers at once stay isolated', async () => {
    const [a, b] = await Promise.all([
      spawn(xorModel(12), { compile: XOR_COMPILE }),
      spawn(xorModel(13), { compile: XOR_COMPILE }),
    ]);
    const { x, y } = xorData();
    const [aBefore, bBefore] = await Promise.all([a.getWeights(), b.getWeights()]);
    // a trains while b answers predictions: b's weights stay as they were, a's move.
    await Promise.all([a.fit(x, y, { epochs: 50, batchSize: 4 }), b.predict(x)]);
    const [aAfter, bAfter] = await Promise.all([a.getWeights(), b.getWeights()]);
    expect(bAfter.map((w) => bits(w.values))).toEqual(bBefore.map((w) => bits(w.values)));
    expect(aAfter.map((w) => bits(w.values))).not.toEqual(aBefore.map((w) => bits(w.values)));
  });

  it('trainer · the built package finds its own worker entry', async () => {
    const dist = (await import(new URL('index.js', distUrl).href)) as typeof wg;
    await dist.ready();
    dist.setSeed(14);
    const model = dist.sequential([dist.layers.dense({ units: 3, activation: 'relu', inputShape: [2] })]);
    const trainer = await dist.worker.spawn(model);
    try {
      const x = dist.tensor([0.5, -1, 2, 0.25], [2, 2]);
      const remote = await trainer.predict(x);
      expect(bits(remote.values)).toEqual(bits(model.predict(x).dataSync()));
    } finally {
      await trainer.terminate();
    }
  });
});

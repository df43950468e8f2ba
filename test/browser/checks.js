// The in-browser half of the Chromium suite (driven by test/node/browser.test.ts): matMul of the
// compiled package against the f64 reference for both wasm builds, typed errors on bad input, the
// package's worker entry in a module Web Worker through comlink, and wg.worker.spawn training there
// (progress, pull, stop, terminate, page responsiveness). Each check resolves to
// { name, ok, ms, error?, note? } (a note is a measured figure the driver prints);
// window.wasmgradChecks resolves to all of them.
import * as Comlink from '/node_modules/comlink/dist/esm/comlink.mjs';
import * as wg from '/packages/wasmgrad/dist/index.js';
// The test server compiles this TypeScript module to JavaScript on the fly.
import { assertClose, matMulReference, seededRandom } from '/test/shared/tolerance.ts';

const SIZES = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 13, 9],
  [2, 17, 257],
  [33, 64, 31],
];
const TOL = { atol: 1e-5, rtol: 1e-5 };
const CHECK_TIMEOUT_MS = 20_000;

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Awaits `fn()`, expecting an error named `name` whose message matches `pattern`. */
async function assertRejects(fn, name, pattern) {
  let caught;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof Error, `expected a ${name}, nothing was thrown`);
  assert(caught.name === name, `expected a ${name}, got ${caught.name}: ${caught.message}`);
  assert(pattern.test(caught.message), `message ${JSON.stringify(caught.message)} does not match ${pattern}`);
}

/** Shows progress on the page (not on the console, which the driver prints on failure). */
function log(line) {
  document.getElementById('log').textContent += `${line}\n`;
}

function describeError(err) {
  if (!(err instanceof Error)) return String(err);
  const head = `${err.name}: ${err.message}`;
  return err.stack?.startsWith(head) ? err.stack : `${head}\n${err.stack ?? ''}`;
}

/** Runs one named check with a deadline and records its outcome instead of throwing. */
async function check(results, name, fn) {
  const t0 = performance.now();
  let timer;
  try {
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const note = await Promise.race([fn(), late]);
    results.push({ name, ok: true, ms: performance.now() - t0, ...(typeof note === 'string' ? { note } : {}) });
    log(`ok   ${name}`);
  } catch (err) {
    const error = describeError(err);
    results.push({ name, ok: false, ms: performance.now() - t0, error });
    log(`FAIL ${name}: ${error}`);
  } finally {
    clearTimeout(timer);
  }
}

async function matMulInPage(simd, build) {
  const rt = await wg.createRuntime({ simd });
  assert(rt.simd === simd, `asked for the ${build} build, got simd=${rt.simd}`);
  const rand = seededRandom(17);
  for (const [m, k, n] of SIZES) {
    const a = Array.from({ length: m * k }, () => rand());
    const b = Array.from({ length: k * n }, () => rand());
    const ta = wg.empty([m, k], 'test', rt);
    const tb = wg.empty([k, n], 'test', rt);
    rt.write(ta.ptr, a);
    rt.write(tb.ptr, b);
    const c = wg.matMul(ta, tb);
    assert(c.shape.join() === `${m},${n}`, `shape [${c.shape}], expected [${m},${n}]`);
    assertClose(c.dataSync(), matMulReference(a, b, m, k, n), TOL, `chromium ${build} matMul ${m}x${k}x${n}`);
  }
}

async function badInputInPage(simd) {
  const rt = await wg.createRuntime({ simd });
  const a = wg.empty([2, 3], 'test', rt);
  const b = wg.empty([2, 2], 'test', rt);
  await assertRejects(() => wg.matMul(a, b), 'ShapeError', /matMul: inner dimensions differ: \[2,3\] × \[2,2\]/);
  let caught;
  try {
    wg.matMul(a, b);
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof wg.ShapeError, `expected an instance of wg.ShapeError, got ${caught}`);
}

/** The package's worker entry in a module Web Worker; rejects at once if the worker dies. */
async function matMulInWorker(simd, build) {
  const worker = new Worker('/packages/wasmgrad/dist/worker/entry.js', { type: 'module' });
  const died = new Promise((_, reject) => {
    worker.addEventListener('error', (e) =>
      reject(new Error(`the worker failed: ${e.message || 'could not load or run its script'}`)),
    );
  });
  died.catch(() => {});
  const guard = (call) => Promise.race([call, died]);
  const api = Comlink.wrap(worker);
  try {
    const ready = await guard(api.ready({ simd }));
    assert(ready.simd === simd, `the worker loaded simd=${ready.simd}, expected ${simd}`);
    const rand = seededRandom(19);
    for (const [m, k, n] of SIZES) {
      const a = Float32Array.from({ length: m * k }, () => rand());
      const b = Float32Array.from({ length: k * n }, () => rand());
      const c = await guard(api.matMul(a, [m, k], b, [k, n]));
      assert(c instanceof Float32Array, 'the worker returns a Float32Array');
      assertClose(c, matMulReference(a, b, m, k, n), TOL, `chromium worker ${build} matMul ${m}x${k}x${n}`);
    }
    await assertRejects(
      () => guard(api.matMul([1, 2, 3, 4, 5, 6], [2, 3], [1, 2, 3, 4], [2, 2])),
      'ShapeError',
      /inner dimensions differ/,
    );
  } finally {
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}

/** Two interleaved spirals, `n` points each, as [2n, 2] inputs and one-hot [2n, 2] targets. */
function spirals(n) {
  const xs = [];
  const ys = [];
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

/** A small spirals classifier in a worker started by wg.worker.spawn. */
async function spawnSpirals(seed) {
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

const bits = (values) => Array.from(new Uint32Array(Float32Array.from(values).buffer)).join();

/** spawn → fit with progress events → predictions of the worker equal the pulled model's. */
async function trainerFitAndPull() {
  const trainer = await spawnSpirals(1);
  try {
    const { x, y } = spirals(50);
    const epochs = [];
    const history = await trainer.fit(x, y, {
      epochs: 20,
      batchSize: 10,
      progressIntervalMs: 0,
      onProgress: (e) => epochs.push(e.epoch),
    });
    assert(history.epoch.length === 20 && !history.stopped, `fit ran ${history.epoch.length} epochs`);
    assert(epochs.join() === history.epoch.join(), `progress epochs ${epochs} differ from ${history.epoch}`);
    const losses = history.history.loss;
    assert(losses[19] < losses[0], `loss did not fall: ${losses[0]} → ${losses[19]}`);
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
}

/** stop() ends a long fit early; terminate() rejects a pending fit with a WorkerError. */
async function trainerStopAndTerminate() {
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
    let started = () => {};
    const progressed = new Promise((resolve) => {
      started = resolve;
    });
    const pending = trainer.fit(x, y, { epochs: 1_000_000, batchSize: 8, onProgress: () => started() });
    pending.catch(() => {});
    await progressed;
    const t0 = performance.now();
    await trainer.terminate();
    let caught;
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
}

/** Runs `train()` while counting animation frames: the fit's time, frame count and longest gap. */
async function framesDuring(train) {
  const stamps = [];
  let running = true;
  const frame = (t) => {
    stamps.push(t);
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const t0 = performance.now();
  const history = await train();
  const ms = performance.now() - t0;
  running = false;
  let maxGap = 0;
  for (let i = 1; i < stamps.length; i++) maxGap = Math.max(maxGap, stamps[i] - stamps[i - 1]);
  return { history, ms, frames: stamps.length, maxGap };
}

/**
 * While a model trains in a worker, requestAnimationFrame keeps running on the page. The note
 * reports the longest frame gap, and for comparison that of the same fit on the page's thread
 * (which yields every ~50 ms, so it is not frozen either, only jankier).
 */
async function trainerKeepsPageResponsive() {
  const trainer = await spawnSpirals(3);
  const { x, y } = spirals(200);
  const args = { epochs: 400, batchSize: 8, seed: 5 };
  let local;
  try {
    const w = await framesDuring(() => trainer.fit(x, y, args));
    assert(w.history.epoch.length === 400, `fit ran ${w.history.epoch.length} epochs`);
    assert(w.frames >= 10, `only ${w.frames} animation frames during a ${w.ms.toFixed(0)} ms fit`);
    assert(w.maxGap < 250, `the longest gap between animation frames was ${w.maxGap.toFixed(0)} ms`);
    local = await trainer.pull();
    const tx = wg.tensor(x.values, x.shape);
    const ty = wg.tensor(y.values, y.shape);
    const p = await framesDuring(() => local.fit(tx, ty, args));
    const fmt = (r) => `${r.ms.toFixed(0)} ms fit, ${r.frames} frames, longest gap ${r.maxGap.toFixed(1)} ms`;
    return `worker: ${fmt(w)}; same fit on the page thread: ${fmt(p)}`;
  } finally {
    local?.dispose();
    await trainer.terminate();
  }
}

async function runChecks() {
  const results = [];
  await check(results, 'chromium · page is cross-origin isolated', async () => {
    assert(globalThis.crossOriginIsolated === true, `crossOriginIsolated is ${globalThis.crossOriginIsolated}`);
    assert(typeof SharedArrayBuffer === 'function', 'SharedArrayBuffer is not available');
  });
  await check(results, 'chromium · engine validates SIMD128', async () => {
    assert(wg.simdSupported() === true, 'simdSupported() is false');
  });
  for (const [build, simd] of [
    ['simd', true],
    ['scalar', false],
  ]) {
    await check(results, `chromium · ${build} · matMul vs reference`, () => matMulInPage(simd, build));
    await check(results, `chromium · ${build} · bad input throws a ShapeError`, () => badInputInPage(simd));
    await check(results, `chromium worker · ${build} · matMul vs reference`, () => matMulInWorker(simd, build));
  }
  await check(results, 'chromium trainer · fit in a worker with progress, predictions equal the pulled model', () =>
    trainerFitAndPull(),
  );
  await check(results, 'chromium trainer · stop() ends a long fit, terminate() rejects a pending fit', () =>
    trainerStopAndTerminate(),
  );
  await check(results, 'chromium trainer · requestAnimationFrame keeps running while a worker trains', () =>
    trainerKeepsPageResponsive(),
  );
  return results;
}

window.wasmgradChecks = runChecks();

// The in-browser half of the Chromium suite (driven by test/node/browser.test.ts): matMul of the
// compiled package against the f64 reference for both wasm builds, typed errors on bad input, the
// package's worker entry in a module Web Worker through comlink, the cross-runtime trainer suite
// (test/shared/trainer-suite.js, also run in Node and Deno), and page responsiveness while a CNN
// trains in a worker. Each check resolves to { name, ok, ms, error?, note? } (a note is a measured
// figure the driver prints); window.wasmgradChecks resolves to all of them.
import * as Comlink from '/node_modules/comlink/dist/esm/comlink.mjs';
import * as wg from '/packages/wasmgrad/dist/index.js';
// The test server compiles this TypeScript module to JavaScript on the fly.
import { assertClose, matMulReference, seededRandom } from '/test/shared/tolerance.ts';
import { trainerChecks } from '/test/shared/trainer-suite.js';

const SIZES = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 13, 9],
  [2, 17, 257],
  [33, 64, 31],
];
const TOL = { atol: 1e-5, rtol: 1e-5 };
const CHECK_TIMEOUT_MS = 40_000;

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
  const t1 = performance.now();
  const ms = t1 - t0;
  running = false;
  // The fit's start and end count as frame edges too, so a freeze at either end is not missed.
  const edges = [t0, ...stamps.filter((t) => t > t0 && t < t1), t1];
  const gaps = edges.slice(1).map((t, i) => t - edges[i]);
  gaps.sort((a, b) => a - b);
  const maxGap = gaps.length ? gaps[gaps.length - 1] : ms;
  const p95 = gaps.length ? gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * 0.95))] : ms;
  return { history, ms, frames: stamps.length, maxGap, p95 };
}

/**
 * Images for a small CNN: 28×28 grey squares with a bright 6×6 patch, labelled by the half it
 * lies in (one-hot, 2 classes); a seeded generator makes them the same on every run.
 */
function patchImages(n) {
  const rand = seededRandom(23);
  const side = 28;
  const x = new Float32Array(n * side * side);
  const y = new Float32Array(n * 2);
  for (let s = 0; s < n; s++) {
    const row = Math.floor(rand(0, side - 6 + 0.999));
    const col = Math.floor(rand(0, side - 6 + 0.999));
    const image = x.subarray(s * side * side, (s + 1) * side * side);
    for (let i = 0; i < image.length; i++) image[i] = rand(0, 0.2);
    for (let r = row; r < row + 6; r++) for (let c = col; c < col + 6; c++) image[r * side + c] = 1;
    y[s * 2 + (col + 3 < side / 2 ? 0 : 1)] = 1;
  }
  return { x: { values: x, shape: [n, side, side, 1] }, y: { values: y, shape: [n, 2] } };
}

/**
 * A small CNN: conv 3×3×16 → max pool 2 → conv 3×3×32 → max pool 2 → dense 2 (softmax). With
 * batches of 256 one training step is long enough (~0.1–0.3 s) that the page's own thread,
 * which can only yield between steps, visibly misses frames.
 */
function cnnModel() {
  wg.setSeed(9);
  return wg.sequential([
    wg.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', padding: 'same' }),
    wg.layers.maxPooling2d({ poolSize: 2 }),
    wg.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', padding: 'same' }),
    wg.layers.maxPooling2d({ poolSize: 2 }),
    wg.layers.flatten(),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
}

/**
 * Bounds on frame gaps while a worker trains (60 Hz frames are ~17 ms apart): generous, so that
 * a loaded machine passes, yet far below what training on the page's thread gives (~1.7 s here).
 */
const MAX_FRAME_GAP_MS = 500;
const P95_FRAME_GAP_MS = 100;

/**
 * While a CNN trains in a worker, requestAnimationFrame keeps running on the page. The note
 * reports the longest frame gap, and for comparison that of the same fit on the page's thread
 * (which yields every ~50 ms, so it is not frozen either, only jankier).
 */
async function cnnKeepsPageResponsive() {
  await wg.ready();
  const compile = { optimizer: wg.optimizers.adam({ learningRate: 0.005 }), loss: 'categoricalCrossentropy' };
  const trainer = await wg.worker.spawn(cnnModel(), { compile });
  const { x, y } = patchImages(1024);
  const args = { epochs: 3, batchSize: 256, seed: 5 };
  const local = cnnModel();
  try {
    const w = await framesDuring(() => trainer.fit(x, y, args));
    assert(w.history.epoch.length === 3, `fit ran ${w.history.epoch.length} epochs`);
    const losses = w.history.history.loss;
    assert(losses[2] < losses[0], `the CNN did not learn: loss ${losses[0]} → ${losses[2]}`);
    assert(w.frames >= 10, `only ${w.frames} animation frames during a ${w.ms.toFixed(0)} ms fit`);
    assert(
      w.maxGap < MAX_FRAME_GAP_MS,
      `the longest gap between animation frames was ${w.maxGap.toFixed(0)} ms (bound ${MAX_FRAME_GAP_MS} ms)`,
    );
    assert(
      w.p95 < P95_FRAME_GAP_MS,
      `95% of frame gaps were below ${w.p95.toFixed(0)} ms (bound ${P95_FRAME_GAP_MS} ms)`,
    );
    local.compile({ ...compile, optimizer: wg.optimizers.adam({ learningRate: 0.005 }) });
    const tx = wg.tensor(x.values, x.shape);
    const ty = wg.tensor(y.values, y.shape);
    const p = await framesDuring(() => local.fit(tx, ty, args));
    const fmt = (r) =>
      `${r.ms.toFixed(0)} ms fit, ${r.frames} frames, longest gap ${r.maxGap.toFixed(1)} ms, 95th percentile ${r.p95.toFixed(1)} ms`;
    const msg = `CNN in a worker: ${fmt(w)}; same fit on the page thread: ${fmt(p)}`;
    console.log(msg);
    return msg;
  } finally {
    local.dispose();
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
  const suite = trainerChecks(wg, { runtime: 'chromium', sharedMemory: globalThis.crossOriginIsolated === true });
  for (const c of suite) await check(results, c.name, () => c.run());
  await check(results, 'chromium · requestAnimationFrame keeps running while a CNN trains in a worker', () =>
    cnnKeepsPageResponsive(),
  );
  return results;
}

window.wasmgradChecks = runChecks();

#!/usr/bin/env node
// The MLP (784-256-128-10, ReLU, softmax cross-entropy, Adam 1e-3, batch 128) trained for
// one epoch on Fashion-MNIST with @jax-js/jax (its wasm device; Node has no WebGPU/WebGL), the
// whole step (loss, gradient and the Adam update) one jit-compiled function, then test accuracy
// and inference at batch 1024. Same data and schedule as bench/mlp.mjs, so the rates compare with
// its wasmgrad rows. Rates use process CPU time (jax-js runs single-threaded in Node 20: its wasm
// worker pool needs a global Worker, which Node lacks; see `threads` in the JSON).
// Writes bench/results/jax.json (jax-quick.json with --quick). Usage: node bench/jax.mjs [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const N = quick ? 12800 : 60000;
const B = 128;
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = join(here, 'results');
mkdirSync(out, { recursive: true });
const write = (result) =>
  writeFileSync(join(out, `jax${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);

let jax;
try {
  jax = await import('@jax-js/jax');
} catch (err) {
  write({ date: new Date().toISOString(), error: `cannot import @jax-js/jax: ${err.message}` });
  console.log(`jax-js: cannot import @jax-js/jax (${err.message}); pnpm install`);
  process.exit(0);
}
const { numpy: np, nn, jit, valueAndGrad, init, defaultDevice } = jax;
// init() with no argument also probes WebGPU through `navigator`, which Node 20 does not define.
const devices = await init('cpu', 'wasm');
defaultDevice('wasm');

// Fashion-MNIST through wasmgrad's loader (plain typed arrays; no wasmgrad kernels run here).
await wg.ready({ threads: 1 });
const { train, test } = await wg.data.fashionMnist({ flatten: true });
const trainX = train.x.dataSync();
const trainY = train.y.dataSync();
const testX = test.x.dataSync();
const testY = test.y.dataSync();

/** He-uniform weights (fan in) and zero biases from a seeded LCG, as plain Float32Arrays. */
function initParams(seed) {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const dims = [784, 256, 128, 10];
  const p = {};
  for (let l = 0; l < 3; l++) {
    const [fi, fo] = [dims[l], dims[l + 1]];
    const lim = Math.sqrt(6 / fi);
    const w = new Float32Array(fi * fo);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rand() - 1) * lim;
    p[`w${l}`] = np.array(w).reshape([fi, fo]);
    p[`b${l}`] = np.zeros([fo]);
  }
  return p;
}

/** Logits of the MLP; consumes x, borrows the parameters. */
function forward(p, x) {
  const h1 = nn.relu(np.matmul(x, p.w0.ref).add(p.b0.ref));
  const h2 = nn.relu(np.matmul(h1, p.w1.ref).add(p.b1.ref));
  return np.matmul(h2, p.w2.ref).add(p.b2.ref);
}

function loss(p, x, y) {
  const logp = nn.logSoftmax(forward(p, x), -1);
  const l = y
    .mul(logp)
    .sum()
    .mul(-1 / B);
  for (const k of Object.keys(p)) p[k].dispose();
  return l;
}

/** The same parameters with one more reference each (jax-js functions consume their arguments). */
const borrow = (p) => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, a.ref]));

const [b1, b2, eps] = [0.9, 0.999, 1e-7];
/** One training step: loss, gradients and Adam, all inside one jit-compiled function. */
const step = jit((p, m, v, lrt, x, y) => {
  const [l, g] = valueAndGrad(loss)(borrow(p), x, y);
  const np2 = {};
  const m2 = {};
  const v2 = {};
  for (const k of Object.keys(p)) {
    const gk = g[k];
    m2[k] = m[k].mul(b1).add(gk.ref.mul(1 - b1));
    v2[k] = v[k].mul(b2).add(np.square(gk).mul(1 - b2));
    np2[k] = p[k].sub(m2[k].ref.div(np.sqrt(v2[k].ref).add(eps)).mul(lrt.ref));
  }
  lrt.dispose();
  return [np2, m2, v2, l];
});

const predict = jit((p, x) => forward(p, x));

let params = initParams(1);
let m = {};
let v = {};
for (const k of Object.keys(params)) {
  m[k] = np.zerosLike(params[k].ref);
  v[k] = np.zerosLike(params[k].ref);
}
const order = Array.from({ length: N }, (_, i) => i);
let s = 7;
for (let i = N - 1; i > 0; i--) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const j = s % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
const xb = new Float32Array(B * 784);
const yb = new Float32Array(B * 10);
const steps = Math.floor(N / B);
let lastLoss = Number.NaN;
const t0 = cpuNow();
const w0 = performance.now();
for (let it = 0; it < steps; it++) {
  for (let r = 0; r < B; r++) {
    const i = order[it * B + r];
    xb.set(trainX.subarray(i * 784, i * 784 + 784), r * 784);
    yb.set(trainY.subarray(i * 10, i * 10 + 10), r * 10);
  }
  const t = it + 1;
  const lrt = (1e-3 * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
  const [p2, m2, v2, l] = step(
    params,
    m,
    v,
    np.array(new Float32Array([lrt])).reshape([]),
    np.array(xb).reshape([B, 784]),
    np.array(yb).reshape([B, 10]),
  );
  params = p2;
  m = m2;
  v = v2;
  // Reading the loss every step, as a training loop does, also keeps jax-js's lazy dispatch from
  // queueing the whole epoch: without it the same epoch took ~7× the CPU time here.
  lastLoss = (await l.data())[0];
}
const trainMs = cpuNow() - t0;
const trainWallMs = performance.now() - w0;
const trained = steps * B;

let correct = 0;
for (let off = 0; off < 10000; off += 1000) {
  const logits = await predict(
    borrow(params),
    np.array(testX.subarray(off * 784, (off + 1000) * 784)).reshape([1000, 784]),
  ).data();
  for (let r = 0; r < 1000; r++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[r * 10 + c] > logits[r * 10 + best]) best = c;
    if (testY[(off + r) * 10 + best] === 1) correct++;
  }
}
const acc = correct / 10000;
const inferX = testX.subarray(0, 1024 * 784);
const times = [];
for (let r = 0; r < 12; r++) {
  const t = cpuNow();
  await predict(borrow(params), np.array(inferX).reshape([1024, 784])).data();
  times.push(cpuNow() - t);
}
const result = {
  date: new Date().toISOString(),
  version: '0.1.25',
  devices,
  device: 'wasm',
  threads: typeof Worker === 'undefined' ? 1 : 'pool',
  samples: trained,
  trainRate: trained / (trainMs / 1000),
  trainRateWall: trained / (trainWallMs / 1000),
  lastLoss,
  acc,
  inferRate: 1024 / (median(times.slice(2)) / 1000),
};
write(result);
const fmt = (x) => x.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
console.log(
  `\n@jax-js/jax 0.1.25 (devices in Node: ${devices.join(', ')}; wasm, ${result.threads} thread), MLP 784-256-128-10, Adam, batch ${B}, jit step`,
);
console.log(`training samples/s ${fmt(result.trainRate)} (CPU time; ${fmt(result.trainRateWall)} by wall time)`);
console.log(`test accuracy after the epoch ${acc.toFixed(4)} (last batch loss ${lastLoss.toFixed(3)})`);
console.log(`inference samples/s, batch 1024: ${fmt(result.inferRate)}`);

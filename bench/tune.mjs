#!/usr/bin/env node
// Hyperparameter search (wg.tune), the figures issue 10 asks for:
//
// 1. Branin (2-D) and Hartmann-6: evaluations until the best value is within a target of the
//    optimum, Bayesian vs random search, median over 10 seeds. "Within x% of the optimum" means
//    normalized regret (best − f*) / (f_max − f_min) ≤ x/100 over the domain: Branin on
//    [−5,10]×[0,15], f* = 0.397887, f_max = 308.129; Hartmann-6 on [0,1]⁶, f* = −3.32237, f_max ≈ 0.
//    Random search runs through wg.tune.optimize too, up to a cap; for a target of volume fraction p
//    its median is also given analytically, ln 2 / −ln(1 − p), with p from seeded Monte Carlo.
// 2. The Fashion-MNIST MLP (784-units-10, ReLU, dropout, Adam): learning rate, units and dropout,
//    20 trials, 1 epoch on a subset, two workers; best val_accuracy of Bayesian vs random search,
//    median over seeds.
// 3. The same 8-trial search with one worker and with two: wall time (and identical trials).
//
// Uses the built package (tsc -p packages/wasmgrad first).
// Usage: node bench/tune.mjs [--quick] [--only=functions|mlp|workers]
import { cpus, loadavg } from 'node:os';
import * as wg from '../packages/wasmgrad/dist/index.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const part = (name) => only === undefined || only === name;
const SEEDS = quick ? [1, 2, 3] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const { tune } = wg;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n) => (Number.isFinite(n) ? String(Math.round(n * 10) / 10) : 'unknown (no sample hit)');

function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- test functions ----
const branin = ({ x1, x2 }) =>
  (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 +
  10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) +
  10;
const H6A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const H6ALPHA = [1, 1.2, 3, 3.2];
const hartmannArray = (x) => {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 6; j++) e += H6A[i][j] * (x[j] - H6P[i][j]) ** 2;
    s += H6ALPHA[i] * Math.exp(-e);
  }
  return -s;
};
const hartmann = (p) => hartmannArray([p.x0, p.x1, p.x2, p.x3, p.x4, p.x5]);

const problems = [
  {
    name: 'Branin',
    f: branin,
    space: { x1: tune.uniform(-5, 10), x2: tune.uniform(0, 15) },
    fStar: 0.397887,
    fMax: 308.129,
    sample: (r) => branin({ x1: -5 + 15 * r(), x2: 15 * r() }),
    targets: [0.01, 0.001],
    bayesMax: 80,
    randomCap: 5000,
    mcSamples: 2e7,
  },
  {
    name: 'Hartmann-6',
    f: hartmann,
    space: Object.fromEntries([0, 1, 2, 3, 4, 5].map((j) => [`x${j}`, tune.uniform(0, 1)])),
    fStar: -3.32237,
    fMax: 0,
    sample: (r) => hartmannArray([r(), r(), r(), r(), r(), r()]),
    targets: [0.01],
    bayesMax: quick ? 100 : 150,
    randomCap: quick ? 20000 : 100000,
    mcSamples: quick ? 2e7 : 1e8,
  },
];

/** Evaluations until the target (Infinity if not within maxTrials), stopping the study there. */
async function evaluationsTo(problem, method, seed, target, maxTrials) {
  let hit = Number.POSITIVE_INFINITY;
  await tune.optimize({
    space: problem.space,
    objective: problem.f,
    method,
    seed,
    maxTrials,
    onTrial: (t, study) => {
      if (t.value <= target && t.number + 1 < hit) {
        hit = t.number + 1;
        study.stop();
      }
    },
  });
  return hit;
}

console.log(
  `wg.tune benchmark${quick ? ' (--quick)' : ''}; ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}`,
);
for (const problem of part('functions') ? problems : []) {
  const range = problem.fMax - problem.fStar;
  for (const x of problem.targets) {
    const target = problem.fStar + x * range;
    // Monte Carlo volume fraction of the target set → random search's median evaluations.
    const r = mulberry32(12345);
    let hits = 0;
    for (let i = 0; i < problem.mcSamples; i++) if (problem.sample(r) <= target) hits++;
    const p = hits / problem.mcSamples;
    const analytic = p > 0 ? Math.log(2) / -Math.log(1 - p) : Number.POSITIVE_INFINITY;
    const bayes = [];
    const random = [];
    const t0 = performance.now();
    for (const seed of SEEDS) {
      bayes.push(await evaluationsTo(problem, 'bayesian', seed, target, problem.bayesMax));
      random.push(await evaluationsTo(problem, 'random', seed, target, problem.randomCap));
    }
    const b = median(bayes);
    const rm = median(random);
    const ratio = Number.isFinite(rm) ? b / rm : b / analytic;
    const ratioText = Number.isFinite(ratio) && ratio > 0 ? ratio.toPrecision(3) : 'n/a';
    console.log(
      `${problem.name}, within ${x * 100}% of the range (f ≤ ${target.toPrecision(6)}), ${SEEDS.length} seeds:\n` +
        `  Bayesian evaluations: median ${Number.isFinite(b) ? b : `>${problem.bayesMax}`} [${bayes.map((v) => (Number.isFinite(v) ? v : `>${problem.bayesMax}`)).join(', ')}]\n` +
        `  random evaluations:   median ${Number.isFinite(rm) ? rm : `>${problem.randomCap}`} [${random.map((v) => (Number.isFinite(v) ? v : `>${problem.randomCap}`)).join(', ')}]` +
        `; analytic median ${fmt(analytic)} (p = ${p.toExponential(2)} from ${problem.mcSamples.toExponential(0)} samples)\n` +
        `  Bayesian / random = ${ratioText} (${Number.isFinite(rm) ? 'measured' : 'vs analytic'}); ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
  }
}

// ---- Fashion-MNIST MLP ----
const TRAIN = 6000;
const VAL = 2000;
await wg.ready();
const { train } = await wg.data.fashionMnist({ flatten: true, limit: TRAIN + VAL });
const xs = train.x.dataSync();
const ys = train.y.dataSync();
const data = {
  x: { values: xs.subarray(0, TRAIN * 784), shape: [TRAIN, 784] },
  y: { values: ys.subarray(0, TRAIN * 10), shape: [TRAIN, 10] },
  validationData: [
    { values: xs.subarray(TRAIN * 784), shape: [VAL, 784] },
    { values: ys.subarray(TRAIN * 10), shape: [VAL, 10] },
  ],
};
const mlpSpace = {
  learningRate: tune.logUniform(1e-4, 1e-1),
  units: tune.int(16, 512, { log: true }),
  dropout: tune.uniform(0, 0.6),
};
const build = (hp) => {
  const model = wg.sequential([
    wg.layers.dense({ units: hp.units, activation: 'relu', inputShape: [784], kernelInitializer: 'heUniform' }),
    wg.layers.dropout({ rate: hp.dropout, seed: 1 }),
    wg.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: wg.optimizers.adam({ learningRate: hp.learningRate }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
};
const searchArgs = { space: mlpSpace, build, data, objective: 'val_accuracy', epochs: 1, batchSize: 64 };

const MLP_SEEDS = !part('mlp') ? [] : quick ? [1, 2] : [1, 2, 3, 4, 5];
const best = { bayesian: [], random: [] };
const t1 = performance.now();
for (const seed of MLP_SEEDS) {
  for (const method of ['bayesian', 'random']) {
    const study = await tune.search({ ...searchArgs, method, seed, maxTrials: 20, parallel: 2 });
    best[method].push(study.best.value);
    if (seed === MLP_SEEDS[0]) console.log(`${method}, seed ${seed}, best ${JSON.stringify(study.bestParams)}`);
  }
}
const show = (v) => v.map((a) => a.toFixed(4)).join(', ');
if (part('mlp'))
  console.log(
    `Fashion-MNIST MLP (${TRAIN} train / ${VAL} validation samples, 1 epoch, batch 64), 20 trials, 2 workers, ${MLP_SEEDS.length} seeds:\n` +
      `  best val_accuracy, Bayesian: median ${median(best.bayesian).toFixed(4)} [${show(best.bayesian)}]\n` +
      `  best val_accuracy, random:   median ${median(best.random).toFixed(4)} [${show(best.random)}]; ${((performance.now() - t1) / 1000).toFixed(0)} s`,
  );

// ---- one worker vs two ----
// Wall time, and how many trials overlapped on average (sum of trial durations / wall time).
const timing = { 1: [], 2: [] };
const trialsOf = {};
for (const parallel of part('workers') ? [1, 2, 1, 2] : []) {
  const t0 = performance.now();
  const study = await tune.search({ ...searchArgs, method: 'random', seed: 11, maxTrials: 8, parallel });
  const wall = (performance.now() - t0) / 1000;
  const busy = study.trials.reduce((sum, t) => sum + t.durationMs, 0) / 1000;
  timing[parallel].push({ wall, overlap: busy / wall });
  trialsOf[parallel] = JSON.stringify(study.trials.map((t) => [t.params, t.value]));
}
if (part('workers')) {
  const bestRun = (runs) => runs.reduce((a, b) => (b.wall < a.wall ? b : a));
  const [w1, w2] = [bestRun(timing[1]), bestRun(timing[2])];
  console.log(
    `8 trials (random, seed 11), best of 2 runs: 1 worker ${w1.wall.toFixed(1)} s, 2 workers ${w2.wall.toFixed(1)} s: ` +
      `${(w1.wall / w2.wall).toFixed(2)}× (trials overlapping on average: ${w1.overlap.toFixed(2)} vs ${w2.overlap.toFixed(2)}; ` +
      `same trials: ${trialsOf[1] === trialsOf[2]}); load average now ${loadavg()[0].toFixed(1)}`,
  );
}

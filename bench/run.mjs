#!/usr/bin/env node
// The end-to-end benchmark suite (issue 9), one command: `npm run bench` (or node bench/run.mjs).
// Runs each benchmark in its own Node process, one after the other (kernels, mlp, cnn, jax,
// memory, worker, bundle), then reads the JSON they wrote into bench/results/ and prints ONE
// markdown table (metric, wasmgrad, peer, ratio, target, met?) and writes
// bench/results/summary.json (date, machine, load, per-row figures, the issue's targets) and
// bench/results/summary.md (the table). Each bench's output is also kept in bench/results/<name>.log.
//
//   node bench/run.mjs [--quick] [--only=kernels,mlp,...] [--report-only]
//
// --quick       a smoke run: every bench on its small setting (minutes instead of tens of minutes)
// --only=a,b    run only these benches (the table still reads every JSON there is, and says how old)
// --report-only run nothing: build the table from the JSON already in bench/results/
//
// Ratios come from figures measured in the same process by the same clock: process CPU time for
// the single-thread rows (the machine may be shared), wall time for the 1-vs-2-thread rows.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'results');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const reportOnly = args.includes('--report-only');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;
const sfx = quick ? '-quick' : '';

/** The benches in run order: script, arguments, and the JSON file each writes. */
const BENCHES = [
  {
    name: 'kernels',
    args: quick ? ['--runs', '5', '--sizes', '256,1024', '--thread-sizes', '1024'] : [],
    json: 'kernels.json',
  },
  { name: 'mlp', args: quick ? ['--quick'] : [], json: `mlp${sfx}.json` },
  { name: 'cnn', args: quick ? ['--quick'] : [], json: `cnn${sfx}.json` },
  { name: 'jax', args: quick ? ['--quick'] : [], json: `jax${sfx}.json` },
  { name: 'memory', node: ['--expose-gc'], args: quick ? ['--quick'] : [], json: `memory${sfx}.json` },
  { name: 'worker', args: quick ? ['--quick'] : [], json: undefined },
  { name: 'bundle', args: [], json: 'bundle.json' },
];

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {}
  return cpus()[0]?.model ?? 'unknown';
}

/** Runs one bench in its own process; its output goes to the terminal and to <name>.log. */
function runBench(b) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const started = Date.now();
    console.log(`\n=== ${b.name}: node ${[...(b.node ?? []), `bench/${b.name}.mjs`, ...b.args].join(' ')}`);
    const child = spawn(process.execPath, [...(b.node ?? []), join(here, `${b.name}.mjs`), ...b.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      log += d;
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      log += d;
    });
    child.on('close', (code, signal) => {
      writeFileSync(join(results, `${b.name}${sfx}.log`), log);
      resolve({ name: b.name, code, signal, seconds: (performance.now() - t0) / 1000, started, log });
    });
  });
}

mkdirSync(results, { recursive: true });
const runStart = Date.now();
const load = { before: loadavg().map((x) => +x.toFixed(2)) };
const runs = {};
if (!reportOnly) {
  for (const b of BENCHES) {
    if (only && !only.has(b.name)) continue;
    runs[b.name] = await runBench(b);
  }
}
load.after = loadavg().map((x) => +x.toFixed(2));

/** A bench's JSON, with its age: `stale` when this run ran the bench and it did not rewrite it. */
function readJson(b) {
  if (!b.json) return undefined;
  const path = join(results, b.json);
  if (!existsSync(path)) return undefined;
  const mtime = statSync(path).mtimeMs;
  const ran = runs[b.name];
  if (ran && mtime < ran.started) return { stale: true, data: JSON.parse(readFileSync(path, 'utf8')) };
  return { stale: false, data: JSON.parse(readFileSync(path, 'utf8')) };
}
const data = Object.fromEntries(BENCHES.map((b) => [b.name, readJson(b)]));
const get = (name) => (data[name] && !data[name].stale ? data[name].data : undefined);
const whyMissing = (name) => {
  const r = runs[name];
  if (r && r.code !== 0) return `bench failed (exit ${r.code ?? r.signal}); see bench/results/${name}${sfx}.log`;
  if (data[name]?.stale) return 'bench did not write its JSON';
  return `no bench/results/${BENCHES.find((b) => b.name === name)?.json} (run it)`;
};

// ---- rows ----
const rows = [];
/**
 * One table row. `ratio` is wasmgrad / peer (or as given); `target` a minimum ratio (met when
 * ratio ≥ target) unless `check` decides; `unit` names the figures.
 */
function row(metric, { ours, peer, peerName, unit, ratio, target, targetText, check, note }) {
  const r = ratio ?? (Number.isFinite(ours) && Number.isFinite(peer) && peer !== 0 ? ours / peer : undefined);
  let met;
  if (check) met = check(r);
  else if (target !== undefined && r !== undefined) met = r >= target;
  rows.push({ metric, unit, wasmgrad: ours, peer, peerName, ratio: r, target: targetText, met, note });
}
const missing = (metric, why, targetText) => rows.push({ metric, missing: why, target: targetText, met: undefined });

const kernels = get('kernels');
if (kernels) {
  const clock = kernels.clock ?? 'cpu';
  const peak = kernels.peak?.[clock];
  const gemm = (kernels.rows ?? []).filter((r) => r.op === 'matMul');
  const g1024 = gemm.find((r) => r.shape.startsWith('1024×'));
  if (g1024) {
    row('gemm n = 1024, 1 thread, GFLOP/s vs the SIMD128 peak probe', {
      ours: g1024.ours[clock],
      peer: peak,
      peerName: `SIMD128 peak probe, ${kernels.peak.chains} chains`,
      unit: 'GFLOP/s',
      target: 0.9,
      targetText: '≥ 90% of peak',
      note: `${clock} time`,
    });
  } else missing('gemm n = 1024, 1 thread vs peak', 'kernels.json has no 1024 row', '≥ 90% of peak');
  for (const g of gemm) {
    const n = Number(g.shape.split('×')[0]);
    row(`gemm n = ${n}, 1 thread, GFLOP/s`, {
      ours: g.ours[clock],
      peer: g.tfjs[clock],
      peerName: `tfjs-backend-wasm ${kernels.tfjs?.version ?? ''}`.trim(),
      unit: 'GFLOP/s',
      target: n >= 256 ? 1.5 : undefined,
      targetText: n >= 256 ? '≥ 1.5× (BENCHMARKS.md)' : '',
    });
  }
  for (const c of (kernels.rows ?? []).filter((r) => r.op === 'conv2d')) {
    row(`conv2d forward ${c.shape}, GFLOP/s`, {
      ours: c.ours[clock],
      peer: c.tfjs[clock],
      peerName: 'tfjs-backend-wasm',
      unit: 'GFLOP/s',
      targetText: '',
    });
  }
  const t1024 = kernels.threads?.rows?.find((r) => r.n === 1024);
  if (t1024) {
    row(`gemm n = 1024, ${kernels.threads.count} threads vs 1 thread, GFLOP/s`, {
      ours: t1024.two.wall,
      peer: t1024.one.wall,
      peerName: 'wasmgrad, 1 thread',
      unit: 'GFLOP/s',
      target: 1.8,
      targetText: '≥ 1.8×',
      note: `wall time; load ${kernels.loadAverage?.map((x) => x.toFixed(1)).join(' → ')} on ${kernels.cores} cores`,
    });
  } else missing('gemm n = 1024, 2 threads vs 1', 'kernels.json has no threads rows', '≥ 1.8×');
} else {
  missing('gemm (kernels)', whyMissing('kernels'), '≥ 90% of peak; 2 threads ≥ 1.8×');
}

const mlp = get('mlp');
const jax = get('jax');
const jaxError = jax?.error;
if (mlp) {
  const w = mlp.wasmgrad;
  row('MLP 784-256-128-10 training, samples/s', {
    ours: w.trainRate,
    peer: mlp.tfjsWasm.trainRate,
    peerName: 'tfjs-backend-wasm',
    unit: 'samples/s',
    target: 10,
    targetText: '≥ 10×',
  });
  row('MLP training, samples/s', {
    ours: w.trainRate,
    peer: mlp.tfjsCpu.trainRate,
    peerName: `tfjs-backend-cpu, ${mlp.tfjsCpu.n} samples`,
    unit: 'samples/s',
  });
  if (jax && !jaxError) {
    row('MLP training, samples/s', {
      ours: w.trainRate,
      peer: jax.trainRate,
      peerName: `@jax-js/jax ${jax.version}, wasm, jit step`,
      unit: 'samples/s',
      target: 2,
      targetText: '≥ 2× (BENCHMARKS.md)',
    });
  } else {
    missing('MLP training vs @jax-js/jax', jaxError ?? whyMissing('jax'), '≥ 2×');
  }
  const accCheck = (peerAcc) => (r) => r !== undefined && w.acc >= peerAcc - 0.01;
  row('MLP test accuracy after 1 epoch', {
    ours: w.acc,
    peer: mlp.tfjsWasm.acc,
    peerName: 'tfjs-backend-wasm',
    unit: 'accuracy',
    targetText: 'equal (≥ peer − 0.01)',
    check: accCheck(mlp.tfjsWasm.acc),
  });
  if (jax && !jaxError) {
    row('MLP test accuracy after 1 epoch', {
      ours: w.acc,
      peer: jax.acc,
      peerName: '@jax-js/jax',
      unit: 'accuracy',
      targetText: 'equal (≥ peer − 0.01)',
      check: accCheck(jax.acc),
    });
  }
  row('MLP inference, batch 1024, samples/s', {
    ours: w.inferRate,
    peer: mlp.tfjsWasm.inferRate,
    peerName: 'tfjs-backend-wasm',
    unit: 'samples/s',
    target: 2,
    targetText: '≥ 2×',
  });
  if (jax && !jaxError) {
    row('MLP inference, batch 1024, samples/s', {
      ours: w.inferRate,
      peer: jax.inferRate,
      peerName: '@jax-js/jax',
      unit: 'samples/s',
    });
  }
} else {
  missing('MLP training / inference / accuracy', whyMissing('mlp'), '≥ 10× / ≥ 2× tfjs-wasm');
}

const cnn = get('cnn');
if (cnn) {
  const w = cnn.wasmgrad;
  row('CNN training, samples/s', {
    ours: w.trainRate,
    peer: cnn.convnetjs.trainRate,
    peerName: `convnetjs 0.3, adadelta, ${cnn.convnetjs.n} samples`,
    unit: 'samples/s',
    target: 30,
    targetText: '≥ 30×',
  });
  row('CNN training, samples/s', {
    ours: w.trainRate,
    peer: cnn.tfjsCpu.trainRate,
    peerName: `tfjs-backend-cpu, ${cnn.tfjsCpu.n} samples`,
    unit: 'samples/s',
    note: 'tfjs-backend-wasm cannot train it: no Conv2DBackpropFilter',
  });
  row('CNN forward, batch 256, samples/s', {
    ours: w.predictRate,
    peer: cnn.tfjsWasm.predictRate,
    peerName: 'tfjs-backend-wasm',
    unit: 'samples/s',
    target: 2,
    targetText: '≥ 2×',
  });
  rows.push({
    metric: 'CNN test accuracy after 1 epoch',
    unit: 'accuracy',
    wasmgrad: w.acc,
    peerName: 'convnetjs and tfjs train on subsets: not measured',
    target: '',
  });
} else {
  missing('CNN training / forward', whyMissing('cnn'), '≥ 30× convnetjs / ≥ 2× tfjs-wasm');
}

const mem = get('memory');
if (mem) {
  row(`memory: peak wasm heap in use, MLP training (${mem.steps} steps)`, {
    ours: mem.peakHeapInUse,
    peer: mem.minimumBytes,
    peerName: 'minimum: params + grads + Adam + 1 batch of activations and grads',
    unit: 'bytes',
    check: (r) => r <= 1.5,
    targetText: '≤ 1.5×',
    note: `wasm memory ${(mem.wasmBytes.peak / 1048576).toFixed(1)} MB at its peak (${(mem.wasmBytes.base / 1048576).toFixed(1)} MB before the model)`,
  });
  const g = mem.growthAfterFirstSample;
  rows.push({
    metric: `memory flat over ${mem.steps} steps (growth after step ${mem.rows[0].step})`,
    unit: 'bytes',
    wasmgrad: g.heapInUse + g.wasmBytes,
    peerName: `wasm heap +${g.heapInUse} B, wasm memory +${g.wasmBytes} B, tensors +${g.tensors}, JS heap ${g.jsHeap >= 0 ? '+' : ''}${(g.jsHeap / 1024).toFixed(0)} KB`,
    target: 'no growth',
    met: mem.flat,
  });
} else {
  missing('memory', whyMissing('memory'), '≤ 1.5× minimum, flat');
}

const worker =
  runs.worker?.log ??
  (existsSync(join(results, `worker${sfx}.log`)) ? readFileSync(join(results, `worker${sfx}.log`), 'utf8') : '');
const wm = /^wall: calling thread ([\d,]+) samples\/s; worker, shared data ([\d,]+)/m.exec(worker);
if (wm) {
  const num = (s) => Number(s.replace(/,/g, ''));
  row('MLP training in a worker (shared data) vs the calling thread, samples/s', {
    ours: num(wm[2]),
    peer: num(wm[1]),
    peerName: 'wasmgrad, calling thread',
    unit: 'samples/s',
    note: 'wall time',
  });
}

const bundle = get('bundle');
if (bundle) {
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  rows.push({
    metric: 'bundle: JS (dist/index.js, minified), raw / gzip',
    unit: 'bytes',
    wasmgrad: bundle.js.gzip,
    text: `${kb(bundle.js.raw)} / ${kb(bundle.js.gzip)}`,
    peerName: bundle.bundler,
    target: '',
  });
  for (const [f, s] of Object.entries(bundle.wasm)) {
    rows.push({
      metric: `bundle: ${f}, raw / gzip`,
      unit: 'bytes',
      wasmgrad: s.gzip,
      text: `${kb(s.raw)} / ${kb(s.gzip)}`,
      target: '',
    });
  }
}

// ---- table ----
const num = (x, unit) => {
  if (x === undefined || x === null || !Number.isFinite(x)) return '';
  if (unit === 'accuracy') return x.toFixed(4);
  if (unit === 'bytes') return `${(x / 1048576).toFixed(2)} MB`;
  if (unit === 'GFLOP/s') return x.toFixed(1);
  return Math.round(x).toLocaleString('en');
};
const esc = (s) => String(s ?? '').replace(/\|/g, '\\|');
const lines = ['| metric | wasmgrad | peer | ratio | target | met? |', '|---|---:|---|---:|---|---|'];
for (const r of rows) {
  if (r.missing) {
    lines.push(`| ${esc(r.metric)} | | ${esc(r.missing)} | | ${esc(r.target)} | missing |`);
    continue;
  }
  const ours = r.text ?? num(r.wasmgrad, r.unit);
  const peerNum = num(r.peer, r.unit);
  const peer = r.peerName ? (peerNum ? `${r.peerName}: ${peerNum}` : r.peerName) : peerNum;
  const ratio =
    r.ratio === undefined
      ? ''
      : r.unit === 'accuracy'
        ? `${r.wasmgrad - r.peer >= 0 ? '+' : ''}${(r.wasmgrad - r.peer).toFixed(4)}`
        : `${r.ratio.toFixed(2)}×`;
  const met = r.met === undefined ? '' : r.met ? 'yes' : 'NO';
  const metric = r.note ? `${r.metric} (${r.note})` : r.metric;
  lines.push(`| ${esc(metric)} | ${esc(ours)} | ${esc(peer)} | ${esc(ratio)} | ${esc(r.target)} | ${met} |`);
}
const machine = {
  cpu: cpuModel(),
  cores: cpus().length,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
const header =
  `wasmgrad benchmark suite${quick ? ' (--quick)' : ''}, ${new Date().toISOString()}; ${machine.cpu}, ` +
  `${machine.cores} cores, Node ${machine.node}; load average ${load.before[0]} → ${load.after[0]}`;
console.log(`\n${header}\n`);
console.log(lines.join('\n'));
const stale = BENCHES.filter((b) => data[b.name]?.stale || (!runs[b.name] && data[b.name])).map(
  (b) => `${b.name} (${data[b.name].data.date ?? 'undated'})`,
);
if (stale.length) console.log(`\nfigures not from this run: ${stale.join(', ')}`);

const summary = {
  date: new Date().toISOString(),
  quick,
  machine,
  load,
  seconds: (Date.now() - runStart) / 1000,
  benches: Object.fromEntries(
    BENCHES.map((b) => [
      b.name,
      {
        ran: Boolean(runs[b.name]),
        exit: runs[b.name]?.code,
        seconds: runs[b.name]?.seconds,
        json: b.json,
        dataDate: data[b.name]?.data?.date,
        stale: data[b.name]?.stale ?? false,
      },
    ]),
  ),
  targets: {
    gemm: 'n = 1024: ≥ 90% of the SIMD128 peak measured in the same run on one thread; 2 threads ≥ 1.8× one',
    mlpTraining:
      '≥ 10× tfjs-backend-wasm samples/s (BENCHMARKS.md: ≥ 2× @jax-js/jax) with equal test accuracy after one epoch',
    cnnTraining: '≥ 30× convnetjs',
    cnnForward: '≥ 2× tfjs-backend-wasm',
    mlpInference: 'batch 1024: ≥ 2× tfjs-backend-wasm',
    memory:
      'flat across 10,000 steps; peak ≤ 1.5× (parameters + optimizer state + one batch of activations and gradients)',
  },
  rows: rows.map(({ text, ...r }) => r),
  table: lines.join('\n'),
};
writeFileSync(join(results, `summary${sfx}.json`), `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(join(results, `summary${sfx}.md`), `${header}\n\n${lines.join('\n')}\n`);
console.log(`\nwrote bench/results/summary${sfx}.json and summary${sfx}.md`);
const failed = Object.values(runs).filter((r) => r.code !== 0);
if (failed.length) {
  console.log(`benches that failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}

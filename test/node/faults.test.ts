/**
 * Faults → nothing lost (RELIABILITY.md, "Faults"):
 *
 * - NaN in the loss mid-fit: fit stops with NonFiniteLossError (or cleanly with terminateOnNaN) and
 *   the model holds exactly the weights it had before the bad batch (getWeights, bit for bit), also
 *   with the optimizer state: the next finite step equals the step of a model that never saw it.
 * - wasm memory exhausted: a request over the runtime's maximum throws OutOfMemoryError carrying
 *   the bytes requested, leaks nothing, and the runtime keeps working for normal-size work
 *   (tensors, ops, a model trained to the same bits as on a fresh runtime).
 * - A worker terminated mid-epoch (worker_threads, backupAndRestore to files) and resumed in a fresh
 *   worker ends bit-equal to an uninterrupted run, redoing at most one backup interval.
 *
 * Not duplicated here (already tested): a dead worker rejects pending calls with a WorkerError
 * (trainer.test.ts "terminate() rejects a pending fit…" and "a worker that exits while a call is
 * pending…", trainer-suite.test.ts for Deno/Chromium); a kill during a checkpoint write leaves the
 * previous checkpoint loadable (checkpoint.test.ts, crashes injected at every step of a write);
 * SIGKILL of the CLI then --resume (cli.test.ts); backupAndRestore exact resume (checkpoint.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

const N = 48;
const BATCH = 8;
const BAD_BATCH = 3;

beforeAll(async () => {
  await wg.ready();
});

/** 48 samples of 5 features → 2 targets; sample rows of batch `bad` (epoch order) get a NaN. */
function dataset(bad?: number) {
  const x = new Float32Array(N * 5);
  const y = new Float32Array(N * 2);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 5; j++) x[i * 5 + j] = Math.sin(i * 0.7 + j);
    y[i * 2] = Math.cos(i);
    y[i * 2 + 1] = Math.sin(i * 0.3);
  }
  if (bad !== undefined) x[(bad * BATCH + 2) * 5 + 1] = Number.NaN;
  return { x: wg.tensor(x, [N, 5]), y: wg.tensor(y, [N, 2]) };
}

function makeModel(rt?: wg.Runtime) {
  wg.setSeed(77);
  const m = wg.sequential([
    wg.layers.dense({ units: 6, inputShape: [5], activation: 'tanh' }),
    wg.layers.dense({ units: 2 }),
  ]);
  m.build(rt);
  m.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
  return m;
}

const bits = (ts: wg.Tensor[]): number[][] => {
  const out = ts.map((t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)));
  wg.dispose(ts);
  return out;
};

describe('NaN injected into the loss mid-fit', () => {
  it('fit throws NonFiniteLossError naming the batch; the weights are those before the bad batch', async () => {
    const model = makeModel();
    const { x, y } = dataset(BAD_BATCH);
    let before: number[][] = [];
    const snapshot: wg.Callback = {
      onBatchBegin: (b) => {
        if (b === BAD_BATCH) before = bits(model.getWeights());
      },
    };
    const err = await model.fit(x, y, { epochs: 2, batchSize: BATCH, shuffle: false, callbacks: [snapshot] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(wg.NonFiniteLossError);
    expect((err as Error).message).toMatch(/epoch 0, batch 3/);
    expect(Number.isNaN((err as wg.NonFiniteLossError).loss)).toBe(true);
    expect(before.length).toBe(4);
    expect(bits(model.getWeights())).toEqual(before);
    for (const w of bits(model.getWeights())) expect(w.every((v) => (v & 0x7f800000) !== 0x7f800000)).toBe(true);
    wg.dispose([x, y]);
  });

  it('terminateOnNaN stops cleanly with the same weights, and training on clean data continues as if the bad batch never ran', async () => {
    const model = makeModel();
    const { x, y } = dataset(BAD_BATCH);
    let before: number[][] = [];
    const snapshot: wg.Callback = {
      onBatchBegin: (b) => {
        if (b === BAD_BATCH) before = bits(model.getWeights());
      },
    };
    const h = await model.fit(x, y, {
      epochs: 3,
      batchSize: BATCH,
      shuffle: false,
      callbacks: [snapshot, wg.callbacks.terminateOnNaN()],
    });
    expect(h.epoch.length).toBe(1);
    expect(bits(model.getWeights())).toEqual(before);
    // The same model trained on the first 3 batches only: identical weights and optimizer state,
    // so one more clean step gives identical bits on both.
    const ref = makeModel();
    const clean = dataset();
    const first = [
      wg.slice(clean.x, [0, 0], [BAD_BATCH * BATCH, 5]),
      wg.slice(clean.y, [0, 0], [BAD_BATCH * BATCH, 2]),
    ];
    await ref.fit(first[0] as wg.Tensor, first[1] as wg.Tensor, { epochs: 1, batchSize: BATCH, shuffle: false });
    expect(bits(ref.getWeights())).toEqual(before);
    const step = [wg.slice(clean.x, [0, 0], [BATCH, 5]), wg.slice(clean.y, [0, 0], [BATCH, 2])];
    model.trainOnBatch(step[0] as wg.Tensor, step[1] as wg.Tensor);
    ref.trainOnBatch(step[0] as wg.Tensor, step[1] as wg.Tensor);
    expect(bits(model.getWeights())).toEqual(bits(ref.getWeights()));
    wg.dispose([x, y, clean.x, clean.y, ...first, ...step]);
  });

  it('trainOnBatch and lossAndGradients with a NaN target throw and leave the weights untouched', () => {
    const model = makeModel();
    const x = wg.ones([4, 5]);
    const y = wg.tensor([1, 2, Number.POSITIVE_INFINITY, 4, 5, 6, 7, 8], [4, 2]);
    const before = bits(model.getWeights());
    expect(() => model.trainOnBatch(x, y)).toThrow(wg.NonFiniteLossError);
    expect(() => model.lossAndGradients(x, y)).toThrow(wg.NonFiniteLossError);
    expect(bits(model.getWeights())).toEqual(before);
    wg.dispose([x, y]);
  });
});

describe('wasm memory exhausted', () => {
  it('a request over the maximum throws OutOfMemoryError with the bytes requested; the runtime keeps working', async () => {
    const max = 32 * 1024 * 1024;
    const rt = await wg.createRuntime({ maxMemoryBytes: max });
    const live = wg.memory().numTensors;
    const before = rt.allocator.stats?.() ?? null;
    const elements = 16 * 1024 * 1024; // 64 MiB of f32
    const err = (() => {
      try {
        wg.withRuntime(rt, () => wg.zeros([elements]));
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(wg.OutOfMemoryError);
    expect((err as wg.OutOfMemoryError).bytes).toBeGreaterThanOrEqual(4 * elements);
    expect((err as Error).message).toMatch(new RegExp(`${(err as wg.OutOfMemoryError).bytes} bytes`));
    expect(wg.memory().numTensors).toBe(live);
    if (before) expect(rt.allocator.stats?.()).toEqual(before);
    // Many allocations that together exceed the maximum: the one that does not fit throws, the
    // others are freed by tidy, and nothing leaks.
    const chunk = 1024 * 1024; // 4 MiB each
    expect(() =>
      wg.withRuntime(rt, () =>
        wg.tidy(() => {
          for (let i = 0; i < 16; i++) wg.fill([chunk], i);
        }),
      ),
    ).toThrow(wg.OutOfMemoryError);
    expect(wg.memory().numTensors).toBe(live);
    // Normal-size work still runs and gives the same bits as on a fresh runtime.
    const fresh = await wg.createRuntime({ maxMemoryBytes: max });
    const train = async (r: wg.Runtime) => {
      const model = makeModel(r);
      const { x, y } = wg.withRuntime(r, () => dataset());
      await wg.withRuntime(r, () => model.fit(x, y, { epochs: 2, batchSize: BATCH, shuffle: false }));
      const out = bits(wg.withRuntime(r, () => model.getWeights()));
      wg.dispose([x, y]);
      return out;
    };
    expect(await train(rt)).toEqual(await train(fresh));
    wg.withRuntime(rt, () => {
      const s = wg.tidy(() => wg.sum(wg.matMul(wg.ones([64, 64]), wg.ones([64, 64]))).dataSync()[0]);
      expect(s).toBe(64 * 64 * 64);
    });
  });

  it('a size past the wasm32 address space is a typed error, not a RangeError or a trap', async () => {
    const rt = await wg.createRuntime({ maxMemoryBytes: 16 * 1024 * 1024 });
    for (const shape of [[2 ** 31], [65536, 65536], [2 ** 20, 2 ** 20, 4]]) {
      expect(() => wg.withRuntime(rt, () => wg.zeros(shape)), JSON.stringify(shape)).toThrow(wg.WasmgradError);
    }
    expect(wg.withRuntime(rt, () => wg.tidy(() => wg.ones([3]).dataSync()[2]))).toBe(1);
  });
});

describe('faults-worker-resume: a worker terminated mid-epoch, resumed in a fresh worker', () => {
  // Worker callbacks do not cross wg.worker.spawn (its fit takes progress events, not callbacks),
  // so test/shared/resume-worker.mjs drives backupAndRestore inside a Node worker_threads worker
  // with the library from dist/ (build it first, as for worker.test.ts and trainer.test.ts).
  const script = new URL('../shared/resume-worker.mjs', import.meta.url);
  interface Done {
    done: true;
    bits: number[][];
    restoredFrom: { epoch: number; batch: number; step: number; seed: number } | null;
    batches: number;
  }

  /** Runs the script; `killAt(msg)` true terminates the worker at that batch message (→ null). */
  function run(dir: string, killAt?: (m: { epoch: number; batch: number; step: number }) => boolean) {
    return new Promise<Done | null>((resolve, reject) => {
      const w = new Worker(script, { workerData: { dir, slowMs: killAt ? 15 : 0 } });
      let killed = false;
      w.on('message', (m: Done | { epoch: number; batch: number; step: number }) => {
        if ('done' in m) resolve(m);
        else if (killAt?.(m) && !killed) {
          killed = true;
          void w.terminate();
        }
      });
      w.on('error', reject);
      w.on('exit', () => {
        if (killed) resolve(null);
      });
    });
  }

  it('the resumed run ends bit-equal to an uninterrupted one, redoing at most one backup interval', async () => {
    const dist = new URL('../../packages/wasmgrad/dist/index.js', import.meta.url);
    if (!existsSync(dist))
      throw new Error('packages/wasmgrad/dist is missing: build it first (tsc -p packages/wasmgrad)');
    const root = mkdtempSync(join(tmpdir(), 'wg-faults-'));
    try {
      const want = await run(join(root, 'clean'));
      expect(want?.batches).toBe(20);
      // Terminated after epoch 1's batch 2 (mid-epoch; backups every 2 batches).
      let lastStep = 0;
      const cut = await run(join(root, 'cut'), (m) => {
        lastStep = m.step;
        return m.epoch === 1 && m.batch === 2;
      });
      expect(cut).toBeNull();
      expect(readdirSync(join(root, 'cut')).length).toBeGreaterThan(0);
      const resumed = await run(join(root, 'cut'));
      expect(resumed?.restoredFrom).not.toBeNull();
      const from = resumed?.restoredFrom?.step ?? 0;
      expect(from).toBeGreaterThan(0);
      expect(lastStep - from).toBeLessThanOrEqual(2);
      expect(resumed?.batches).toBe(20 - from);
      expect(resumed?.bits).toEqual(want?.bits);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

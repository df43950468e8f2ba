/**
 * Checkpoints: the file format (round trip; truncations, bit flips and forged payloads → FormatError),
 * optimizer state export/import, atomic generations on disk with crashes injected at every step of a
 * write (the previous checkpoint stays loadable), modelCheckpoint (saveBestOnly keeps the best,
 * filename templates), and exact resume with backupAndRestore: a run interrupted mid-epoch or at an
 * epoch boundary, then resumed by a fresh model, ends bit-equal to an uninterrupted run (Adam,
 * dropout, shuffle).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import {
  type CheckpointFileOps,
  checkpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
  FileCheckpointStore,
  type IndexedDbApi,
  IndexedDbCheckpointStore,
  nodeCheckpointFileOps,
} from '../../packages/wasmgrad/src/io/checkpoint.js';
import { encodeSafetensors } from '../../packages/wasmgrad/src/io/safetensors.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'wg-ckpt-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const N = 40;
/** A small classification set: 40 samples of 6 features, 3 classes (one-hot). */
function dataset() {
  const x = new Float32Array(N * 6);
  const y = new Float32Array(N * 3);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 6; j++) x[i * 6 + j] = Math.sin(i * 1.7 + j * 0.9) + 0.1 * j;
    y[i * 3 + (i % 3)] = 1;
  }
  return { x: wg.tensor(x, [N, 6]), y: wg.tensor(y, [N, 3]) };
}

/** Dense → dropout → dense softmax, Adam, fixed init seed. */
async function makeModel(learningRate: number | wg.LearningRateSchedule = 0.01) {
  await wg.ready();
  wg.setSeed(1234);
  const model = wg.sequential([
    wg.layers.dense({ units: 8, inputShape: [6], activation: 'relu' }),
    wg.layers.dropout({ rate: 0.3 }),
    wg.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: wg.optimizers.adam({ learningRate }), loss: 'categoricalCrossentropy' });
  return model;
}

const bits = (m: wg.Sequential) => m.getWeights().map((t) => Array.from(new Uint32Array(t.dataSync().slice().buffer)));

describe('checkpoint file format', () => {
  async function sample() {
    const model = await makeModel();
    const { x, y } = dataset();
    await model.fit(x, y, { epochs: 1, batchSize: 8, seed: 5 });
    const { captureCheckpoint } = await import('../../packages/wasmgrad/src/io/checkpoint.js');
    const ckpt = captureCheckpoint(model, { cursor: { epoch: 1, batch: 2, step: 7, seed: 5 }, logs: { loss: 0.5 } });
    return { model, ckpt, bytes: encodeCheckpoint(ckpt) };
  }

  it('round-trips weights, optimizer state, cursor and logs', async () => {
    const { model, ckpt, bytes } = await sample();
    const back = decodeCheckpoint(bytes, 'x.wgckpt');
    expect(back.cursor).toEqual({ epoch: 1, batch: 2, step: 7, seed: 5 });
    expect(back.logs).toEqual({ loss: 0.5 });
    expect(back.weights.map((w) => [w.name, w.shape])).toEqual(model.weights.map((w) => [w.name, [...w.shape]]));
    back.weights.forEach((w, i) => {
      expect(Array.from(w.data)).toEqual(Array.from(ckpt.weights[i]?.data ?? []));
    });
    expect(back.optimizer?.className).toBe('Adam');
    expect(back.optimizer?.state.iterations).toBe(model.optimizer.iterations);
    expect(back.optimizer?.state.slots.length).toBe(2);
    back.optimizer?.state.slots.forEach((s, i) => {
      expect(Array.from(s)).toEqual(Array.from(ckpt.optimizer?.state.slots[i] ?? []));
    });
  });

  it('every truncation and every sampled bit flip is a FormatError naming the file', async () => {
    const { bytes } = await sample();
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeCheckpoint(bytes.subarray(0, n), 'cut.wgckpt')).toThrow(wg.FormatError);
    }
    for (let i = 0; i < bytes.length; i += 7) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ (1 << (i % 8));
      let err: unknown;
      try {
        decodeCheckpoint(bad, 'flip.wgckpt');
      } catch (e) {
        err = e;
      }
      expect(err, `flip at byte ${i}`).toBeInstanceOf(wg.FormatError);
      expect((err as Error).message).toMatch(/^flip\.wgckpt: /);
    }
    const extra = new Uint8Array(bytes.length + 1);
    extra.set(bytes);
    expect(() => decodeCheckpoint(extra, 'long.wgckpt')).toThrow(/truncated|header says/);
  });

  it('a payload with a valid CRC but bad contents is refused (forged metadata, missing tensors, prototype keys)', () => {
    const wrap = (payload: Uint8Array) => {
      const out = new Uint8Array(16 + payload.length);
      out.set(new TextEncoder().encode('WGCKPT01'));
      const view = new DataView(out.buffer);
      // Reuse the module's CRC through a real encode of an equal payload: recompute by encoding.
      out.set(payload, 16);
      view.setUint32(12, payload.length, true);
      view.setUint32(8, crc32(payload), true);
      return out;
    };
    const t = (name: string) => ({ name, shape: [2], data: new Float32Array([1, 2]) });
    const meta = (m: unknown) => ({ 'wasmgrad.checkpoint': JSON.stringify(m) });
    const base = {
      format: 'wasmgrad-checkpoint',
      version: 1,
      weights: ['a'],
      optimizer: null,
      cursor: null,
      logs: null,
    };
    const cases: [Uint8Array, RegExp][] = [
      [encodeSafetensors([t('weights/a')], {}), /metadata 'wasmgrad.checkpoint' is missing/],
      [encodeSafetensors([t('weights/a')], meta({ ...base, version: 2 })), /version: 1/],
      [encodeSafetensors([], meta(base)), /tensor 'weights\/a' is missing/],
      [encodeSafetensors([t('weights/a'), t('weights/b')], meta(base)), /1 unexpected tensors/],
      [
        encodeSafetensors([t('weights/a')], meta({ ...base, cursor: { epoch: -1, batch: 0, step: 0, seed: 0 } })),
        /cursor/,
      ],
      ...[0, 2.5, '8'].map((v): [Uint8Array, RegExp] => [
        encodeSafetensors(
          [t('weights/a')],
          meta({ ...base, cursor: { epoch: 0, batch: 0, step: 0, seed: 0, batchSize: v } }),
        ),
        /cursor batchSize must be a positive integer/,
      ]),
      [encodeSafetensors([t('weights/a')], meta({ ...base, optimizer: { className: 'Adam', slots: 1 } })), /optimizer/],
      [
        encodeSafetensors([t('weights/a')], meta({ ...base, weights: ['__proto__'] })),
        /'weights\/__proto__' is missing/,
      ],
    ];
    for (const [payload, message] of cases) {
      expect(() => decodeCheckpoint(wrap(payload), 'forged')).toThrow(wg.FormatError);
      expect(() => decodeCheckpoint(wrap(payload), 'forged')).toThrow(message);
    }
    expect(Object.prototype).not.toHaveProperty('a');
  });
});

/** CRC-32 for the forged-file test (the format's own is internal). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('optimizer state', () => {
  it('getState/setState round-trip and validate class, count and sizes before writing', async () => {
    const model = await makeModel();
    const { x, y } = dataset();
    await model.fit(x, y, { epochs: 1, batchSize: 8, seed: 3 });
    const state = model.optimizer.getState();
    expect(state.iterations).toBe(5);
    const other = await makeModel();
    other.optimizer.setState(state);
    expect(other.optimizer.getState()).toEqual(state);
    const bad = (s: Partial<wg.Optimizer extends never ? never : typeof state>) => () =>
      other.optimizer.setState({ ...state, ...s } as typeof state);
    expect(bad({ className: 'SGD' })).toThrow(/state of a SGD optimizer cannot be loaded into Adam/);
    expect(bad({ iterations: -1 })).toThrow(/iterations must be an integer ≥ 0, got -1/);
    expect(bad({ slots: [state.slots[0] as Float32Array] })).toThrow(/expected 2 state buffers, got 1/);
    expect(bad({ slots: [state.slots[0] as Float32Array, new Float32Array(3)] })).toThrow(
      /state buffer 1 must be a Float32Array of \d+ values, got 3/,
    );
    expect(other.optimizer.getState()).toEqual(state);
  });

  it('getWeights/setWeights use tfjs names (iter first, then the state buffers) and round-trip', async () => {
    const model = await makeModel();
    const { x, y } = dataset();
    await model.fit(x, y, { epochs: 1, batchSize: 8, seed: 3 });
    const weights = model.optimizer.getWeights();
    // One value per slot of the trainable block (83 parameters, laid out with alignment padding).
    const n = model.optimizer.getState().slots[0]?.length as number;
    expect(n).toBeGreaterThanOrEqual(83);
    expect(weights.map((w) => [w.name, w.tensor.shape])).toEqual([
      ['iter', []],
      ['Adam/0', [n]],
      ['Adam/1', [n]],
    ]);
    expect(weights[0]?.tensor.dataSync()[0]).toBe(5);
    const other = await makeModel();
    other.optimizer.setWeights(weights);
    expect(other.optimizer.getState()).toEqual(model.optimizer.getState());
    expect(() => other.optimizer.setWeights(weights.slice(1))).toThrow(/expects \[\{ name: 'iter'/);
    expect(() => other.optimizer.setWeights(weights.slice(0, 2))).toThrow(/expected 2 state buffers, got 1/);
    for (const w of weights) w.tensor.dispose();
  });
});

/** File operations that fail at the `failAt`-th call of `kind`, after writing half a file for 'write'. */
async function crashingOps(kind: keyof CheckpointFileOps, failAt: number): Promise<CheckpointFileOps> {
  const real = await nodeCheckpointFileOps();
  let calls = 0;
  const ops = { ...real };
  (ops as Record<string, unknown>)[kind] = async (...args: unknown[]) => {
    calls++;
    if (calls === failAt) {
      if (kind === 'write') writeFileSync(args[0] as string, (args[1] as Uint8Array).subarray(0, 100));
      throw new Error(`injected crash in ${kind}`);
    }
    return (real[kind] as (...a: unknown[]) => unknown)(...args);
  };
  return ops;
}

describe('atomic generations on disk', () => {
  it('a crash at any step of a write leaves the previous checkpoint loadable', async () => {
    const model = await makeModel();
    const { x, y } = dataset();
    const { captureCheckpoint } = await import('../../packages/wasmgrad/src/io/checkpoint.js');
    const first = encodeCheckpoint(captureCheckpoint(model, { logs: { gen: 1 } }));
    await model.fit(x, y, { epochs: 1, batchSize: 8, seed: 3 });
    const second = encodeCheckpoint(captureCheckpoint(model, { logs: { gen: 2 } }));
    for (const [kind, failAt] of [
      ['write', 1],
      ['rename', 1], // current → .prev
      ['rename', 2], // temp → current: only .prev is left
      ['syncDir', 1],
    ] as const) {
      const dir = tempDir();
      const path = join(dir, 'run.wgckpt');
      await new FileCheckpointStore(path).write(first);
      const store = new FileCheckpointStore(path, await crashingOps(kind, failAt));
      await expect(store.write(second), `${kind} #${failAt}`).rejects.toThrow(/injected crash/);
      const loaded = await wg.loadCheckpoint(path);
      // A failed syncDir comes after both renames: the new generation is in place.
      expect(loaded?.logs?.gen, `${kind} #${failAt}`).toBe(kind === 'syncDir' ? 2 : 1);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('keeps the previous generation next to the current one; a corrupt current file is a FormatError', async () => {
    const model = await makeModel();
    const dir = tempDir();
    const path = join(dir, 'gen.wgckpt');
    for (const gen of [1, 2, 3]) await wg.saveCheckpoint(path, { weights: [], logs: { gen } });
    expect(decodeCheckpoint(readFileSync(`${path}.prev`)).logs?.gen).toBe(2);
    expect((await wg.loadCheckpoint(path))?.logs?.gen).toBe(3);
    writeFileSync(path, readFileSync(path).subarray(0, 30));
    await expect(wg.loadCheckpoint(path)).rejects.toThrow(wg.FormatError);
    await expect(wg.loadCheckpoint(join(dir, 'none.wgckpt'))).resolves.toBeUndefined();
    model.dispose();
  });
});

describe('IndexedDB store (browsers)', () => {
  /** The io/indexeddb.ts contract in memory: one record per name with current and previous generations. */
  function fakeIdb(): IndexedDbApi & { records: Map<string, { current: Uint8Array; previous?: Uint8Array }> } {
    const records = new Map<string, { current: Uint8Array; previous?: Uint8Array }>();
    const key = (store: string, name: string) => `${store}/${name}`;
    return {
      records,
      save: async (name, bytes, store) => {
        const old = records.get(key(store, name));
        records.set(key(store, name), { current: bytes.slice(), ...(old ? { previous: old.current } : {}) });
      },
      load: async (name, generation, store) => {
        const r = records.get(key(store, name));
        const bytes = generation === 'previous' ? r?.previous : r?.current;
        if (!bytes) throw new wg.ValueError('load', `nothing under ${name}`);
        return { bytes };
      },
      list: async (store) =>
        [...records.keys()].filter((k) => k.startsWith(`${store}/`)).map((k) => ({ name: k.slice(store.length + 1) })),
      remove: async (name, store) => {
        records.delete(key(store, name));
      },
    };
  }

  it('keeps generations in one record, resumes a backup from it, and is chosen by indexeddb:// names', async () => {
    const idb = fakeIdb();
    const store = new IndexedDbCheckpointStore('run-1', idb);
    expect(await store.read()).toBeUndefined();
    await wg.saveCheckpoint(store, { weights: [], logs: { gen: 1 } });
    await wg.saveCheckpoint(store, { weights: [], logs: { gen: 2 } });
    expect((await wg.loadCheckpoint(store))?.logs?.gen).toBe(2);
    expect(decodeCheckpoint(idb.records.get('checkpoints/run-1')?.previous as Uint8Array).logs?.gen).toBe(1);
    await store.remove();
    expect(idb.records.size).toBe(0);
    await store.remove(); // removing nothing is fine
    expect(checkpointStore('indexeddb://x')).toBeInstanceOf(IndexedDbCheckpointStore);
    expect(wg.callbacks.backupAndRestore({ backupDir: 'indexeddb://y' }).store.name).toBe('indexeddb://y');
    // Node has no IndexedDB: a typed error, not a crash.
    await expect(wg.loadCheckpoint('indexeddb://x')).rejects.toThrow(/IndexedDB is not available/);
  });
});

describe('modelCheckpoint', () => {
  it('saveBestOnly keeps the checkpoint of the best epoch; templates name files per epoch', async () => {
    const model = await makeModel(0.05);
    const { x, y } = dataset();
    const best = new wg.MemoryCheckpointStore();
    const losses: number[] = [];
    const bestWeights: number[][][] = [];
    const dir = tempDir();
    await model.fit(x, y, {
      epochs: 6,
      batchSize: 8,
      seed: 9,
      validationSplit: 0.25,
      callbacks: [
        {
          onEpochEnd: (_e, logs) => {
            const v = logs?.val_loss as number;
            if (v < Math.min(...losses)) bestWeights.push(model.getWeights().map((t) => Array.from(t.dataSync())));
            if (losses.length === 0) bestWeights.push(model.getWeights().map((t) => Array.from(t.dataSync())));
            losses.push(v);
          },
        },
        wg.callbacks.modelCheckpoint({ filepath: best, saveBestOnly: true }),
        wg.callbacks.modelCheckpoint({
          filepath: join(dir, 'ep{epoch:02d}-{val_loss:.3f}.wgckpt'),
          saveWeightsOnly: true,
        }),
      ],
    });
    const saved = await wg.loadCheckpoint(best);
    expect(saved?.logs?.val_loss).toBe(Math.min(...losses));
    expect(saved?.weights.map((w) => Array.from(w.data))).toEqual(bestWeights[bestWeights.length - 1]);
    expect(saved?.optimizer?.className).toBe('Adam');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(losses.map((v, i) => `ep0${i + 1}-${v.toFixed(3)}.wgckpt`));
    const weightsOnly = await wg.loadCheckpoint(join(dir, files[0] as string));
    expect(weightsOnly?.optimizer).toBeUndefined();
  });

  it('an integer saveFreq saves every N batches (counted across epochs) with the batch logs', async () => {
    const model = await makeModel();
    const { x, y } = dataset();
    const dir = tempDir();
    const cb = wg.callbacks.modelCheckpoint({ filepath: join(dir, 'e{epoch}-b{batch}.wgckpt'), saveFreq: 3 });
    await model.fit(x, y, { epochs: 2, batchSize: 8, seed: 2, callbacks: [cb] });
    // 5 batches per epoch: global batches 3, 6, 9 → epoch 1 batch 2, epoch 2 batches 0 and 3.
    expect(cb.saved.map((p) => p.slice(dir.length + 1))).toEqual(['e1-b2.wgckpt', 'e2-b0.wgckpt', 'e2-b3.wgckpt']);
    const last = await wg.loadCheckpoint(join(dir, 'e2-b3.wgckpt'));
    expect(last?.cursor).toEqual({ epoch: 1, batch: 4, step: 9, seed: 2, batchSize: 8, samples: 40 });
    expect(Number.isFinite(last?.logs?.loss)).toBe(true);
  });

  it('bad options and unknown template keys → ValueError', async () => {
    expect(() => wg.callbacks.modelCheckpoint({ filepath: '' })).toThrow(wg.ValueError);
    expect(() => wg.callbacks.modelCheckpoint({ filepath: 'a', saveFreq: 0 })).toThrow(
      /saveFreq must be 'epoch' or an integer > 0/,
    );
    expect(() => wg.callbacks.modelCheckpoint({ filepath: 'a', mode: 'up' as never })).toThrow(/mode must be/);
    expect(() => wg.callbacks.backupAndRestore({ backupDir: '' })).toThrow(wg.ValueError);
    expect(() => wg.callbacks.formatCheckpointPath('x{acc}', { loss: 1 })).toThrow(
      /names \{acc\}, which is not logged/,
    );
    expect(wg.callbacks.formatCheckpointPath('e{epoch:03d}-{loss:.2f}', { epoch: 7, loss: 0.12345 })).toBe('e007-0.12');
  });
});

describe('backupAndRestore: exact resume', () => {
  const EPOCHS = 3;
  const BATCH = 8; // 40 samples: 5 batches per epoch, 15 steps in all
  const fitArgs = { epochs: EPOCHS, batchSize: BATCH, shuffle: true };

  async function uninterrupted(learningRate?: number | wg.LearningRateSchedule) {
    const model = await makeModel(learningRate);
    const { x, y } = dataset();
    await model.fit(x, y, { ...fitArgs, seed: 77 });
    return bits(model);
  }

  /** A fresh model (same architecture and layer seeds) whose weights are scrambled: only a restore can fix them. */
  async function freshModel(learningRate?: number | wg.LearningRateSchedule) {
    const model = await makeModel(learningRate);
    model.setWeights(model.getWeights().map((t) => wg.fill(t.shape, 0.123)));
    return model;
  }

  /** Throws from onBatchEnd once fit reaches (epoch, batch): a crash after that batch's update. */
  const crashAt = (epoch: number, batch: number): wg.Callback => {
    let e = 0;
    return {
      onEpochBegin: (ep) => {
        e = ep;
      },
      onBatchEnd: (b) => {
        if (e === epoch && b === batch) throw new Error('simulated crash');
      },
    };
  };

  it('a crash mid-epoch, resumed from the last batch backup by a fresh model, ends bit-equal (Adam, dropout, shuffle)', async () => {
    const want = await uninterrupted();
    const store = new wg.MemoryCheckpointStore();
    const first = await makeModel();
    const { x, y } = dataset();
    const backup = () => wg.callbacks.backupAndRestore({ backupDir: store, saveFreq: 2 });
    await expect(first.fit(x, y, { ...fitArgs, seed: 77, callbacks: [backup(), crashAt(1, 2)] })).rejects.toThrow(
      'simulated crash',
    );
    // Backups every 2 batches counted across epochs (reset at epoch ends, which are saved too): the last
    // before the crash after epoch 1's batch 2 is after its batch 1.
    expect((await wg.loadCheckpoint(store))?.cursor).toEqual({
      epoch: 1,
      batch: 2,
      step: 7,
      seed: 77,
      batchSize: 8,
      samples: 40,
    });
    const resumed = await freshModel();
    const cb = backup();
    let batchesRun = 0;
    // No seed: the resumed fit takes the checkpoint's.
    await resumed.fit(x, y, { ...fitArgs, callbacks: [cb, { onBatchEnd: () => void batchesRun++ }] });
    expect(cb.restoredFrom).toEqual({ epoch: 1, batch: 2, step: 7, seed: 77, batchSize: 8, samples: 40 });
    expect(batchesRun).toBe(15 - 7);
    expect(bits(resumed)).toEqual(want);
    expect(resumed.optimizer.iterations).toBe(15);
    expect(store.current).toBeUndefined(); // deleteCheckpoint after a normal end
  });

  it('stopTraining at an epoch boundary, then a resume from the epoch backup on disk, ends bit-equal', async () => {
    const want = await uninterrupted();
    const dir = tempDir();
    const { x, y } = dataset();
    const first = await makeModel();
    const stopAfterEpoch0: wg.Callback = {
      onEpochEnd: (e) => {
        if (e === 0) first.stopTraining = true;
      },
    };
    const args = { backupDir: dir, deleteCheckpoint: false };
    await first.fit(x, y, { ...fitArgs, seed: 77, callbacks: [wg.callbacks.backupAndRestore(args), stopAfterEpoch0] });
    expect((await wg.loadCheckpoint(join(dir, 'backup.wgckpt')))?.cursor).toEqual({
      epoch: 1,
      batch: 0,
      step: 5,
      seed: 77,
      batchSize: 8,
      samples: 40,
    });
    const resumed = await freshModel();
    const cb = wg.callbacks.backupAndRestore(args);
    const history = await resumed.fit(x, y, { ...fitArgs, seed: 5, callbacks: [cb] });
    expect(history.epoch).toEqual([1, 2]);
    expect(bits(resumed)).toEqual(want);
  });

  it('a resume with another batch size or another training set is a ValueError naming both, before anything is restored', async () => {
    const dir = tempDir();
    const { x, y } = dataset();
    const first = await makeModel();
    const stop: wg.Callback = {
      onBatchEnd: (b) => {
        if (b === 1) first.stopTraining = true;
      },
    };
    const args = { backupDir: dir, deleteCheckpoint: false };
    await first.fit(x, y, { ...fitArgs, seed: 77, callbacks: [wg.callbacks.backupAndRestore(args), stop] });
    const resumed = await freshModel();
    const before = bits(resumed);
    const batch = resumed.fit(x, y, { ...fitArgs, batchSize: 4, callbacks: [wg.callbacks.backupAndRestore(args)] });
    await expect(batch).rejects.toThrow(/batchSize 8, this fit has batchSize 4/);
    const fewer = resumed.fit(x, y, {
      ...fitArgs,
      validationSplit: 0.2,
      callbacks: [wg.callbacks.backupAndRestore(args)],
    });
    await expect(fewer).rejects.toThrow(/over 40 training samples, this fit has 32/);
    await expect(fewer).rejects.toBeInstanceOf(wg.ValueError);
    // Refused before the backup was restored: the model keeps its own weights.
    expect(bits(resumed)).toEqual(before);
  });

  it('stopTraining mid-epoch is backed up at its real position; a cosine schedule resumes at the right step', async () => {
    const schedule = () =>
      wg.schedules.cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 0.02, warmupSteps: 4 });
    const want = await uninterrupted(schedule());
    const store = new wg.MemoryCheckpointStore();
    const { x, y } = dataset();
    const first = await makeModel(schedule());
    const stop: wg.Callback = {
      onBatchEnd: (b) => {
        if (first.optimizer.iterations === 8) first.stopTraining = true;
        void b;
      },
    };
    const args = { backupDir: store, deleteCheckpoint: false };
    await first.fit(x, y, { ...fitArgs, seed: 77, callbacks: [wg.callbacks.backupAndRestore(args), stop] });
    expect((await wg.loadCheckpoint(store))?.cursor).toEqual({
      epoch: 1,
      batch: 3,
      step: 8,
      seed: 77,
      batchSize: 8,
      samples: 40,
    });
    const resumed = await freshModel(schedule());
    await resumed.fit(x, y, { ...fitArgs, callbacks: [wg.callbacks.backupAndRestore(args)] });
    expect(bits(resumed)).toEqual(want);
    expect(resumed.optimizer.learningRate).toBe(schedule().at(15));
  });

  it('a crash inside a backup write fails fit; the previous generation resumes bit-equal', async () => {
    const want = await uninterrupted();
    const path = join(tempDir(), 'backup.wgckpt');
    const { x, y } = dataset();
    const first = await makeModel();
    // Writes: after epoch 0's batches 2 and 4 (global counts), epoch 0's end, epoch 1's batch 2 — which crashes
    // (the temporary file is half written when the process "dies"; here the write throws).
    const crashing = new FileCheckpointStore(path, await crashingOps('write', 4));
    const backup = wg.callbacks.backupAndRestore({ backupDir: crashing, saveFreq: 2 });
    await expect(first.fit(x, y, { ...fitArgs, seed: 77, callbacks: [backup] })).rejects.toThrow(/injected crash/);
    expect((await wg.loadCheckpoint(path))?.cursor).toEqual({
      epoch: 1,
      batch: 0,
      step: 5,
      seed: 77,
      batchSize: 8,
      samples: 40,
    });
    const resumed = await freshModel();
    await resumed.fit(x, y, {
      ...fitArgs,
      callbacks: [wg.callbacks.backupAndRestore({ backupDir: new FileCheckpointStore(path) })],
    });
    expect(bits(resumed)).toEqual(want);
  });

  it('without a restore the scrambled fresh model does not match (the comparison can fail)', async () => {
    const want = await uninterrupted();
    const resumed = await freshModel();
    const { x, y } = dataset();
    await resumed.fit(x, y, { ...fitArgs, seed: 77 });
    expect(bits(resumed)).not.toEqual(want);
  });

  it('a backup that does not fit the model, or is damaged, is refused before anything changes', async () => {
    const store = new wg.MemoryCheckpointStore();
    const { x, y } = dataset();
    const first = await makeModel();
    await first.fit(x, y, {
      epochs: 1,
      batchSize: BATCH,
      seed: 1,
      callbacks: [wg.callbacks.backupAndRestore({ backupDir: store, deleteCheckpoint: false })],
    });
    await wg.ready();
    const other = wg.sequential([wg.layers.dense({ units: 3, inputShape: [6], activation: 'softmax' })]);
    other.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const before = bits(other);
    await expect(
      other.fit(x, y, { epochs: 1, callbacks: [wg.callbacks.backupAndRestore({ backupDir: store })] }),
    ).rejects.toThrow(/checkpoint has 4 weights, the model 2/);
    expect(bits(other)).toEqual(before);
    const sgd = await makeModel();
    sgd.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await expect(
      sgd.fit(x, y, { epochs: 1, callbacks: [wg.callbacks.backupAndRestore({ backupDir: store })] }),
    ).rejects.toThrow(/holds Adam state, the model uses SGD/);
    const damaged = store.current as Uint8Array;
    damaged[40] = (damaged[40] as number) ^ 1;
    await expect(
      first.fit(x, y, { epochs: 1, callbacks: [wg.callbacks.backupAndRestore({ backupDir: store })] }),
    ).rejects.toThrow(wg.FormatError);
  });
});

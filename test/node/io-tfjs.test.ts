/**
 * Importing tfjs-layers models: models built and trained with @tensorflow/tfjs-layers (cpu
 * backend), saved through a custom save handler to model.json + weight shards in a temporary
 * directory (the files tfjs's file/http handlers write), then loaded with wg.loadModel(dir) and
 * wg.io.fromTfjs({ modelJSON, weightFiles }). Predictions must match tfjs's own within f32
 * tolerance; unsupported classes and damaged files are FormatErrors naming them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

const TOL = { atol: 2e-5, rtol: 2e-4 };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
beforeAll(async () => {
  await tf.setBackend('cpu');
  await wg.ready();
});

interface Saved {
  modelJSON: Record<string, unknown>;
  weightFiles: Map<string, Uint8Array>;
}

/** Saves a tfjs model to memory as the model.json + shards that tfjs's file handlers write. */
async function saveTfjs(model: tfl.LayersModel, shards = 1): Promise<Saved> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  const data = new Uint8Array(a.weightData as ArrayBuffer);
  // Split the weight bytes into `shards` files (at 4-byte boundaries), as tfjs shards large models.
  const paths: string[] = [];
  const weightFiles = new Map<string, Uint8Array>();
  const step = Math.ceil(data.length / 4 / shards) * 4;
  for (let i = 0; i < shards; i++) {
    const path = `group1-shard${i + 1}of${shards}.bin`;
    paths.push(path);
    weightFiles.set(path, data.slice(i * step, (i + 1) * step));
  }
  const modelJSON = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths, weights: a.weightSpecs }],
  };
  return { modelJSON, weightFiles };
}

async function writeTfjs(saved: Saved): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgrad-tfjs-'));
  dirs.push(dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify(saved.modelJSON));
  for (const [p, bytes] of saved.weightFiles) await writeFile(join(dir, p), bytes);
  return dir;
}

function inputs(shape: number[], seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
}

/** Trains a tfjs model briefly so that weights and moving statistics are far from their initial values. */
async function trainTfjs(model: tfl.Sequential, inShape: number[], classes: number): Promise<void> {
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const n = 16;
  const x = tf.tensor(inputs([n, ...inShape], 5), [n, ...inShape]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % classes),
      'int32',
    ),
    classes,
  );
  await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
}

async function expectSamePredictions(saved: Saved, tfModel: tfl.LayersModel, inShape: number[]) {
  const n = 6;
  const xs = inputs([n, ...inShape], 9);
  const want = Array.from((tfModel.predict(tf.tensor(xs, [n, ...inShape])) as tf.Tensor).dataSync());
  const fromDir = await wg.loadModel(await writeTfjs(saved));
  assertClose(Array.from(fromDir.predict(wg.tensor(xs, [n, ...inShape])).dataSync()), want, TOL);
  const fromMemory = await wg.io.fromTfjs({
    modelJSON: JSON.stringify(saved.modelJSON),
    weightFiles: saved.weightFiles,
  });
  assertClose(Array.from(fromMemory.predict(wg.tensor(xs, [n, ...inShape])).dataSync()), want, TOL);
  return fromDir;
}

describe('tfjs-layers import', () => {
  it('an MLP (Dense, Dropout, Activation, LeakyReLU, L2 regularizer) matches tfjs predictions', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.dense({
          inputShape: [7],
          units: 16,
          activation: 'tanh',
          kernelRegularizer: tfl.regularizers.l2({ l2: 1e-3 }),
        }),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.dense({ units: 8, useBias: false }),
        tfl.layers.leakyReLU({ alpha: 0.1 }),
        tfl.layers.dense({ units: 4, activation: 'relu' }),
        tfl.layers.dense({ units: 3 }),
        tfl.layers.activation({ activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [7], 3);
    const loaded = await expectSamePredictions(await saveTfjs(m), m, [7]);
    const config = loaded.toJSON().config.layers;
    expect(config.map((l) => l.className)).toEqual([
      'Dense',
      'Dropout',
      'Dense',
      'Activation',
      'Dense',
      'Dense',
      'Activation',
    ]);
    expect(config[0]?.config.kernelRegularizer).toMatchObject({ className: 'L1L2', config: { l1: 0, l2: 1e-3 } });
    // The imported model trains and saves like any wasmgrad model.
    expect(loaded.weights.map((w) => w.name)).toEqual(m.weights.map((w) => w.originalName));
  });

  it('a CNN (Conv2D same/valid/strided, BatchNormalization, max/average pooling, Flatten) in 3 shards', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tfl.layers.batchNormalization(),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 5, kernelSize: [2, 3], strides: 2, activation: 'elu' }),
        tfl.layers.averagePooling2d({ poolSize: 1 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [9, 9, 2], 3);
    await expectSamePredictions(await saveTfjs(m, 3), m, [9, 9, 2]);
  });

  it('a GlobalAveragePooling2D head with a Keras-style InputLayer and scoped weight names', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, activation: 'sigmoid' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    const saved = await saveTfjs(m);
    // Rewrite it as tensorflowjs_converter writes Keras models: model_config with an InputLayer,
    // and weight names under a scope.
    const topo = saved.modelJSON.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } };
    const first = topo.config.layers[0]?.config as Record<string, unknown>;
    const input = { class_name: 'InputLayer', config: { batch_input_shape: first.batch_input_shape, name: 'input_1' } };
    delete first.batch_input_shape;
    topo.config.layers.unshift(input as never);
    saved.modelJSON.modelTopology = { keras_version: '2.15.0', backend: 'tensorflow', model_config: topo };
    for (const w of (saved.modelJSON.weightsManifest as { weights: { name: string }[] }[])[0]?.weights ?? []) {
      w.name = `sequential/${w.name}`;
    }
    await expectSamePredictions(saved, m, [6, 6, 3]);
  });

  it('a functional model (tf.model: two branches, concatenate and add) matches tfjs predictions', async () => {
    const input = tfl.input({ shape: [5] });
    const a = tfl.layers.dense({ units: 6, activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
    const b = tfl.layers.dense({ units: 6, activation: 'tanh' }).apply(input) as tfl.SymbolicTensor;
    const c = tfl.layers.dense({ units: 6 }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const joined = tfl.layers.concatenate().apply([sum, c]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(joined) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: out });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const x = tf.tensor(inputs([12, 5], 3), [12, 5]);
    await m.fit(x, tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32'), 3), { epochs: 3, verbose: 0 });
    const loaded = await expectSamePredictions(await saveTfjs(m), m, [5]);
    expect(loaded.toJSON().className).toBe('Functional');
  });

  it('unsupported classes and damaged files are FormatErrors naming the problem', async () => {
    const conv1d = tfl.sequential({
      layers: [tfl.layers.conv1d({ inputShape: [5, 3], filters: 2, kernelSize: 2 }), tfl.layers.dense({ units: 1 })],
    });
    await expect(wg.io.fromTfjs(await saveTfjs(conv1d))).rejects.toThrow(
      /layer 0 'conv1d_Conv1D\d+' has class 'Conv1D', which wasmgrad cannot import; supported: Dense, Conv2D/,
    );
    const bogus = await saveTfjs(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] }));
    (bogus.modelJSON.modelTopology as { class_name: string }).class_name = 'Bogus';
    await expect(wg.io.fromTfjs(bogus)).rejects.toThrow(/model class 'Bogus' cannot be imported/);

    const mlp = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    const good = await saveTfjs(mlp);
    const damaged = (edit: (s: Saved) => void) => {
      const copy: Saved = { modelJSON: structuredClone(good.modelJSON), weightFiles: new Map(good.weightFiles) };
      edit(copy);
      return wg.io.fromTfjs(copy);
    };
    const manifest = (s: Saved) =>
      (s.modelJSON.weightsManifest as { paths: string[]; weights: Record<string, unknown>[] }[])[0] as {
        paths: string[];
        weights: Record<string, unknown>[];
      };
    const shard = 'group1-shard1of1.bin';
    const cut = (n: number) => (s: Saved) =>
      s.weightFiles.set(shard, (s.weightFiles.get(shard) as Uint8Array).subarray(0, n));
    await expect(damaged(cut(28))).rejects.toThrow(/hold 28 bytes, the manifest describes 32/);
    await expect(damaged(cut(20))).rejects.toThrow(/kernel' of shape \[3,2\] needs more than the 20 bytes/);
    await expect(damaged((s) => s.weightFiles.delete(shard))).rejects.toThrow(
      /weight file 'group1-shard1of1.bin' is missing/,
    );
    await expect(damaged((s) => (manifest(s).paths = ['../../etc/passwd']))).rejects.toThrow(/must be a relative path/);
    await expect(damaged((s) => (manifest(s).paths = ['https://evil.example/w.bin']))).rejects.toThrow(
      /must be a relative path/,
    );
    await expect(damaged((s) => Object.assign(manifest(s).weights[0] as object, { dtype: 'int32' }))).rejects.toThrow(
      /only float32 weights/,
    );
    await expect(
      damaged((s) => Object.assign(manifest(s).weights[0] as object, { quantization: { dtype: 'uint8' } })),
    ).rejects.toThrow(/is quantized/);
    await expect(damaged((s) => Object.assign(manifest(s).weights[1] as object, { shape: [3] }))).rejects.toThrow(
      /hold 32 bytes, the manifest describes 36/,
    );
    await expect(damaged((s) => Object.assign(manifest(s).weights[0] as object, { shape: [2, 3] }))).rejects.toThrow(
      /has shape \[2,3\], the model needs \[3,2\]/,
    );
    await expect(damaged((s) => ((manifest(s).weights[1] as { name: string }).name = '__proto__'))).rejects.toThrow(
      /tensor '__proto__' is not a weight of the model|weight '.*bias' of the model is missing/,
    );
    await expect(
      damaged((s) => {
        const layer = (s.modelJSON.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } })
          .config.layers[0]?.config as Record<string, unknown>;
        layer.data_format = 'channels_first';
      }),
    ).resolves.toBeDefined(); // Dense has no data_format: ignored, as Keras does.
    await expect(wg.io.fromTfjs({ modelJSON: '{"modelTopology":{}}', weightFiles: {} })).rejects.toThrow(
      wg.FormatError,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('seeded fuzz: 1,500 random edits of a CNN model.json import or throw typed errors, never a TypeError', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [5, 5, 2], filters: 2, kernelSize: 3, activation: 'relu' }),
        tfl.layers.batchNormalization(),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dropout({ rate: 0.1 }),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const saved = await saveTfjs(m);
    const rand = seededRandom(1);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand(0, 1) * list.length)] as T;
    const values = [null, -1, 0, 1.5, 3, 1e308, 'x', 'same', 'channels_first', [], [1], [null, 2], {}, { a: 1 }, true];
    const outcomes = new Map<string, number>();
    for (let trial = 0; trial < 1500; trial++) {
      const doc = structuredClone(saved.modelJSON);
      // Every (container, key) of the document; one of them gets a random value.
      const slots: [Record<string | number, unknown>, string | number][] = [];
      const walk = (v: unknown) => {
        if (v === null || typeof v !== 'object') return;
        for (const k of Object.keys(v)) {
          slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
          walk((v as Record<string, unknown>)[k]);
        }
      };
      walk(doc);
      const [container, key] = pick(slots);
      container[key] = pick(values);
      let outcome = 'loaded';
      try {
        (await wg.io.fromTfjs({ modelJSON: JSON.stringify(doc), weightFiles: saved.weightFiles })).dispose();
      } catch (err) {
        expect(err, `edit ${String(key)} = ${JSON.stringify(container[key])}: ${(err as Error).stack}`).toBeInstanceOf(
          wg.WasmgradError,
        );
        outcome = (err as Error).name;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(outcomes.get('FormatError')).toBeGreaterThan(100);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);
});

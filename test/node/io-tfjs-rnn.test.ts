/**
 * Importing tfjs-layers recurrent models (Embedding, SimpleRNN, LSTM, GRU): models built and trained
 * with @tensorflow/tfjs-layers (cpu backend), saved through a custom save handler to model.json +
 * weight shards in a temporary directory, then loaded with wg.loadModel(dir) and
 * wg.io.fromTfjs({ modelJSON, weightFiles }). Predictions must match tfjs's own within f32
 * tolerance; options wasmgrad cannot honour (mask_zero, dropout) are FormatErrors naming them.
 * tfjs 4.22's orthogonal initializer crashes, so the tfjs layers use recurrentInitializer glorotUniform.
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

/** Saves a tfjs model to memory as the model.json + one shard that tfjs's file handlers write. */
async function saveTfjs(model: tfl.LayersModel): Promise<Saved> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  const path = 'group1-shard1of1.bin';
  const modelJSON = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: [path], weights: a.weightSpecs }],
  };
  return { modelJSON, weightFiles: new Map([[path, new Uint8Array(a.weightData as ArrayBuffer)]]) };
}

async function writeTfjs(saved: Saved): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmgrad-tfjs-rnn-'));
  dirs.push(dir);
  await writeFile(join(dir, 'model.json'), JSON.stringify(saved.modelJSON));
  for (const [p, bytes] of saved.weightFiles) await writeFile(join(dir, p), bytes);
  return dir;
}

/** Uniform values in [-1, 1), or integer indices in [0, vocab) when `vocab` is given. */
function inputs(shape: number[], seed: number, vocab?: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
    vocab === undefined ? rand(-1, 1) : Math.min(vocab - 1, Math.floor(rand(0, vocab))),
  );
}

/** Trains a tfjs model briefly so that the weights (biases included) are far from their initial values. */
async function trainTfjs(model: tfl.Sequential, inShape: number[], classes: number, vocab?: number): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
  const n = 16;
  const x = tf.tensor(inputs([n, ...inShape], 5, vocab), [n, ...inShape]);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % classes),
      'int32',
    ),
    classes,
  );
  await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
}

async function expectSamePredictions(saved: Saved, tfModel: tfl.LayersModel, inShape: number[], vocab?: number) {
  const n = 6;
  const xs = inputs([n, ...inShape], 9, vocab);
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

const layerConfig = (s: Saved, i: number) =>
  (
    (s.modelJSON.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[i] as {
      config: Record<string, unknown>;
    }
  ).config;

describe('tfjs-layers import of recurrent models', () => {
  it('embedding → lstm (hard_sigmoid gates) → dense matches tfjs predictions', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: 11, outputDim: 5, inputLength: 6 }),
        tfl.layers.lstm({ units: 4, recurrentInitializer: 'glorotUniform' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [6], 3, 11);
    const saved = await saveTfjs(m);
    expect(layerConfig(saved, 1).recurrent_activation).toBe('hard_sigmoid');
    const model = await expectSamePredictions(saved, m, [6], 11);
    expect(model.layers.map((l) => l.className)).toEqual(['Embedding', 'LSTM', 'Dense']);
    expect(model.layers[1]?.getConfig()).toMatchObject({ units: 4, returnSequences: false });
  });

  it('stacked lstm (sigmoid gates, return_sequences, go_backwards) → dense matches tfjs predictions', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.lstm({
          inputShape: [5, 3],
          units: 6,
          recurrentActivation: 'sigmoid',
          returnSequences: true,
          recurrentInitializer: 'glorotUniform',
        }),
        tfl.layers.lstm({ units: 4, goBackwards: true, recurrentInitializer: 'glorotUniform' }),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [5, 3], 2);
    await expectSamePredictions(await saveTfjs(m), m, [5, 3]);
  });

  it('gru (reset_after false) → dense matches tfjs predictions', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.gru({ inputShape: [7, 3], units: 5, recurrentInitializer: 'glorotUniform' }),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [7, 3], 2);
    const saved = await saveTfjs(m);
    const model = await expectSamePredictions(saved, m, [7, 3]);
    expect(model.layers[0]?.getConfig()).toMatchObject({ resetAfter: false, units: 5 });
    // A GRU whose file names no reset_after (tfjs') is reset_after false too, not wasmgrad's default.
    delete layerConfig(saved, 0).reset_after;
    await expectSamePredictions(saved, m, [7, 3]);
  });

  it('Keras-converted weight names with cell scopes (sequential/lstm/lstm_cell/kernel) are matched', async () => {
    const m = tfl.sequential({
      layers: [tfl.layers.lstm({ inputShape: [4, 2], units: 3, recurrentInitializer: 'glorotUniform' })],
    });
    await trainTfjs(m, [4, 2], 3);
    const saved = await saveTfjs(m);
    const group = (saved.modelJSON.weightsManifest as { weights: { name: string }[] }[])[0] as {
      weights: { name: string }[];
    };
    for (const w of group.weights) {
      const [layer, weight] = w.name.split('/');
      w.name = `sequential/${layer}/lstm_cell/${weight}`;
    }
    await expectSamePredictions(saved, m, [4, 2]);
  });

  it('simpleRNN (return_sequences) → simpleRNN (go_backwards, relu) → dense matches tfjs predictions', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.simpleRNN({
          inputShape: [5, 3],
          units: 4,
          returnSequences: true,
          recurrentInitializer: 'glorotUniform',
        }),
        tfl.layers.simpleRNN({
          units: 3,
          activation: 'relu',
          goBackwards: true,
          recurrentInitializer: 'glorotUniform',
        }),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    await trainTfjs(m, [5, 3], 2);
    await expectSamePredictions(await saveTfjs(m), m, [5, 3]);
  });

  it('a functional model using lstm return_state (h and c concatenated) → dense matches tfjs predictions', async () => {
    const input = tfl.input({ shape: [5, 3] });
    const [, h, c] = tfl.layers
      .lstm({ units: 4, returnSequences: true, returnState: true, recurrentInitializer: 'glorotUniform' })
      .apply(input) as tfl.SymbolicTensor[];
    const both = tfl.layers.concatenate().apply([h as tfl.SymbolicTensor, c as tfl.SymbolicTensor]);
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(both) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: input, outputs: out });
    m.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    const x = tf.tensor(inputs([8, 5, 3], 5), [8, 5, 3]);
    await m.fit(x, tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], 'int32'), 2), { epochs: 3, verbose: 0 });
    const model = await expectSamePredictions(await saveTfjs(m), m, [5, 3]);
    expect(model.layers.find((l) => l.className === 'LSTM')?.getConfig()).toMatchObject({ returnState: true });
  });

  it('mask_zero, nonzero dropout and stateful layers are FormatErrors naming the option', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: 4, outputDim: 3, inputLength: 2 }),
        tfl.layers.gru({ units: 2, recurrentInitializer: 'glorotUniform' }),
      ],
    });
    const fresh = async () => saveTfjs(m);
    const rejected = async (edit: (s: Saved) => void) => {
      const s = await fresh();
      edit(s);
      return wg.io.fromTfjs(s);
    };
    await expect(wg.io.fromTfjs(await fresh())).resolves.toBeDefined();
    await expect(rejected((s) => (layerConfig(s, 0).mask_zero = true))).rejects.toThrow(
      /Embedding\).*mask_zero true is not supported/,
    );
    await expect(rejected((s) => (layerConfig(s, 1).dropout = 0.2))).rejects.toThrow(
      /GRU\).*dropout 0\.2 is not supported/,
    );
    await expect(rejected((s) => (layerConfig(s, 1).recurrent_dropout = 0.1))).rejects.toThrow(
      /recurrent_dropout 0\.1 is not supported/,
    );
    await expect(rejected((s) => (layerConfig(s, 1).stateful = true))).rejects.toThrow(
      /stateful true is not supported/,
    );
    await expect(rejected((s) => (layerConfig(s, 1).recurrent_activation = 'relu'))).rejects.toThrow(
      /recurrentActivation must be 'sigmoid' or 'hardSigmoid'/,
    );
    await expect(rejected((s) => (layerConfig(s, 1).recurrent_activation = 'relu'))).rejects.toBeInstanceOf(
      wg.ValueError,
    );
  });
});

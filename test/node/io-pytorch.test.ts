/**
 * PyTorch reads our safetensors: a trained MLP and a trained CNN are saved as bundles, their
 * inputs as a second safetensors file; test/python/forward.py (Debian python3-torch, a minimal
 * safetensors reader, the layers taken from the topology in the file's metadata) computes the
 * forward pass with torch ops and writes it back as safetensors; it must match our predict.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.js';

/** Debian's interpreter (python3-torch installs for it; a PATH python3 may be another one). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../python/forward.py', import.meta.url));
const TOL = { atol: 1e-5, rtol: 1e-4 };

let dir = '';
beforeAll(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `PyTorch is not importable by ${PYTHON}: install Debian's python3-torch (scripts/setup.sh test does)\n${probe.stderr}`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'wasmgrad-torch-'));
  await wg.ready();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function data(shape: number[], seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
}

/** Trains `model` a little, runs it through PyTorch and compares with predict. */
async function compareWithTorch(name: string, model: wg.Sequential, inShape: number[], classes: number) {
  const n = 10;
  model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy' });
  const y = Array.from({ length: n * classes }, (_, i) => (i % classes === Math.floor(i / classes) % classes ? 1 : 0));
  const x = wg.tensor(data([n, ...inShape], 4), [n, ...inShape]);
  await model.fit(x, wg.tensor(y, [n, classes]), { epochs: 3, batchSize: 5, verbose: 0 });

  const modelPath = join(dir, `${name}.safetensors`);
  const inputPath = join(dir, `${name}-x.safetensors`);
  const outputPath = join(dir, `${name}-y.safetensors`);
  await wg.saveModel(model, modelPath);
  await writeFile(inputPath, wg.io.encodeSafetensors([{ name: 'x', shape: [n, ...inShape], data: x.dataSync() }]));
  const run = spawnSync(PYTHON, [SCRIPT, modelPath, inputPath, outputPath], { encoding: 'utf8', timeout: 120_000 });
  expect(run.status, `forward.py failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
  const info = JSON.parse(run.stdout.trim().split('\n').pop() as string);
  expect(info.weights).toBe(model.weights.length);
  const torchOut = wg.io.decodeSafetensors(new Uint8Array(await readFile(outputPath))).tensors.get('y');
  const ours = model.predict(x);
  expect(torchOut?.shape).toEqual(ours.shape);
  assertClose(Array.from(torchOut?.data ?? []), Array.from(ours.dataSync()), TOL);
  return info;
}

describe('PyTorch reads wasmgrad safetensors', () => {
  it('an MLP: same forward pass in torch', async () => {
    const model = wg.sequential([
      wg.layers.dense({ units: 12, activation: 'relu', inputShape: [6] }),
      wg.layers.dropout({ rate: 0.2 }),
      wg.layers.dense({ units: 8, activation: { name: 'leakyRelu', alpha: 0.1 } }),
      wg.layers.dense({ units: 4, activation: 'tanh', useBias: false }),
      wg.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    const info = await compareWithTorch('mlp', model, [6], 3);
    expect(info.torch).toMatch(/^\d+\.\d+/);
  }, 180_000);

  it('a CNN with same/valid/strided convolutions, batch and layer normalization, pooling', async () => {
    const model = wg.sequential([
      wg.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 2] }),
      wg.layers.batchNormalization(),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'elu' }),
      wg.layers.averagePooling2d({ poolSize: 1 }),
      wg.layers.flatten(),
      wg.layers.layerNormalization(),
      wg.layers.dense({ units: 3 }),
      wg.layers.activation({ activation: 'softmax' }),
    ]);
    await compareWithTorch('cnn', model, [8, 8, 2], 3);
  }, 180_000);
});

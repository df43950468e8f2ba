/**
 * The CLI's built-in models and data sources.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fashionMnist, type ImageSplit } from '../data/datasets.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/fashion.js';
import * as layers from '../layers/index.js';
import { type Sequential, sequential } from '../model/model.js';
import { modelFromJSON } from '../model/serialize.js';
import { UsageError } from './args.js';

/** Names of the built-in models. */
export const BUILTIN_MODELS = ['mlp', 'cnn'] as const;

/**
 * A built-in model, or one from a topology file (`model.toJSON()` output, or a saved model's
 * `model.json`, whose weights are then NOT loaded: use the directory for that).
 */
export function buildModel(spec: string): Sequential {
  if (spec === 'mlp') {
    // The MLP of the project's notes: Y = WX + b, ReLU hidden layers (He init), softmax output.
    return sequential({
      name: 'mlp',
      layers: [
        layers.dense({ units: 256, activation: 'relu', inputShape: [784], kernelInitializer: 'heUniform' }),
        layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heUniform' }),
        layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
  }
  if (spec === 'cnn') {
    // The CNN of issue 5: conv16 3x3 → maxpool 2 → conv32 3x3 → maxpool 2 → dense10.
    return sequential({
      name: 'cnn',
      layers: [
        layers.conv2d({
          filters: 16,
          kernelSize: 3,
          activation: 'relu',
          inputShape: [28, 28, 1],
          kernelInitializer: 'heUniform',
        }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: 'heUniform' }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.flatten(),
        layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
  }
  if (!existsSync(spec)) {
    throw new UsageError(
      'train',
      `--model must be ${BUILTIN_MODELS.join(' or ')} or a model JSON file; '${spec}' is neither`,
    );
  }
  const text = readFileSync(spec, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError('train', `${spec} is not JSON: ${(err as Error).message}`);
  }
  const topology = (parsed as { modelTopology?: unknown }).modelTopology ?? parsed;
  return modelFromJSON(topology as never);
}

/** Where the package's small Fashion-MNIST sample lives (2,000 training and 500 test images). */
export function sampleDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '../../data/fashion-mnist-sample');
}

/** A loaded image dataset and a sentence saying where it came from. */
export interface LoadedData {
  train: ImageSplit;
  test: ImageSplit;
  source: string;
}

/**
 * Loads `--data`: 'fashion-mnist' (Debian's files when installed, else the shipped sample, and
 * says so), or a directory of MNIST-format IDX files (MNIST, Fashion-MNIST, gzipped or not).
 */
export async function loadData(spec: string, flatten: boolean, limit?: number): Promise<LoadedData> {
  const opts = (dir: string) => ({ dir, flatten, ...(limit ? { limit } : {}) });
  if (spec === 'fashion-mnist') {
    if (existsSync(join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))) {
      const { train, test } = await fashionMnist(opts(DEBIAN_FASHION_MNIST_DIR));
      return { train, test, source: `Fashion-MNIST from ${DEBIAN_FASHION_MNIST_DIR}` };
    }
    const dir = sampleDir();
    const { train, test } = await fashionMnist(opts(dir));
    return {
      train,
      test,
      source:
        `the Fashion-MNIST sample shipped with wasmgrad (${dir}: 2,000 training and 500 test images), because ` +
        `${DEBIAN_FASHION_MNIST_DIR} is missing; install Debian's dataset-fashion-mnist for the full set`,
    };
  }
  if (spec === 'mnist') {
    throw new UsageError('train', `--data mnist needs the directory of the MNIST IDX files: pass --data <dir>`);
  }
  if (!existsSync(spec)) {
    throw new UsageError('train', `--data must be fashion-mnist or a directory of IDX files; '${spec}' does not exist`);
  }
  const { train, test } = await fashionMnist(opts(spec));
  return { train, test, source: `IDX files in ${spec}` };
}

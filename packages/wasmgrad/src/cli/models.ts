/**
 * The CLI's built-in models and data sources: Fashion-MNIST/MNIST-format IDX directories (images)
 * and CSV files (tabular: a label column, features standardized with statistics of the training
 * split only, the preprocessing saved next to the model so evaluate/predict apply the same).
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsv } from '../data/csv.js';
import type { CsvSchema } from '../data/csv-schema.js';
import { fashionMnist } from '../data/datasets.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/fashion.js';
import { type ScalerConfig, scalerFromConfig, standardScaler } from '../data/scalers.js';
import { split } from '../data/split.js';
import * as layers from '../layers/index.js';
import { type LayersModel, sequential } from '../model/model.js';
import { modelFromJSON } from '../model/serialize.js';
import type { Tensor } from '../tensor/tensor.js';
import { UsageError } from './args.js';

/** Names of the built-in models. */
export const BUILTIN_MODELS = ['mlp', 'cnn'] as const;

/**
 * A built-in model for the data's per-sample shape and class count, or one from a topology file
 * (`model.toJSON()` output, or a saved model's `model.json`, whose weights are NOT loaded).
 */
export function buildModel(spec: string, inputShape: number[], classes: number): LayersModel {
  if (spec === 'mlp') {
    // The MLP of the project's notes: Y = WX + b, ReLU hidden layers (He init), softmax output.
    const features = inputShape.reduce((a, b) => a * b, 1);
    return sequential({
      name: 'mlp',
      layers: [
        ...(inputShape.length > 1 ? [layers.flatten({ inputShape })] : []),
        layers.dense({
          units: 256,
          activation: 'relu',
          kernelInitializer: 'heUniform',
          ...(inputShape.length > 1 ? {} : { inputShape: [features] }),
        }),
        layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heUniform' }),
        layers.dense({ units: classes, activation: 'softmax' }),
      ],
    });
  }
  if (spec === 'cnn') {
    if (inputShape.length !== 3) {
      throw new UsageError('train', `--model cnn needs images; this data has samples of shape [${inputShape}]`);
    }
    // The CNN of issue 5 as its test and bench define it: conv16 3x3 → maxpool 2 → conv32 3x3 →
    // maxpool 2 → dense, 'same' padding (0.86–0.87 test accuracy after one epoch).
    return sequential({
      name: 'cnn',
      layers: [
        layers.conv2d({
          filters: 16,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          inputShape,
          kernelInitializer: 'heUniform',
        }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.conv2d({
          filters: 32,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: 'heUniform',
        }),
        layers.maxPooling2d({ poolSize: 2 }),
        layers.flatten(),
        layers.dense({ units: classes, activation: 'softmax' }),
      ],
    });
  }
  if (!existsSync(spec) || statSync(spec).isDirectory()) {
    throw new UsageError(
      'train',
      `--model must be ${BUILTIN_MODELS.join(' or ')} or a model JSON file; '${spec}' is neither`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(spec, 'utf8'));
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

/** How CSV data was prepared, saved as preprocessing.json next to a model trained on it. */
export interface CsvPreprocessing {
  kind: 'csv';
  label: string;
  schema: CsvSchema;
  scaler: ScalerConfig;
  testFraction: number;
  seed: number;
}

/** Loaded data: training and test splits, what a sample looks like, and where it came from. */
export interface LoadedData {
  train: { x: Tensor; y: Tensor };
  test: { x: Tensor; y: Tensor };
  /** Integer class of each test sample. */
  testLabels: Uint8Array;
  inputShape: number[];
  classes: number;
  classNames: string[] | undefined;
  source: string;
  preprocessing: CsvPreprocessing | undefined;
}

/** Options of {@link loadData}. */
export interface DataOptions {
  /** Images as [n, 784] rather than [n, 28, 28, 1]. */
  flatten: boolean;
  limit?: number;
  /** CSV: the label column (required for training on a CSV file). */
  label?: string;
  /** CSV: the fraction held out for testing, and the seed of the split. */
  testFraction: number;
  seed: number;
  /** CSV: the preprocessing of the model being evaluated (replaces label/testFraction/seed). */
  preprocessing?: CsvPreprocessing;
}

const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Boot',
];

function argmaxRows(y: Tensor): Uint8Array {
  const values = y.dataSync();
  const k = y.shape[1] as number;
  const out = new Uint8Array(y.shape[0] as number);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((values[i * k + c] as number) > (values[i * k + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

async function loadCsv(path: string, options: DataOptions): Promise<LoadedData> {
  const pre = options.preprocessing;
  const label = pre?.label ?? options.label;
  if (!label) throw new UsageError('train', `--data ${path} is a CSV file: name its label column with --label`);
  const data = pre
    ? await readCsv(path, { schema: pre.schema })
    : await readCsv(path, { columnConfigs: { [label]: { isLabel: true, dtype: 'categorical', oneHot: true } } });
  if (!data.y || data.labelColumns.length < 2) {
    throw new UsageError('train', `--label ${label}: the column must be categorical with at least two classes`);
  }
  const testFraction = pre?.testFraction ?? options.testFraction;
  const seed = pre?.seed ?? options.seed;
  const parts = split(data.x, data.y, { test: testFraction, seed });
  if (!parts.test) throw new UsageError('train', `--test-split ${testFraction} leaves no test samples`);
  const scaler = pre ? scalerFromConfig(pre.scaler) : standardScaler().fit(parts.train.x);
  const categories = data.categories[label];
  return {
    train: { x: scaler.transform(parts.train.x), y: parts.train.y as Tensor },
    test: { x: scaler.transform(parts.test.x), y: parts.test.y as Tensor },
    testLabels: argmaxRows(parts.test.y as Tensor),
    inputShape: [data.columns.length],
    classes: data.labelColumns.length,
    classNames: categories,
    source: `${path} (${data.rows} rows, ${data.columns.length} features, label '${label}'; test split ${testFraction})`,
    preprocessing: { kind: 'csv', label, schema: data.schema, scaler: scaler.getConfig(), testFraction, seed },
  };
}

async function loadImages(dir: string, source: string, options: DataOptions): Promise<LoadedData> {
  const { train, test } = await fashionMnist({
    dir,
    flatten: options.flatten,
    ...(options.limit ? { limit: options.limit } : {}),
  });
  return {
    train,
    test,
    testLabels: test.labels,
    inputShape: options.flatten ? [784] : [28, 28, 1],
    classes: 10,
    classNames: dir === DEBIAN_FASHION_MNIST_DIR || dir === sampleDir() ? FASHION_CLASSES : undefined,
    source,
    preprocessing: undefined,
  };
}

/**
 * Loads `--data`: 'fashion-mnist' (Debian's files when installed, else the shipped sample, and
 * says so), a directory of MNIST-format IDX files, or a CSV file.
 */
export async function loadData(spec: string, options: DataOptions): Promise<LoadedData> {
  if (spec === 'fashion-mnist') {
    if (existsSync(join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))) {
      return loadImages(DEBIAN_FASHION_MNIST_DIR, `Fashion-MNIST from ${DEBIAN_FASHION_MNIST_DIR}`, options);
    }
    const dir = sampleDir();
    return loadImages(
      dir,
      `the Fashion-MNIST sample shipped with wasmgrad (${dir}: 2,000 training and 500 test images), because ` +
        `${DEBIAN_FASHION_MNIST_DIR} is missing; install Debian's dataset-fashion-mnist for the full set`,
      options,
    );
  }
  if (spec === 'mnist') {
    throw new UsageError('train', `--data mnist needs the directory of the MNIST IDX files: pass --data <dir>`);
  }
  if (!existsSync(spec)) {
    throw new UsageError(
      'train',
      `--data must be fashion-mnist, a directory of IDX files or a CSV file; '${spec}' does not exist`,
    );
  }
  if (statSync(spec).isDirectory()) return loadImages(spec, `IDX files in ${spec}`, options);
  if (/\.csv$/i.test(spec)) return loadCsv(spec, options);
  throw new UsageError('train', `--data ${spec}: expected a directory of IDX files or a .csv file`);
}

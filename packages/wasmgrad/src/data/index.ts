/**
 * Data loading: IDX files (MNIST, Fashion-MNIST), CSV (eager and streaming), tf.data-style
 * datasets, seeded splits, feature scalers, and training from a dataset.
 *
 * ```ts
 * // In memory: read, split, scale with training statistics only.
 * const { x, y, schema } = await wg.data.readCsv('iris.csv', { columnConfigs: { species: { isLabel: true } } });
 * const { train, validation } = wg.data.split(x, y, { validation: 0.2, seed: 1, stratify: true });
 * const scaler = wg.data.standardScaler().fit(train.x);
 * await model.fit(scaler.transform(train.x), train.y, { epochs: 50 });
 *
 * // Larger than memory: stream rows, shuffle through a buffer, batch, train.
 * const rows = wg.data.csv('big.csv.gz', { schema });
 * await model.fitDataset(rows.shuffle(10_000, 42).batch(256), { epochs: 3 });
 * ```
 * @module
 */
export {
  type CsvConfig,
  type CsvData,
  CsvDataset,
  type CsvRow,
  csv,
  csvRecords,
  readCsv,
} from './csv.js';
export {
  CSV_MAX_COLUMNS,
  CSV_MAX_RECORD_LENGTH,
  type CsvParseOptions,
  type CsvRecord,
  formatCsv,
  formatCsvField,
  parseCsvGroups,
  parseCsvRecords,
} from './csv-parse.js';
export {
  type CsvColumnConfig,
  type CsvColumnSchema,
  type CsvSchema,
  type CsvSchemaConfig,
  OTHER_CATEGORY,
} from './csv-schema.js';
export { type CsvSource, textSource } from './csv-source.js';
export { type Batched, type ChunkSource, type DataLeaf, Dataset, type RowShapes } from './dataset.js';
export { fashionMnist, type ImageDatasetOptions, type ImageSplit, mnist } from './datasets.js';
export { DEBIAN_FASHION_MNIST_DIR, loadMnistLike, type MnistSourceOptions, type MnistSplit } from './fashion.js';
export { type DatasetTrainable, type FitDatasetArgs, fitDataset, type TrainingBatch } from './fit-dataset.js';
export { type IdxArray, type IdxDtype, parseIdx } from './idx.js';
export { readBytes } from './read.js';
export {
  MinMaxScaler,
  minMaxScaler,
  type ScalerConfig,
  type ScalerInput,
  StandardScaler,
  scalerFromConfig,
  standardScaler,
} from './scalers.js';
export { array, fromTensors, generator, zip } from './sources.js';
export { type Split, type SplitOptions, type SplitPart, split } from './split.js';

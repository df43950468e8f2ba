/**
 * CSV files as tensors (`readCsv`, eager) or as a streaming dataset of encoded rows (`csv`, in
 * constant memory: the file or body is read in chunks, twice when the schema must be inferred).
 */
import { ValueError } from '../errors.js';
import { currentRuntime } from '../tensor/engine.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { layoutOf, makeEncoder } from './csv-encode.js';
import { type CsvParseOptions, type CsvRecord, parseCsvGroups, parseOptions } from './csv-parse.js';
import { type CsvSchema, type CsvSchemaConfig, columnNamesOf, SchemaBuilder, validateSchema } from './csv-schema.js';
import { CSV_CHUNK_BYTES, type CsvSource, type TextSource, textSource } from './csv-source.js';
import { Dataset } from './dataset.js';

/** Options of {@link csv} and {@link readCsv} (tfjs-data `CSVConfig` names where they exist). */
export interface CsvConfig extends CsvSchemaConfig, Omit<CsvParseOptions, 'name'> {
  /** Bytes per read from files, blobs and bytes (default 65,536). */
  chunkBytes?: number;
  /** Names the source in errors (default: the path or URL). */
  name?: string;
}

/** What {@link readCsv} returns. */
export interface CsvData {
  /** Features [n, features.length]. */
  x: Tensor;
  /** Labels [n, labels.length], when the file has label columns. */
  y: Tensor | undefined;
  /** Names of x's columns: numeric columns by name, one-hot slots as `name=category`. */
  columns: string[];
  /** Names of y's columns. */
  labelColumns: string[];
  /** The category list of every categorical column (a null-prototype record). */
  categories: Record<string, string[]>;
  /** Pass as `schema` to read other files (validation, test) with these categories. */
  schema: CsvSchema;
  /** Data rows read. */
  rows: number;
}

/** One encoded row of a {@link CsvDataset}. */
export interface CsvRow {
  xs: Float32Array;
  /** Present when the file has label columns. */
  ys?: Float32Array;
}

function checkConfig(config: CsvConfig): void {
  if (config === null || typeof config !== 'object') throw new ValueError('csv', 'config must be an object');
  if (config.chunkBytes !== undefined && !(Number.isSafeInteger(config.chunkBytes) && config.chunkBytes > 0)) {
    throw new ValueError('csv', `chunkBytes must be a positive integer, got ${config.chunkBytes}`);
  }
  parseOptions(config);
}

/** Records of one pass in groups, with the header split off; the header width fixes the record width. */
async function* pass(src: TextSource, config: CsvConfig): AsyncGenerator<{ names: string[]; records: CsvRecord[] }> {
  const op = `csv:${src.name}`;
  const hasHeader = config.hasHeader ?? true;
  let names: string[] | undefined;
  for await (const group of parseCsvGroups(src.open(), { ...config, name: src.name })) {
    if (!names) {
      const first = group[0] as CsvRecord;
      names = columnNamesOf(op, config, hasHeader ? first : undefined, first.fields.length);
      yield { names, records: hasHeader ? group.slice(1) : group };
      continue;
    }
    yield { names, records: group };
  }
  if (!names) throw new ValueError(op, 'the input is empty (no header)');
}

/** Schema: given (checked against the header), from the configuration, or learned in one pass. */
async function resolveSchema(
  src: TextSource,
  config: CsvConfig,
  names: string[],
  records?: CsvRecord[],
): Promise<CsvSchema> {
  const op = `csv:${src.name}`;
  if (config.schema) {
    const s = validateSchema(op, config.schema);
    if (s.fileColumns.length !== names.length || s.fileColumns.some((n, i) => n !== names[i])) {
      throw new ValueError(
        op,
        `the header [${names.join(', ')}] does not match the schema's columns [${s.fileColumns.join(', ')}]`,
      );
    }
    return s;
  }
  const builder = new SchemaBuilder(op, names, config);
  if (records) for (const r of records) builder.add(r);
  else if (!builder.configured) {
    if (!src.reusable) {
      throw new ValueError(
        op,
        'a Response or stream can be read once: pass schema, or a dtype for every column (and categories for categorical ones)',
      );
    }
    for await (const item of pass(src, config)) for (const r of item.records) builder.add(r);
  }
  return builder.finish();
}

function categoriesOf(schema: CsvSchema): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  for (const c of schema.columns) if (c.categories) out[c.name] = c.categories.slice();
  return out;
}

/**
 * Reads a whole CSV file into tensors `{x, y, columns, labelColumns, categories, schema}`.
 * Column types and categories are learned from this file unless `schema` (from the training file)
 * is given. Throws FormatError/ValueError naming the source, line, column and value.
 *
 * ```ts
 * const train = await wg.data.readCsv('train.csv', { columnConfigs: { species: { isLabel: true } } });
 * const test = await wg.data.readCsv('test.csv', { schema: train.schema });
 * ```
 */
export async function readCsv(source: CsvSource, config: CsvConfig = {}): Promise<CsvData> {
  checkConfig(config);
  const src = textSource(source, config.chunkBytes ?? CSV_CHUNK_BYTES, config.name);
  const op = `csv:${src.name}`;
  // Re-readable sources take two streaming passes (schema, then encoding straight into floats), so
  // the text's records never sit in memory; a Response or stream is read once and kept as records.
  let held: CsvRecord[] | undefined;
  let names: string[] = [];
  if (!src.reusable) {
    held = [];
    for await (const item of pass(src, config)) {
      names = item.names;
      for (const r of item.records) held.push(r);
    }
  } else {
    for await (const item of pass(src, config)) {
      names = item.names;
      break;
    }
  }
  const schema = await resolveSchema(src, config, names, config.schema ? undefined : held);
  const { features, labels } = layoutOf(schema);
  const encode = makeEncoder(op, schema);
  const xs = new GrowingRows(features.length);
  const ys = new GrowingRows(labels.length);
  const encodeAll = (records: CsvRecord[]) => {
    for (const r of records) encode(r, xs.next(), xs.offset, ys.next(), ys.offset);
  };
  if (held) encodeAll(held);
  else for await (const item of pass(src, config)) encodeAll(item.records);
  const n = xs.rows;
  if (n === 0) throw new ValueError(op, 'no data rows (header only)');
  const rt = currentRuntime();
  const x = empty([n, features.length], 'readCsv', rt);
  rt.write(x.ptr, xs.values());
  let y: Tensor | undefined;
  if (labels.length > 0) {
    y = empty([n, labels.length], 'readCsv', rt);
    rt.write(y.ptr, ys.values());
  }
  return { x, y, columns: features, labelColumns: labels, categories: categoriesOf(schema), schema, rows: n };
}

/** Row-major f32 rows appended one at a time into a buffer that doubles when full. */
class GrowingRows {
  private buf: Float32Array;
  rows = 0;
  /** Where the row handed out by the last `next()` starts. */
  offset = 0;
  constructor(private readonly width: number) {
    this.buf = new Float32Array(Math.max(width, 1) * 1024);
  }
  /** Makes room for one more row and returns the buffer; the row starts at `offset`. */
  next(): Float32Array {
    this.offset = this.rows * this.width;
    if (this.offset + this.width > this.buf.length) {
      const bigger = new Float32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.rows++;
    return this.buf;
  }
  values(): Float32Array {
    return this.buf.subarray(0, this.rows * this.width);
  }
}

/**
 * A streaming CSV dataset (tfjs `tf.data.csv`): elements `{xs, ys}` of encoded rows, read in
 * chunks, so files larger than memory stream through in constant memory. Chain `.shuffle(...)`
 * and `.batch(n)` to feed `fitDataset`.
 */
export class CsvDataset extends Dataset<CsvRow> {
  private schemaPromise: Promise<CsvSchema> | undefined;
  private readonly src: TextSource;
  private readonly config: CsvConfig;

  constructor(source: CsvSource, config: CsvConfig = {}) {
    checkConfig(config);
    const src = textSource(source, config.chunkBytes ?? CSV_CHUNK_BYTES, config.name);
    let self: CsvDataset | undefined;
    super(async function* () {
      const me = self as CsvDataset;
      // One-shot sources: the schema must come from the configuration, then the single pass encodes.
      let encode: ReturnType<typeof makeEncoder> | undefined;
      let xw = 0;
      let yw = 0;
      for await (const item of pass(src, config)) {
        if (!encode) {
          const schema = await me.resolve(item.names);
          const { features, labels } = layoutOf(schema);
          [xw, yw] = [features.length, labels.length];
          encode = makeEncoder(`csv:${src.name}`, schema);
        }
        // One array per row (not views of a shared block): a shuffle buffer holding a few rows
        // must not keep whole groups alive.
        const rows: CsvRow[] = new Array(item.records.length);
        item.records.forEach((r, i) => {
          const xs = new Float32Array(xw);
          const ys = new Float32Array(yw);
          (encode as ReturnType<typeof makeEncoder>)(r, xs, 0, ys, 0);
          rows[i] = yw > 0 ? { xs, ys } : { xs };
        });
        if (rows.length > 0) yield rows;
      }
    });
    self = this;
    this.src = src;
    this.config = config;
  }

  private resolve(names: string[]): Promise<CsvSchema> {
    this.schemaPromise ??= resolveSchema(this.src, this.config, names);
    return this.schemaPromise;
  }

  /** The schema (inferring it takes one pass over the data); pass it as `schema` to read other files. */
  async schema(): Promise<CsvSchema> {
    if (this.schemaPromise) return this.schemaPromise;
    if (this.config.schema) return validateSchema(`csv:${this.src.name}`, this.config.schema);
    if (this.src.reusable) {
      for await (const item of pass(this.src, this.config)) return this.resolve(item.names);
    }
    throw new ValueError(`csv:${this.src.name}`, 'the schema of a one-shot source is known only while it is iterated');
  }

  /** Names of the feature columns (one-hot slots as `name=category`), tfjs `columnNames()`-like. */
  async columnNames(): Promise<string[]> {
    return layoutOf(await this.schema()).features;
  }
}

/** A streaming CSV dataset; see {@link CsvDataset}. */
export function csv(source: CsvSource, config: CsvConfig = {}): CsvDataset {
  return new CsvDataset(source, config);
}

/**
 * The raw records of a CSV source (no header handling, no typing): `{fields, line}` per record,
 * streamed in chunks under the record-length cap.
 */
export function csvRecords(source: CsvSource, config: Omit<CsvConfig, keyof CsvSchemaConfig> = {}): Dataset<CsvRecord> {
  checkConfig(config);
  const src = textSource(source, config.chunkBytes ?? CSV_CHUNK_BYTES, config.name);
  return new Dataset(() => parseCsvGroups(src.open(), { ...config, name: src.name }));
}

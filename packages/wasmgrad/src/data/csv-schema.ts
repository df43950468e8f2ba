/**
 * CSV columns → numbers: which columns are features or labels, numeric or categorical (inferred
 * from the data unless configured), the category lists (learned from the training file, sorted),
 * and the encoding of one record into a feature row and a label row. The schema is plain JSON, so
 * it can be saved with a model and passed when reading validation/test files, which then encode
 * with the training categories.
 */
import { FormatError, ValueError } from '../errors.js';
import type { CsvRecord } from './csv-parse.js';

/** Per-column options (tfjs-data `ColumnConfig`, plus categorical settings). */
export interface CsvColumnConfig {
  /** The column is a target (goes to `y`/`ys`) rather than a feature. */
  isLabel?: boolean;
  /** 'float32' (numeric) or 'categorical' (one-hot); inferred from the values when omitted. */
  dtype?: 'float32' | 'categorical';
  /** Category list in one-hot order (default: the distinct values of the training data, sorted). */
  categories?: string[];
  /** Value used for a missing cell: a number for numeric columns, a category for categorical ones. */
  default?: number | string;
  /** A categorical label as a one-hot row instead of a class index (default false: sparse). */
  oneHot?: boolean;
}

/** Options shared by the eager and streaming CSV readers. */
export interface CsvSchemaConfig {
  /** The first record names the columns (default true). */
  hasHeader?: boolean;
  /** Column names; override the header when there is one. Default without a header: column1, column2, … */
  columnNames?: string[];
  /** Per-column options keyed by column name. */
  columnConfigs?: Record<string, CsvColumnConfig>;
  /** Use only the columns named in columnConfigs (default false: every column). */
  configuredColumnsOnly?: boolean;
  /** Cells that mean "missing" (compared after trimming spaces; default ['']). */
  naValues?: string[];
  /** Missing numeric cells without a column default: 'error' (default) or a fill value. */
  missing?: 'error' | number;
  /** A feature category not in the list: 'error' (default) or an extra trailing `<other>` slot. */
  unknownCategory?: 'error' | 'other';
  /** Most distinct values a categorical column may have (default 1000). */
  maxCategories?: number;
  /** A schema from an earlier read (e.g. the training file): no inference, its categories are used. */
  schema?: CsvSchema;
}

/** One used column of a {@link CsvSchema}. */
export interface CsvColumnSchema {
  name: string;
  /** Position in the file (0-based). */
  index: number;
  kind: 'numeric' | 'categorical';
  isLabel: boolean;
  /** One-hot order, for categorical columns. */
  categories?: string[];
  oneHot?: boolean;
  default?: number | string;
}

/** How a CSV file maps to x and y: JSON-serializable, reusable for other files of the same layout. */
export interface CsvSchema {
  /** Every column name of the file, in order (files read with this schema must match). */
  fileColumns: string[];
  /** The used columns, in file order. */
  columns: CsvColumnSchema[];
  unknownCategory: 'error' | 'other';
  /** Fill value of missing numeric cells without a column default, or 'error'. */
  missing: 'error' | number;
  naValues: string[];
}

/**
 * Characters of distinct categorical values kept while learning a schema, over all columns
 * (2^24, 32 MB of UTF-16): with the per-column cap, bounds the memory of the schema pass.
 */
export const CATEGORY_CHAR_BUDGET = 1 << 24;

/** The name of the extra one-hot slot of unknown categories. */
export const OTHER_CATEGORY = '<other>';

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell as a number, or undefined when it is not one. */
export function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  return NUMBER.test(s) ? Number(s) : undefined;
}

const own = <V>(o: Record<string, V> | undefined, k: string): V | undefined =>
  o && Object.hasOwn(o, k) ? o[k] : undefined;

/** Column names from the header record (or generated), validated: non-empty and unique. */
export function columnNamesOf(
  op: string,
  config: CsvSchemaConfig,
  header: CsvRecord | undefined,
  width: number,
): string[] {
  const names = config.columnNames ?? header?.fields ?? Array.from({ length: width }, (_, i) => `column${i + 1}`);
  if (config.columnNames && header && config.columnNames.length !== header.fields.length) {
    throw new FormatError(
      op,
      `columnNames has ${config.columnNames.length} names but the header (line ${header.line}) has ${header.fields.length} columns`,
    );
  }
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (typeof n !== 'string' || n.trim() === '') throw new FormatError(op, `column ${i + 1} has an empty name`);
    if (seen.has(n)) throw new FormatError(op, `duplicate column name ${JSON.stringify(n)} (column ${i + 1})`);
    seen.add(n);
  });
  return names.slice();
}

interface ColumnStats {
  firstNumber?: { line: number; value: string };
  firstText?: { line: number; value: string };
  values: Set<string>;
  overflow: boolean;
}

/**
 * Learns a schema from records streamed through `add` (one pass, memory bounded by the category
 * caps): numeric when every present cell is a number, categorical when none is; a column mixing
 * both is an error naming the two first examples, unless its dtype is configured.
 */
export class SchemaBuilder {
  private readonly used: { name: string; index: number; config: CsvColumnConfig; stats: ColumnStats }[];
  private readonly na: Set<string>;
  private readonly maxCategories: number;
  /** Characters of the distinct values kept so far (see CATEGORY_CHAR_BUDGET). */
  private chars = 0;

  constructor(
    private readonly op: string,
    private readonly names: string[],
    private readonly config: CsvSchemaConfig,
  ) {
    const configs = config.columnConfigs ?? {};
    for (const key of Object.keys(configs)) {
      if (!names.includes(key)) {
        throw new ValueError(
          op,
          `columnConfigs names ${JSON.stringify(key)}, which is not a column (columns: ${names.join(', ')})`,
        );
      }
    }
    this.maxCategories = config.maxCategories ?? 1000;
    if (!Number.isSafeInteger(this.maxCategories) || this.maxCategories < 1) {
      throw new ValueError(op, `maxCategories must be a positive integer, got ${config.maxCategories}`);
    }
    this.na = new Set(config.naValues ?? ['']);
    this.used = names
      .map((name, index) => ({ name, index, config: own(configs, name) }))
      .filter((c) => c.config || !config.configuredColumnsOnly)
      .map((c) => ({ ...c, config: c.config ?? {}, stats: { values: new Set<string>(), overflow: false } }));
    for (const c of this.used) {
      const d = c.config.dtype;
      if (d !== undefined && d !== 'float32' && d !== 'categorical') {
        throw new ValueError(
          op,
          `column ${JSON.stringify(c.name)}: dtype must be 'float32' or 'categorical', got ${JSON.stringify(d)}`,
        );
      }
    }
  }

  /** True when the configuration alone fixes the schema (no pass over the data needed). */
  get configured(): boolean {
    return this.used.every(
      (c) => c.config.dtype === 'float32' || (c.config.dtype === 'categorical' && c.config.categories),
    );
  }

  /** Takes one record into the statistics. */
  add(record: CsvRecord): void {
    checkWidth(this.op, record, this.names.length);
    for (const c of this.used) {
      const cell = record.fields[c.index] as string;
      if (this.na.has(cell.trim())) continue;
      const s = c.stats;
      const isNumber = parseNumber(cell) !== undefined;
      if (isNumber) s.firstNumber ??= { line: record.line, value: cell };
      else s.firstText ??= { line: record.line, value: cell };
      if (c.config.dtype === 'float32' || c.config.categories || s.overflow) continue;
      if (s.values.has(cell)) continue;
      if (s.values.size >= this.maxCategories || this.chars + cell.length > CATEGORY_CHAR_BUDGET) {
        s.overflow = true;
        for (const v of s.values) this.chars -= v.length;
        s.values.clear();
      } else {
        s.values.add(cell);
        this.chars += cell.length;
      }
    }
  }

  /** The schema of everything added. */
  finish(): CsvSchema {
    const columns = this.used.map((c): CsvColumnSchema => {
      const { config: cfg, stats: s } = c;
      const where = `column ${c.index + 1} (${JSON.stringify(c.name)})`;
      let kind: CsvColumnSchema['kind'];
      if (cfg.dtype) kind = cfg.dtype === 'float32' ? 'numeric' : 'categorical';
      else if (cfg.categories) kind = 'categorical';
      else if (s.firstText && s.firstNumber) {
        throw new FormatError(
          this.op,
          `${where} mixes numbers (line ${s.firstNumber.line}: ${JSON.stringify(s.firstNumber.value)}) and non-numbers (line ${s.firstText.line}: ${JSON.stringify(s.firstText.value)}); fix the value or set columnConfigs[${JSON.stringify(c.name)}].dtype`,
        );
      } else kind = s.firstText ? 'categorical' : 'numeric';
      const out: CsvColumnSchema = { name: c.name, index: c.index, kind, isLabel: cfg.isLabel === true };
      if (cfg.default !== undefined) out.default = cfg.default;
      if (kind === 'numeric') {
        if (cfg.default !== undefined && typeof cfg.default !== 'number') {
          throw new ValueError(this.op, `${where} is numeric but its default is ${JSON.stringify(cfg.default)}`);
        }
        return out;
      }
      if (s.overflow) {
        throw new ValueError(
          this.op,
          `${where} has more than ${this.maxCategories} distinct values (or their text passes the ${CATEGORY_CHAR_BUDGET}-character budget); raise maxCategories or leave the column out`,
        );
      }
      const cats = cfg.categories ? cfg.categories.slice() : [...s.values].sort();
      if (typeof cfg.default === 'string' && !cats.includes(cfg.default)) {
        if (cfg.categories)
          throw new ValueError(
            this.op,
            `${where}: default ${JSON.stringify(cfg.default)} is not one of its categories`,
          );
        cats.push(cfg.default);
        cats.sort();
      }
      out.categories = cats;
      if (c.config.isLabel) out.oneHot = cfg.oneHot === true;
      return out;
    });
    return validateSchema(this.op, {
      fileColumns: this.names.slice(),
      columns,
      unknownCategory: this.config.unknownCategory ?? 'error',
      missing: this.config.missing ?? 'error',
      naValues: [...this.na],
    });
  }
}

/** Throws FormatError unless the record has `width` fields. */
export function checkWidth(op: string, record: CsvRecord, width: number): void {
  if (record.fields.length !== width) {
    throw new FormatError(op, `line ${record.line} has ${record.fields.length} fields, the header has ${width}`);
  }
}

/** Checks a schema (possibly read from JSON) before it is trusted. */
export function validateSchema(op: string, schema: CsvSchema): CsvSchema {
  const bad = (msg: string): never => {
    throw new ValueError(op, `invalid CSV schema: ${msg}`);
  };
  if (!schema || typeof schema !== 'object' || !Array.isArray(schema.fileColumns) || !Array.isArray(schema.columns)) {
    bad('expected { fileColumns, columns, … }');
  }
  if (schema.unknownCategory !== 'error' && schema.unknownCategory !== 'other')
    bad('unknownCategory must be error or other');
  if (schema.missing !== 'error' && typeof schema.missing !== 'number') bad('missing must be error or a number');
  if (!Array.isArray(schema.naValues) || schema.naValues.some((v) => typeof v !== 'string'))
    bad('naValues must be strings');
  if (schema.fileColumns.some((n) => typeof n !== 'string')) bad('fileColumns must be strings');
  const seen = new Set<number>();
  for (const c of schema.columns) {
    if (!c || typeof c !== 'object') bad('a column is not an object');
    if (!Number.isSafeInteger(c.index) || c.index < 0 || c.index >= schema.fileColumns.length || seen.has(c.index)) {
      bad(`column index ${c.index} out of range or repeated`);
    }
    seen.add(c.index);
    if (schema.fileColumns[c.index] !== c.name)
      bad(
        `column ${c.index} is named ${JSON.stringify(c.name)} but the file column is ${JSON.stringify(schema.fileColumns[c.index])}`,
      );
    if (c.kind !== 'numeric' && c.kind !== 'categorical')
      bad(`column ${JSON.stringify(c.name)} has kind ${JSON.stringify(c.kind)}`);
    if (c.kind === 'categorical') {
      const cats = c.categories;
      if (
        !Array.isArray(cats) ||
        cats.length === 0 ||
        cats.some((v) => typeof v !== 'string') ||
        new Set(cats).size !== cats.length
      ) {
        bad(`column ${JSON.stringify(c.name)} needs a non-empty list of distinct string categories`);
      }
    }
  }
  return schema;
}

/**
 * Encoding CSV records under a {@link CsvSchema}: numeric cells as f32, categorical cells as
 * one-hot slots (features, and one-hot labels) or class indices (sparse labels), with the missing
 * and unknown-category policies of the schema.
 */
import { FormatError, ValueError } from '../errors.js';
import type { CsvRecord } from './csv-parse.js';
import { type CsvSchema, checkWidth, OTHER_CATEGORY, parseNumber } from './csv-schema.js';

/** Widths of x and y under a schema, and the names of their columns (`color=red` for one-hot slots). */
export function layoutOf(schema: CsvSchema): { features: string[]; labels: string[] } {
  const features: string[] = [];
  const labels: string[] = [];
  for (const c of schema.columns) {
    const out = c.isLabel ? labels : features;
    if (c.kind === 'numeric') out.push(c.name);
    else if (c.isLabel && !c.oneHot) out.push(c.name);
    else {
      for (const cat of c.categories as string[]) out.push(`${c.name}=${cat}`);
      if (!c.isLabel && schema.unknownCategory === 'other') out.push(`${c.name}=${OTHER_CATEGORY}`);
    }
  }
  return { features, labels };
}

/**
 * Encodes records into rows: `encode(record, x, xOffset, y, yOffset)` writes one feature row and one
 * label row. Errors (FormatError/ValueError) name the line, column and value.
 */
export function makeEncoder(
  op: string,
  schema: CsvSchema,
): (record: CsvRecord, x: Float32Array, xo: number, y: Float32Array, yo: number) => void {
  const na = new Set(schema.naValues);
  const width = schema.fileColumns.length;
  const plan = schema.columns.map((c) => ({
    c,
    lookup: c.categories ? new Map(c.categories.map((v, i) => [v, i])) : undefined,
    slots:
      c.kind === 'numeric' || (c.isLabel && !c.oneHot)
        ? 1
        : (c.categories as string[]).length + (!c.isLabel && schema.unknownCategory === 'other' ? 1 : 0),
    where: `column ${c.index + 1} (${JSON.stringify(c.name)})`,
  }));
  return (record, x, xo, y, yo) => {
    checkWidth(op, record, width);
    let xi = xo;
    let yi = yo;
    for (const p of plan) {
      const { c } = p;
      const out = c.isLabel ? y : x;
      const at = c.isLabel ? yi : xi;
      let cell = record.fields[c.index] as string;
      const missing = na.has(cell.trim());
      if (c.kind === 'numeric') {
        let v: number | undefined;
        if (missing) {
          const fill = c.default ?? schema.missing;
          if (fill === 'error' || typeof fill !== 'number') {
            throw new FormatError(
              op,
              `line ${record.line}, ${p.where}: missing value ${JSON.stringify(cell)} (set missing or a column default to fill it)`,
            );
          }
          v = fill;
        } else v = parseNumber(cell);
        if (v === undefined)
          throw new FormatError(op, `line ${record.line}, ${p.where}: ${JSON.stringify(cell)} is not a number`);
        const f = Math.fround(v);
        if (!Number.isFinite(f))
          throw new FormatError(
            op,
            `line ${record.line}, ${p.where}: ${JSON.stringify(cell)} is outside the float32 range`,
          );
        out[at] = f;
      } else {
        if (missing) {
          if (typeof c.default !== 'string') {
            throw new FormatError(
              op,
              `line ${record.line}, ${p.where}: missing category (set a column default to fill it)`,
            );
          }
          cell = c.default;
        }
        const k = (p.lookup as Map<string, number>).get(cell);
        const sparse = c.isLabel && !c.oneHot;
        if (sparse) {
          if (k === undefined)
            throw new ValueError(
              op,
              `line ${record.line}, ${p.where}: unknown label ${JSON.stringify(cell)} (known: ${listed(c.categories)})`,
            );
          out[at] = k;
        } else {
          out.fill(0, at, at + p.slots);
          if (k !== undefined) out[at + k] = 1;
          else if (!c.isLabel && schema.unknownCategory === 'other') out[at + p.slots - 1] = 1;
          else
            throw new ValueError(
              op,
              `line ${record.line}, ${p.where}: unknown category ${JSON.stringify(cell)} (known: ${listed(c.categories)})`,
            );
        }
      }
      if (c.isLabel) yi += p.slots;
      else xi += p.slots;
    }
  };
}

const listed = (cats: string[] | undefined): string => {
  const list = cats ?? [];
  return (
    list
      .slice(0, 10)
      .map((v) => JSON.stringify(v))
      .join(', ') + (list.length > 10 ? `, … ${list.length} in all` : '')
  );
};

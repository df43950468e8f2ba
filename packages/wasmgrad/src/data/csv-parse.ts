/**
 * An RFC 4180 CSV tokenizer over a stream of text chunks, in bounded memory: a record may not exceed
 * `maxRecordLength` characters, so a 10 MB line without a newline, or an unterminated quote, stops
 * at the cap with a FormatError instead of buffering the whole input.
 *
 * Accepted: fields separated by a one-character delimiter; records ended by LF, CRLF or CR; fields
 * in double quotes holding delimiters, line breaks and doubled quotes (`""`); a quote inside an
 * unquoted field is kept literally. Rejected (FormatError naming the source, line and column):
 * an unterminated quote, a character other than a delimiter or line break after a closing quote,
 * NUL characters, and records over the cap. Blank lines are skipped; a leading BOM is dropped.
 */
import { FormatError, ValueError } from '../errors.js';

/** One record: its fields and the 1-based line where it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/** Options of {@link parseCsvRecords}. */
export interface CsvParseOptions {
  /** Field separator, one character (default ','). */
  delimiter?: string;
  /** Largest record, in characters (default 1,048,576). */
  maxRecordLength?: number;
  /** Most fields in one record (default 100,000). */
  maxColumns?: number;
  /** Names the source in errors (default 'csv'). */
  name?: string;
}

/** Default cap on one record's length in characters (1 MiB). */
export const CSV_MAX_RECORD_LENGTH = 1 << 20;

/** Default cap on the fields of one record (the columns of a file). */
export const CSV_MAX_COLUMNS = 100_000;

const QUOTE = 34;
const LF = 10;
const CR = 13;
const NUL = 0;

/** Validated tokenizer options. */
export function parseOptions(options: CsvParseOptions): Required<CsvParseOptions> {
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n\0]/.test(delimiter)) {
    throw new ValueError(
      'csv',
      `delimiter must be one character other than a quote, line break or NUL, got ${JSON.stringify(delimiter)}`,
    );
  }
  const maxRecordLength = options.maxRecordLength ?? CSV_MAX_RECORD_LENGTH;
  if (!Number.isSafeInteger(maxRecordLength) || maxRecordLength < 1) {
    throw new ValueError('csv', `maxRecordLength must be a positive integer, got ${maxRecordLength}`);
  }
  const maxColumns = options.maxColumns ?? CSV_MAX_COLUMNS;
  if (!Number.isSafeInteger(maxColumns) || maxColumns < 1) {
    throw new ValueError('csv', `maxColumns must be a positive integer, got ${maxColumns}`);
  }
  return { delimiter, maxRecordLength, maxColumns, name: options.name ?? 'csv' };
}

/** One scanned record: its fields, where the next starts, and the line breaks it consumed. */
interface Scanned {
  fields: string[];
  end: number;
  lines: number;
  /** The first field was quoted (so `""` alone on a line is a record, not a blank line). */
  quotedFirst: boolean;
}

/**
 * Yields the records of a CSV text arriving in chunks. Each chunk boundary may fall anywhere
 * (inside a quoted field, between CR and LF). Memory is bounded by the cap plus one chunk.
 */
export async function* parseCsvRecords(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: CsvParseOptions = {},
): AsyncGenerator<CsvRecord> {
  for await (const group of parseCsvGroups(chunks, options)) yield* group;
}

/** Records per group yielded by {@link parseCsvGroups}. */
const GROUP = 1024;

/**
 * {@link parseCsvRecords} in groups: the complete records of each piece of text read, up to 1,024
 * at a time, so that consumers pay for asynchronous iteration per group rather than per record.
 */
export async function* parseCsvGroups(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: CsvParseOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const { delimiter, maxRecordLength: cap, maxColumns, name } = parseOptions(options);
  const delim = delimiter.charCodeAt(0);
  const op = `csv:${name}`;
  let buf = '';
  let pos = 0;
  let line = 1;
  let final = false;
  let first = true;
  const it = (Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]()) as
    | AsyncIterator<string>
    | Iterator<string>;
  // Reads until the unscanned text has at least doubled (amortized linear rescans) or input ends.
  const refill = async (): Promise<void> => {
    const pending = buf.length - pos;
    const parts = [buf.slice(pos)];
    let got = 0;
    while (got <= pending && got < cap + 2) {
      const r = await it.next();
      if (r.done) {
        final = true;
        break;
      }
      if (typeof r.value !== 'string') throw new ValueError(op, `text chunks must be strings, got ${typeof r.value}`);
      parts.push(r.value);
      got += r.value.length;
    }
    buf = parts.join('');
    pos = 0;
    if (first && buf.length > 0) {
      if (buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
      first = false;
    }
  };
  const fail = (msg: string, lineNo: number): never => {
    throw new FormatError(op, `line ${lineNo}: ${msg}`);
  };
  let group: CsvRecord[] = [];
  try {
    await refill();
    for (;;) {
      if (group.length >= GROUP) {
        yield group;
        group = [];
      }
      const more = pos >= buf.length ? 'more' : scanRecord(buf, pos, final, delim, cap, maxColumns, line, fail);
      if (more === 'more') {
        if (group.length > 0) {
          yield group;
          group = [];
        }
        if (final) {
          if (pos < buf.length) throw new Error('unreachable: scan asked for more at end of input');
          return;
        }
        await refill();
        continue;
      }
      const start = line;
      line += more.lines;
      pos = more.end;
      // A blank line is one empty field: skip it.
      if (more.fields.length === 1 && more.fields[0] === '' && !more.quotedFirst) continue;
      group.push({ fields: more.fields, line: start });
    }
  } finally {
    await it.return?.();
  }
}

/**
 * Scans one record starting at `pos`. Returns 'more' when the text ends before the record does
 * and more input may come. `lines` counts the line breaks consumed (inside quotes and the final one).
 */
function scanRecord(
  buf: string,
  pos: number,
  final: boolean,
  delim: number,
  cap: number,
  maxColumns: number,
  line: number,
  fail: (msg: string, lineNo: number) => never,
): Scanned | 'more' {
  const fields: string[] = [];
  const n = buf.length;
  const limit = pos + cap;
  let i = pos;
  let lines = 0;
  let quotedFirst = false;
  // Called before a delimiter opens another field: stops a line of a million commas early.
  const tooWide = (): void => {
    if (fields.length >= maxColumns) fail(`more than ${maxColumns} fields (set maxColumns to allow more)`, line);
  };
  const tooLong = (): never =>
    fail(`record longer than the ${cap}-character cap (set maxRecordLength to allow longer records)`, line);
  for (;;) {
    // Start of a field.
    if (i < n && buf.charCodeAt(i) === QUOTE) {
      if (fields.length === 0) quotedFirst = true;
      const fieldLine = line + lines;
      let j = i + 1;
      let value = '';
      let from = j;
      for (;;) {
        if (j >= n) {
          if (!final) return j > limit ? tooLong() : 'more';
          return fail(
            `unterminated quoted field (column ${fields.length + 1}) reaches the end of the input`,
            fieldLine,
          );
        }
        if (j > limit) return tooLong();
        const c = buf.charCodeAt(j);
        if (c === QUOTE) {
          if (j + 1 >= n && !final) return 'more';
          if (buf.charCodeAt(j + 1) === QUOTE) {
            value += buf.slice(from, j + 1);
            j += 2;
            from = j;
            continue;
          }
          value += buf.slice(from, j);
          j++;
          break;
        }
        if (c === NUL) return fail(`NUL character in column ${fields.length + 1}`, line + lines);
        if (c === LF || (c === CR && buf.charCodeAt(j + 1) !== LF)) lines++;
        j++;
      }
      fields.push(value);
      i = j;
      if (i >= n) {
        if (!final) return 'more';
        return { fields, end: i, lines, quotedFirst };
      }
      const c = buf.charCodeAt(i);
      if (c === delim) {
        tooWide();
        i++;
        continue;
      }
      const end = lineEnd(buf, i, n, final);
      if (end === 'more') return 'more';
      if (end > 0) return { fields, end, lines: lines + 1, quotedFirst };
      return fail(
        `unexpected ${JSON.stringify(buf[i])} after the closing quote of column ${fields.length} (expected a delimiter or line break)`,
        line + lines,
      );
    }
    // Unquoted field: up to the next delimiter or line break.
    let j = i;
    for (;;) {
      if (j >= n) {
        if (!final) return j > limit ? tooLong() : 'more';
        fields.push(buf.slice(i, j));
        return { fields, end: j, lines, quotedFirst };
      }
      if (j > limit) return tooLong();
      const c = buf.charCodeAt(j);
      if (c === delim || c === LF || c === CR) break;
      if (c === NUL) return fail(`NUL character in column ${fields.length + 1}`, line + lines);
      j++;
    }
    fields.push(buf.slice(i, j));
    if (buf.charCodeAt(j) === delim) {
      tooWide();
      i = j + 1;
      continue;
    }
    const end = lineEnd(buf, j, n, final);
    if (end === 'more') return 'more';
    return { fields, end, lines: lines + 1, quotedFirst };
  }
}

/** After a line break at `i`: the index past it (CRLF counts once), 'more' if CR ends the text, or -1. */
function lineEnd(buf: string, i: number, n: number, final: boolean): number | 'more' {
  const c = buf.charCodeAt(i);
  if (c === LF) return i + 1;
  if (c === CR) {
    if (i + 1 >= n) return final ? i + 1 : 'more';
    return buf.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
  }
  return -1;
}

/** Quotes a field when it holds a delimiter, quote or line break. */
export function formatCsvField(value: string, delimiter = ','): string {
  const quote = value.includes('"') || value.includes(delimiter) || /[\r\n]/.test(value);
  return quote ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Writes records as CSV text (RFC 4180, LF line ends): the inverse of {@link parseCsvRecords}. */
export function formatCsv(records: readonly (readonly string[])[], delimiter = ','): string {
  // A record of one empty field is written `""`: a bare empty line is a blank line, skipped.
  const line = (r: readonly string[]) =>
    r.length === 1 && r[0] === '' ? '""' : r.map((f) => formatCsvField(f, delimiter)).join(delimiter);
  return records.map((r) => `${line(r)}\n`).join('');
}

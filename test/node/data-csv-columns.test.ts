/** CSV columns: typed and categorical columns, labels, schemas, missing values, sources, streaming. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-csv-columns-'));

/** The error an async call rejects with (fails the test when it resolves), and how long it took. */
async function failure(run: () => Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const t0 = performance.now();
  try {
    await run();
  } catch (err) {
    return { err: err as Error, ms: performance.now() - t0 };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  await wg.ready();
});

/** Writes a CSV of `rows` rows (numeric, quoted numeric, categorical, label columns); returns its size. */
function writeRows(path: string, rows: number): number {
  const parts = ['f0,f1,f2,f3,color,label\n'];
  const colors = ['red', 'green', 'blue'];
  for (let i = 0; i < rows; i++) {
    parts.push(`${(i % 97) / 10},${(i % 13) - 6},${i % 7},"${i % 5}.5",${colors[i % 3]},${i % 2}\n`);
  }
  const text = parts.join('');
  writeFileSync(path, text);
  return text.length;
}

const IRIS_LIKE = [
  'sepal,petal,color,species',
  '5.1,1.4,red,setosa',
  '4.9,1.5,blue,setosa',
  '6.3,4.9,red,virginica',
  '5.8,4.1,green,versicolor',
  '',
].join('\n');

describe('readCsv (eager)', () => {
  it('encodes numeric columns, one-hot categoricals (sorted categories) and a sparse label', async () => {
    const d = await wg.data.readCsv(IRIS_LIKE, { columnConfigs: { species: { isLabel: true } } });
    expect(d.columns).toEqual(['sepal', 'petal', 'color=blue', 'color=green', 'color=red']);
    expect(d.labelColumns).toEqual(['species']);
    expect({ ...d.categories }).toEqual({
      color: ['blue', 'green', 'red'],
      species: ['setosa', 'versicolor', 'virginica'],
    });
    expect(d.x.shape).toEqual([4, 5]);
    expect(Array.from(d.x.dataSync())).toEqual(
      [5.1, 1.4, 0, 0, 1, 4.9, 1.5, 1, 0, 0, 6.3, 4.9, 0, 0, 1, 5.8, 4.1, 0, 1, 0].map(Math.fround),
    );
    expect(d.y?.shape).toEqual([4, 1]);
    expect(Array.from(d.y?.dataSync() ?? [])).toEqual([0, 0, 2, 1]);
    expect(d.rows).toBe(4);
    d.x.dispose();
    d.y?.dispose();
  });

  it('one-hot labels, numeric labels, configuredColumnsOnly and columnNames without a header', async () => {
    const oneHot = await wg.data.readCsv(IRIS_LIKE, { columnConfigs: { species: { isLabel: true, oneHot: true } } });
    expect(oneHot.labelColumns).toEqual(['species=setosa', 'species=versicolor', 'species=virginica']);
    expect(Array.from(oneHot.y?.dataSync() ?? [])).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0]);
    const reg = await wg.data.readCsv(IRIS_LIKE, {
      configuredColumnsOnly: true,
      columnConfigs: { sepal: {}, petal: { isLabel: true } },
    });
    expect(reg.columns).toEqual(['sepal']);
    expect(Array.from(reg.y?.dataSync() ?? [])).toEqual([1.4, 1.5, 4.9, 4.1].map(Math.fround));
    const noHeader = await wg.data.readCsv('1,2\n3,4\n', { hasHeader: false, columnNames: ['p', 'q'] });
    expect(noHeader.columns).toEqual(['p', 'q']);
    expect(noHeader.y).toBeUndefined();
    const generated = await wg.data.readCsv('1,2\n3,4\n', { hasHeader: false });
    expect(generated.columns).toEqual(['column1', 'column2']);
    for (const t of [oneHot.x, oneHot.y, reg.x, reg.y, noHeader.x, generated.x]) t?.dispose();
  });

  it("encodes a test file with the training file's categories; unknown ones are an error or <other>", async () => {
    const train = await wg.data.readCsv(IRIS_LIKE, { columnConfigs: { species: { isLabel: true } } });
    const testText = 'sepal,petal,color,species\n5,1,green,virginica\n';
    const test = await wg.data.readCsv(testText, { schema: train.schema });
    expect(test.columns).toEqual(train.columns);
    expect(Array.from(test.x.dataSync())).toEqual([5, 1, 0, 1, 0]);
    expect(Array.from(test.y?.dataSync() ?? [])).toEqual([2]);
    // The schema survives JSON (saved next to a model).
    const again = await wg.data.readCsv(testText, { schema: JSON.parse(JSON.stringify(train.schema)) });
    expect(Array.from(again.x.dataSync())).toEqual([5, 1, 0, 1, 0]);
    const unknown = 'sepal,petal,color,species\n5,1,purple,setosa\n';
    const { err } = await failure(() => wg.data.readCsv(unknown, { schema: train.schema, name: 'test.csv' }));
    expect(err).toBeInstanceOf(wg.ValueError);
    expect(err.message).toMatch(/csv:test\.csv: line 2, column 3 \("color"\): unknown category "purple"/);
    const unknownLabel = 'sepal,petal,color,species\n5,1,red,dahlia\n';
    await expect(wg.data.readCsv(unknownLabel, { schema: train.schema })).rejects.toThrow(/unknown label "dahlia"/);
    const trainOther = await wg.data.readCsv(IRIS_LIKE, {
      unknownCategory: 'other',
      columnConfigs: { species: { isLabel: true } },
    });
    expect(trainOther.columns.slice(2)).toEqual(['color=blue', 'color=green', 'color=red', 'color=<other>']);
    const other = await wg.data.readCsv(unknown, { schema: trainOther.schema });
    expect(Array.from(other.x.dataSync())).toEqual([5, 1, 0, 0, 0, 1]);
    for (const t of [train.x, train.y, test.x, test.y, again.x, again.y, trainOther.x, trainOther.y, other.x, other.y])
      t?.dispose();
  });

  it('missing values: an error by default, or a fill value, or a column default', async () => {
    const text = 'a,b,c\n1,,x\n2,3,\n';
    const { err } = await failure(() => wg.data.readCsv(text, { name: 'm.csv' }));
    expect(err).toBeInstanceOf(wg.FormatError);
    expect(err.message).toMatch(/csv:m\.csv: line 2, column 2 \("b"\): missing value/);
    const filled = await wg.data.readCsv(text, { missing: -1, columnConfigs: { c: { default: 'x' } } });
    expect(Array.from(filled.x.dataSync())).toEqual([1, -1, 1, 2, 3, 1]);
    const perColumn = await wg.data.readCsv(text, {
      naValues: ['', 'NA'],
      columnConfigs: { b: { default: 9 }, c: { default: 'z' } },
    });
    expect(perColumn.columns).toEqual(['a', 'b', 'c=x', 'c=z']);
    expect(Array.from(perColumn.x.dataSync())).toEqual([1, 9, 1, 0, 2, 3, 0, 1]);
    filled.x.dispose();
    perColumn.x.dispose();
  });

  it.each<[string, string, wg.data.CsvConfig, typeof wg.FormatError | typeof wg.ValueError, RegExp]>([
    ['a ragged row', 'a,b,c\n1,2,3\n4,5\n', {}, wg.FormatError, /line 3 has 2 fields, the header has 3/],
    ['a row too long', 'a,b\n1,2\n3,4,5\n', {}, wg.FormatError, /line 3 has 3 fields, the header has 2/],
    [
      'a bad number in a numeric column',
      'a,b\n1,2\n3,4x\n',
      { columnConfigs: { b: { dtype: 'float32' } } },
      wg.FormatError,
      /line 3, column 2 \("b"\): "4x" is not a number/,
    ],
    [
      'a column mixing numbers and text',
      'a,b\n1,2\n3,abc\n',
      {},
      wg.FormatError,
      /column 2 \("b"\) mixes numbers \(line 2: "2"\) and non-numbers \(line 3: "abc"\)/,
    ],
    [
      'a number outside float32',
      'a\n1e39\n',
      {},
      wg.FormatError,
      /line 2, column 1 \("a"\): "1e39" is outside the float32 range/,
    ],
    ['a header only', 'a,b\n', {}, wg.ValueError, /no data rows \(header only\)/],
    ['empty input', '\n\n', {}, wg.ValueError, /the input is empty/],
    ['a duplicate header name', 'a,b,a\n1,2,3\n', {}, wg.FormatError, /duplicate column name "a" \(column 3\)/],
    ['an empty header name', 'a,,c\n1,2,3\n', {}, wg.FormatError, /column 2 has an empty name/],
    [
      'columnNames not matching the header',
      'a,b\n1,2\n',
      { columnNames: ['x'] },
      wg.FormatError,
      /columnNames has 1 names but the header \(line 1\) has 2/,
    ],
    [
      'columnConfigs naming a missing column',
      'a,b\n1,2\n',
      { columnConfigs: { z: {} } },
      wg.ValueError,
      /columnConfigs names "z", which is not a column/,
    ],
    [
      'too many categories',
      `a\n${Array.from({ length: 30 }, (_, i) => `c${i}`).join('\n')}\n`,
      { maxCategories: 20 },
      wg.ValueError,
      /more than 20 distinct values/,
    ],
    [
      'a header of 500,001 columns (one line of commas)',
      `${','.repeat(500_000)}\n`,
      {},
      wg.FormatError,
      /line 1: more than 100000 fields \(set maxColumns to allow more\)/,
    ],
    ['a bad delimiter', 'a\n1\n', { delimiter: '"' }, wg.ValueError, /delimiter must be one character/],
  ])('rejects %s with a typed error naming the line, column and value', async (_name, text, config, type, message) => {
    const { err, ms } = await failure(() => wg.data.readCsv(text, { name: 'h.csv', ...config }));
    expect(err).toBeInstanceOf(type);
    expect(err.message).toMatch(message);
    expect(ms).toBeLessThan(1000);
  });

  it('rejects a header that does not match the schema, and invalid UTF-8', async () => {
    const train = await wg.data.readCsv('a,b\n1,2\n');
    await expect(wg.data.readCsv('a,c\n1,2\n', { schema: train.schema })).rejects.toThrow(
      /header \[a, c\] does not match the schema's columns \[a, b\]/,
    );
    const bad = new Uint8Array([...new TextEncoder().encode('a,b\n1,'), 0xff, 0xfe, 10]);
    await expect(wg.data.readCsv(bad, { name: 'u.csv' })).rejects.toThrow(/csv:u\.csv: invalid UTF-8/);
    await expect(
      wg.data.readCsv('a\n1\n', {
        schema: { ...train.schema, columns: [{ name: 'zz', index: 0, kind: 'numeric', isLabel: false }] },
      }),
    ).rejects.toThrow(/invalid CSV schema/);
    train.x.dispose();
  });

  it('__proto__ and constructor as header and category names pollute nothing', async () => {
    const text = '__proto__,constructor,label\n__proto__,1,toString\nhasOwnProperty,2,__proto__\n';
    const d = await wg.data.readCsv(text, { columnConfigs: { label: { isLabel: true } } });
    expect(d.columns).toEqual(['__proto__=__proto__', '__proto__=hasOwnProperty', 'constructor']);
    expect(Object.hasOwn(d.categories, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(d.categories, '__proto__')?.value).toEqual(['__proto__', 'hasOwnProperty']);
    expect(d.categories.label).toEqual(['__proto__', 'toString']);
    expect(Array.from(d.y?.dataSync() ?? [])).toEqual([1, 0]);
    expect(({} as Record<string, unknown>).hasOwnProperty).toBe(Object.prototype.hasOwnProperty);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    // columnConfigs as a plain object: its inherited keys are not configs.
    const cfg = JSON.parse('{"__proto__": {"isLabel": true}}');
    const e = await wg.data.readCsv(text, { columnConfigs: cfg });
    expect(e.labelColumns).toEqual(['__proto__']);
    expect(Object.keys(Object.prototype)).toEqual([]);
    for (const t of [d.x, d.y, e.x, e.y]) t?.dispose();
  });
});

describe('CSV sources and streaming', () => {
  const file = join(dir, 'small.csv');
  writeFileSync(file, IRIS_LIKE);
  const config = { columnConfigs: { species: { isLabel: true } } };

  it('reads a path, a file: URL, bytes, a Blob, a Response and { text } alike', async () => {
    const want = await wg.data.readCsv(IRIS_LIKE, config);
    const bytes = new TextEncoder().encode(IRIS_LIKE);
    for (const source of [
      file,
      pathToFileURL(file),
      bytes,
      bytes.buffer,
      new Blob([bytes]),
      new Response(IRIS_LIKE),
      { text: IRIS_LIKE },
    ]) {
      const got = await wg.data.readCsv(source as wg.data.CsvSource, { ...config, chunkBytes: 7 });
      expect(Array.from(got.x.dataSync())).toEqual(Array.from(want.x.dataSync()));
      expect(Array.from(got.y?.dataSync() ?? [])).toEqual(Array.from(want.y?.dataSync() ?? []));
      got.x.dispose();
      got.y?.dispose();
    }
    await expect(wg.data.readCsv(join(dir, 'missing.csv'))).rejects.toThrow(/could not open/);
    want.x.dispose();
    want.y?.dispose();
  });

  it('inflates gzip bytes and .csv.gz files on the fly; corrupt gzip is a FormatError', async () => {
    const want = await wg.data.readCsv(IRIS_LIKE, config);
    const gz = gzipSync(IRIS_LIKE);
    const gzFile = join(dir, 'small.csv.gz');
    writeFileSync(gzFile, gz);
    for (const source of [gz, gzFile, new Blob([gz])]) {
      const got = await wg.data.readCsv(source, { ...config, chunkBytes: 1 });
      expect(Array.from(got.x.dataSync())).toEqual(Array.from(want.x.dataSync()));
      got.x.dispose();
      got.y?.dispose();
    }
    const { err } = await failure(() => wg.data.readCsv(gz.subarray(0, gz.length - 12), { name: 'cut.csv.gz' }));
    expect(err).toBeInstanceOf(wg.FormatError);
    expect(err.message).toMatch(/csv:cut\.csv\.gz: corrupt gzip data/);
    // A gzip bomb (100 MB of one line inflating from ~100 kB) stops at the record cap, having
    // inflated little more than the cap.
    const bomb = gzipSync(Buffer.alloc(100_000_000, 0x61));
    const t0 = performance.now();
    await expect(wg.data.readCsv(bomb)).rejects.toThrow(/record longer than the 1048576-character cap/);
    expect(performance.now() - t0).toBeLessThan(3000);
    // Stopping early (take) closes the file.
    expect((await wg.data.csv(gzFile, config).take(1).toArray()).length).toBe(1);
    want.x.dispose();
    want.y?.dispose();
  });

  it('streams the same rows as the eager reader, over several passes', async () => {
    const want = await wg.data.readCsv(IRIS_LIKE, config);
    const ds = wg.data.csv(file, { ...config, chunkBytes: 5 });
    expect(await ds.columnNames()).toEqual(want.columns);
    for (let pass = 0; pass < 2; pass++) {
      const rows = await ds.toArray();
      expect(rows.flatMap((r) => Array.from(r.xs))).toEqual(Array.from(want.x.dataSync()));
      expect(rows.flatMap((r) => Array.from(r.ys ?? []))).toEqual(Array.from(want.y?.dataSync() ?? []));
    }
    const batches = await ds.batch(3).toArray();
    expect(batches.map((b) => b.xs.shape)).toEqual([
      [3, 5],
      [1, 5],
    ]);
    for (const b of batches) {
      b.xs.dispose();
      b.ys?.dispose();
    }
    want.x.dispose();
    want.y?.dispose();
  });

  it('streams an http URL in chunks; HTTP errors are typed', async () => {
    const body = IRIS_LIKE.repeat(1).replace(/\n$/, '');
    const server = createServer((req, res) => {
      if (req.url !== '/iris.csv') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv' });
      // Two writes: the body arrives in pieces.
      res.write(body.slice(0, 20));
      setTimeout(() => res.end(body.slice(20)), 10);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const ds = wg.data.csv(`http://127.0.0.1:${port}/iris.csv`, config);
      expect(await ds.columnNames()).toEqual(['sepal', 'petal', 'color=blue', 'color=green', 'color=red']);
      expect((await ds.toArray()).map((r) => r.ys?.[0])).toEqual([0, 0, 2, 1]);
      await expect(wg.data.readCsv(`http://127.0.0.1:${port}/missing.csv`)).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('a Response streams once, with a schema; without one it asks for it', async () => {
    const train = await wg.data.readCsv(IRIS_LIKE, config);
    const ds = wg.data.csv(new Response(IRIS_LIKE), { schema: train.schema });
    expect((await ds.toArray()).length).toBe(4);
    await expect(ds.toArray()).rejects.toThrow(/can be read only once/);
    await expect(wg.data.csv(new Response(IRIS_LIKE), config).toArray()).rejects.toThrow(
      /pass schema, or a dtype for every column/,
    );
    train.x.dispose();
    train.y?.dispose();
  });

  it('streams a 200k-row file in bounded memory, and says how fast', async () => {
    const big = join(dir, 'big.csv');
    const bytes = writeRows(big, 200_000);
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = Number.NEGATIVE_INFINITY;
    let n = 0;
    let sum = 0;
    let gcMs = 0;
    const t0 = performance.now();
    for await (const row of wg.data.csv(big, { columnConfigs: { label: { isLabel: true, dtype: 'categorical' } } })) {
      sum += (row.xs[4] as number) + (row.ys?.[0] as number);
      if (++n % 20_000 === 0) {
        const g0 = performance.now();
        gc();
        gcMs += performance.now() - g0;
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    const seconds = (performance.now() - t0 - gcMs) / 1000;
    expect(n).toBe(200_000);
    // xs[4] is the color=blue slot (categories sorted: blue, green, red), set when i % 3 == 2
    // (66,666 rows); ys[0] is the label's class index, i % 2 (100,000 ones).
    expect(sum).toBe(66_666 + 100_000);
    console.log(
      `csv stream: ${n} rows (${(bytes / 1e6).toFixed(1)} MB, 2 passes: schema + encode) in ${seconds.toFixed(2)} s (without the test's gc calls) = ${Math.round(n / seconds)} rows/s; heap growth ${(peak / 1e6).toFixed(2)} MB`,
    );
    // Bounded: a few groups of rows and text chunks, far below the file (or its rows as strings).
    expect(peak).toBeLessThan(bytes / 2);
    expect(peak).toBeLessThan(4e6);
  }, 120_000);
});

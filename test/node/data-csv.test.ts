/** CSV tokenizer: RFC 4180 corner cases at every chunking, caps, hostile text, property-based round trips. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-csv-'));

async function records(chunks: string | string[], options: wg.data.CsvParseOptions = {}): Promise<string[][]> {
  const out: string[][] = [];
  for await (const r of wg.data.parseCsvRecords(Array.isArray(chunks) ? chunks : [chunks], options)) out.push(r.fields);
  return out;
}

async function lines(text: string): Promise<number[]> {
  const out: number[] = [];
  for await (const r of wg.data.parseCsvRecords([text])) out.push(r.line);
  return out;
}

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

describe('CSV tokenizer (RFC 4180)', () => {
  it.each<[string, string, string[][]]>([
    [
      'LF',
      'a,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CRLF',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CR',
      'a,b\r1,2\r',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'no final line break',
      'a,b\n1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'empty fields',
      'a,,b\n,,\n',
      [
        ['a', '', 'b'],
        ['', '', ''],
      ],
    ],
    ['trailing delimiter', 'a,b,\n', [['a', 'b', '']]],
    ['quoted delimiter', '"a,b",c\n', [['a,b', 'c']]],
    ['quoted LF and CRLF', '"x\ny","p\r\nq"\n', [['x\ny', 'p\r\nq']]],
    ['doubled quotes', '"say ""hi""",""""\n', [['say "hi"', '"']]],
    ['quoted empty field alone', '""\n', [['']]],
    ['quoted field at EOF', 'a,"b"', [['a', 'b']]],
    ['blank lines skipped', '\na\n\n\r\nb\n\n', [['a'], ['b']]],
    ['BOM dropped', '\ufeffa,b\n', [['a', 'b']]],
    ['quote inside an unquoted field is literal', 'ab"c,5\'10"\n', [['ab"c', '5\'10"']]],
    ['spaces kept', ' a , b \n', [[' a ', ' b ']]],
    ['unicode', 'é,日本,🙂\n', [['é', '日本', '🙂']]],
  ])('%s', async (_name, text, want) => {
    expect(await records(text)).toEqual(want);
  });

  it('other delimiters', async () => {
    expect(await records('a;b;"c;d"\n', { delimiter: ';' })).toEqual([['a', 'b', 'c;d']]);
    expect(await records('a\tb,c\n', { delimiter: '\t' })).toEqual([['a', 'b,c']]);
  });

  it('numbers records by the line they start on, counting line breaks inside quotes', async () => {
    expect(await lines('h\n"a\nb\nc"\n\nd\r\ne\rf\n')).toEqual([1, 2, 6, 7, 8]);
  });

  it('gives the same records for every chunking (every split point, and one character per chunk)', async () => {
    const text = 'id,"note, with comma"\r\n1,"multi\r\nline ""quoted"""\r\n\r\n2,plain\r3,"x"\n';
    const want = await records(text);
    expect(want).toEqual([
      ['id', 'note, with comma'],
      ['1', 'multi\r\nline "quoted"'],
      ['2', 'plain'],
      ['3', 'x'],
    ]);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(await records([text.slice(0, cut), text.slice(cut)])).toEqual(want);
    }
    expect(await records(text.split(''))).toEqual(want);
  });

  it.each<[string, string, RegExp]>([
    ['an unterminated quote at EOF', 'a,b\n1,"open\n2,3\n', /line 2: unterminated quoted field \(column 2\)/],
    ['text after a closing quote', 'a,b\n"x"y,1\n', /line 2: unexpected "y" after the closing quote of column 1/],
    ['a NUL byte', 'a,b\n1,2\u0000\n', /line 2: NUL character in column 2/],
    ['a NUL byte inside quotes', 'a\n"x\n\u0000"\n', /line 3: NUL character in column 1/],
  ])('rejects %s with a FormatError naming the line', async (_name, text, message) => {
    const { err } = await failure(() => records(text, { name: 'bad.csv' }));
    expect(err).toBeInstanceOf(wg.FormatError);
    expect(err.message).toMatch(/^csv:bad\.csv: /);
    expect(err.message).toMatch(message);
  });

  it('stops a 10 MB line at the record cap quickly, from a string, bytes and a file', async () => {
    const big = `a,b\n1,${'x'.repeat(10_000_000)}\n`;
    const file = join(dir, 'long-line.csv');
    writeFileSync(file, big);
    for (const source of [big, new TextEncoder().encode(big), file]) {
      const { err, ms } = await failure(() => wg.data.readCsv(source));
      expect(err).toBeInstanceOf(wg.FormatError);
      expect(err.message).toMatch(/line 2: record longer than the 1048576-character cap/);
      expect(ms).toBeLessThan(3000);
    }
    // An unterminated quote swallowing the rest of a large file also stops at the cap.
    const open = `a\n"${'y\n'.repeat(2_000_000)}`;
    const { err } = await failure(() => wg.data.readCsv(open));
    expect(err.message).toMatch(/line 2: record longer than/);
    // A raised cap lets the long line through.
    const ok = await wg.data.readCsv(`a,b\n1,${'x'.repeat(2000)}\n`, { maxRecordLength: 5000 });
    expect(ok.categories.b).toEqual(['x'.repeat(2000)]);
    ok.x.dispose();
  });

  it('round-trips generated tables through formatCsv, as text and as bytes (fast-check, 300 runs)', async () => {
    const cell = fc.string({
      unit: fc.constantFrom('a', 'Z', '0', ' ', ',', ';', '"', '\n', '\r', 'é', '🙂'),
      maxLength: 8,
    });
    const table = fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }))
      .chain(([cols, rows]) =>
        fc.array(fc.array(cell, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }),
      );
    await fc.assert(
      fc.asyncProperty(
        table,
        fc.constantFrom(',', ';', '\t'),
        fc.integer({ min: 1, max: 7 }),
        async (rows, delimiter, chunk) => {
          // Rows whose only field is empty are written as "" (a bare blank line would be skipped).
          const text = wg.data.formatCsv(rows, delimiter);
          const chunks: string[] = [];
          for (let i = 0; i < text.length; i += chunk) chunks.push(text.slice(i, i + chunk));
          expect(await records(chunks, { delimiter })).toEqual(rows);
          // The same as UTF-8 bytes read `chunk` bytes at a time (multi-byte characters split).
          const bytes = new TextEncoder().encode(text);
          const viaBytes = await wg.data.csvRecords(bytes, { delimiter, chunkBytes: chunk }).toArray();
          expect(viaBytes.map((r) => r.fields)).toEqual(rows);
        },
      ),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('never hangs or throws anything but FormatError on arbitrary text (fast-check, 300 runs)', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', '\u0000', ' '), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        try {
          const out = await records(t, { maxRecordLength: 16 });
          for (const r of out) expect(r.join(',').length).toBeLessThanOrEqual(16 + r.length);
        } catch (err) {
          expect(err).toBeInstanceOf(wg.FormatError);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

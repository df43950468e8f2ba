/**
 * Property-based fuzzing (fast-check) of every file parser: safetensors (io/safetensors.ts), IDX
 * (data/idx.ts, plain and gzip), model topology JSON (modelFromJSON) and checkpoint files
 * (io/checkpoint.ts, with mutated payloads re-sealed under a valid CRC so the checks behind it are
 * reached). Inputs: random bytes, edits (bit flips, byte sets, truncations, insertions, deletions)
 * of a valid file, and valid structures with one value replaced by hostile JSON (`__proto__`,
 * `constructor`, huge and negative numbers, wrong types). Every input must parse or throw a
 * WasmgradError, within MAX_MS_PER_INPUT, with Object.prototype untouched.
 *
 * Budget: a few hundred runs per property in the normal run; WASMGRAD_FUZZ_RUNS=<n> for more.
 * The CSV parser's fuzz tests are in data-csv.test.ts.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdx } from '../../packages/wasmgrad/src/data/idx.js';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from '../../packages/wasmgrad/src/io/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../packages/wasmgrad/src/io/safetensors.js';
import { crc32, edits, fuzzRuns, hostileJson, mutate, survives, tried } from '../shared/fuzz.js';

const RUNS = fuzzRuns(300);
const opts = { numRuns: RUNS, seed: 20261126, endOnFailure: true };

beforeAll(async () => {
  await wg.ready();
});

afterAll(() => {
  const rows = [...tried].map(([k, n]) => `  ${k.padEnd(34)} ${n}`);
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  console.log(`fuzz inputs tried (runs per property ${RUNS}), 0 crashes:\n${rows.join('\n')}\n  total ${total}`);
});

const bytesOf = (s: string) => new TextEncoder().encode(s);
const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 1);

/** Every (path, container) of a JSON value, for replacing one value. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) {
    for (const [i, e] of v.entries()) paths(e, [...at, i], out);
  } else if (v && typeof v === 'object') for (const [k, e] of Object.entries(v)) paths(e, [...at, k], out);
  return out;
}

/** A deep copy of `v` with the value at `path` replaced (via defineProperty: `__proto__` stays a key). */
function replaceAt(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
  let o = copy as Record<string, unknown>;
  for (const k of path.slice(0, -1)) o = o[k as string] as Record<string, unknown>;
  Object.defineProperty(o, path[path.length - 1] as string, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

const replaced = (valid: unknown) =>
  fc.tuple(fc.nat(), hostileJson).map(([i, value]) => {
    const ps = paths(valid);
    return replaceAt(valid, ps[i % ps.length] as (string | number)[], value);
  });

describe('safetensors reader', () => {
  const valid = encodeSafetensors(
    [
      { name: 'dense/kernel', shape: [2, 3], data: f32(6) },
      { name: 'dense/bias', shape: [3], data: f32(3) },
    ],
    { note: 'x' },
  );
  const headerLen = new DataView(valid.buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLen)));
  const body = valid.subarray(8 + headerLen);
  const parse = (b: Uint8Array) => decodeSafetensors(b, 'fuzz.safetensors');

  it('the valid file decodes, and every truncation is a FormatError', async () => {
    expect([...parse(valid).tensors.keys()]).toEqual(['dense/kernel', 'dense/bias']);
    for (let n = 0; n < valid.length; n++) {
      expect(() => parse(valid.subarray(0, n)), `truncated at ${n}`).toThrow(wg.FormatError);
      await survives('safetensors truncations', valid.subarray(0, n), parse);
    }
  });

  it('random bytes and edits of a valid file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 96 }), (b) => survives('safetensors random bytes', b, parse)),
      opts,
    );
    await fc.assert(
      fc.asyncProperty(edits, (es) => survives('safetensors byte edits', mutate(valid, es), parse)),
      opts,
    );
  });

  it('a valid header with one value replaced by hostile JSON', async () => {
    await fc.assert(
      fc.asyncProperty(replaced(header), (h) => {
        const json = bytesOf(JSON.stringify(h) ?? 'null');
        const out = new Uint8Array(8 + json.length + body.length);
        new DataView(out.buffer).setUint32(0, json.length, true);
        out.set(json, 8);
        out.set(body, 8 + json.length);
        return survives('safetensors hostile header', out, parse);
      }),
      opts,
    );
  });
});

describe('IDX parser', () => {
  const valid = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4, ...Array.from({ length: 12 }, (_, i) => i * 20)]);
  const floats = Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0]);
  const parse = (b: Uint8Array) => parseIdx(b, 'fuzz.idx', 1 << 16);

  it('valid files decode; random bytes and edits (plain and gzip) give only typed errors', async () => {
    expect((await parse(valid)).shape).toEqual([3, 4]);
    expect(Array.from((await parse(floats)).values)).toEqual([1, -2]);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), (b) => survives('idx random bytes', b, parse)),
      opts,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(valid, floats), edits, (v, es) =>
        survives('idx byte edits', mutate(v, es), parse),
      ),
      opts,
    );
    const gz = gzipSync(valid);
    await fc.assert(
      fc.asyncProperty(edits, (es) => survives('idx gzip edits', mutate(gz, es), parse)),
      opts,
    );
  });

  it('headers with arbitrary type, rank and dimensions over short bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff),
        fc.array(fc.constantFrom(0, 1, 3, 255, 65536, 2 ** 31, 2 ** 32 - 1), { maxLength: 5 }),
        fc.uint8Array({ maxLength: 32 }),
        (type, dims, tail) => {
          const head = [0, 0, type, dims.length];
          for (const d of dims) head.push(d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
          return survives('idx forged headers', Uint8Array.from([...head, ...tail]), parse);
        },
      ),
      opts,
    );
  });

  it('a gzip bomb stops at the size cap with a typed error', async () => {
    const bomb = gzipSync(Uint8Array.from([0, 0, 8, 1, 0, 0x10, 0, 0, ...new Uint8Array(1 << 20)]));
    await expect(parse(bomb)).rejects.toThrow(wg.WasmgradError);
  });
});

describe('model topology JSON (modelFromJSON)', () => {
  const model = wg.sequential([
    wg.layers.dense({ units: 3, inputShape: [4], activation: 'relu' }),
    wg.layers.dropout({ rate: 0.2 }),
    wg.layers.dense({ units: 2 }),
  ]);
  const valid = JSON.parse(JSON.stringify(model.toJSON()));
  const x = wg.input({ shape: [4] });
  const a = wg.layers.dense({ units: 3 }).apply(x) as wg.SymbolicTensor;
  const fn = wg.model({
    inputs: x,
    outputs: wg.layers
      .add()
      .apply([a, wg.layers.dense({ units: 3 }).apply(x) as wg.SymbolicTensor]) as wg.SymbolicTensor,
  });
  const graph = JSON.parse(JSON.stringify(fn.toJSON()));
  const parse = (v: unknown) => wg.modelFromJSON(v as never);

  it('valid topologies load; one value replaced by hostile JSON gives only typed errors', async () => {
    expect(parse(valid).layers.length).toBe(3);
    expect(parse(graph).layers.length).toBe(4);
    for (const v of [valid, graph]) {
      await fc.assert(
        fc.asyncProperty(replaced(v), (h) => survives('model JSON hostile values', h, parse)),
        opts,
      );
    }
  });

  it('edited JSON text and arbitrary JSON values', async () => {
    const text = bytesOf(JSON.stringify(graph));
    await fc.assert(
      fc.asyncProperty(edits, (es) =>
        survives('model JSON text edits', new TextDecoder().decode(mutate(text, es)), parse),
      ),
      opts,
    );
    await fc.assert(
      fc.asyncProperty(hostileJson, (v) => survives('model JSON arbitrary values', v, parse)),
      opts,
    );
  });
});

describe('checkpoint files', () => {
  const ckpt: Checkpoint = {
    weights: [
      { name: 'dense/kernel', shape: [2, 2], data: f32(4) },
      { name: 'dense/bias', shape: [2], data: f32(2) },
    ],
    optimizer: {
      className: 'Adam',
      config: { learningRate: 0.01 },
      state: { iterations: 3, slots: [f32(4), f32(2), f32(4), f32(2)] },
    },
    cursor: { epoch: 1, batch: 2, step: 9, seed: 5 },
    logs: { loss: 0.5 },
  } as unknown as Checkpoint;
  const valid = encodeCheckpoint(ckpt);
  const payload = valid.subarray(16);
  const parse = (b: Uint8Array) => decodeCheckpoint(b, 'fuzz.wgckpt');
  /** A checkpoint file around `p` with a correct length and CRC. */
  const seal = (p: Uint8Array) => {
    const out = new Uint8Array(16 + p.length);
    out.set(valid.subarray(0, 8));
    new DataView(out.buffer).setUint32(8, crc32(p), true);
    new DataView(out.buffer).setUint32(12, p.length, true);
    out.set(p, 16);
    return out;
  };

  it('the valid file decodes; edits of the file and of the re-sealed payload give only typed errors', async () => {
    expect(parse(valid).cursor).toEqual({ epoch: 1, batch: 2, step: 9, seed: 5 });
    expect(parse(seal(payload)).weights.length).toBe(2);
    await fc.assert(
      fc.asyncProperty(edits, (es) => survives('checkpoint byte edits', mutate(valid, es), parse)),
      opts,
    );
    await fc.assert(
      fc.asyncProperty(edits, (es) => survives('checkpoint payload edits (CRC ok)', seal(mutate(payload, es)), parse)),
      opts,
    );
  });

  it('metadata with one value replaced by hostile JSON (CRC ok)', async () => {
    const st = decodeSafetensors(payload, 'x');
    const meta = JSON.parse(st.metadata.get('wasmgrad.checkpoint') as string);
    const tensors = [...st.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    await fc.assert(
      fc.asyncProperty(replaced(meta), (m) =>
        survives(
          'checkpoint hostile metadata',
          seal(encodeSafetensors(tensors, { 'wasmgrad.checkpoint': JSON.stringify(m) ?? '' })),
          parse,
        ),
      ),
      opts,
    );
  });
});

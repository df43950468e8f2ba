/**
 * Model save/load: safetensors encoding, the hostile-file list of RELIABILITY.md (each a FormatError
 * naming the file, never a crash, hang or polluted prototype), round trips of a trained MLP from
 * disk and memory with bit-equal predictions, and atomic saves that leave the previous save loadable.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { type FileOps, nodeFileOps, serializeModel, writeArtifacts } from '../../packages/wasmgrad/src/io/model-io.js';
import { decodeSafetensors, encodeSafetensors } from '../../packages/wasmgrad/src/io/safetensors.js';
import { seededRandom } from '../shared/tolerance.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wasmgrad-io-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A file from a raw header text (padded to 8 bytes unless `pad` is false) and data bytes. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let json = new TextEncoder().encode(header);
  if (pad && json.length % 8) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const entry = (shape: number[], begin: number, end: number, dtype = 'F32') =>
  `{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;

function expectFormatError(bytes: Uint8Array, pattern: RegExp) {
  let error: unknown;
  try {
    decodeSafetensors(bytes, 'evil.safetensors');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(wg.FormatError);
  expect((error as Error).message).toMatch(/^evil\.safetensors: /);
  expect((error as Error).message).toMatch(pattern);
}

describe('safetensors encoding', () => {
  it('writes the documented layout and reads it back exactly', () => {
    const a = new Float32Array([1.5, -2, Number.NaN, Number.POSITIVE_INFINITY, 3e-38, -0]);
    const b = new Float32Array([7]);
    const bytes = encodeSafetensors(
      [
        { name: 'dense/kernel', shape: [2, 3], data: a },
        { name: 'b', shape: [], data: b },
        { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
      ],
      { note: 'hi' },
    );
    const view = new DataView(bytes.buffer);
    const n = view.getUint32(0, true);
    expect(view.getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    expect(bytes.length).toBe(8 + n + 28);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header['dense/kernel']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.b).toEqual({ dtype: 'F32', shape: [], data_offsets: [24, 28] });
    expect(header.__metadata__).toEqual({ note: 'hi' });
    // Little-endian float32 data right after the header.
    expect(new DataView(bytes.buffer, 8 + n).getFloat32(0, true)).toBe(1.5);
    const file = decodeSafetensors(bytes);
    expect(Object.is(file.tensors.get('dense/kernel')?.data[5], -0)).toBe(true);
    expect(Array.from(file.tensors.get('dense/kernel')?.data ?? [])).toEqual(Array.from(a));
    expect(file.tensors.get('b')?.shape).toEqual([]);
    expect(file.tensors.get('empty')?.shape).toEqual([0, 4]);
    expect(file.metadata.get('note')).toBe('hi');
  });

  it('rejects duplicate names and shape/value mismatches when writing', () => {
    const d = new Float32Array(2);
    expect(() =>
      encodeSafetensors([
        { name: 'a', shape: [2], data: d },
        { name: 'a', shape: [2], data: d },
      ]),
    ).toThrow(wg.FormatError);
    expect(() => encodeSafetensors([{ name: 'a', shape: [3], data: d }])).toThrow(/shape \[3\] but 2 values/);
  });
});

describe('safetensors hostile files → FormatError naming the file', () => {
  const good = rawFile(`{"a":${entry([2], 0, 8)},"b":${entry([1], 8, 12)}}`, f32Bytes([1, 2, 3]));

  it('a valid hand-written file decodes (the baseline the mutations below break)', () => {
    expect(Array.from(decodeSafetensors(good).tensors.get('b')?.data ?? [])).toEqual([3]);
  });

  it('short files, huge or past-the-end header lengths', () => {
    expectFormatError(new Uint8Array(7), /7 bytes, shorter than/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    expectFormatError(huge, /header length \d+ exceeds/);
    const past = new Uint8Array(16);
    new DataView(past.buffer).setUint32(0, 9, true);
    expectFormatError(past, /header length 9 runs past the end of the 16-byte file/);
  });

  it('truncation at every byte offset of a valid file is an error, never a crash', () => {
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => decodeSafetensors(good.subarray(0, cut), 'evil.safetensors'), `cut at ${cut}`).toThrow(
        wg.FormatError,
      );
    }
    // Every single-byte corruption of the header either decodes or throws FormatError.
    const n = new DataView(good.buffer).getUint32(0, true);
    for (let i = 0; i < 8 + n; i++) {
      for (const v of [0, 0x22, 0x7b, 0xff]) {
        const bad = good.slice();
        bad[i] = v;
        try {
          decodeSafetensors(bad);
        } catch (err) {
          expect(err, `byte ${i} = ${v}`).toBeInstanceOf(wg.FormatError);
        }
      }
    }
  });

  it('seeded fuzz: random byte edits, splices and header lengths decode or throw FormatError', () => {
    const rand = seededRandom(7);
    const pick = (n: number) => Math.floor(rand(0, n));
    const bytes = encodeSafetensors(
      [
        { name: 'w', shape: [2, 3], data: new Float32Array(6).fill(1) },
        { name: 'b', shape: [3], data: new Float32Array(3) },
      ],
      { k: 'v' },
    );
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      let bad = bytes.slice();
      const edits = 1 + pick(4);
      for (let e = 0; e < edits; e++) {
        const kind = pick(4);
        if (kind === 0) bad[pick(bad.length)] = pick(256);
        else if (kind === 1) bad = bad.subarray(0, pick(bad.length + 1)).slice();
        else if (kind === 2 && bad.length >= 8) new DataView(bad.buffer).setUint32(pick(2) * 4, pick(2 ** 32), true);
        else {
          // Replace one header character by a JSON-significant one.
          const n = bad.length >= 8 ? new DataView(bad.buffer).getUint32(0, true) : 0;
          if (n > 0 && n < bad.length - 8) bad[8 + pick(n)] = '{}[]":,0-9e. '.charCodeAt(pick(13));
        }
      }
      try {
        decodeSafetensors(bad);
      } catch (err) {
        expect(err, `trial ${trial}`).toBeInstanceOf(wg.FormatError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(2000);
  });

  it('bad UTF-8, bad JSON, non-object headers and deep nesting', () => {
    const utf = rawFile('{"a":1}');
    utf[10] = 0xc3; // a lone lead byte inside the key
    expectFormatError(utf, /not valid UTF-8/);
    expectFormatError(rawFile('{"a":'), /not valid JSON/);
    expectFormatError(rawFile('{"a":{}} x'), /not valid JSON: trailing/);
    expectFormatError(rawFile('[1,2]'), /must be a JSON object/);
    expectFormatError(rawFile(`{"a":${'['.repeat(10000)}`), /nesting deeper/);
  });

  it('duplicate names (JSON.parse would keep only the last)', () => {
    expectFormatError(
      rawFile(`{"a":${entry([1], 0, 4)},"a":${entry([1], 4, 8)}}`, f32Bytes([1, 2])),
      /duplicate key 'a'/,
    );
    expectFormatError(
      rawFile(`{"a":{"dtype":"F32","dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32Bytes([1])),
      /duplicate key 'dtype'/,
    );
  });

  it('__proto__ and constructor names are plain tensors; Object.prototype stays unchanged', () => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const file = decodeSafetensors(
      rawFile(
        `{"__proto__":${entry([1], 0, 4)},"constructor":${entry([1], 4, 8)},"__metadata__":{"__proto__":"x"}}`,
        f32Bytes([5, 6]),
      ),
    );
    expect(file.tensors.get('__proto__')?.data[0]).toBe(5);
    expect(file.tensors.get('constructor')?.data[0]).toBe(6);
    expect(file.metadata.get('__proto__')).toBe('x');
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    expect(({} as Record<string, unknown>).shape).toBeUndefined();
    // A __proto__ tensor written by us round-trips too.
    const bytes = encodeSafetensors([{ name: '__proto__', shape: [1], data: new Float32Array([9]) }]);
    expect(decodeSafetensors(bytes).tensors.get('__proto__')?.data[0]).toBe(9);
  });

  it('unknown and unsupported dtypes, malformed entries and metadata', () => {
    expectFormatError(rawFile(`{"a":${entry([1], 0, 4, 'Q7')}}`, f32Bytes([1])), /unknown dtype "Q7"/);
    expectFormatError(rawFile(`{"a":${entry([1], 0, 8, 'F64')}}`, f32Bytes([1, 2])), /dtype 'F64'; only F32/);
    expectFormatError(rawFile(`{"a":${entry([2], 0, 4, 'F16')}}`, f32Bytes([1])), /dtype 'F16'; only F32/);
    expectFormatError(rawFile('{"a":[1]}'), /tensor 'a' must be an object/);
    expectFormatError(
      rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', f32Bytes([1])),
      /unknown field 'x'/,
    );
    expectFormatError(rawFile('{"a":{"dtype":"F32","data_offsets":[0,4]}}', f32Bytes([1])), /invalid shape undefined/);
    expectFormatError(rawFile(`{"a":${entry([-1], 0, 4)}}`, f32Bytes([1])), /invalid shape \[-1\]/);
    expectFormatError(rawFile(`{"a":${entry([1.5], 0, 4)}}`, f32Bytes([1])), /invalid shape \[1.5\]/);
    expectFormatError(
      rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', f32Bytes([1])),
      /invalid data_offsets \[0\]/,
    );
    expectFormatError(rawFile('{"__metadata__":{"k":1}}'), /__metadata__ value 'k' must be a string, got 1/);
    expectFormatError(rawFile('{"__metadata__":[]}'), /__metadata__ must be an object/);
  });

  it('overlapping, gapped, out-of-bounds and trailing data; span ≠ shape × 4', () => {
    const d = f32Bytes([1, 2, 3]);
    expectFormatError(
      rawFile(`{"a":${entry([2], 0, 8)},"b":${entry([1], 4, 8)}}`, d),
      /tensor 'b' at \[4,8\] overlaps/,
    );
    expectFormatError(
      rawFile(`{"a":${entry([1], 0, 4)},"b":${entry([1], 8, 12)}}`, d),
      /gap of 4 bytes before tensor 'b'/,
    );
    expectFormatError(rawFile(`{"a":${entry([1], 4, 8)}}`, d), /gap of 4 bytes before tensor 'a'/);
    expectFormatError(rawFile(`{"a":${entry([2], 8, 16)}}`, d), /\[8,16\] out of bounds \(data is 12 bytes\)/);
    expectFormatError(rawFile(`{"a":${entry([1], 8, 4)}}`, d), /\[8,4\] out of bounds/);
    expectFormatError(rawFile(`{"a":${entry([2], 0, 8)}}`, d), /4 trailing bytes/);
    expectFormatError(rawFile(`{"a":${entry([2], 0, 12)}}`, d), /= 8 ≠ byte span 12/);
    expectFormatError(rawFile('{}', d), /12 trailing bytes/);
  });

  it('overflowing shapes are refused before any allocation', () => {
    const d = f32Bytes([1]);
    expectFormatError(
      rawFile(`{"a":${entry([2 ** 40, 2 ** 40, 2 ** 40], 0, 4)}}`, d),
      /needs more than the 4 data bytes/,
    );
    expectFormatError(rawFile(`{"a":${entry([Number.MAX_SAFE_INTEGER, 2], 0, 4)}}`, d), /needs more than/);
    expectFormatError(rawFile(`{"a":${entry([1e300], 0, 4)}}`, d), /invalid shape/);
    expectFormatError(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}`, d), /invalid data_offsets/);
  });
});

function mlp() {
  const model = wg.sequential([
    wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [3] }),
    wg.layers.dropout({ rate: 0.1 }),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  return model;
}

async function trainedMlp() {
  await wg.ready();
  const model = mlp();
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 32; i++) {
    const [a, b] = [Math.sin(i), Math.cos(3 * i)];
    xs.push(a, b, (i % 7) / 7);
    ys.push(a + b > 0 ? 1 : 0, a + b > 0 ? 0 : 1);
  }
  await model.fit(wg.tensor(xs, [32, 3]), wg.tensor(ys, [32, 2]), { epochs: 3, batchSize: 8, verbose: 0 });
  return { model, x: wg.tensor(xs, [32, 3]) };
}
const predict = (m: { predict(x: wg.Tensor): wg.Tensor }, x: wg.Tensor) => Array.from(m.predict(x).dataSync());

describe('saveModel / loadModel', () => {
  it('a trained MLP round-trips through memory with bit-equal predictions', async () => {
    const { model, x } = await trainedMlp();
    const artifacts = await wg.saveModel(model);
    const loaded = await wg.loadModel(artifacts);
    expect(JSON.stringify(loaded.toJSON())).toBe(JSON.stringify(model.toJSON()));
    expect(predict(loaded, x)).toEqual(predict(model, x));
    const again = await wg.saveModel(loaded, 'memory');
    expect(Array.from(again.weights)).toEqual(Array.from(artifacts.weights));
  });

  it('a trained MLP round-trips through a directory with bit-equal predictions', async () => {
    const { model, x } = await trainedMlp();
    const dir = join(await tempDir(), 'nested', 'model');
    await wg.saveModel(model, dir);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.safetensors']);
    const saved = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(saved.weightsManifest.weights.map((w: { name: string }) => w.name)).toEqual(
      model.weights.map((w) => w.name),
    );
    const file = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
    expect([...file.tensors.keys()]).toEqual(model.weights.map((w) => w.name));
    const loaded = await wg.loadModel(dir);
    expect(predict(loaded, x)).toEqual(predict(model, x));
    await expect(wg.loadModel(join(dir, 'missing'))).rejects.toThrow(/could not read/);
    // A target that is an existing file cannot become a directory: a typed error, nothing written.
    await expect(wg.saveModel(model, join(dir, 'model.json'))).rejects.toThrow(/saveModel .*could not save/);
    await expect(wg.saveModel(model, '')).rejects.toThrow(wg.ValueError);
  });

  it('a trained CNN with batch/layer normalization keeps its moving statistics through a save', async () => {
    await wg.ready();
    const model = wg.sequential([
      wg.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 2] }),
      wg.layers.batchNormalization(),
      wg.layers.maxPooling2d({ poolSize: 2 }),
      wg.layers.flatten(),
      wg.layers.layerNormalization(),
      wg.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const rand = seededRandom(3);
    const x = wg.tensor(
      Array.from({ length: 8 * 72 }, () => rand()),
      [8, 6, 6, 2],
    );
    const y = wg.tensor(
      Array.from({ length: 24 }, (_, i) => (i % 3 === (i / 3) % 3 ? 1 : 0)),
      [8, 3],
    );
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    const nonTrainable = model.weights.filter((w) => !w.trainable).map((w) => w.name);
    expect(nonTrainable.length).toBeGreaterThan(0);
    const dir = await tempDir();
    await wg.saveModel(model, dir);
    const loaded = await wg.loadModel(dir);
    expect(loaded.weights.filter((w) => !w.trainable).map((w) => w.name)).toEqual(nonTrainable);
    expect(predict(loaded, x)).toEqual(predict(model, x));
  });

  it('names and shapes must match the model exactly; the error names the weight', async () => {
    await wg.ready();
    const model = mlp();
    const { modelJSON } = serializeModel(model);
    const saved = JSON.parse(modelJSON);
    const [k0, b0, k1, b1] = model.getWeights().map((t) => t.dataSync());
    const names = model.weights.map((w) => w.name);
    const withWeights = (tensors: { name: string; shape: number[]; data: Float32Array }[]) =>
      serializeModelWith(saved, encodeSafetensors(tensors));
    const base = [
      { name: names[0] as string, shape: [3, 8], data: k0 as Float32Array },
      { name: names[1] as string, shape: [8], data: b0 as Float32Array },
      { name: names[2] as string, shape: [8, 2], data: k1 as Float32Array },
      { name: names[3] as string, shape: [2], data: b1 as Float32Array },
    ];
    await expect(wg.loadModel(withWeights(base))).resolves.toBeInstanceOf(wg.Sequential);
    await expect(wg.loadModel(withWeights(base.slice(0, 3)))).rejects.toThrow(
      new RegExp(`weight '${names[3]}' of the model is missing`),
    );
    await expect(
      wg.loadModel(withWeights([...base, { name: 'extra', shape: [1], data: new Float32Array(1) }])),
    ).rejects.toThrow(/tensor 'extra' is not a weight/);
    const wrongShape = base.map((t, i) => (i === 2 ? { ...t, shape: [2, 8] } : t));
    await expect(wg.loadModel(withWeights(wrongShape))).rejects.toThrow(
      new RegExp(`weight '${names[2]}' has shape \\[2,8\\], the model needs \\[8,2\\]`),
    );
  });

  it('rejects tampered artifacts: weights from another save, bad JSON, unknown layer classes', async () => {
    const { model } = await trainedMlp();
    const a = serializeModel(model);
    const other = serializeModel(mlp());
    await expect(wg.loadModel({ modelJSON: a.modelJSON, weights: other.weights })).rejects.toThrow(wg.FormatError);
    await expect(wg.loadModel({ modelJSON: '{', weights: a.weights })).rejects.toThrow(/model\.json: invalid JSON/);
    await expect(wg.loadModel({ modelJSON: '{"format":"x"}', weights: a.weights })).rejects.toThrow(wg.FormatError);
    const evil = JSON.parse(a.modelJSON);
    evil.modelTopology.config.layers[0].className = 'Lambda';
    await expect(wg.loadModel({ modelJSON: JSON.stringify(evil), weights: a.weights })).rejects.toThrow(
      /unknown class 'Lambda'/,
    );
    await expect(wg.loadModel(42 as never)).rejects.toThrow(wg.ValueError);
  });
});

/** model.json text for `saved` with its weights manifest describing `weights`. */
function serializeModelWith(saved: Record<string, unknown>, weights: Uint8Array) {
  const copy = structuredClone(saved) as { weightsManifest: { bytes: number; crc32: number } };
  copy.weightsManifest.bytes = weights.length;
  // Recompute the CRC the way the writer does (zlib's CRC-32).
  copy.weightsManifest.crc32 = crc32Reference(weights);
  return { modelJSON: JSON.stringify(copy), weights };
}
function crc32Reference(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('atomic saves', () => {
  it('a save that fails midway leaves the previous save loadable and no temporary files', async () => {
    const { model, x } = await trainedMlp();
    const dir = await tempDir();
    await wg.saveModel(model, dir);
    const want = predict(model, x);
    const before = await readdir(dir);

    // 1. Serialization throws midway (after the weights were read): nothing is written.
    const broken = mlp();
    broken.toJSON = () => {
      throw new Error('boom');
    };
    await expect(wg.saveModel(broken, dir)).rejects.toThrow(/boom/);
    // 2. The second temporary file fails to write; 3. the first rename fails.
    const fresh = serializeModel(mlp());
    const real = await nodeFileOps();
    let writes = 0;
    const failSecondWrite: FileOps = {
      ...real,
      write: async (p, b) => {
        if (++writes === 2) {
          await real.write(p, b.subarray(0, 10)); // a partial file on disk
          throw new Error('disk full');
        }
        await real.write(p, b);
      },
    };
    await expect(writeArtifacts(dir, fresh, failSecondWrite)).rejects.toThrow(/could not save: disk full/);
    const failRename: FileOps = { ...real, rename: async () => Promise.reject(new Error('EXDEV')) };
    await expect(writeArtifacts(dir, fresh, failRename)).rejects.toThrow(wg.ValueError);

    expect((await readdir(dir)).sort()).toEqual(before.sort());
    expect(predict(await wg.loadModel(dir), x)).toEqual(want);
  });

  it('a crash between the two renames (new weights, old model.json) is refused, not loaded mixed', async () => {
    const { model } = await trainedMlp();
    const dir = await tempDir();
    await wg.saveModel(model, dir);
    await writeFile(join(dir, 'weights.safetensors'), serializeModel(mlp()).weights);
    await expect(wg.loadModel(dir)).rejects.toThrow(/weights\.safetensors: does not match .*model\.json/);
    // A truncated weights file (a non-atomic writer's crash) is refused as well.
    const good = await tempDir();
    await wg.saveModel(model, good);
    const bytes = await readFile(join(good, 'weights.safetensors'));
    await writeFile(join(good, 'weights.safetensors'), bytes.subarray(0, bytes.length - 3));
    await expect(wg.loadModel(good)).rejects.toThrow(wg.FormatError);
  });
});

describe('model.save', () => {
  it('delegates to saveModel, and loadModel restores equal predictions', async () => {
    await wg.ready();
    const m = wg.sequential([wg.layers.dense({ units: 3, activation: 'relu', inputShape: [2] })]);
    const saved = await m.save();
    const loaded = await wg.loadModel(saved);
    const x = wg.tensor([0.5, -1, 2, 3], [2, 2]);
    expect(Array.from(loaded.predict(x).dataSync())).toEqual(Array.from(m.predict(x).dataSync()));
  });
});

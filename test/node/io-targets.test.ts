/**
 * Save targets and load sources beyond a directory: the single-file bundle (bytes, ArrayBuffer,
 * Blob, a .safetensors path), file: URLs, http(s) URLs through fetch (a local server), and the
 * browser-only schemes (indexeddb://, downloads://), which in Node are typed errors saying so.
 * Every round trip must give bit-equal predictions; every bad input a typed error naming it.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wasmgrad-io-targets-'));
  dirs.push(d);
  return d;
}

const predict = (m: { predict(x: wg.Tensor): wg.Tensor }, x: wg.Tensor) => Array.from(m.predict(x).dataSync());

/** A small CNN trained for a few steps (non-trivial weights and moving statistics). */
async function trainedCnn() {
  await wg.ready();
  const model = wg.sequential([
    wg.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [5, 5, 2] }),
    wg.layers.batchNormalization(),
    wg.layers.flatten(),
    wg.layers.dropout({ rate: 0.1 }),
    wg.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const rand = seededRandom(11);
  const x = wg.tensor(
    Array.from({ length: 8 * 50 }, () => rand() * 2 - 1),
    [8, 5, 5, 2],
  );
  const y = wg.tensor(
    Array.from({ length: 24 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)),
    [8, 3],
  );
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
  return { model, x };
}

/** Serves `dir` on 127.0.0.1 (404 for missing files), counting requests. */
function serve(dir: string): Promise<{ server: Server; base: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    try {
      const body = await readFile(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }),
    ),
  );
}

let http: Awaited<ReturnType<typeof serve>> | undefined;
let served = '';
beforeAll(async () => {
  served = await tempDir();
  http = await serve(served);
});
afterAll(async () => {
  await new Promise((r) => (http ? http.server.close(r) : r(undefined)));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the single-file bundle (safetensors with the topology in __metadata__)', () => {
  it('every save returns it as artifacts.weights; bytes, ArrayBuffer and Blob load back bit-equal', async () => {
    const { model, x } = await trainedCnn();
    const want = predict(model, x);
    const { weights } = await model.save();
    const meta = wg.io.decodeSafetensors(weights).metadata;
    expect(meta.get('format')).toBe('pt');
    expect(JSON.parse(meta.get(wg.io.TOPOLOGY_KEY) as string)).toEqual(model.toJSON());
    expect(Array.from(wg.io.serializeBundle(model))).toEqual(Array.from(weights));
    expect(predict(await wg.loadModel(weights), x)).toEqual(want);
    expect(predict(await wg.loadModel(weights.slice().buffer), x)).toEqual(want);
    expect(predict(await wg.loadModel(new Blob([weights.slice()])), x)).toEqual(want);
    expect(predict(wg.io.loadBundle(weights), x)).toEqual(want);
  });

  it('a .safetensors path is written atomically as one file and loads alone', async () => {
    const { model, x } = await trainedCnn();
    const dir = await tempDir();
    const path = join(dir, 'sub', 'cnn.safetensors');
    await wg.saveModel(model, path);
    await model.save(path); // over an existing file: rename replaces it
    expect(await readdir(join(dir, 'sub'))).toEqual(['cnn.safetensors']);
    expect(predict(await wg.loadModel(path), x)).toEqual(predict(model, x));
  });

  it('weights-only safetensors and truncated bundles are FormatErrors, never crashes', async () => {
    const { model } = await trainedCnn();
    const plain = wg.io.encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }]);
    await expect(wg.loadModel(plain)).rejects.toThrow(/bundle: has no 'wasmgrad\.topology' metadata/);
    const bundle = wg.io.serializeBundle(model);
    // Every truncation (a crash while copying the file) is refused with a typed error.
    for (let n = 0; n < bundle.length; n += n < 2048 ? 1 : 97) {
      await expect(wg.loadModel(bundle.subarray(0, n)), `truncated at ${n}`).rejects.toThrow(wg.FormatError);
    }
    // A topology naming a class outside the registry: refused before any weight is written.
    const file = wg.io.decodeSafetensors(bundle);
    const topo = JSON.parse(file.metadata.get(wg.io.TOPOLOGY_KEY) as string);
    topo.config.layers[1].className = 'Lambda';
    const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    const evil = wg.io.encodeSafetensors(tensors, { [wg.io.TOPOLOGY_KEY]: JSON.stringify(topo) });
    await expect(wg.loadModel(evil)).rejects.toThrow(/unknown class 'Lambda'/);
    const badJson = wg.io.encodeSafetensors(tensors, { [wg.io.TOPOLOGY_KEY]: '{' });
    await expect(wg.loadModel(badJson)).rejects.toThrow(/metadata 'wasmgrad\.topology': invalid JSON/);
    // A weight the model does not have (here: one tensor dropped) names it.
    const missing = wg.io.encodeSafetensors(tensors.slice(1), { [wg.io.TOPOLOGY_KEY]: JSON.stringify(model.toJSON()) });
    await expect(wg.loadModel(missing)).rejects.toThrow(
      new RegExp(`weight '${tensors[0]?.name}' of the model is missing`),
    );
  });
});

describe('graph (functional) models', () => {
  it('a trained functional model with a merge round-trips through a directory and a bundle', async () => {
    await wg.ready();
    const input = wg.input({ shape: [4] });
    const a = wg.layers.dense({ units: 6, activation: 'relu' }).apply(input) as wg.SymbolicTensor;
    const b = wg.layers.dense({ units: 6, activation: 'tanh' }).apply(input) as wg.SymbolicTensor;
    const merged = wg.layers.add().apply([a, b]) as wg.SymbolicTensor;
    const out = wg.layers.dense({ units: 2, activation: 'softmax' }).apply(merged) as wg.SymbolicTensor;
    const model = wg.model({ inputs: input, outputs: out });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const rand = seededRandom(5);
    const x = wg.tensor(
      Array.from({ length: 32 }, () => rand() * 2 - 1),
      [8, 4],
    );
    const y = wg.tensor(
      Array.from({ length: 16 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0)),
      [8, 2],
    );
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    const dir = join(await tempDir(), 'graph');
    const { weights } = await model.save(dir);
    for (const loaded of [await wg.loadModel(dir), await wg.loadModel(weights)]) {
      expect(loaded.toJSON()).toEqual(model.toJSON());
      expect(predict(loaded, x)).toEqual(predict(model, x));
    }
  });
});

describe('hostile topologies', () => {
  it('seeded fuzz: 2,000 random edits of a saved model.json load or throw typed errors, never a TypeError', async () => {
    const { model } = await trainedCnn();
    const saved = await model.save();
    const rand = seededRandom(2);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand(0, 1) * list.length)] as T;
    const values = [null, -1, 0, 1.5, 3, 1e308, 'x', 'same', [], [1], [null, 2], {}, { a: 1 }, true, '__proto__'];
    const outcomes = new Map<string, number>();
    for (let trial = 0; trial < 2000; trial++) {
      const doc = JSON.parse(saved.modelJSON);
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (v: unknown) => {
        if (v === null || typeof v !== 'object') return;
        for (const k of Object.keys(v)) {
          slots.push([v as Record<string, unknown>, k]);
          walk((v as Record<string, unknown>)[k]);
        }
      };
      walk(doc.modelTopology);
      const [container, key] = pick(slots);
      container[key] = pick(values);
      let outcome = 'loaded';
      try {
        (await wg.loadModel({ modelJSON: JSON.stringify(doc), weights: saved.weights })).dispose();
      } catch (err) {
        expect(err, `edit ${key} = ${JSON.stringify(container[key])}: ${(err as Error).stack}`).toBeInstanceOf(
          wg.WasmgradError,
        );
        outcome = (err as Error).name;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(outcomes.get('ValueError')).toBeGreaterThan(100);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);
});

describe('paths, file: URLs and http(s) URLs', () => {
  it('file: URLs save and load like paths', async () => {
    const { model, x } = await trainedCnn();
    const dir = join(await tempDir(), 'm');
    await wg.saveModel(model, pathToFileURL(dir).href);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.safetensors']);
    expect(predict(await wg.loadModel(pathToFileURL(dir)), x)).toEqual(predict(model, x));
    expect(predict(await wg.loadModel(pathToFileURL(join(dir, 'model.json')).href), x)).toEqual(predict(model, x));
  });

  it('loadModel(url) fetches a saved directory, its model.json, or a bundle', async () => {
    const { model, x } = await trainedCnn();
    const want = predict(model, x);
    await wg.saveModel(model, join(served, 'cnn'));
    await wg.saveModel(model, join(served, 'cnn.safetensors'));
    const base = (http as { base: string }).base;
    expect(predict(await wg.loadModel(`${base}/cnn`), x)).toEqual(want);
    expect(predict(await wg.loadModel(`${base}/cnn/`), x)).toEqual(want);
    expect(predict(await wg.loadModel(new URL(`${base}/cnn/model.json`)), x)).toEqual(want);
    expect(predict(await wg.loadModel(`${base}/cnn.safetensors`), x)).toEqual(want);
    expect(http?.requests).toContain('/cnn/weights.safetensors');
    await expect(wg.loadModel(`${base}/nothing`)).rejects.toThrow(/nothing\/model\.json.*HTTP 404/);
    // A weights file from another save behind the same model.json is refused.
    await writeFile(join(served, 'cnn', 'weights.safetensors'), wg.io.serializeBundle((await trainedCnn()).model));
    await expect(wg.loadModel(`${base}/cnn`)).rejects.toThrow(/weights\.safetensors: does not match/);
  });
});

describe('browser-only targets in Node', () => {
  it('indexeddb:// and downloads:// are ValueErrors that say where they work; nothing is written', async () => {
    const { model } = await trainedCnn();
    await expect(model.save('indexeddb://m')).rejects.toThrow(/IndexedDB is not available in this runtime/);
    await expect(wg.loadModel('indexeddb://m')).rejects.toThrow(/IndexedDB is not available/);
    await expect(wg.io.listModels()).rejects.toThrow(wg.ValueError);
    await expect(wg.io.removeModel('indexeddb://m')).rejects.toThrow(wg.ValueError);
    await expect(model.save('downloads://m')).rejects.toThrow(/downloads:\/\/ needs a browser page/);
    await expect(wg.loadModel('downloads://m')).rejects.toThrow(/pass the downloaded File or its bytes/);
    await expect(model.save('indexeddb://')).rejects.toThrow(/a name is needed/);
    await expect(model.save('https://example.com/m')).rejects.toThrow(/cannot save to 'https:\/\/'/);
    await expect(model.save('s3://bucket/m')).rejects.toThrow(wg.ValueError);
    await expect(wg.loadModel({ modelJSON: 1 } as never)).rejects.toThrow(wg.ValueError);
    await expect(wg.io.removeModel('m')).rejects.toThrow(/expected 'indexeddb:\/\/name'/);
  });

  it('a directory save over a file or into a read-only place leaves no temporary files', async () => {
    const { model } = await trainedCnn();
    const dir = await tempDir();
    await mkdir(join(dir, 'cnn.safetensors'));
    await expect(wg.saveModel(model, join(dir, 'cnn.safetensors'))).rejects.toThrow(/could not save/);
    expect(await readdir(join(dir, 'cnn.safetensors'))).toEqual([]);
    expect(await readdir(dir)).toEqual(['cnn.safetensors']);
  });
});

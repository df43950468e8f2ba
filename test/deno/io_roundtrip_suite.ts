// Save/load in Deno, run by test/node/io-runtimes.test.ts (not by `deno test test/deno`: the file
// name does not match Deno's *_test.ts pattern because these tests need more permissions than that
// run grants: --allow-write for a temporary directory, --allow-net=127.0.0.1 and --allow-env).
// The driver writes fixtures with Node — a trained CNN saved by wasmgrad, a tfjs-layers model and
// the predictions of both — to WG_IO_FIXTURES and serves them at WG_IO_BASE (http).
import * as wg from '../../packages/wasmgrad/dist/index.js';
import { assertClose, seededRandom } from '../shared/tolerance.ts';

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Runs `fn`, expecting it to throw an error named `name` whose message matches `pattern`. */
async function assertRejects(fn: () => unknown, name: string, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof Error, `expected a ${name}, nothing was thrown`);
  assert(caught.name === name, `expected a ${name}, got ${caught.name}: ${caught.message}`);
  assert(pattern.test(caught.message), `message ${JSON.stringify(caught.message)} does not match ${pattern}`);
}

const fixtures = Deno.env.get('WG_IO_FIXTURES') ?? '';
const base = Deno.env.get('WG_IO_BASE') ?? '';

interface Expected {
  x: number[];
  xShape: number[];
  wasmgrad: number[];
  tfjsX: number[];
  tfjsXShape: number[];
  tfjs: number[];
}
const expected = async (): Promise<Expected> => {
  assert(fixtures !== '' && base !== '', 'WG_IO_FIXTURES and WG_IO_BASE must be set by the driver');
  return JSON.parse(await Deno.readTextFile(`${fixtures}/expected.json`)) as Expected;
};

type Predictor = { predict(x: ReturnType<typeof wg.tensor>): { dataSync(): unknown } };
const predict = (m: Predictor, x: number[], shape: number[]): number[] =>
  Array.from(m.predict(wg.tensor(x, shape)).dataSync() as Float32Array);

function assertEqual(got: number[], want: number[], what: string): void {
  assert(got.length === want.length, `${what}: ${got.length} values, expected ${want.length}`);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert(i < 0, `${what}: value ${i} is ${got[i]}, expected ${want[i]} (bit-equal)`);
}

async function trainedMlp() {
  await wg.ready();
  const model = wg.sequential([
    wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [3] }),
    wg.layers.dropout({ rate: 0.1 }),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const rand = seededRandom(7);
  const xs = Array.from({ length: 48 }, () => rand() * 2 - 1);
  const ys = Array.from({ length: 32 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0));
  await model.fit(wg.tensor(xs, [16, 3]), wg.tensor(ys, [16, 2]), { epochs: 3, batchSize: 4, verbose: 0 });
  return { model, xs, shape: [16, 3] };
}

Deno.test('deno io · train, save to a directory, load: bit-equal predictions', async () => {
  const { model, xs, shape } = await trainedMlp();
  const dir = await Deno.makeTempDir({ prefix: 'wasmgrad-deno-io-' });
  try {
    await wg.saveModel(model, `${dir}/mlp`);
    const names = [];
    for await (const e of Deno.readDir(`${dir}/mlp`)) names.push(e.name);
    assert(names.sort().join() === 'model.json,weights.safetensors', `files written: ${names}`);
    assertEqual(predict(await wg.loadModel(`${dir}/mlp`), xs, shape), predict(model, xs, shape), 'reloaded MLP');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('deno io · the single-file bundle: a .safetensors path and bytes round trip', async () => {
  const { model, xs, shape } = await trainedMlp();
  const dir = await Deno.makeTempDir({ prefix: 'wasmgrad-deno-io-' });
  try {
    const artifacts = await model.save(`${dir}/mlp.safetensors`);
    const want = predict(model, xs, shape);
    assertEqual(predict(await wg.loadModel(`${dir}/mlp.safetensors`), xs, shape), want, 'bundle from path');
    assertEqual(predict(await wg.loadModel(artifacts.weights), xs, shape), want, 'bundle from bytes');
    assertEqual(
      predict(await wg.loadModel(await Deno.readFile(`${dir}/mlp.safetensors`)), xs, shape),
      want,
      'file bytes',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('deno io · a model saved by Node loads from disk with bit-equal predictions', async () => {
  const e = await expected();
  assertEqual(predict(await wg.loadModel(`${fixtures}/cnn`), e.x, e.xShape), e.wasmgrad, 'directory');
  assertEqual(predict(await wg.loadModel(`${fixtures}/cnn.safetensors`), e.x, e.xShape), e.wasmgrad, 'bundle');
});

Deno.test('deno io · loadModel over http (fetch): directory, model.json and bundle', async () => {
  const e = await expected();
  for (const url of [`${base}/cnn`, `${base}/cnn/model.json`, `${base}/cnn.safetensors`]) {
    assertEqual(predict(await wg.loadModel(url), e.x, e.xShape), e.wasmgrad, url);
  }
  await assertRejects(() => wg.loadModel(`${base}/missing`), 'ValueError', /missing\/model\.json.*HTTP 404/);
});

Deno.test('deno io · a tfjs-layers model.json + shards imports and matches tfjs predictions', async () => {
  const e = await expected();
  const tol = { atol: 2e-5, rtol: 2e-4 };
  assertClose(predict(await wg.loadModel(`${fixtures}/tfjs`), e.tfjsX, e.tfjsXShape), e.tfjs, tol, 'tfjs from disk');
  assertClose(
    predict(await wg.io.fromTfjs(`${base}/tfjs/model.json`), e.tfjsX, e.tfjsXShape),
    e.tfjs,
    tol,
    'tfjs over http',
  );
});

Deno.test('deno io · indexeddb:// and downloads:// are ValueErrors in Deno', async () => {
  const { model } = await trainedMlp();
  await assertRejects(() => model.save('indexeddb://m'), 'ValueError', /IndexedDB is not available in this runtime/);
  await assertRejects(() => wg.loadModel('indexeddb://m'), 'ValueError', /IndexedDB is not available/);
  await assertRejects(() => model.save('downloads://m'), 'ValueError', /downloads:\/\/ needs a browser page/);
});

// The in-browser half of the save/load suite (driven by test/node/io-runtimes.test.ts): models
// saved by Node and by tfjs-layers loaded over fetch, IndexedDB round trips (generations, list,
// remove), Blob/File loading and a downloads:// save, whose file the driver loads back in Node.
// Each check resolves to { name, ok, ms, error?, note?, data? }; window.wasmgradIoChecks resolves
// to all of them. The fixtures live under /__fixtures (served by the driver).
import * as wg from '/packages/wasmgrad/dist/index.js';
import { assertClose, seededRandom } from '/test/shared/tolerance.ts';

const FIXTURES = '/__fixtures';
const CHECK_TIMEOUT_MS = 20_000;
const TFJS_TOL = { atol: 2e-5, rtol: 2e-4 };

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function assertRejects(fn, name, pattern) {
  let caught;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert(caught instanceof Error, `expected a ${name}, nothing was thrown`);
  assert(caught.name === name, `expected a ${name}, got ${caught.name}: ${caught.message}`);
  assert(pattern.test(caught.message), `message ${JSON.stringify(caught.message)} does not match ${pattern}`);
}

function assertEqual(got, want, what) {
  assert(got.length === want.length, `${what}: ${got.length} values, expected ${want.length}`);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert(i < 0, `${what}: value ${i} is ${got[i]}, expected ${want[i]} (bit-equal)`);
}

function log(line) {
  document.getElementById('log').textContent += `${line}\n`;
}

function describeError(err) {
  if (!(err instanceof Error)) return String(err);
  const head = `${err.name}: ${err.message}`;
  return err.stack?.startsWith(head) ? err.stack : `${head}\n${err.stack ?? ''}`;
}

async function check(results, name, fn) {
  const t0 = performance.now();
  let timer;
  try {
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const out = await Promise.race([fn(), late]);
    results.push({ name, ok: true, ms: performance.now() - t0, ...(out ?? {}) });
    log(`ok   ${name}`);
  } catch (err) {
    const error = describeError(err);
    results.push({ name, ok: false, ms: performance.now() - t0, error });
    log(`FAIL ${name}: ${error}`);
  } finally {
    clearTimeout(timer);
  }
}

const predict = (m, x, shape) => Array.from(m.predict(wg.tensor(x, shape)).dataSync());

async function trainedMlp(seed) {
  await wg.ready();
  const model = wg.sequential([
    wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [3] }),
    wg.layers.batchNormalization(),
    wg.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const rand = seededRandom(seed);
  const xs = Array.from({ length: 48 }, () => rand() * 2 - 1);
  const ys = Array.from({ length: 32 }, (_, i) => (i % 2 === Math.floor(i / 2) % 2 ? 1 : 0));
  await model.fit(wg.tensor(xs, [16, 3]), wg.tensor(ys, [16, 2]), { epochs: 2, batchSize: 4, verbose: 0 });
  return { model, xs, shape: [16, 3] };
}

async function runChecks() {
  const results = [];
  const expected = await (await fetch(`${FIXTURES}/expected.json`)).json();
  const e = expected;

  await check(results, 'chromium io · a model saved by Node loads over fetch with bit-equal predictions', async () => {
    for (const url of [`${FIXTURES}/cnn`, `${FIXTURES}/cnn/model.json`, `${FIXTURES}/cnn.safetensors`]) {
      assertEqual(predict(await wg.loadModel(url), e.x, e.xShape), e.wasmgrad, url);
    }
    await assertRejects(() => wg.loadModel(`${FIXTURES}/missing`), 'ValueError', /HTTP 404/);
  });

  await check(results, 'chromium io · tfjs-layers files load over fetch and match tfjs predictions', async () => {
    assertClose(predict(await wg.loadModel(`${FIXTURES}/tfjs`), e.tfjsX, e.tfjsXShape), e.tfjs, TFJS_TOL, 'tfjs');
  });

  await check(results, 'chromium io · IndexedDB round trip: save, load, bit-equal predictions', async () => {
    const { model, xs, shape } = await trainedMlp(3);
    await model.save('indexeddb://io-roundtrip');
    const loaded = await wg.loadModel('indexeddb://io-roundtrip');
    assertEqual(predict(loaded, xs, shape), predict(model, xs, shape), 'indexeddb round trip');
    assert(JSON.stringify(loaded.toJSON()) === JSON.stringify(model.toJSON()), 'the topology differs');
    await wg.io.removeModel('indexeddb://io-roundtrip');
  });

  await check(results, 'chromium io · IndexedDB keeps the previous generation; list and remove', async () => {
    const first = await trainedMlp(4);
    const second = await trainedMlp(5);
    const { xs, shape } = first;
    await first.model.save('indexeddb://io-generations');
    await second.model.save('indexeddb://io-generations');
    assertEqual(
      predict(await wg.loadModel('indexeddb://io-generations'), xs, shape),
      predict(second.model, xs, shape),
      'current',
    );
    const previous = await wg.loadModel('indexeddb://io-generations', { generation: 'previous' });
    assertEqual(predict(previous, xs, shape), predict(first.model, xs, shape), 'previous');
    // A save that fails before its transaction (here: serialization throws) changes nothing.
    const broken = (await trainedMlp(6)).model;
    broken.toJSON = () => {
      throw new Error('boom');
    };
    let threw = false;
    await broken.save('indexeddb://io-generations').catch(() => (threw = true));
    assert(threw, 'the broken save did not throw');
    assertEqual(
      predict(await wg.loadModel('indexeddb://io-generations'), xs, shape),
      predict(second.model, xs, shape),
      'after failure',
    );
    const list = await wg.io.listModels();
    const info = list.find((m) => m.name === 'io-generations');
    assert(info?.generation === 2 && info.previous?.generation === 1, `listModels: ${JSON.stringify(list)}`);
    await wg.io.removeModel('indexeddb://io-generations');
    await assertRejects(
      () => wg.loadModel('indexeddb://io-generations'),
      'ValueError',
      /nothing is stored under 'io-generations'/,
    );
    await assertRejects(() => wg.io.removeModel('indexeddb://io-generations'), 'ValueError', /nothing is stored/);
    return { note: `generations: ${info.generation} (previous ${info.previous.generation}), ${info.bytes} bytes` };
  });

  await check(results, 'chromium io · a File, Blob or ArrayBuffer of a bundle loads', async () => {
    const { model, xs, shape } = await trainedMlp(8);
    const { weights } = await model.save();
    const want = predict(model, xs, shape);
    assertEqual(predict(await wg.loadModel(new File([weights], 'm.safetensors')), xs, shape), want, 'File');
    assertEqual(predict(await wg.loadModel(new Blob([weights])), xs, shape), want, 'Blob');
    assertEqual(predict(await wg.loadModel(weights.slice().buffer), xs, shape), want, 'ArrayBuffer');
    await assertRejects(
      () => wg.loadModel(new File([weights.subarray(0, 100)], 'cut.safetensors')),
      'FormatError',
      /^cut\.safetensors: /,
    );
  });

  await check(results, 'chromium io · a Web Worker saves to IndexedDB; the page loads it', async () => {
    const { model, xs, shape } = await trainedMlp(10);
    const { weights } = await model.save();
    const worker = new Worker('/test/browser/io-worker.js', { type: 'module' });
    try {
      const reply = await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(`the worker failed: ${e.message || 'could not load'}`));
        worker.postMessage({ bytes: weights, name: 'io-from-worker' });
      });
      assert(reply.ok, `the worker reported: ${reply.error}`);
      assert(
        /downloads:\/\/ needs a browser page/.test(reply.downloadError),
        `downloads:// in a worker: ${reply.downloadError}`,
      );
    } finally {
      worker.terminate();
    }
    const loaded = await wg.loadModel('indexeddb://io-from-worker');
    assertEqual(predict(loaded, xs, shape), predict(model, xs, shape), 'saved by the worker');
    await wg.io.removeModel('indexeddb://io-from-worker');
  });

  await check(results, 'chromium io · downloads:// starts one download of name.safetensors', async () => {
    const { model, xs, shape } = await trainedMlp(9);
    await model.save('downloads://io-roundtrip');
    await assertRejects(() => model.save('downloads://a/b'), 'ValueError', /without slashes/);
    // The driver loads the downloaded file in Node and compares with these predictions.
    return { data: { x: xs, xShape: shape, predictions: predict(model, xs, shape) } };
  });
  return results;
}

// With #idle the page only loads (the driver evaluates its own code in it: the crash test).
if (location.hash !== '#idle') window.wasmgradIoChecks = runChecks();

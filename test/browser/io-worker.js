// A module Web Worker for test/browser/io-checks.js: loads the bundle bytes it is sent, saves the
// model to indexeddb://<name> from inside the worker (IndexedDB exists in workers; downloads://
// does not, and must say so), and replies with the outcome.
import * as wg from '/packages/wasmgrad/dist/index.js';

self.onmessage = async (event) => {
  const { bytes, name } = event.data;
  try {
    const model = await wg.loadModel(bytes);
    await model.save(`indexeddb://${name}`);
    let downloadError = '';
    await model.save(`downloads://${name}`).catch((err) => (downloadError = `${err.name}: ${err.message}`));
    self.postMessage({ ok: true, downloadError });
  } catch (err) {
    self.postMessage({ ok: false, error: `${err?.name}: ${err?.message}` });
  }
};

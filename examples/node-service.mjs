// A Node service that trains in a worker thread while it keeps answering requests: GET /health
// answers at once even mid-training, GET /predict?x=0,1 answers with the current model.
// Usage: node examples/node-service.mjs [--once]   (--once: query itself, print, and exit)
import { createServer } from 'node:http';
import * as wg from 'wasmgrad';

await wg.ready();
const xs = wg.tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
const ys = wg.tensor([0, 1, 1, 0], [4, 1]);
const model = wg.sequential([
  wg.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }),
  wg.layers.dense({ units: 1, activation: 'sigmoid' }),
]);
model.compile({ optimizer: wg.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy' });
const trainer = await wg.worker.spawn(model);
let epochsDone = 0;
const training = trainer.fit(xs, ys, {
  epochs: 400,
  batchSize: 4,
  onProgress: ({ epoch }) => {
    epochsDone = epoch + 1;
  },
});

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    res.end(JSON.stringify({ ok: true, epochsDone }));
  } else if (url.pathname === '/predict') {
    const x = (url.searchParams.get('x') ?? '').split(',').map(Number);
    if (x.length !== 2 || x.some((v) => !Number.isFinite(v))) {
      res.writeHead(400).end(JSON.stringify({ error: 'x must be two numbers, e.g. x=0,1' }));
      return;
    }
    const out = await trainer.predict({ values: Float32Array.from(x), shape: [1, 2] });
    res.end(JSON.stringify({ x, y: out.values[0] }));
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
console.log(`listening on ${base}`);

if (process.argv.includes('--once')) {
  await fetch(`${base}/health`); // the first fetch also sets up the HTTP client
  const t0 = performance.now();
  const health = await (await fetch(`${base}/health`)).json();
  console.log(`health while training: ${JSON.stringify(health)} in ${(performance.now() - t0).toFixed(1)} ms`);
  await training;
  for (const x of ['0,0', '0,1', '1,0', '1,1']) {
    console.log(`predict ${x}: ${JSON.stringify(await (await fetch(`${base}/predict?x=${x}`)).json())}`);
  }
  await trainer.terminate();
  server.close();
}

// matMul inside a Node worker thread, driven through comlink, for both wasm builds. Node 20 cannot
// run .ts in worker_threads, so the worker is the compiled entry (packages/wasmgrad/dist).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerApi } from '../../packages/wasmgrad/src/worker/entry.js';
import { assertClose, matMulReference, seededRandom } from '../shared/tolerance.js';

const entry = fileURLToPath(new URL('../../packages/wasmgrad/dist/worker/entry.js', import.meta.url));

/**
 * comlink leaves calls pending forever when the worker dies, so every call races the worker's
 * 'error' and 'exit' events and a deadline: a broken worker fails the test at once, with its error.
 */
function watch(worker: Worker, ms = 20_000): <T>(call: Promise<T>) => Promise<T> {
  const died = new Promise<never>((_, reject) => {
    worker.once('error', (err) => reject(new Error(`the worker failed: ${err.stack ?? err}`)));
    worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code}`)));
  });
  died.catch(() => {});
  return <T>(call: Promise<T>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the worker within ${ms} ms`)), ms);
    });
    return Promise.race([call, died, late]).finally(() => clearTimeout(timer));
  };
}

describe.each([
  ['simd', true],
  ['scalar', false],
])('node worker_threads · %s', (build, simd) => {
  let worker: Worker;
  let api: Comlink.Remote<WorkerApi>;
  let guard: <T>(call: Promise<T>) => Promise<T>;

  beforeAll(() => {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build the package first (tsc -p packages/wasmgrad)`);
    worker = new Worker(entry);
    guard = watch(worker);
    api = Comlink.wrap<WorkerApi>(nodeEndpoint(worker));
  });

  afterAll(async () => {
    api?.[Comlink.releaseProxy]();
    await worker?.terminate();
  });

  it(`node worker · ${build} · loads the ${build} build`, async () => {
    // No thread count asked for: a worker's runtime runs its kernels on one thread.
    expect(await guard(api.ready({ simd }))).toEqual({ simd, threads: 1 });
    expect(await guard(api.simd())).toBe(simd);
  });

  it(`node worker · ${build} · matMul vs reference`, async () => {
    const rand = seededRandom(7);
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 5, 7],
      [17, 13, 9],
      [2, 17, 257],
      [33, 64, 31],
    ] as const) {
      const a = Float32Array.from({ length: m * k }, () => rand());
      const b = Float32Array.from({ length: k * n }, () => rand());
      const c = await guard(api.matMul(a, [m, k], b, [k, n]));
      expect(c).toBeInstanceOf(Float32Array);
      assertClose(
        c,
        matMulReference(a, b, m, k, n),
        { atol: 1e-5, rtol: 1e-5 },
        `worker ${build} matMul ${m}x${k}x${n}`,
      );
    }
  });

  it(`node worker · ${build} · bad input rejects with a ShapeError and the worker stays usable`, async () => {
    await expect(guard(api.matMul([1, 2, 3, 4, 5, 6], [2, 3], [1, 2, 3, 4], [2, 2]))).rejects.toMatchObject({
      name: 'ShapeError',
      message: expect.stringMatching(/matMul: inner dimensions differ: \[2,3\] × \[2,2\]/),
    });
    await expect(guard(api.matMul([1, 2, 3], [2, 2], [1], [1, 1]))).rejects.toMatchObject({ name: 'ShapeError' });
    const ok = await guard(api.matMul([1, 2, 3, 4], [2, 2], [5, 6, 7, 8], [2, 2]));
    expect(Array.from(ok)).toEqual([19, 22, 43, 50]);
  });
});

// Runs in Deno (`deno test --allow-read test/deno`): matMul of the compiled package against a
// plain f64 reference for both wasm builds, typed errors on bad input, and the package's worker
// entry in a module Worker driven through comlink. Imports are relative paths only (no network).
// Deno does not look for a .d.ts beside a .js file: @deno-types points it there for comlink. The
// package's index.d.ts re-exports './x.js' paths, which Deno resolves to the JS, so the package's
// types come from Deno's inference over dist/*.js; entry.d.ts is self-contained.
// @deno-types="../../node_modules/comlink/dist/esm/comlink.d.ts"
import * as Comlink from '../../node_modules/comlink/dist/esm/comlink.mjs';
import * as wg from '../../packages/wasmgrad/dist/index.js';
import type { WorkerApi } from '../../packages/wasmgrad/dist/worker/entry.d.ts';
import { assertClose, matMulReference, seededRandom } from '../shared/tolerance.ts';

const SIZES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 13, 9],
  [2, 17, 257],
  [33, 64, 31],
];

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

for (const [build, simd] of [
  ['simd', true],
  ['scalar', false],
] as const) {
  Deno.test(`deno · ${build} · matMul vs reference`, async () => {
    const rt = await wg.createRuntime({ simd });
    assert(rt.simd === simd, `asked for the ${build} build, got simd=${rt.simd}`);
    const rand = seededRandom(11);
    for (const [m, k, n] of SIZES) {
      const a = Array.from({ length: m * k }, () => rand());
      const b = Array.from({ length: k * n }, () => rand());
      const ta = wg.empty([m, k], 'test', rt);
      const tb = wg.empty([k, n], 'test', rt);
      rt.write(ta.ptr, a);
      rt.write(tb.ptr, b);
      const c = wg.matMul(ta, tb);
      assert(c.shape.join() === `${m},${n}`, `shape ${c.shape}, expected [${m},${n}]`);
      assertClose(
        c.dataSync(),
        matMulReference(a, b, m, k, n),
        { atol: 1e-5, rtol: 1e-5 },
        `deno ${build} matMul ${m}x${k}x${n}`,
      );
    }
  });

  Deno.test(`deno · ${build} · bad input throws a ShapeError`, async () => {
    const rt = await wg.createRuntime({ simd });
    const a = wg.empty([2, 3], 'test', rt);
    const b = wg.empty([2, 2], 'test', rt);
    await assertRejects(() => wg.matMul(a, b), 'ShapeError', /matMul: inner dimensions differ: \[2,3\] × \[2,2\]/);
    let caught: unknown;
    try {
      wg.matMul(a, b);
    } catch (err) {
      caught = err;
    }
    assert(caught instanceof wg.ShapeError, `expected an instance of wg.ShapeError, got ${caught}`);
  });

  Deno.test(`deno worker · ${build} · matMul vs reference`, async () => {
    const worker = new Worker(new URL('../../packages/wasmgrad/dist/worker/entry.js', import.meta.url), {
      type: 'module',
    });
    // A failing worker rejects the pending call instead of hanging (comlink alone would wait
    // forever) or taking the whole test run down (Deno's default for unhandled worker errors).
    const died = new Promise<never>((_, reject) => {
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`the worker failed: ${event.message}`));
      };
    });
    died.catch(() => {});
    const guard = <T>(call: Promise<T>): Promise<T> => Promise.race([call, died]);
    const api = Comlink.wrap<WorkerApi>(worker);
    try {
      const ready = await guard(api.ready({ simd }));
      assert(ready.simd === simd, `the worker loaded simd=${ready.simd}, expected ${simd}`);
      const rand = seededRandom(13);
      for (const [m, k, n] of SIZES) {
        const a = Float32Array.from({ length: m * k }, () => rand());
        const b = Float32Array.from({ length: k * n }, () => rand());
        const c = await guard(api.matMul(a, [m, k], b, [k, n]));
        assert(c instanceof Float32Array, 'the worker returns a Float32Array');
        assertClose(
          c,
          matMulReference(a, b, m, k, n),
          { atol: 1e-5, rtol: 1e-5 },
          `deno worker ${build} matMul ${m}x${k}x${n}`,
        );
      }
      await assertRejects(
        () => guard(api.matMul([1, 2, 3, 4, 5, 6], [2, 3], [1, 2, 3, 4], [2, 2])),
        'ShapeError',
        /inner dimensions differ/,
      );
    } finally {
      api[Comlink.releaseProxy]();
      worker.terminate();
    }
  });
}

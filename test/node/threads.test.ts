/**
 * Multi-threaded kernels: gemm, batched gemm and conv2d (forward, input gradient) split between
 * 1, 2 and 3 threads give the same bits as the single-threaded module; the pool survives memory
 * growth; no shared memory or no threads module falls back to one thread; setThreads validates
 * its argument; a trained model is bitwise the same on 1 and 2 threads; helpers never keep a
 * Node process alive.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import * as convK from '../../packages/wasmgrad/src/runtime/kernels/conv.js';
import { gemm, gemmBatched, gemmBiasAct, type MatrixRef } from '../../packages/wasmgrad/src/runtime/kernels/gemm.js';
import { threadTuning } from '../../packages/wasmgrad/src/runtime/threads-dispatch.js';
import { seededRandom } from '../shared/tolerance.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

let single: wg.Runtime;
const pooled: wg.Runtime[] = [];

const savedMinPart = threadTuning.minPartMacs;

beforeAll(async () => {
  // Split even the small calls of these tests (the default threshold keeps them on one thread).
  threadTuning.minPartMacs = 1 << 14;
  single = await wg.createRuntime({ simd: true });
  for (const threads of [1, 2, 3]) {
    const rt = await wg.createRuntime({ threads: Math.max(threads, 2) });
    if (threads === 1) await rt.setThreads(1);
    pooled.push(rt);
  }
}, 60_000);

afterAll(async () => {
  threadTuning.minPartMacs = savedMinPart;
  for (const rt of pooled) await rt.setThreads(1);
});

function values(n: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  // A NaN-free mix of magnitudes, so that any change of summation order shows in the bits.
  return Float32Array.from({ length: n }, () => rand(-1, 1) * 10 ** Math.floor(rand(-2, 2)));
}

/** Runs `fn` on the single-threaded runtime and on 1, 2 and 3 threads; every result must match bit for bit. */
function sameBits(
  label: string,
  inputs: Float32Array[],
  outLen: number,
  fn: (rt: wg.Runtime, ins: number[], out: number) => void,
): void {
  const run = (rt: wg.Runtime) => {
    const ins = inputs.map((v) => {
      const p = rt.allocF32(v.length);
      rt.write(p, v);
      return p;
    });
    const out = rt.allocF32(outLen);
    rt.f32.fill(Number.NaN, out >>> 2, (out >>> 2) + outLen);
    fn(rt, ins, out);
    const got = new Uint32Array(rt.read(out, outLen).buffer);
    for (const p of [...ins, out]) rt.allocator.release(p);
    return got;
  };
  const want = run(single);
  expect(
    want.some((b) => b === 0x7fc00000),
    `${label}: output left unwritten`,
  ).toBe(false);
  for (const [i, rt] of pooled.entries()) {
    const jobs = rt.threadJobs;
    const got = run(rt);
    const bad = got.findIndex((b, j) => b !== want[j]);
    expect(bad, `${label}, ${i + 1} thread(s): first differing element`).toBe(-1);
    if (i > 0) expect(rt.threadJobs, `${label}: ${i + 1} threads split the call`).toBeGreaterThan(jobs);
  }
}

const mat = (ptr: number, rowStride: number, colStride: number): MatrixRef => ({ ptr, rowStride, colStride });

describe('results are bitwise independent of the thread count', () => {
  it('runtimes have the thread counts asked for', () => {
    expect(single.threads).toBe(1);
    expect(pooled.map((rt) => rt.threads)).toEqual([1, 2, 3]);
    expect(pooled.every((rt) => rt.threadable)).toBe(true);
  });

  // Row bands (m ≥ n) and column bands (m < n); sizes off every tile edge; k over one KC block.
  it.each([
    [301, 77, 290],
    [64, 517, 300],
    [256, 256, 256],
    [1030, 9, 700],
  ])('gemm %i×%i×%i, β = 0.5, transposed A', (m, n, k) => {
    const a = values(m * k, 1);
    const b = values(k * n, 2);
    const c0 = values(m * n, 3);
    sameBits(`gemm ${m}×${n}×${k}`, [a, b, c0], m * n, (rt, [pa, pb, pc0], out) => {
      rt.f32.copyWithin(out >>> 2, (pc0 as number) >>> 2, ((pc0 as number) >>> 2) + m * n);
      gemm(rt, m, n, k, 1.5, mat(pa as number, 1, m), mat(pb as number, n, 1), 0.5, mat(out, n, 1));
    });
  });

  it.each([
    [200, 96, 150, 'relu'],
    [40, 400, 130, 'relu6'],
  ] as const)('gemmBiasAct %i×%i×%i %s', (m, n, k, act) => {
    sameBits(
      `gemmBiasAct ${m}×${n}×${k}`,
      [values(m * k, 4), values(k * n, 5), values(n, 6)],
      m * n,
      (rt, [pa, pb, pbias], out) =>
        gemmBiasAct(
          rt,
          m,
          n,
          k,
          mat(pa as number, k, 1),
          mat(pb as number, n, 1),
          pbias as number,
          mat(out, n, 1),
          act,
        ),
    );
  });

  it('gemmBatched: items split, and a single item split as a gemm', () => {
    for (const batch of [5, 1]) {
      const [m, n, k] = [70, 90, 80];
      sameBits(
        `gemmBatched ×${batch}`,
        [values(batch * m * k, 7), values(k * n, 8)],
        batch * m * n,
        (rt, [pa, pb], out) =>
          gemmBatched(
            rt,
            batch,
            m,
            n,
            k,
            1,
            { ptr: pa as number, rowStride: k, colStride: 1, batchStride: m * k },
            { ptr: pb as number, rowStride: n, colStride: 1, batchStride: 0 },
            0,
            { ptr: out, rowStride: n, colStride: 1, batchStride: m * n },
          ),
      );
    }
  });

  const CONVS: [string, number[], number[], convK.Conv2dOptions][] = [
    ['direct (1 channel)', [7, 28, 28, 1], [3, 3, 1, 16], { padding: 'valid' }],
    ['winograd', [6, 13, 13, 16], [3, 3, 16, 32], { padding: 'valid' }],
    ['im2col, stride 2, same', [5, 15, 15, 8], [3, 3, 8, 12], { padding: 'same', strides: 2 }],
    ['pointwise', [4, 9, 9, 24], [1, 1, 24, 40], {}],
  ];

  it.each(CONVS)('conv2d forward: %s', (_name, xShape, fShape, options) => {
    const g = convK.conv2dGeometry(xShape, fShape, options);
    const s = convK.convSizes(g);
    sameBits(
      `conv2d ${_name}`,
      [values(s.x, 9), values(s.filter, 10), values(fShape[3] as number, 11)],
      s.y,
      (rt, [x, f, bias], y) => {
        const work = rt.allocF32(convK.conv2dWorkspaceLength(rt, g));
        convK.conv2dForward(rt, g, x as number, f as number, bias as number, y, work, 'conv2d', 'relu');
        rt.allocator.release(work);
      },
    );
  });

  it.each(CONVS)('conv2d forward fused with 2×2 max pooling: %s', (_name, xShape, fShape, options) => {
    const g = convK.conv2dGeometry(xShape, fShape, options);
    const s = convK.convSizes(g);
    sameBits(
      `conv2dMaxPool2 ${_name}`,
      [values(s.x, 14), values(s.filter, 15), values(fShape[3] as number, 16)],
      convK.conv2dMaxPool2Size(g),
      (rt, [x, f, bias], y) => {
        const work = rt.allocF32(convK.conv2dMaxPool2WorkspaceLength(rt, g));
        convK.conv2dForwardMaxPool2(rt, g, x as number, f as number, bias as number, y, work, 'conv2d', 'relu');
        rt.allocator.release(work);
      },
    );
  });

  it.each(CONVS.slice(1))('conv2d input gradient: %s', (_name, xShape, fShape, options) => {
    const g = convK.conv2dGeometry(xShape, fShape, options);
    const s = convK.convSizes(g);
    sameBits(`conv2dBackwardInput ${_name}`, [values(s.y, 12), values(s.filter, 13)], s.x, (rt, [dy, f], dx) => {
      const work = rt.allocF32(convK.conv2dWorkspaceLength(rt, g));
      convK.conv2dBackwardInput(rt, g, dy as number, f as number, dx, work);
      rt.allocator.release(work);
    });
  });
});

describe('the pool', () => {
  it('survives memory growth: helpers compute on memory allocated after they started', async () => {
    const rt = await wg.createRuntime({ threads: 2 });
    const before = rt.memory.buffer.byteLength;
    const n = 200;
    rt.allocF32(8 << 20); // 32 MiB: grows the memory past where the helpers started
    const a = rt.allocF32(n * n);
    const b = rt.allocF32(n * n);
    const c = rt.allocF32(n * n);
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(c).toBeGreaterThan(before);
    rt.write(a, values(n * n, 14));
    rt.write(b, values(n * n, 15));
    const jobs = rt.threadJobs;
    gemm(rt, n, n, n, 1, mat(a, n, 1), mat(b, n, 1), 0, mat(c, n, 1));
    expect(rt.threadJobs).toBe(jobs + 1);
    const s = single;
    const [sa, sb, sc] = [n * n, n * n, n * n].map((len) => s.allocF32(len)) as [number, number, number];
    s.write(sa, values(n * n, 14));
    s.write(sb, values(n * n, 15));
    gemm(s, n, n, n, 1, mat(sa, n, 1), mat(sb, n, 1), 0, mat(sc, n, 1));
    expect(rt.read(c, n * n)).toEqual(s.read(sc, n * n));
    for (const p of [sa, sb, sc]) s.allocator.release(p);
    await rt.setThreads(1);
  });

  it('small calls stay on the calling thread', async () => {
    const rt = pooled[2] as wg.Runtime;
    const n = 16;
    const [a, b, c] = [0, 1, 2].map(() => rt.allocF32(n * n)) as [number, number, number];
    const jobs = rt.threadJobs;
    gemm(rt, n, n, n, 1, mat(a, n, 1), mat(b, n, 1), 0, mat(c, n, 1));
    expect(rt.threadJobs).toBe(jobs);
    expect(n ** 3).toBeLessThan(2 * threadTuning.minPartMacs);
    expect(n ** 3).toBeLessThan(2 * savedMinPart);
  });

  it('a trap in a helper raises a typed error and leaves the pool usable', async () => {
    const rt = pooled[1] as wg.Runtime;
    const n = 256;
    const [a, b, c] = [0, 1, 2].map(() => rt.allocF32(n * n)) as [number, number, number];
    // Raw call (no bounds checks) whose second row band reads past the end of the memory.
    const far = rt.memory.buffer.byteLength - 4 * n * 100;
    expect(() => rt.kernels.f32_gemm(n, n, n, 1, far, n, 1, b, n, 1, 0, c, n, 1, rt.gemmWorkspace)).toThrow();
    gemm(rt, n, n, n, 1, mat(a, n, 1), mat(b, n, 1), 0, mat(c, n, 1));
    expect(rt.threads).toBe(2);
  });
});

describe('fallback to one thread', () => {
  it('without SharedArrayBuffer the runtime is single-threaded and computes the same', async () => {
    const saved = globalThis.SharedArrayBuffer;
    delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
    let rt: wg.Runtime;
    try {
      rt = await wg.createRuntime({ threads: 2 });
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    expect(rt.threads).toBe(1);
    expect(rt.threadable).toBe(false);
    expect(rt.memory.buffer).toBeInstanceOf(ArrayBuffer);
    expect(await rt.setThreads(2)).toBe(1);
    const n = 64;
    const [a, b, c] = [0, 1, 2].map(() => rt.allocF32(n * n)) as [number, number, number];
    rt.write(a, values(n * n, 16));
    rt.write(b, values(n * n, 17));
    gemm(rt, n, n, n, 1, mat(a, n, 1), mat(b, n, 1), 0, mat(c, n, 1));
    expect(rt.read(c, n * n).every(Number.isFinite)).toBe(true);
  });

  it('a threads module that fails to load leaves a working single-threaded runtime', async () => {
    const rt = await wg.createRuntime({
      threads: 2,
      wasm: new URL('../../packages/wasmgrad/wasm/wasmgrad-simd.wasm', import.meta.url),
      threadsWasm: new Uint8Array([0, 97, 115, 109, 9, 9]),
    });
    expect(rt.threads).toBe(1);
    expect(rt.threadable).toBe(false);
    expect(rt.kernels.f32_gemm_workspace_len()).toBeGreaterThan(0);
  });
});

describe('setThreads / getThreads', () => {
  it('reject counts that are not integers in [1, 16] with a ValueError', async () => {
    for (const bad of [0, -1, 1.5, 17, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => wg.setThreads(bad), String(bad)).toThrow(wg.ValueError);
      expect(() => (pooled[0] as wg.Runtime).setThreads(bad)).toThrow(/threads must be an integer from 1 to 16/);
    }
    await expect(wg.createRuntime({ threads: 0 })).rejects.toThrow(wg.ValueError);
  });

  it('change the default runtime, and a model trains to the same bits on 1 and 2 threads', async () => {
    await wg.ready();
    expect(wg.getThreads()).toBeGreaterThanOrEqual(1);
    const train = async () => {
      wg.setSeed(5);
      const model = wg.sequential([
        wg.layers.dense({ units: 128, activation: 'relu', inputShape: [96] }),
        wg.layers.dense({ units: 64, activation: 'relu' }),
        wg.layers.dense({ units: 4, activation: 'softmax' }),
      ]);
      model.compile({ optimizer: wg.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
      const x = wg.tensor(Array.from(values(512 * 96, 18)), [512, 96]);
      const y = wg.tensor(
        Array.from({ length: 512 * 4 }, (_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0)),
        [512, 4],
      );
      await model.fit(x, y, { epochs: 2, batchSize: 256, shuffle: false, verbose: 0 });
      return model.getWeights().map((w) => Array.from(new Uint32Array(w.dataSync().slice().buffer)));
    };
    expect(await wg.setThreads(1)).toBe(1);
    expect(wg.getThreads()).toBe(1);
    const one = await train();
    expect(await wg.setThreads(2)).toBe(2);
    expect(wg.getThreads()).toBe(2);
    const jobs = wg.runtime().threadJobs;
    const two = await train();
    expect(wg.runtime().threadJobs).toBeGreaterThan(jobs);
    expect(two).toEqual(one);
  }, 60_000);

  it('helper threads do not keep a Node process alive', () => {
    const script = `
      import * as wg from ${JSON.stringify(join(root, 'packages/wasmgrad/dist/index.js'))};
      await wg.ready({ threads: 2 });
      const rt = wg.runtime();
      const n = 128, a = rt.allocF32(n * n), c = rt.allocF32(n * n);
      rt.kernels.f32_gemm(n, n, n, 1, a, n, 1, a, n, 1, 0, c, n, 1, rt.gemmWorkspace);
      console.log(wg.getThreads(), rt.threadJobs);
    `;
    // Runs the compiled package (node_modules/.bin/tsc -p packages/wasmgrad/tsconfig.json).
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      timeout: 30_000,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('2 1');
  }, 40_000);
});

describe('Deno', () => {
  it('starts helpers by default, computes the same bits on 2 and 3 threads, and ends while they run', () => {
    // Needs the compiled package (tsc -p packages/wasmgrad/tsconfig.json) and the npm `deno`.
    const out = execFileSync(
      join(root, 'node_modules/.bin/deno'),
      ['run', '--allow-read', 'test/deno/threads_check.mjs'],
      {
        cwd: root,
        timeout: 60_000,
        encoding: 'utf8',
        env: {
          ...process.env,
          DENO_DIR: join(root, 'node_modules/.cache/deno'),
          DENO_NO_UPDATE_CHECK: '1',
          NO_COLOR: '1',
        },
      },
    );
    const result = JSON.parse(out.trim().split('\n').pop() as string) as {
      byDefault: number;
      threadable: boolean;
      results: { threads: number; split: boolean; equal: boolean }[];
    };
    expect(result.threadable).toBe(true);
    expect(result.byDefault).toBeGreaterThanOrEqual(1);
    expect(result.results).toEqual([
      { threads: 2, split: true, equal: true },
      { threads: 3, split: true, equal: true },
    ]);
  }, 70_000);
});

describe('Chromium', () => {
  // A cross-origin-isolated page (COOP/COEP from a small static server) starts a module Web Worker
  // that loads the compiled runtime: threads by default there, Blob-URL helpers, same bits on 1,
  // 2 and 3 threads. The page's own thread cannot block, so it stays single-threaded.
  it('threads in a Web Worker of an isolated page; the page itself stays on one thread', async () => {
    const { createServer } = await import('node:http');
    const { readFile } = await import('node:fs/promises');
    const { chromium } = await import('playwright-core');
    const workerSource = (origin: string) => `
      import { createRuntime, defaultThreads } from '${origin}/packages/wasmgrad/dist/runtime/runtime.js';
      const rt = await createRuntime({ threads: await defaultThreads() });
      const byDefault = rt.threads;
      const n = 256, [a, b, c] = [0, 1, 2].map(() => rt.allocF32(n * n));
      rt.write(a, Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) * 10 ** ((i % 5) - 2)));
      rt.write(b, Float32Array.from({ length: n * n }, (_, i) => Math.cos(i)));
      const bits = async (t) => {
        await rt.setThreads(t);
        const jobs = rt.threadJobs;
        rt.kernels.f32_gemm(n, n, n, 1, a, n, 1, b, n, 1, 0, c, n, 1, rt.gemmWorkspace);
        return { bits: new Uint32Array(rt.read(c, n * n).buffer), split: rt.threadJobs > jobs };
      };
      const one = await bits(1);
      const results = [];
      for (const t of [2, 3]) {
        const r = await bits(t);
        results.push({ threads: rt.threads, split: r.split, equal: r.bits.every((v, i) => v === one.bits[i]) });
      }
      await rt.setThreads(1);
      postMessage({ byDefault, results });`;
    const page = `<!doctype html><script type="module">
      import { defaultThreads } from '/packages/wasmgrad/dist/runtime/runtime.js';
      const src = ${'`'}\${await (await fetch('/worker-source')).text()}${'`'};
      const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
      w.onerror = (e) => { window.result = { error: e.message || 'worker failed' }; };
      w.onmessage = async (e) => {
        window.result = { isolated: crossOriginIsolated, pageThreads: await defaultThreads(), ...e.data };
      };
    </script>`;
    const server = createServer(async (req, res) => {
      const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page);
      if (url.pathname === '/worker-source') {
        return res
          .writeHead(200, { ...headers, 'Content-Type': 'text/plain' })
          .end(workerSource(`http://${req.headers.host}`));
      }
      if (!url.pathname.startsWith('/packages/wasmgrad/')) return res.writeHead(404).end();
      try {
        const body = await readFile(join(root, url.pathname));
        const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
        res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${port}/`);
      await tab.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, { timeout: 60_000 });
      const result = await tab.evaluate(() => (window as { result?: unknown }).result);
      expect(result).toEqual({
        isolated: true,
        pageThreads: 1,
        byDefault: expect.any(Number),
        results: [
          { threads: 2, split: true, equal: true },
          { threads: 3, split: true, equal: true },
        ],
      });
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});

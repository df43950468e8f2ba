// Save/load in Deno and headless Chromium, driven from vitest like deno.test.ts and browser.test.ts
// (whose approach this copies: a TAP report per Deno test, in-page check results per Chromium
// check). Node writes the fixtures both runtimes load — a trained CNN saved by wasmgrad (a directory
// and a bundle), a tfjs-layers model saved by tfjs, and the predictions of both — into a temporary
// directory, served at /__fixtures by the same static server that serves the repository. Deno runs
// test/deno/io_roundtrip_suite.ts; Chromium opens test/browser/io-roundtrip.html, whose
// downloads:// save is caught here and loaded back in Node.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { type Browser, chromium } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { seededRandom } from '../shared/tolerance.js';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const deno = `${root}/node_modules/.bin/deno`;
const DENO_SUITE = 'test/deno/io_roundtrip_suite.ts';
const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT_MS = 90_000;

const DENO_EXPECTED = [
  'deno io · train, save to a directory, load: bit-equal predictions',
  'deno io · the single-file bundle: a .safetensors path and bytes round trip',
  'deno io · a model saved by Node loads from disk with bit-equal predictions',
  'deno io · loadModel over http (fetch): directory, model.json and bundle',
  'deno io · a tfjs-layers model.json + shards imports and matches tfjs predictions',
  'deno io · indexeddb:// and downloads:// are ValueErrors in Deno',
];
const CHROMIUM_EXPECTED = [
  'chromium io · a model saved by Node loads over fetch with bit-equal predictions',
  'chromium io · tfjs-layers files load over fetch and match tfjs predictions',
  'chromium io · IndexedDB round trip: save, load, bit-equal predictions',
  'chromium io · IndexedDB keeps the previous generation; list and remove',
  'chromium io · a File, Blob or ArrayBuffer of a bundle loads',
  'chromium io · downloads:// starts one download of name.safetensors',
  'chromium io · a Web Worker saves to IndexedDB; the page loads it',
];

// ---- fixtures ------------------------------------------------------------------------------

const inputs = (shape: number[], seed: number) => {
  const rand = seededRandom(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
};

/** Writes cnn/, cnn.safetensors, tfjs/ and expected.json into `dir`. */
async function writeFixtures(dir: string): Promise<void> {
  await wg.ready();
  const model = wg.sequential([
    wg.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 2] }),
    wg.layers.batchNormalization(),
    wg.layers.maxPooling2d({ poolSize: 2 }),
    wg.layers.flatten(),
    wg.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const xShape = [8, 6, 6, 2];
  const x = inputs(xShape, 21);
  const y = Array.from({ length: 24 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
  await model.fit(wg.tensor(x, xShape), wg.tensor(y, [8, 3]), { epochs: 2, batchSize: 4, verbose: 0 });
  await wg.saveModel(model, join(dir, 'cnn'));
  await wg.saveModel(model, join(dir, 'cnn.safetensors'));

  await tf.setBackend('cpu');
  const t = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [5, 5, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
      tfl.layers.batchNormalization(),
      tfl.layers.averagePooling2d({ poolSize: 3 }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.2 }),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  t.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  const tShape = [6, 5, 5, 2];
  const tx = inputs(tShape, 22);
  await t.fit(tf.tensor(tx, tShape), tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1, 0], 'int32'), 2), { epochs: 3, verbose: 0 });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await t.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts;
  const bytes = new Uint8Array(a.weightData as ArrayBuffer);
  const half = Math.floor(bytes.length / 8) * 4;
  const paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
  await mkdirP(join(dir, 'tfjs'));
  await writeFile(join(dir, 'tfjs', paths[0] as string), bytes.subarray(0, half));
  await writeFile(join(dir, 'tfjs', paths[1] as string), bytes.subarray(half));
  await writeFile(
    join(dir, 'tfjs', 'model.json'),
    JSON.stringify({
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      weightsManifest: [{ paths, weights: a.weightSpecs }],
    }),
  );
  const expected = {
    x,
    xShape,
    wasmgrad: Array.from(model.predict(wg.tensor(x, xShape)).dataSync()),
    tfjsX: tx,
    tfjsXShape: tShape,
    tfjs: Array.from((t.predict(tf.tensor(tx, tShape)) as tf.Tensor).dataSync()),
  };
  await writeFile(join(dir, 'expected.json'), JSON.stringify(expected));
}

const mkdirP = async (d: string) => mkdirSync(d, { recursive: true });

// ---- static server (as browser.test.ts) ------------------------------------------------------

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

async function findPackageDir(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

/** Rewrites bare import specifiers into URL paths under the root, as browser.test.ts does. */
async function resolveBareImports(code: string, file: string): Promise<string> {
  const pattern = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"./][^'"]*)\2/g;
  const replacements = new Map<string, string>();
  for (const match of code.matchAll(pattern)) {
    const spec = match[3] as string;
    if (replacements.has(spec) || /^[a-z]+:/.test(spec)) continue;
    const parts = spec.split('/');
    const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
    const pkgDir = await findPackageDir(name, dirname(file));
    if (!pkgDir) continue;
    let target = join(pkgDir, spec.slice(name.length));
    if (spec === name) {
      const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as {
        module?: string;
        main?: string;
      };
      target = join(pkgDir, pkg.module ?? pkg.main ?? 'index.js');
    }
    replacements.set(spec, `/${relative(root, target).split(sep).join('/')}`);
  }
  return code.replace(pattern, (all, head: string, quote: string, spec: string) => {
    const to = replacements.get(spec);
    return to ? `${head}${quote}${to}${quote}` : all;
  });
}

/** Serves the repository, and `fixtures` under /__fixtures. */
function startServer(fixtures: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cache-Control', 'no-store');
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const [base, rel] = path.startsWith('/__fixtures/') ? [fixtures, path.slice(11)] : [root, path];
      const file = join(base, rel);
      if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error('outside'), { status: 403 });
      if (!(await stat(file)).isFile()) throw Object.assign(new Error('not a file'), { status: 404 });
      const ext = extname(file);
      const bytes = await readFile(file);
      let body: string | Buffer = bytes;
      if (ext === '.ts') {
        body = ts.transpileModule(bytes.toString('utf8'), {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
          fileName: file,
        }).outputText;
      } else if ((ext === '.js' || ext === '.mjs') && base === root) {
        body = await resolveBareImports(bytes.toString('utf8'), await realpath(file));
      }
      res.writeHead(200, { 'Content-Type': MIME[ext] ?? 'application/octet-stream' });
      res.end(body);
    } catch (err) {
      const e = err as { status?: number; code?: string };
      const status = e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 404 : (e.status ?? 500);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(`${status} ${req.url}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---- Deno ----------------------------------------------------------------------------------

interface Run {
  code: number | null;
  output: string;
  timedOut: boolean;
}

function runDeno(args: string[], env: Record<string, string>): Promise<Run> {
  const denoDir = `${root}/node_modules/.cache/deno`;
  mkdirSync(denoDir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(deno, args, {
      cwd: root,
      env: { ...process.env, ...env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (err) => (output += `\nspawn failed: ${err.message}`));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

const report = (what: string, run: Run) =>
  `${what} (deno ${run.timedOut ? `timed out after ${TIMEOUT_MS} ms` : `exited with code ${run.code}`}); its output:\n${run.output}`;

function tapResult(output: string, name: string): { ok: boolean; diagnostic: string } | undefined {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => /^(not )?ok /.test(l) && l.replace(/^(not )?ok \d+ - /, '') === name);
  if (at < 0) return undefined;
  const block: string[] = [];
  for (let i = at + 1; i < lines.length && (lines[i] as string).startsWith('  '); i++) block.push(lines[i] as string);
  return { ok: (lines[at] as string).startsWith('ok '), diagnostic: block.join('\n') };
}

// ---- the suites ----------------------------------------------------------------------------

let fixtures = '';
let server: Server | undefined;
let base = '';
beforeAll(async () => {
  for (const file of [deno, CHROMIUM, `${root}/packages/wasmgrad/dist/index.js`]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh test and build the package first`);
  }
  fixtures = await mkdtemp(join(tmpdir(), 'wasmgrad-io-fixtures-'));
  await writeFixtures(fixtures);
  server = await startServer(fixtures);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
});

describe('deno save/load', () => {
  let check: Run;
  let test: Run;
  beforeAll(async () => {
    [check, test] = await Promise.all([
      runDeno(['check', DENO_SUITE], {}),
      runDeno(
        [
          'test',
          '--no-check',
          '--allow-read',
          '--allow-write',
          '--allow-net=127.0.0.1',
          '--allow-env=WG_IO_FIXTURES,WG_IO_BASE',
          '--reporter=tap',
          DENO_SUITE,
        ],
        { WG_IO_FIXTURES: fixtures, WG_IO_BASE: `${base}/__fixtures` },
      ),
    ]);
  }, 2 * TIMEOUT_MS);

  it('deno io · deno check type-checks the suite', () => {
    expect(check.code, report('deno check failed', check)).toBe(0);
  });
  it('deno io · deno test exits with code 0', () => {
    expect(test.code, report('deno test failed', test)).toBe(0);
  });
  it.each(DENO_EXPECTED)('%s', (name) => {
    const result = tapResult(test.output, name);
    expect(result, report(`deno test did not report "${name}"`, test)).toBeDefined();
    expect(result?.ok, `${name} failed in Deno: ${result?.diagnostic}`).toBe(true);
  });
});

interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  note?: string;
  data?: { x: number[]; xShape: number[]; predictions: number[] };
}

describe('chromium save/load', () => {
  let browser: Browser | undefined;
  const consoleLines: string[] = [];
  let results: CheckResult[] = [];
  let downloads: { name: string; bytes: Uint8Array }[] = [];
  const pageLog = () => `\n--- browser console ---\n${consoleLines.join('\n')}`;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
    const page = await browser.newPage({ acceptDownloads: true });
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.stack ?? err.message}`));
    page.on('response', (res) => {
      if (res.status() >= 400) consoleLines.push(`[http ${res.status()}] ${res.url()}`);
    });
    // The page's downloads:// save: caught here (started before the page loads, so it cannot be missed).
    const download = page.waitForEvent('download', { timeout: TIMEOUT_MS }).then(async (d) => {
      downloads.push({ name: d.suggestedFilename(), bytes: new Uint8Array(await readFile(await d.path())) });
    });
    download.catch(() => {});
    await page.goto(`${base}/test/browser/io-roundtrip.html`);
    try {
      results = await page.evaluate(
        (ms) =>
          Promise.race([
            (window as unknown as { wasmgradIoChecks?: Promise<CheckResult[]> }).wasmgradIoChecks ??
              Promise.reject(new Error('window.wasmgradIoChecks is not set: io-checks.js did not load')),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no results within ${ms} ms`)), ms)),
          ]),
        TIMEOUT_MS,
      );
      await download.catch((err) => consoleLines.push(`[driver] no download: ${err.message}`));
    } catch (err) {
      throw new Error(`the page did not report results: ${(err as Error).message}${pageLog()}`);
    }
  }, TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    downloads = [];
  });

  it.each(CHROMIUM_EXPECTED)('%s', (name) => {
    const result = results.find((r) => r.name === name);
    expect(result, `the page reported no check "${name}"${pageLog()}`).toBeDefined();
    expect(result?.ok, `${name} failed: ${result?.error}${pageLog()}`).toBe(true);
    if (result?.note) console.log(`${name}: ${result.note}`);
  });

  it('chromium io · the downloaded file is one bundle that loads in Node with the page’s predictions', async () => {
    const saved = results.find(
      (r) => r.name === 'chromium io · downloads:// starts one download of name.safetensors',
    )?.data;
    expect(saved, `the download check returned no predictions${pageLog()}`).toBeDefined();
    expect(downloads.map((d) => d.name)).toEqual(['io-roundtrip.safetensors']);
    const d = saved as NonNullable<CheckResult['data']>;
    const model = await wg.loadModel((downloads[0] as { bytes: Uint8Array }).bytes);
    expect(Array.from(model.predict(wg.tensor(d.x, d.xShape)).dataSync())).toEqual(d.predictions);
  });

  it('chromium io · a page closed during an IndexedDB save leaves a loadable model (old or new, never mixed)', async () => {
    const context = await (browser as Browser).newContext();
    try {
      // Page 1 saves generation 1, starts saving generation 2 and is closed without waiting.
      const page = await context.newPage();
      await page.goto(`${base}/test/browser/io-roundtrip.html#idle`);
      // Code strings, not callbacks: vitest rewrites import() inside this file's functions.
      const before = (await page.evaluate(`(async () => {
        const wg = await import('/packages/wasmgrad/dist/index.js');
        await wg.ready();
        const make = (seed) => {
          wg.setSeed(seed);
          return wg.sequential([wg.layers.dense({ units: 4, activation: 'tanh', inputShape: [3] })]);
        };
        const x = wg.tensor([0.1, -0.5, 0.9, 1, 2, -3], [2, 3]);
        const a = make(1);
        const b = make(2);
        await a.save('indexeddb://crash');
        void b.save('indexeddb://crash');
        return [Array.from(a.predict(x).dataSync()), Array.from(b.predict(x).dataSync())];
      })()`)) as number[][];
      await page.close({ runBeforeUnload: false });
      // Page 2 of the same profile loads whatever committed.
      const next = await context.newPage();
      await next.goto(`${base}/test/browser/io-roundtrip.html#idle`);
      const after = (await next.evaluate(`(async () => {
        const wg = await import('/packages/wasmgrad/dist/index.js');
        const m = await wg.loadModel('indexeddb://crash');
        const x = wg.tensor([0.1, -0.5, 0.9, 1, 2, -3], [2, 3]);
        const list = await wg.io.listModels();
        return { predictions: Array.from(m.predict(x).dataSync()), generation: list[0]?.generation };
      })()`)) as { predictions: number[]; generation: number };
      expect(before[0]).not.toEqual(before[1]);
      expect([before[0], before[1]]).toContainEqual(after.predictions);
      expect(after.generation).toBe(after.predictions.join() === before[0]?.join() ? 1 : 2);
    } finally {
      await context.close();
    }
  });

  it('chromium io · the page reports no checks beyond the expected ones', () => {
    expect(results.map((r) => r.name).sort()).toEqual([...CHROMIUM_EXPECTED].sort());
  });
});

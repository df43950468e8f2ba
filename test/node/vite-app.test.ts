/**
 * The built package in a Vite app: test/fixtures/vite-app imports 'wasmgrad' by name (linked into
 * its node_modules as a workspace or file: install would), and its vite.config.js holds only
 * vite-plugin-wasm. Vite builds it for production; the output is served by a plain static server
 * (no COOP/COEP headers: the ordinary deployment, so the trainer uses its message-only stop path)
 * and opened in headless Chromium, where the app trains XOR in a worker and publishes its result.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const app = join(root, 'test/fixtures/vite-app');
const pkg = join(root, 'packages/wasmgrad');
const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Serves `dir` as a static site, nothing more. */
function serve(dir: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (path.endsWith('/')) path += 'index.html';
      const file = join(dir, path);
      if (!file.startsWith(dir + sep) || !(await stat(file)).isFile()) throw new Error('not found');
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end(`404 ${req.url}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Every file under `dir`, relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

interface AppResult {
  error?: string;
  epochs: number;
  loss: number;
  events: number;
  predictions: number[];
  pulledPredictions: number[];
  simd: boolean;
  crossOriginIsolated: boolean;
}

describe('vite app', () => {
  const outDir = join(tmpdir(), `wasmgrad-vite-app-${process.pid}`);
  let files: string[] = [];
  let server: Server | undefined;
  let browser: Browser | undefined;
  let result: AppResult | undefined;
  const consoleLines: string[] = [];
  const pageLog = () => `\n--- browser console ---\n${consoleLines.join('\n')}`;

  beforeAll(async () => {
    for (const file of [CHROMIUM, join(pkg, 'dist/index.js'), join(pkg, 'wasm/wasmgrad-simd.wasm')]) {
      if (!existsSync(file))
        throw new Error(`${file} is missing: run scripts/setup.sh test and build the package first`);
    }
    // node_modules/wasmgrad → the package, as `pnpm add wasmgrad@workspace:*` or a file: install links it.
    const link = join(app, 'node_modules/wasmgrad');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    if (!existsSync(link) && !lstatSync(link, { throwIfNoEntry: false }))
      symlinkSync(relative(join(app, 'node_modules'), pkg), link, 'dir');
    await build({ root: app, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    files = listFiles(outDir);
    server = await serve(outDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage();
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.stack ?? err.message}`));
    page.on('response', (res) => {
      if (res.status() >= 400) consoleLines.push(`[http ${res.status()}] ${res.url()}`);
    });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    result = await page.evaluate(
      (ms) =>
        Promise.race([
          (window as unknown as { wasmgradResult?: Promise<AppResult> }).wasmgradResult ??
            Promise.reject(new Error('window.wasmgradResult is not set: main.js did not run')),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms)),
        ]),
      TIMEOUT_MS,
    );
  }, 3 * TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('vite · the build emits the worker as its own chunk and the wasm modules as assets', () => {
    expect(files.filter((f) => f.endsWith('.wasm')).length, files.join('\n')).toBeGreaterThanOrEqual(1);
    // The worker chunk is named after the package's worker entry (entry.js → entry-<hash>.js).
    expect(
      files.some((f) => /entry[-.][\w-]+\.js$/.test(f)),
      files.join('\n'),
    ).toBe(true);
  });

  it('vite · the built app trains XOR in a worker and shows the worker’s predictions', () => {
    expect(result?.error, pageLog()).toBeUndefined();
    const r = result as AppResult;
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.simd).toBe(true);
    expect(r.epochs).toBe(300);
    expect(r.events).toBe(300);
    expect(r.loss).toBeLessThan(0.2);
    expect(r.predictions.map((p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    // The model pulled back to the page predicts exactly what the worker predicts.
    expect(r.pulledPredictions).toEqual(r.predictions);
  });
});

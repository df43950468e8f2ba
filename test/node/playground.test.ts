/**
 * The playground end to end: Vite builds packages/playground (vite-plugin-wasm, ES workers), a
 * static server serves the build with COOP/COEP headers, and headless Chromium opens it, trains on
 * a 2-D set and on the Fashion-MNIST sample in a worker, and checks that the loss falls, accuracy
 * passes a threshold, the charts/boundary/confusion matrix render, and save/load through IndexedDB
 * gives the same accuracy. A screenshot is saved to runs/playground.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const app = join(root, 'packages/playground');
const CHROMIUM = '/usr/bin/chromium';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.gz': 'application/octet-stream',
  '.svg': 'image/svg+xml',
};

interface State {
  status: string;
  epochs: number;
  logs: Record<string, number>;
  history: Record<string, number>[];
  samplesPerSecond: number;
  error?: string;
  loadedAccuracy?: number;
}

function serve(dir: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      if (!file.startsWith(dir)) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('playground (Vite build in headless Chromium)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const log: string[] = [];
  const pageLog = () => `\n--- browser console ---\n${log.join('\n')}`;
  const state = () => page.evaluate(() => (window as unknown as { playground: State }).playground);
  const waitFor = async (what: string, ok: (s: State) => boolean, ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const s = await state();
      if (ok(s)) return s;
      if (s.status === 'error' || Date.now() > end) {
        throw new Error(`${what}: status ${s.status} ${s.error ?? ''} after ${ms} ms${pageLog()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'wasmgrad-playground-'));
    const build = spawnSync(join(app, 'node_modules/.bin/vite'), ['build', '--outDir', out, '--emptyOutDir'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
    server = await serve(out);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await waitFor('page load', (s) => s.status === 'idle', 60_000);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('is cross-origin isolated and runs the SIMD build', async () => {
    const text = await page.getByTestId('runtime').textContent();
    expect(text).toContain('SIMD128');
    expect(text).toContain('cross-origin isolated');
  });

  it('trains on XOR in a worker: loss falls, accuracy passes 0.95, the boundary is drawn', async () => {
    await page.getByTestId('dataset').selectOption('xor');
    await waitFor('xor load', (s) => s.status === 'idle', 10_000);
    await page.getByTestId('epochs').fill('40');
    await page.getByTestId('lr').fill('0.03');
    await page.getByTestId('train').click();
    const s = await waitFor('xor training', (st) => st.status === 'done', 120_000);
    expect(s.epochs).toBe(40);
    const first = s.history[0]?.loss as number;
    const last = s.history[s.history.length - 1]?.loss as number;
    expect(last).toBeLessThan(first * 0.5);
    expect(s.logs.val_accuracy).toBeGreaterThan(0.95);
    expect(s.samplesPerSecond).toBeGreaterThan(0);
    // The boundary canvas is painted in both class colours.
    const colours = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=boundary]') as HTMLCanvasElement;
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let bluish = 0;
      let orangish = 0;
      for (let i = 0; i < d.length; i += 4) {
        if ((d[i + 2] as number) > (d[i] as number) + 30) bluish++;
        if ((d[i] as number) > (d[i + 2] as number) + 30) orangish++;
      }
      return { bluish, orangish };
    });
    expect(colours.bluish).toBeGreaterThan(1000);
    expect(colours.orangish).toBeGreaterThan(1000);
    mkdirSync(join(root, 'runs'), { recursive: true });
    await page.screenshot({ path: join(root, 'runs/playground.png'), fullPage: true });
    expect(existsSync(join(root, 'runs/playground.png'))).toBe(true);
  }, 150_000);

  it('trains the Fashion-MNIST sample, shows predictions and a confusion matrix, and stop() ends a fit', async () => {
    await page.getByTestId('dataset').selectOption('fashion-mnist');
    await waitFor('fashion load', (s) => s.status === 'idle', 30_000);
    await page.getByTestId('epochs').fill('3');
    await page.getByTestId('train').click();
    const s = await waitFor('fashion training', (st) => st.status === 'done', 120_000);
    expect(s.logs.val_accuracy).toBeGreaterThan(0.65); // 2,000 images, 3 epochs: ≈ 0.75 measured
    expect(await page.locator('[data-testid=confusion] tr').count()).toBe(11);
    expect(await page.locator('[data-testid=samples] figure').count()).toBe(16);
    // A long fit, stopped mid-way.
    await page.getByTestId('epochs').fill('500');
    await page.getByTestId('train').click();
    await waitFor('long fit starts', (st) => st.status === 'training' && st.epochs >= 1, 60_000);
    await page.getByTestId('stop').click();
    const stopped = await waitFor('stop', (st) => st.status === 'stopped', 30_000);
    expect(stopped.epochs).toBeLessThan(500);
  }, 300_000);

  it('saves to IndexedDB and loads back with the same test accuracy', async () => {
    const before = (await state()).logs.val_accuracy as number;
    await page.getByTestId('save-idb').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.textContent?.includes('saved'),
      null,
      {
        timeout: 30_000,
      },
    );
    await page.getByTestId('load-idb').click();
    const s = await waitFor('load', (st) => st.loadedAccuracy !== undefined, 30_000);
    // The saved weights are those at the end of the stopped fit; val_accuracy was measured at the
    // end of its last epoch, so allow the batches after it.
    expect(Math.abs((s.loadedAccuracy as number) - before)).toBeLessThan(0.1);
  }, 90_000);
});

/**
 * The playground's end-to-end harness, shared by its tests: Vite builds packages/playground into a
 * temporary directory, a static server serves it with COOP/COEP headers (cross-origin isolated),
 * and headless Chromium (Debian's, via playwright-core) opens it with its console collected.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
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

/** A built and served playground open in a headless Chromium page. */
export interface PlaygroundApp {
  page: Page;
  /** The page's console so far, for failure messages. */
  pageLog(): string;
  close(): Promise<void>;
}

/** Builds the playground, serves it and opens it at `height` px tall. */
export async function openPlayground(height: number): Promise<PlaygroundApp> {
  const out = mkdtempSync(join(tmpdir(), 'wasmgrad-playground-'));
  const build = spawnSync(join(app, 'node_modules/.bin/vite'), ['build', '--outDir', out, '--emptyOutDir'], {
    cwd: app,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
  const server = await serve(out);
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    const page = await browser.newPage({ viewport: { width: 1280, height } });
    const log: string[] = [];
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.stack ?? e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const opened = browser;
    return {
      page,
      pageLog: () => `\n--- browser console ---\n${log.join('\n')}`,
      close: async () => {
        await opened.close();
        await new Promise((r) => server.close(r));
      },
    };
  } catch (err) {
    await browser?.close();
    await new Promise((r) => server.close(r));
    throw err;
  }
}

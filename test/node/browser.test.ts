// Drives the Chromium suite (test/browser) from vitest: a small static server on 127.0.0.1 serves
// the repository with COOP/COEP headers (so the page is cross-origin isolated), headless Chromium
// opens test/browser/index.html, and each in-page check becomes one vitest test. The page console
// is printed when anything fails.
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainerChecks } from '../shared/trainer-suite.js';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const CHROMIUM = '/usr/bin/chromium';
const PAGE_TIMEOUT_MS = 240_000;

/** Every check the page must report as passed (names as in test/browser/checks.js). */
const EXPECTED = [
  'chromium · page is cross-origin isolated',
  'chromium · engine validates SIMD128',
  ...['simd', 'scalar'].flatMap((build) => [
    `chromium · ${build} · matMul vs reference`,
    `chromium · ${build} · bad input throws a ShapeError`,
    `chromium worker · ${build} · matMul vs reference`,
  ]),
  // Names only: making the checks touches nothing of the package.
  ...trainerChecks({}, { runtime: 'chromium', sharedMemory: true }).map((c) => c.name),
  'chromium · requestAnimationFrame keeps running while a CNN trains in a worker',
];

interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  /** A measured figure worth printing (e.g. the longest frame gap). */
  note?: string;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8', // compiled on the fly, see below
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** node_modules/<name> of the nearest ancestor of `fromDir` (inside the root) that has it. */
async function findPackageDir(name: string, fromDir: string): Promise<string | undefined> {
  for (let dir = fromDir; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

/**
 * Rewrites bare import specifiers (`from 'comlink/dist/esm/comlink.mjs'`) into URL paths under
 * the root, resolved like Node from the importing file, as a bundler or dev server would. Chromium
 * applies no import map inside workers, so the worker entry's comlink import needs this.
 */
async function resolveBareImports(code: string, file: string): Promise<string> {
  const pattern = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"./][^'"]*)\2/g;
  const replacements = new Map<string, string>();
  for (const match of code.matchAll(pattern)) {
    const spec = match[3] as string;
    if (replacements.has(spec) || spec.startsWith('node:') || /^[a-z]+:/.test(spec)) continue;
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

/** Serves files under the root (symlinks followed: pnpm's node_modules) with COOP/COEP headers. */
function startServer(): Promise<Server> {
  const server = createServer(async (req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cache-Control', 'no-store');
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const file = join(root, path);
      if (file !== root && !file.startsWith(root + sep))
        throw Object.assign(new Error('outside root'), { status: 403 });
      if (!(await stat(file)).isFile()) throw Object.assign(new Error('not a file'), { status: 404 });
      const ext = extname(file);
      const bytes = await readFile(file);
      let body: string | Buffer = bytes;
      if (ext === '.ts') {
        body = ts.transpileModule(bytes.toString('utf8'), {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
          fileName: file,
        }).outputText;
      } else if (ext === '.js' || ext === '.mjs') {
        body = await resolveBareImports(bytes.toString('utf8'), await realpath(file));
      }
      res.writeHead(200, { 'Content-Type': MIME[ext] ?? 'application/octet-stream' });
      res.end(body);
    } catch (err) {
      const status =
        (err as { status?: number; code?: string }).code === 'ENOENT'
          ? 404
          : ((err as { status?: number }).status ?? 500);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(`${status} ${req.url}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('chromium', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  const consoleLines: string[] = [];
  let results: CheckResult[] = [];

  /** The page's console and errors, appended to every failure message. */
  const pageLog = () => `\n--- browser console ---\n${consoleLines.join('\n')}`;

  beforeAll(async () => {
    for (const file of [
      CHROMIUM,
      `${root}/packages/wasmgrad/dist/index.js`,
      `${root}/packages/wasmgrad/dist/worker/entry.js`,
    ]) {
      if (!existsSync(file))
        throw new Error(`${file} is missing: run scripts/setup.sh test and build the package first`);
    }
    server = await startServer();
    const { port } = server.address() as AddressInfo;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => consoleLines.push(`[pageerror] ${err.stack ?? err.message}`));
    page.on('requestfailed', (req) => consoleLines.push(`[requestfailed] ${req.url()} ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.status() >= 400) consoleLines.push(`[http ${res.status()}] ${res.url()}`);
    });
    await page.goto(`http://127.0.0.1:${port}/test/browser/index.html`);
    try {
      results = await page.evaluate(
        (ms) =>
          Promise.race([
            (window as unknown as { wasmgradChecks?: Promise<CheckResult[]> }).wasmgradChecks ??
              Promise.reject(new Error('window.wasmgradChecks is not set: checks.js did not load')),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no results within ${ms} ms`)), ms)),
          ]),
        PAGE_TIMEOUT_MS,
      );
    } catch (err) {
      throw new Error(`the page did not report results: ${(err as Error).message}${pageLog()}`);
    }
  }, PAGE_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it.each(EXPECTED)('%s', (name) => {
    const result = results.find((r) => r.name === name);
    expect(result, `the page reported no check "${name}"${pageLog()}`).toBeDefined();
    expect(result?.ok, `${name} failed: ${result?.error}${pageLog()}`).toBe(true);
    if (result?.note) console.log(`${name}: ${result.note}`);
  });

  it('chromium · the page reports no checks beyond the expected ones, all passed', () => {
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
    expect(failed, pageLog()).toEqual([]);
    expect(results.map((r) => r.name).sort()).toEqual([...EXPECTED].sort());
  });
});

#!/usr/bin/env node
// Bundle size of what a web page ships: packages/wasmgrad/dist/index.js bundled and minified with
// rolldown (the bundler vite 8 ships; esbuild is not installed here) for the browser, Node
// built-ins external (the Node-only code paths import them dynamically), comlink included; the
// worker entry likewise; and each .wasm module. Raw and gzipped (node:zlib, level 9) bytes.
// Writes bench/results/bundle.json. Usage: node bench/bundle.mjs   (needs dist/ and the .wasm)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', 'packages', 'wasmgrad');
const require = createRequire(import.meta.url);
// rolldown is vite's dependency, not ours: resolve it from vite's own location.
const viteRequire = createRequire(require.resolve('vite/package.json'));
const rolldownPath = viteRequire.resolve('rolldown');
const { rolldown, VERSION } = await import(pathToFileURL(rolldownPath).href);

const sizes = (bytes) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

async function bundle(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-bundle-'));
  try {
    const build = await rolldown({
      input: entry,
      platform: 'browser',
      external: (id) => nodeBuiltins.has(id) || id.startsWith('node:'),
      logLevel: 'silent',
    });
    const { output } = await build.write({ dir, format: 'esm', minify: true, codeSplitting: false });
    await build.close();
    const chunks = output.filter((o) => o.type === 'chunk');
    const code = Buffer.concat(chunks.map((c) => Buffer.from(c.code)));
    return { files: chunks.length, ...sizes(code) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const result = {
  date: new Date().toISOString(),
  bundler: `rolldown ${VERSION ?? ''} (minify, platform browser, Node built-ins external)`.replace('  ', ' '),
  js: await bundle(join(pkg, 'dist', 'index.js')),
  worker: await bundle(join(pkg, 'dist', 'worker', 'entry.js')),
  wasm: Object.fromEntries(
    readdirSync(join(pkg, 'wasm'))
      .filter((f) => f.endsWith('.wasm'))
      .sort()
      .map((f) => [f, sizes(readFileSync(join(pkg, 'wasm', f)))]),
  ),
};
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
console.log(`\nBundle sizes (${result.bundler}), raw / gzip -9\n`);
console.log('| file | raw | gzip |');
console.log('|---|---:|---:|');
console.log(`| wasmgrad JS (dist/index.js bundled) | ${kb(result.js.raw)} | ${kb(result.js.gzip)} |`);
console.log(`| worker entry (dist/worker/entry.js bundled) | ${kb(result.worker.raw)} | ${kb(result.worker.gzip)} |`);
for (const [f, s] of Object.entries(result.wasm)) console.log(`| ${f} | ${kb(s.raw)} | ${kb(s.gzip)} |`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'bundle.json'), `${JSON.stringify(result, null, 2)}\n`);

/**
 * The README's TypeScript examples run, so they never rot: each ```ts block is transpiled (types
 * stripped) and run with Node against the built package (blocks without an import get the same `import * as wg` first).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const dist = new URL('packages/wasmgrad/dist/index.js', `file://${root}`).href;

describe('README examples', () => {
  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.map((code, i) => [i + 1, code] as const))('example %i runs', (_i, code) => {
    const header = code.includes("from 'wasmgrad'") ? '' : `import * as wg from 'wasmgrad';\nawait wg.ready();\n`;
    const typed = (header + code).replace("from 'wasmgrad'", `from '${dist}'`);
    // The blocks are TypeScript: strip the types the way a user's build would.
    const source = ts.transpileModule(typed, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-readme-'));
    const file = join(dir, 'example.mjs');
    writeFileSync(file, source);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000 });
    expect(out.length).toBeGreaterThan(0);
  });
});

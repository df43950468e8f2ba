// Drives the Deno suite (test/deno) from vitest: `deno check` type-checks it and `deno test` runs
// it against the compiled package (packages/wasmgrad/dist), both offline. Deno's TAP report is
// turned into one vitest test per Deno test, so the output names the runtime and build checked.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deno = `${root}node_modules/.bin/deno`;
const suite = 'test/deno';
const TIMEOUT_MS = 90_000;

/** Every test the Deno suite must report as passed (names as in test/deno/*_test.ts). */
const EXPECTED = [
  ...['simd', 'scalar'].flatMap((build) => [
    `deno · ${build} · matMul vs reference`,
    `deno · ${build} · bad input throws a ShapeError`,
    `deno worker · ${build} · matMul vs reference`,
  ]),
  'deno trainer · fit in a worker with progress, predictions equal the pulled model',
  'deno trainer · stop() ends a long fit, terminate() rejects a pending fit with a WorkerError',
];

interface Run {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs deno with a cache outside the repo's tracked files and no update check or colours. */
function runDeno(args: string[]): Promise<Run> {
  const denoDir = `${root}node_modules/.cache/deno`;
  mkdirSync(denoDir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(deno, args, {
      cwd: root,
      env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
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

/** Explains a failure: what went wrong, Deno's exit code or timeout, and everything it printed. */
function report(what: string, run: Run): string {
  const how = run.timedOut ? `timed out after ${TIMEOUT_MS} ms` : `exited with code ${run.code}`;
  return `${what} (deno ${how}); its output:\n${run.output}`;
}

/** The TAP line of test `name` and, when it failed, Deno's message from the YAML block below it. */
function tapResult(output: string, name: string): { ok: boolean; diagnostic: string } | undefined {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => l.replace(/^(not )?ok \d+ - /, '') === name && /^(not )?ok /.test(l));
  if (at < 0) return undefined;
  const ok = (lines[at] as string).startsWith('ok ');
  const block: string[] = [];
  for (let i = at + 1; i < lines.length && (lines[i] as string).startsWith('  '); i++) block.push(lines[i] as string);
  let diagnostic = block.join('\n');
  const json = block.find((l) => l.trimStart().startsWith('{'));
  if (json) {
    try {
      diagnostic = String((JSON.parse(json) as { message?: unknown }).message ?? diagnostic);
    } catch {
      // keep the raw block
    }
  }
  return { ok, diagnostic };
}

describe('deno', () => {
  let check: Run;
  let test: Run;

  beforeAll(async () => {
    for (const file of [
      deno,
      `${root}packages/wasmgrad/dist/index.js`,
      `${root}packages/wasmgrad/dist/worker/entry.js`,
    ]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm install and build the package first`);
    }
    [check, test] = await Promise.all([
      runDeno(['check', `${suite}/matmul_test.ts`, `${suite}/trainer_test.ts`]),
      runDeno(['test', '--no-check', '--allow-read', '--reporter=tap', suite]),
    ]);
  }, 2 * TIMEOUT_MS);

  it('deno · deno check type-checks the Deno suite', () => {
    expect(check.code, report('deno check failed', check)).toBe(0);
  });

  it('deno · deno test exits with code 0', () => {
    expect(test.code, report('deno test failed', test)).toBe(0);
  });

  it.each(EXPECTED)('%s', (name) => {
    const result = tapResult(test.output, name);
    expect(result, report(`deno test did not report "${name}"`, test)).toBeDefined();
    expect(result?.ok, `${name} failed in Deno: ${result?.diagnostic}`).toBe(true);
  });
});

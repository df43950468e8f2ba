// Drives the Deno suite (test/deno) from vitest: `deno check` type-checks it and `deno test` runs
// it against the compiled package (packages/wasmgrad/dist), both offline (--cached-only: Deno may
// download nothing). Deno's TAP report is turned into one vitest test per Deno test, so the output
// names the runtime and build checked.
//
// test/deno/npm imports the package as `npm:wasmgrad`, offline: the package is packed with
// `npm pack` (exactly its published files) and unpacked into a scratch directory's
// node_modules/wasmgrad, next to node_modules/comlink (a link to the workspace's copy), with a
// deno.json saying `"nodeModulesDir": "manual"`, so Deno resolves npm: specifiers from that
// node_modules instead of a registry.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainerChecks } from '../shared/trainer-suite.js';

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
  // Names only: making the checks touches nothing of the package.
  ...trainerChecks({}, { runtime: 'deno', sharedMemory: true }).map((c) => c.name),
];

/** Every test the npm: specifier run must report as passed (test/deno/npm). */
const EXPECTED_NPM = [
  'deno npm:wasmgrad · resolves to the packed package in node_modules',
  (trainerChecks({}, { runtime: 'deno npm:wasmgrad', sharedMemory: true })[0] as { name: string }).name,
];

/**
 * A directory where `npm:wasmgrad` resolves offline to the packed package (see the top comment).
 * Under node_modules/.cache so that git ignores it.
 */
function npmDir(): string {
  const dir = `${root}node_modules/.cache/wasmgrad-deno-npm`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules/wasmgrad'), { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: `${root}packages/wasmgrad`,
    encoding: 'utf8',
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  const [packed] = JSON.parse(out) as { filename: string }[];
  if (!packed) throw new Error(`npm pack reported no tarball: ${out}`);
  execFileSync('tar', [
    '-xzf',
    join(dir, packed.filename),
    '-C',
    join(dir, 'node_modules/wasmgrad'),
    '--strip-components=1',
  ]);
  symlinkSync(realpathSync(`${root}packages/wasmgrad/node_modules/comlink`), join(dir, 'node_modules/comlink'), 'dir');
  writeFileSync(join(dir, 'deno.json'), `${JSON.stringify({ nodeModulesDir: 'manual' }, null, 2)}\n`);
  return dir;
}

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
  let npmCheck: Run;
  let npmTest: Run;

  beforeAll(async () => {
    for (const file of [
      deno,
      `${root}packages/wasmgrad/dist/index.js`,
      `${root}packages/wasmgrad/dist/worker/entry.js`,
    ]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm install and build the package first`);
    }
    const files = readdirSync(`${root}${suite}`)
      .filter((f) => f.endsWith('_test.ts'))
      .map((f) => `${suite}/${f}`);
    [check, test] = await Promise.all([
      runDeno(['check', '--cached-only', ...files]),
      runDeno(['test', '--no-check', '--cached-only', '--allow-read', '--reporter=tap', ...files]),
    ]);
    const config = join(npmDir(), 'deno.json');
    [npmCheck, npmTest] = await Promise.all([
      runDeno(['check', '--cached-only', '--config', config, `${suite}/npm`]),
      runDeno([
        'test',
        '--no-check',
        '--cached-only',
        '--config',
        config,
        '--allow-read',
        '--reporter=tap',
        `${suite}/npm`,
      ]),
    ]);
  }, 4 * TIMEOUT_MS);

  it('deno · deno check type-checks the Deno suite', () => {
    expect(check.code, report('deno check failed', check)).toBe(0);
  });

  it('deno · deno test exits with code 0', () => {
    expect(test.code, report('deno test failed', test)).toBe(0);
    // The measured figures the suite notes (stop latency, kill latency), as Deno printed them.
    for (const line of test.output.split('\n')) if (/^deno trainer suite · .*: /.test(line)) console.log(line);
  });

  it.each(EXPECTED)('%s', (name) => {
    const result = tapResult(test.output, name);
    expect(result, report(`deno test did not report "${name}"`, test)).toBeDefined();
    expect(result?.ok, `${name} failed in Deno: ${result?.diagnostic}`).toBe(true);
  });

  it('deno npm:wasmgrad · deno check type-checks against the packed package’s types', () => {
    expect(npmCheck.code, report('deno check (npm:) failed', npmCheck)).toBe(0);
  });

  it('deno npm:wasmgrad · deno test exits with code 0', () => {
    expect(npmTest.code, report('deno test (npm:) failed', npmTest)).toBe(0);
  });

  it.each(EXPECTED_NPM)('%s', (name) => {
    const result = tapResult(npmTest.output, name);
    expect(result, report(`deno test did not report "${name}"`, npmTest)).toBeDefined();
    expect(result?.ok, `${name} failed in Deno: ${result?.diagnostic}`).toBe(true);
  });
});

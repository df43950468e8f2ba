/**
 * The cross-runtime trainer suite (test/shared/trainer-suite.js) in Node: the built package
 * (packages/wasmgrad/dist) spawns worker_threads workers from its own entry. Deno and Chromium run
 * the same checks (test/deno/trainer_suite_test.ts, test/browser/checks.js).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { type TrainerCheck, trainerChecks } from '../shared/trainer-suite.js';

const dist = fileURLToPath(new URL('../../packages/wasmgrad/dist/index.js', import.meta.url));
if (!existsSync(dist)) throw new Error(`${dist} is missing: build the package first (tsc -p packages/wasmgrad)`);
const wg = (await import(dist)) as object;
const checks: TrainerCheck[] = trainerChecks(wg, { runtime: 'node', sharedMemory: true });

describe('trainer suite in Node worker_threads', () => {
  it.each(checks.map((c) => [c.name, c] as const))('%s', async (_, check) => {
    const note = await check.run();
    if (note) console.log(`${check.name}: ${note}`);
  });
});

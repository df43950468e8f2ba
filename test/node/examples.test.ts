/**
 * The examples/ folder runs, so it never rots: the Node service (answers while it trains in a
 * worker), worker training with an early stop, and the Deno script, each as a child process
 * against the built package (the browser example is the playground, see playground.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(cmd: string, args: string[]) {
  const denoDir = join(root, 'node_modules/.cache/deno');
  mkdirSync(denoDir, { recursive: true });
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 150_000,
    env: { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  const output = `${r.stdout}\n${r.stderr}`;
  expect(r.status, output).toBe(0);
  return r.stdout;
}

describe('examples/', () => {
  it('node-service.mjs answers /health while training and predicts XOR after', () => {
    const out = run(process.execPath, ['examples/node-service.mjs', '--once']);
    const health = /health while training: (\{.*\}) in ([\d.]+) ms/.exec(out);
    expect(health, out).not.toBeNull();
    expect(JSON.parse(health?.[1] as string).ok).toBe(true);
    const predictions = [...out.matchAll(/predict (\d),(\d): (\{.*\})/g)].map((m) => ({
      xor: Number(m[1]) ^ Number(m[2]),
      y: JSON.parse(m[3] as string).y as number,
    }));
    expect(predictions).toHaveLength(4);
    for (const p of predictions) expect(p.y > 0.5 ? 1 : 0, out).toBe(p.xor);
  }, 160_000);

  it('worker-training.mjs stops early once accuracy passes 0.85 and evaluates the pulled model', () => {
    const out = run(process.execPath, ['examples/worker-training.mjs']);
    expect(out).toContain('stopped early: true');
    const acc = Number(/test accuracy: ([\d.]+)/.exec(out)?.[1]);
    expect(acc, out).toBeGreaterThan(0.75);
  }, 160_000);

  it('deno-script.ts trains, saves, reloads with identical predictions', () => {
    const deno = join(root, 'node_modules/.bin/deno');
    const out = run(deno, ['run', '--allow-read', '--allow-write', '--allow-env', 'examples/deno-script.ts']);
    expect(out).toContain('reloaded predictions identical: true');
  }, 160_000);
});

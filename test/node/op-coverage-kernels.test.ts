/**
 * The kernel half of the coverage matrix, a cheap static check: every export named in
 * KERNEL_SIGNATURES must be referenced by at least one test under test/node, either by its raw name
 * (f32_…) or by the name of a checked wrapper in runtime/kernels/ that calls it (directly or through
 * a helper function of the same file). Also the direct test of gatherRows (it was only exercised
 * through fit before this matrix existed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';
import { gatherRows } from '../../packages/wasmgrad/src/runtime/kernels/gather.js';
import { KERNEL_SIGNATURES } from '../../packages/wasmgrad/src/runtime/kernels/signatures.js';
import { put, putI32 } from '../shared/buffers.js';

const here = dirname(fileURLToPath(import.meta.url));
const kernelDir = join(here, '../../packages/wasmgrad/src/runtime/kernels');

/** kernel name → names of the functions in runtime/kernels/ that call it (one helper level deep). */
function callers(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of readdirSync(kernelDir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(kernelDir, f), 'utf8');
    const fnOf = new Map<string, Set<string>>(); // function → kernels it calls
    const calls = new Map<string, Set<string>>(); // function → functions of this file it calls
    let cur = '';
    const names = [...text.matchAll(/^(?:export )?(?:async )?function (\w+)/gm)].map((m) => m[1] as string);
    for (const line of text.split('\n')) {
      const m = /^(?:export )?(?:async )?function (\w+)|^export const (\w+)\s*=/.exec(line);
      if (m) cur = (m[1] ?? m[2]) as string;
      if (!cur) continue;
      for (const k of line.matchAll(/kernels\.(f32_\w+)/g)) {
        if (!fnOf.has(cur)) fnOf.set(cur, new Set());
        fnOf.get(cur)?.add(k[1] as string);
      }
      for (const n of names) {
        if (n !== cur && new RegExp(`\\b${n}\\(`).test(line)) {
          if (!calls.has(cur)) calls.set(cur, new Set());
          calls.get(cur)?.add(n);
        }
      }
    }
    for (const [fn, ks] of fnOf) {
      const users = [fn, ...[...calls].filter(([, cs]) => cs.has(fn)).map(([c]) => c)];
      for (const k of ks) {
        if (!out.has(k)) out.set(k, new Set());
        for (const u of users) out.get(k)?.add(u);
      }
    }
  }
  return out;
}

const testText = readdirSync(here)
  .filter((n) => n.endsWith('.ts'))
  .map((n) => readFileSync(join(here, n), 'utf8'))
  .join('\n');
const KERNELS = Object.keys(KERNEL_SIGNATURES);
const CALLERS = callers();
const covered = new Set<string>();

afterAll(() => {
  console.log(`kernel exports referenced by a test under test/node: ${covered.size} / ${KERNELS.length}`);
});

describe('kernel coverage matrix', () => {
  it.each(KERNELS)('%s is referenced by a test (raw name or checked wrapper)', (k) => {
    const via = [k, ...(CALLERS.get(k) ?? [])];
    const hit = via.find((n) => new RegExp(`\\b${n}\\b`).test(testText));
    expect(
      hit,
      `kernel ${k} (wrappers: ${[...(CALLERS.get(k) ?? [])].join(', ') || 'none'}) is used by no test`,
    ).toBeDefined();
    covered.add(k);
  });

  it.each([true, false])('gatherRows copies the indexed rows and rejects bad indices (simd %s)', async (simd) => {
    const rt = await wg.createRuntime({ simd });
    const src = put(rt, [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const idx = putI32(rt, [3, 0, 3, 2]);
    const dst = put(rt, new Array(12).fill(Number.NaN));
    gatherRows(rt, 4, idx, 3, src, 4, dst);
    expect(Array.from(rt.f32.subarray(dst >>> 2, (dst >>> 2) + 12))).toEqual([
      30, 31, 32, 0, 1, 2, 30, 31, 32, 20, 21, 22,
    ]);
    const bad = putI32(rt, [1, 4]);
    expect(() => gatherRows(rt, 2, bad, 3, src, 4, dst)).toThrow(/gatherRows: index 4 at 1 is outside \[0, 4\)/);
    expect(() => gatherRows(rt, -1, idx, 3, src, 4, dst)).toThrow(wg.ValueError);
    expect(() => gatherRows(rt, 4, idx, Number.NaN, src, 4, dst)).toThrow(wg.ValueError);
  });
});

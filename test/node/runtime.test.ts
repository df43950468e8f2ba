/** The runtime's allocator and memory: reuse, coalescing, arena resets, growth and OOM. */
import { describe, expect, it } from 'vitest';
import * as wg from '../../packages/wasmgrad/src/index.js';

describe('Allocator', () => {
  it('aligns blocks, reuses freed space and coalesces neighbours', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const a = new wg.Allocator(memory, 1000);
    const p1 = a.alloc(10);
    const p2 = a.alloc(100);
    const p3 = a.alloc(30);
    for (const p of [p1, p2, p3]) expect(p % 16).toBe(0);
    expect(p1).toBeGreaterThanOrEqual(1000);
    a.release(p2);
    expect(a.alloc(50)).toBe(p2); // first fit in the hole
    a.release(p1);
    a.release(p2);
    expect(a.alloc(16 + 112)).toBe(p1); // p1 and p2 merged into one block
    expect(() => a.release(p2 + 4)).toThrow(wg.ValueError);
  });

  it('returns the top to the heap when the last block is freed', () => {
    const a = new wg.Allocator(new WebAssembly.Memory({ initial: 1 }), 64);
    const before = a.stats().heapBytes;
    const p = a.alloc(1000);
    a.release(p);
    expect(a.stats().heapBytes).toBe(before);
    expect(a.stats().liveBlocks).toBe(0);
  });

  it('keeps arena chunks across resets so a step loop reaches a fixed footprint', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const a = new wg.Allocator(memory, 64);
    for (let step = 0; step < 100; step++) {
      const mark = a.arenaMark();
      a.arenaAlloc(300_000);
      a.arenaAlloc(900_000);
      a.arenaReset(mark);
      if (step === 0) expect(a.stats().arenaBytes).toBeGreaterThan(0);
    }
    expect(a.stats().arenaBytes).toBeLessThanOrEqual(3 << 20);
  });

  it('grows the memory on demand and raises OutOfMemoryError past the limit, leaving state intact', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const a = new wg.Allocator(memory, 64, 4 * 65536);
    const p = a.alloc(100_000);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(100_064);
    const stats = a.stats();
    const err = (() => {
      try {
        a.alloc(1 << 20, 'matMul');
      } catch (e) {
        return e;
      }
    })() as wg.OutOfMemoryError;
    expect(err).toBeInstanceOf(wg.OutOfMemoryError);
    expect(err.bytes).toBe(1 << 20);
    expect(err.message).toMatch(/^matMul: could not allocate 1048576 bytes/);
    expect(a.stats()).toEqual(stats);
    a.release(p);
    expect(() => a.alloc(-1)).toThrow(wg.ValueError);
  });
});

describe('Runtime', () => {
  it('rebuilds its views after memory growth, so old data stays readable', async () => {
    const rt = await wg.createRuntime();
    const p = rt.allocF32(4);
    rt.write(p, [1, 2, 3, 4]);
    const before = rt.memory.buffer.byteLength;
    const big = rt.allocF32(8 << 20); // 32 MiB: forces growth
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    expect(Array.from(rt.read(p, 4))).toEqual([1, 2, 3, 4]);
    rt.allocator.release(big);
  });

  it('reports a tensor larger than the memory limit as OutOfMemoryError and stays usable', async () => {
    const rt = await wg.createRuntime({ maxMemoryBytes: 64 << 20 });
    await wg.withRuntime(rt, async () => {
      expect(() => wg.zeros([8192, 8192])).toThrow(wg.OutOfMemoryError);
      const c = wg.matMul(wg.tensor2d([1, 2], [1, 2]), wg.tensor2d([3, 4], [2, 1]));
      expect(Array.from(c.dataSync())).toEqual([11]);
    });
  });

  it('rejects a broken module with a typed error', async () => {
    await expect(wg.createRuntime({ wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9]) })).rejects.toThrow(
      wg.RuntimeStateError,
    );
  });
});

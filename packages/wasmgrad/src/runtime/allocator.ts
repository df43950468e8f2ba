import { OutOfMemoryError, ValueError } from '../errors.js';

const PAGE = 65536;
/** Every block starts on a 16-byte boundary: v128 loads are fastest aligned. */
export const ALIGN = 16;
const ARENA_CHUNK = 1 << 20;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** A free block [ptr, ptr + size). */
interface Block {
  ptr: number;
  size: number;
}

/** An arena position, to reset to. */
export interface ArenaMark {
  readonly chunk: number;
  readonly offset: number;
}

/**
 * Owner of every byte of the wasm heap (from `__heap_base` up).
 *
 * Two kinds of lifetime: long-lived blocks (parameters, optimizer state, user tensors) come from a
 * first-fit free list with coalescing; per-step data comes from an arena whose chunks are kept
 * across resets, so a training loop reaches a fixed footprint after its first step. Memory grows
 * geometrically; `memory.grow` failing raises {@link OutOfMemoryError} and leaves the allocator
 * exactly as it was.
 */
export class Allocator {
  private top: number;
  private readonly free: Block[] = [];
  private readonly live = new Map<number, number>();
  private liveBytes = 0;
  private readonly chunks: Block[] = [];
  private chunk = 0;
  private offset = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    heapBase: number,
    private readonly maxBytes = 4 * 1024 * 1024 * 1024,
  ) {
    this.top = alignUp(heapBase, ALIGN);
  }

  /** Allocates `bytes` (rounded up to 16) and returns the byte address. */
  alloc(bytes: number, op = 'alloc'): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new ValueError(op, `allocation size must be a non-negative integer, got ${bytes}`);
    }
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i] as Block;
      if (block.size >= size) {
        const ptr = block.ptr;
        if (block.size === size) this.free.splice(i, 1);
        else {
          block.ptr += size;
          block.size -= size;
        }
        return this.track(ptr, size);
      }
    }
    this.ensure(this.top + size, bytes, op);
    const ptr = this.top;
    this.top += size;
    return this.track(ptr, size);
  }

  /** Returns a block from {@link alloc}; freeing twice or a foreign pointer throws. */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new ValueError('free', `pointer ${ptr} is not a live allocation`);
    this.live.delete(ptr);
    this.liveBytes -= size;
    this.insertFree({ ptr, size });
  }

  /** Bump-allocates per-step scratch memory; released only by {@link arenaReset}. */
  arenaAlloc(bytes: number, op = 'arena'): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    while (this.chunk < this.chunks.length) {
      const c = this.chunks[this.chunk] as Block;
      if (this.offset + size <= c.size) {
        const ptr = c.ptr + this.offset;
        this.offset += size;
        return ptr;
      }
      this.chunk++;
      this.offset = 0;
    }
    const chunkSize = Math.max(ARENA_CHUNK, alignUp(size, ARENA_CHUNK));
    const ptr = this.alloc(chunkSize, op);
    this.chunks.push({ ptr, size: chunkSize });
    this.chunk = this.chunks.length - 1;
    this.offset = size;
    return ptr;
  }

  /** The current arena position. */
  arenaMark(): ArenaMark {
    return { chunk: this.chunk, offset: this.offset };
  }

  /** Forgets every arena allocation made after `mark` (default: all of them). */
  arenaReset(mark: ArenaMark = { chunk: 0, offset: 0 }): void {
    this.chunk = mark.chunk;
    this.offset = mark.offset;
  }

  /** Byte counts for diagnostics and memory tests. */
  stats(): { heapBytes: number; liveBytes: number; liveBlocks: number; arenaBytes: number; wasmBytes: number } {
    let arenaBytes = 0;
    for (const c of this.chunks) arenaBytes += c.size;
    return {
      heapBytes: this.top,
      liveBytes: this.liveBytes - arenaBytes,
      liveBlocks: this.live.size - this.chunks.length,
      arenaBytes,
      wasmBytes: this.memory.buffer.byteLength,
    };
  }

  private track(ptr: number, size: number): number {
    this.live.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /** Inserts a free block in address order, merging it with adjacent free blocks and the top. */
  private insertFree(block: Block): void {
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.free[mid] as Block).ptr < block.ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, block);
    const next = this.free[lo + 1];
    if (next && block.ptr + block.size === next.ptr) {
      block.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === block.ptr) {
      prev.size += block.size;
      this.free.splice(lo, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Grows the memory so that byte `end` is addressable. */
  private ensure(end: number, requested: number, op: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maxBytes) {
      throw new OutOfMemoryError(
        op,
        requested,
        `the heap would reach ${end} bytes, over the ${this.maxBytes}-byte limit`,
      );
    }
    const needPages = Math.ceil((end - have) / PAGE);
    // Grow by at least half the current size, so that n allocations cost O(log n) grows.
    const wantPages = Math.min(Math.max(needPages, Math.ceil(have / PAGE / 2)), this.maxBytes / PAGE - have / PAGE);
    try {
      this.memory.grow(wantPages);
    } catch {
      try {
        this.memory.grow(needPages);
      } catch (err) {
        throw new OutOfMemoryError(
          op,
          requested,
          `memory.grow of ${needPages} pages failed: ${(err as Error).message}`,
        );
      }
    }
  }
}

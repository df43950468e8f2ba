/**
 * The kernel thread pool: helper threads that each hold their own instance of the shared-memory
 * build (wasmgrad-simd-threads.wasm) over the runtime's one shared `WebAssembly.Memory`, each with
 * its own stack and packing workspace taken from the allocator.
 *
 * A call is split into parts by output tiles (threads-dispatch.ts); the calling thread writes
 * every helper's part into its slot, bumps the generation (Atomics.notify wakes sleeping helpers),
 * runs part 0 itself and waits for the done counter. Helpers spin briefly before sleeping so that
 * back-to-back calls (a training step) do not pay a wake-up each.
 * @module
 */
import { RuntimeStateError } from '../errors.js';
import type { Allocator } from './allocator.js';
import { HELPER_SPIN, type Helper, startHelper } from './threads-worker.js';

/** Most threads a pool accepts (the calling thread included). */
export const MAX_THREADS = 16;
/** Stack of each helper instance (the module reserves the same for the calling thread). */
const STACK_BYTES = 1 << 20;
/** f64 values of one job slot: kernel index, argument count, up to 30 arguments. */
export const SLOT_F64 = 32;
/** Times the caller re-reads the done counter before sleeping on it. */
const JOIN_SPIN = 1 << 16;
/** A helper that makes no progress for this long is taken for dead. */
const JOIN_TIMEOUT_MS = 60_000;

const CTL_GENERATION = 0;
const CTL_DONE = 1;
const CTL_FAILED = 2;
const CTL_SHUTDOWN = 3;

/** What a pool needs from its runtime. */
export interface PoolHost {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  allocator: Allocator;
  /** Packing workspace size of gemm, in f32 values. */
  gemmWorkspaceF32: number;
}

/** True when this thread may block in Atomics.wait (false on a browser's main thread). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when this engine can share memory between threads at all. */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  // Browsers define crossOriginIsolated; without isolation they refuse to share memory.
  if (isolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** A scratch block owned by one helper, grown on demand. */
interface Scratch {
  ptr: number;
  bytes: number;
}

/** Helper threads sharing one runtime's memory; see the module documentation. */
export class ThreadPool {
  /** Helper threads (the calling thread is not counted). */
  readonly helpers: number;
  /** Per-helper gemm packing workspaces (byte addresses). */
  readonly gemmWorkspaces: readonly number[];
  /** False on a thread that cannot block (a browser's main thread): calls stay single-threaded. */
  readonly canBlock: boolean;
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array[];
  private readonly scratch: Scratch[];
  private closed = false;
  /** Jobs run so far (diagnostics and tests: shows that a call was split). */
  jobs = 0;

  private constructor(
    private readonly host: PoolHost,
    private readonly threads: Helper[],
    private readonly owned: number[],
    ctlPtr: number,
    slotsPtr: number,
    gemmWorkspaces: number[],
  ) {
    this.helpers = threads.length;
    this.gemmWorkspaces = gemmWorkspaces;
    this.canBlock = canBlock();
    this.ctl = new Int32Array(host.memory.buffer, ctlPtr, 4);
    this.slots = threads.map((_, i) => new Float64Array(host.memory.buffer, slotsPtr + 8 * SLOT_F64 * i, SLOT_F64));
    this.scratch = threads.map(() => ({ ptr: 0, bytes: 0 }));
  }

  /** Starts `helpers` helper threads over the host's shared memory. */
  static async start(host: PoolHost, helpers: number, names: readonly string[]): Promise<ThreadPool> {
    const a = host.allocator;
    const owned: number[] = [];
    const take = (bytes: number) => {
      const p = a.alloc(bytes, 'setThreads');
      owned.push(p);
      return p;
    };
    // The control block and the slots are never returned to the allocator: a helper that has
    // not yet woken up to a shutdown still reads them, so they must never hold anything else.
    const ctlPtr = a.alloc(16 + 8 * SLOT_F64 * Math.max(helpers, 1), 'setThreads');
    new Int32Array(host.memory.buffer, ctlPtr, 4).fill(0);
    const slotsPtr = ctlPtr + 16;
    const gemmWorkspaces: number[] = [];
    const started: Helper[] = [];
    try {
      const pending: Promise<Helper>[] = [];
      for (let i = 0; i < helpers; i++) {
        const stackTop = take(STACK_BYTES) + STACK_BYTES;
        gemmWorkspaces.push(take(4 * host.gemmWorkspaceF32));
        pending.push(
          startHelper({
            module: host.module,
            memory: host.memory,
            stackTop,
            ctlPtr,
            slotPtr: slotsPtr + 8 * SLOT_F64 * i,
            names,
            spin: HELPER_SPIN,
          }),
        );
      }
      const settled = await Promise.allSettled(pending);
      for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await Promise.all(started.map((h) => h.started));
    } catch (err) {
      ThreadPool.stop(host.memory, ctlPtr, started);
      for (const p of owned) a.release(p);
      throw err instanceof RuntimeStateError
        ? err
        : new RuntimeStateError('setThreads', `could not start helper threads: ${(err as Error).message}`);
    }
    return new ThreadPool(host, started, owned, ctlPtr, slotsPtr, gemmWorkspaces);
  }

  /** The job slot of helper `i` (f64: kernel index or −1, argument count, arguments). */
  slot(i: number): Float64Array {
    return this.slots[i] as Float64Array;
  }

  /**
   * A scratch block of at least `bytes` owned by helper `i` (kept for later calls). Call it
   * before writing any pointer into a slot: it may grow the memory.
   */
  scratchFor(i: number, bytes: number): number {
    const s = this.scratch[i] as Scratch;
    if (s.bytes < bytes) {
      if (s.bytes > 0) this.host.allocator.release(s.ptr);
      s.bytes = 0;
      s.ptr = this.host.allocator.alloc(bytes, 'threads');
      s.bytes = bytes;
    }
    return s.ptr;
  }

  /**
   * Runs one job: every helper does what its slot says (slots must be written, −1 for none),
   * while this thread runs `own`; returns when all are done. A failure in a helper (a trap) is
   * raised here after every helper has finished.
   */
  run(own: () => void, op: string): void {
    if (this.closed) throw new RuntimeStateError(op, 'the thread pool is closed');
    const ctl = this.ctl;
    this.jobs++;
    Atomics.store(ctl, CTL_DONE, 0);
    Atomics.store(ctl, CTL_FAILED, 0);
    Atomics.add(ctl, CTL_GENERATION, 1);
    Atomics.notify(ctl, CTL_GENERATION);
    let ownError: unknown;
    try {
      own();
    } catch (err) {
      ownError = err;
    }
    this.join(op);
    if (ownError !== undefined) throw ownError;
    if (Atomics.load(ctl, CTL_FAILED) !== 0) {
      throw new RuntimeStateError(op, 'a kernel failed in a helper thread (a wasm trap)');
    }
  }

  private join(op: string): void {
    const ctl = this.ctl;
    const target = this.helpers;
    let done = Atomics.load(ctl, CTL_DONE);
    for (let i = 0; done < target && i < JOIN_SPIN; i++) done = Atomics.load(ctl, CTL_DONE);
    let waited = 0;
    while (done < target) {
      const r = Atomics.wait(ctl, CTL_DONE, done, 1000);
      const now = Atomics.load(ctl, CTL_DONE);
      waited = r === 'timed-out' && now === done ? waited + 1000 : 0;
      if (waited >= JOIN_TIMEOUT_MS) {
        this.close();
        throw new RuntimeStateError(op, `a helper thread did not finish within ${JOIN_TIMEOUT_MS} ms; threads are off`);
      }
      done = now;
    }
  }

  /** True until {@link close}. */
  get open(): boolean {
    return !this.closed;
  }

  /**
   * Ends every helper and returns their stacks and workspaces to the allocator (helpers are idle
   * between jobs, so nothing runs on them any more; the control block stays, see start).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    ThreadPool.stop(this.host.memory, this.ctl.byteOffset, this.threads);
    for (const s of this.scratch) if (s.bytes > 0) this.host.allocator.release(s.ptr);
    for (const p of this.owned) this.host.allocator.release(p);
  }

  private static stop(memory: WebAssembly.Memory, ctlPtr: number, threads: Helper[]): void {
    const ctl = new Int32Array(memory.buffer, ctlPtr, 4);
    Atomics.store(ctl, CTL_SHUTDOWN, 1);
    Atomics.add(ctl, CTL_GENERATION, 1);
    Atomics.notify(ctl, CTL_GENERATION);
    for (const t of threads) t.terminate();
  }
}

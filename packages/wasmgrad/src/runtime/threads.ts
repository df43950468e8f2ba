/**
 * The kernel thread pool: helper threads that each hold their own instance of the shared-memory
 * build (wasmgrad-simd-threads.wasm) over the runtime's one shared `WebAssembly.Memory`, each with
 * its own stack and packing workspace taken from the allocator.
 *
 * A call is split into parts by output tiles (threads-dispatch.ts); the calling thread writes the
 * parts into slots and publishes the job word (Atomics.notify wakes sleeping helpers); then every
 * thread, the caller included, claims parts until none is left (threads-worker.ts has the
 * protocol), and the caller waits for the parts claimed by others. A helper that is asleep or
 * descheduled (a loaded machine) thus never delays a call: the caller runs its parts. Helpers spin
 * briefly before sleeping so that back-to-back calls (a training step) do not pay a wake-up each.
 * @module
 */
import { RuntimeStateError } from '../errors.js';
import type { Allocator } from './allocator.js';
import { HELPER_SPIN, type Helper, startHelper } from './threads-worker.js';

/** Most threads a pool accepts (the calling thread included). */
export const MAX_THREADS = 16;
/** Stack of each helper instance (the module reserves the same for the calling thread). */
const STACK_BYTES = 1 << 20;
/** f64 values of one part slot: kernel index, argument count, workspace argument index and kind, up to 28 arguments. */
export const SLOT_F64 = 32;
/** Most parts of one job (the job word holds part indices in 5 bits). */
export const MAX_PARTS = MAX_THREADS;
/** Workspace kinds of a part: the helper's gemm packing workspace, or its scratch block. */
export const WORK_GEMM = 0;
export const WORK_SCRATCH = 1;
/** Times the caller re-reads the done counter before sleeping on it. */
const JOIN_SPIN = 1 << 16;
/** A helper that makes no progress for this long is taken for dead. */
const JOIN_TIMEOUT_MS = 60_000;

const CTL_WORD = 0;
const CTL_FINISHED = 1;
const CTL_FAILED = 2;
const CTL_SHUTDOWN = 3;
/** Then per helper i: ctl[4 + 2i] gemm workspace, ctl[5 + 2i] scratch block. */
const CTL_LENGTH = 4 + 2 * MAX_THREADS;

/** What a pool needs from its runtime. */
export interface PoolHost {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  allocator: Allocator;
  /** Packing workspace size of gemm, in f32 values. */
  gemmWorkspaceF32: number;
  /** The caller's own kernels, by index of the names given to {@link ThreadPool.start}. */
  fns: readonly ((...args: number[]) => unknown)[];
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
  /** False on a thread that cannot block (a browser's main thread): calls stay single-threaded. */
  readonly canBlock: boolean;
  /** Jobs run so far (diagnostics and tests: shows that a call was split). */
  jobs = 0;
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array;
  private readonly scratch: Scratch[];
  private readonly args: number[] = [];
  private generation = 0;
  private closed = false;

  private constructor(
    private readonly host: PoolHost,
    private readonly threads: Helper[],
    private readonly owned: number[],
    ctlPtr: number,
    slotsPtr: number,
  ) {
    this.helpers = threads.length;
    this.canBlock = canBlock();
    this.ctl = new Int32Array(host.memory.buffer, ctlPtr, CTL_LENGTH);
    this.slots = new Float64Array(host.memory.buffer, slotsPtr, SLOT_F64 * MAX_PARTS);
    this.scratch = threads.map(() => ({ ptr: 0, bytes: 0 }));
  }

  /** Starts `helpers` helper threads over the host's shared memory. */
  static async start(host: PoolHost, helpers: number, names: readonly string[]): Promise<ThreadPool> {
    const a = host.allocator;
    // The control block and the slots are never returned to the allocator: a helper that has
    // not yet woken up to a shutdown still reads them, so they must never hold anything else.
    const ctlPtr = a.alloc(4 * CTL_LENGTH + 8 * SLOT_F64 * MAX_PARTS, 'setThreads');
    const slotsPtr = ctlPtr + 4 * CTL_LENGTH;
    const ctl = new Int32Array(host.memory.buffer, ctlPtr, CTL_LENGTH);
    ctl.fill(0);
    const owned: number[] = [];
    const take = (bytes: number) => {
      const p = a.alloc(bytes, 'setThreads');
      owned.push(p);
      return p;
    };
    const started: Helper[] = [];
    try {
      const pending: Promise<Helper>[] = [];
      for (let i = 0; i < helpers; i++) {
        const stackTop = take(STACK_BYTES) + STACK_BYTES;
        ctl[4 + 2 * i] = take(4 * host.gemmWorkspaceF32);
        pending.push(
          startHelper({
            module: host.module,
            memory: host.memory,
            index: i,
            stackTop,
            ctlPtr,
            ctlLength: CTL_LENGTH,
            slotsPtr,
            slotF64: SLOT_F64,
            maxParts: MAX_PARTS,
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
      ThreadPool.stop(ctl, 0, started);
      for (const p of owned) a.release(p);
      throw err instanceof RuntimeStateError
        ? err
        : new RuntimeStateError('setThreads', `could not start helper threads: ${(err as Error).message}`);
    }
    return new ThreadPool(host, started, owned, ctlPtr, slotsPtr);
  }

  /**
   * Writes part `i` of the next job: kernel index `fn` with `args`, whose argument `workIndex`
   * is replaced by the running thread's own workspace of kind `work` (WORK_GEMM, WORK_SCRATCH).
   */
  setPart(i: number, fn: number, args: readonly number[], workIndex: number, work: number): void {
    const s = this.slots;
    const at = i * SLOT_F64;
    s[at] = fn;
    s[at + 1] = args.length;
    s[at + 2] = workIndex;
    s[at + 3] = work;
    for (let j = 0; j < args.length; j++) s[at + 4 + j] = args[j] as number;
  }

  /**
   * Makes every helper's scratch block hold at least `bytes` (kept for later calls). Call it
   * before {@link run}: it may grow the memory (addresses stay valid).
   */
  ensureScratch(bytes: number): void {
    for (const [i, s] of this.scratch.entries()) {
      if (s.bytes >= bytes) continue;
      if (s.bytes > 0) this.host.allocator.release(s.ptr);
      s.bytes = 0;
      s.ptr = this.host.allocator.alloc(bytes, 'threads');
      s.bytes = bytes;
      this.ctl[5 + 2 * i] = s.ptr;
    }
  }

  /**
   * Runs a job of `parts` parts (written with {@link setPart}): this thread runs the parts no
   * helper has claimed, with `ownWork` as its workspace, and returns when every part is done. A
   * failure in a helper (a trap) is raised here, after every part has finished.
   */
  run(parts: number, ownWork: number, op: string): void {
    if (this.closed) throw new RuntimeStateError(op, 'the thread pool is closed');
    const ctl = this.ctl;
    this.jobs++;
    this.generation = (this.generation + 1) & 0x1fffff;
    Atomics.store(ctl, CTL_FINISHED, 0);
    Atomics.store(ctl, CTL_FAILED, 0);
    let w = (this.generation << 10) | (parts << 5);
    Atomics.store(ctl, CTL_WORD, w);
    Atomics.notify(ctl, CTL_WORD);
    let ownError: unknown;
    while ((w & 31) < parts) {
      const got = Atomics.compareExchange(ctl, CTL_WORD, w, w + 1);
      if (got !== w) {
        w = got;
        continue;
      }
      try {
        this.runPart(w & 31, ownWork);
      } catch (err) {
        ownError ??= err;
      }
      Atomics.add(ctl, CTL_FINISHED, 1);
      w = Atomics.load(ctl, CTL_WORD);
    }
    this.join(parts, op);
    if (ownError !== undefined) throw ownError;
    if (Atomics.load(ctl, CTL_FAILED) !== 0) {
      throw new RuntimeStateError(op, 'a kernel failed in a helper thread (a wasm trap)');
    }
  }

  private runPart(part: number, work: number): void {
    const s = this.slots;
    const at = part * SLOT_F64;
    const args = this.args;
    const argc = s[at + 1] as number;
    args.length = argc;
    for (let i = 0; i < argc; i++) args[i] = s[at + 4 + i] as number;
    args[s[at + 2] as number] = work;
    (this.host.fns[s[at] as number] as (...a: number[]) => unknown)(...args);
  }

  private join(target: number, op: string): void {
    const ctl = this.ctl;
    let done = Atomics.load(ctl, CTL_FINISHED);
    for (let i = 0; done < target && i < JOIN_SPIN; i++) done = Atomics.load(ctl, CTL_FINISHED);
    let waited = 0;
    while (done < target) {
      const r = Atomics.wait(ctl, CTL_FINISHED, done, 1000);
      const now = Atomics.load(ctl, CTL_FINISHED);
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
    ThreadPool.stop(this.ctl, this.generation + 1, this.threads);
    for (const s of this.scratch) if (s.bytes > 0) this.host.allocator.release(s.ptr);
    for (const p of this.owned) this.host.allocator.release(p);
  }

  private static stop(ctl: Int32Array, generation: number, threads: Helper[]): void {
    Atomics.store(ctl, CTL_SHUTDOWN, 1);
    Atomics.store(ctl, CTL_WORD, ((generation & 0x1fffff) << 10) | 1023);
    Atomics.notify(ctl, CTL_WORD);
    for (const t of threads) t.terminate();
  }
}

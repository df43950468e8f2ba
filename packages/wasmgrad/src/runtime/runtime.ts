import { RuntimeStateError, ValueError } from '../errors.js';
import { Allocator } from './allocator.js';
import { KERNEL_SIGNATURES, type KernelName, type RawKernels } from './kernels/signatures.js';
import { compileModule, compileThreadsModule, simdSupported, type WasmSource } from './loader.js';
import { isNode } from './platform.js';
import { canBlock, MAX_THREADS, sharedMemorySupported, ThreadPool } from './threads.js';
import { installThreaded, THREADED_KERNELS, threadedFns } from './threads-dispatch.js';

/** Options of {@link createRuntime} and `wg.ready()`. */
export interface RuntimeOptions {
  /** The wasm module: a URL, bytes, a Response or a compiled module. Default: the packaged one. */
  wasm?: WasmSource;
  /** Force the SIMD128 (true) or scalar (false) build. Default: SIMD128 when the engine has it. */
  simd?: boolean;
  /** Upper bound of the wasm memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
  /**
   * Threads running the large kernels (gemm, conv2d), the calling thread included; results do
   * not depend on it. Needs shared memory (Node, Deno, cross-origin-isolated pages) and the SIMD
   * build; elsewhere the runtime runs on one thread. Default: 1 for {@link createRuntime};
   * `wg.ready()` defaults to min(hardware threads, 4) where threads are available.
   */
  threads?: number;
  /** The shared-memory module for threads when `wasm` is given (default: the packaged one). */
  threadsWasm?: WasmSource;
}

const PAGE = 65536;
// The module reserves 1 MiB of stack below its data; two more pages leave room for the data.
const INITIAL_PAGES = 32;

/**
 * One loaded wasm instance: its memory, the allocator that owns that memory, and the kernels.
 * Views of the memory are rebuilt lazily whenever a growth has detached them.
 */
export class Runtime {
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  readonly kernels: RawKernels;
  readonly heapBase: number;
  /** True when the SIMD128 build is loaded. */
  readonly simd: boolean;
  /** Packing workspace handed to every gemm call. */
  readonly gemmWorkspace: number;
  /** The kernels as exported, without thread dispatch. */
  readonly rawKernels: RawKernels;
  private view: Float32Array;
  private viewU32: Uint32Array;
  private pool: ThreadPool | undefined;
  private resizing: Promise<number> = Promise.resolve(1);

  /**
   * `sharedModule` is the shared-memory build `instance` came from, when `memory` is shared: it
   * lets {@link setThreads} start helper threads.
   */
  constructor(
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
    simd: boolean,
    maxBytes: number,
    private readonly sharedModule?: WebAssembly.Module,
  ) {
    this.memory = memory;
    this.simd = simd;
    this.rawKernels = bindKernels(instance);
    this.kernels = { ...this.rawKernels };
    if (sharedModule) installThreaded(this.kernels, this.rawKernels, () => this.pool);
    const heapBase = (instance.exports.__heap_base as WebAssembly.Global | undefined)?.value as number | undefined;
    if (typeof heapBase !== 'number')
      throw new RuntimeStateError('ready', 'the wasm module does not export __heap_base');
    this.heapBase = heapBase;
    this.allocator = new Allocator(memory, heapBase, maxBytes);
    this.view = new Float32Array(memory.buffer);
    this.viewU32 = new Uint32Array(memory.buffer);
    this.gemmWorkspace = this.allocator.alloc(4 * this.kernels.f32_gemm_workspace_len(), 'ready');
  }

  /** A Float32Array over the whole memory, valid until the next allocation. */
  get f32(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  /** A Uint32Array over the whole memory (indices, i32 labels), valid until the next allocation. */
  get u32(): Uint32Array {
    if (this.viewU32.buffer !== this.memory.buffer) this.viewU32 = new Uint32Array(this.memory.buffer);
    return this.viewU32;
  }

  /** Allocates `count` f32 values and returns the byte address. */
  allocF32(count: number, op?: string): number {
    return this.allocator.alloc(count * 4, op);
  }

  /** Copies values into the heap at `ptr`. */
  write(ptr: number, values: ArrayLike<number>): void {
    this.f32.set(values, ptr >>> 2);
  }

  /** Copies `count` values out of the heap at `ptr`. */
  read(ptr: number, count: number): Float32Array {
    return this.f32.slice(ptr >>> 2, (ptr >>> 2) + count);
  }

  /** True when the memory is shared, so that helper threads can run kernels on it. */
  get threadable(): boolean {
    return this.sharedModule !== undefined;
  }

  /** Calls split between threads by the current pool (diagnostics). */
  get threadJobs(): number {
    return this.pool?.jobs ?? 0;
  }

  /** Threads that run the large kernels (1 when single-threaded). */
  get threads(): number {
    const p = this.pool;
    return p?.open && p.canBlock ? p.helpers + 1 : 1;
  }

  /**
   * Runs the large kernels on `n` threads (the calling thread included; 1 ends the helpers) and
   * resolves to the count in effect: 1 where threads are unavailable (no shared memory, the
   * scalar build, a thread that cannot block, helpers that fail to start).
   * @throws ValueError unless n is an integer in [1, 16].
   */
  setThreads(n: number): Promise<number> {
    checkThreadCount(n);
    this.resizing = this.resizing.then(
      () => this.resize(n),
      () => this.resize(n),
    );
    return this.resizing;
  }

  private async resize(n: number): Promise<number> {
    const want = this.sharedModule && canBlock() ? n : 1;
    if (this.threads === want && (want === 1 || this.pool?.open)) return want;
    this.pool?.close();
    this.pool = undefined;
    if (want === 1 || !this.sharedModule) return 1;
    this.pool = await ThreadPool.start(
      {
        module: this.sharedModule,
        memory: this.memory,
        allocator: this.allocator,
        gemmWorkspaceF32: this.rawKernels.f32_gemm_workspace_len(),
        fns: threadedFns(this.rawKernels),
      },
      want - 1,
      THREADED_KERNELS,
    );
    return this.threads;
  }
}

/** @throws ValueError unless `n` is an integer thread count in [1, MAX_THREADS]. */
export function checkThreadCount(n: number, op = 'setThreads'): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new ValueError(op, `threads must be an integer from 1 to ${MAX_THREADS}, got ${String(n)}`);
  }
}

/** Threads used by default: min(hardware threads, 4) where threads can run, else 1. */
export async function defaultThreads(): Promise<number> {
  if (!sharedMemorySupported() || !canBlock() || !simdSupported()) return 1;
  let cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (!cores && isNode()) {
    const osName = 'node:os';
    const os = (await import(/* @vite-ignore */ osName)) as { availableParallelism?: () => number; cpus(): unknown[] };
    cores = os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, Math.min(cores ?? 1, 4));
}

/** Checks the module's exports against {@link KERNEL_SIGNATURES} and returns them typed. */
export function bindKernels(instance: WebAssembly.Instance): RawKernels {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(KERNEL_SIGNATURES) as KernelName[]) {
    const fn = instance.exports[name];
    if (typeof fn !== 'function') throw new RuntimeStateError('ready', `the wasm module lacks the kernel ${name}`);
    const arity = KERNEL_SIGNATURES[name].length;
    if (fn.length !== arity) {
      throw new RuntimeStateError(
        'ready',
        `kernel ${name} takes ${fn.length} arguments, its binding declares ${arity}`,
      );
    }
    out[name] = fn;
  }
  return out as RawKernels;
}

/**
 * The shared-memory runtime, or undefined where it cannot be made (then the caller falls back to
 * the single-threaded module, with the same results).
 */
async function createShared(options: RuntimeOptions, maxBytes: number): Promise<Runtime | undefined> {
  if (!sharedMemorySupported() || (options.wasm !== undefined && options.threadsWasm === undefined)) return undefined;
  try {
    const module = await compileThreadsModule(options.threadsWasm);
    const memory = new WebAssembly.Memory({
      initial: INITIAL_PAGES,
      maximum: Math.floor(maxBytes / PAGE),
      shared: true,
    });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return new Runtime(instance, memory, true, maxBytes, module);
  } catch {
    return undefined;
  }
}

/** Loads a new, independent runtime (its own memory and heap). */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const simd = options.simd ?? simdSupported();
  const maxBytes = options.maxMemoryBytes ?? 4 * 1024 * 1024 * 1024;
  if (options.threads !== undefined) checkThreadCount(options.threads, 'ready');
  if ((options.threads ?? 1) > 1 && simd) {
    const shared = await createShared(options, maxBytes);
    if (shared) {
      try {
        await shared.setThreads(options.threads as number);
      } catch {
        // Helpers that cannot start leave a working single-threaded runtime.
      }
      return shared;
    }
  }
  const module = await compileModule(options.wasm, simd);
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: Math.floor(maxBytes / PAGE) });
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (err) {
    throw new RuntimeStateError('ready', `could not instantiate the wasm module: ${(err as Error).message}`);
  }
  return new Runtime(instance, memory, simd, maxBytes);
}

let current: Runtime | undefined;
let loading: Promise<Runtime> | undefined;
/** A thread count asked for by {@link setThreads} before the default runtime was loaded. */
let pendingThreads: number | undefined;

/**
 * Loads the default runtime once; later calls return the same one. Threads: `options.threads`,
 * else a count given to {@link setThreads}, else min(hardware threads, 4) where available.
 */
export function ready(options?: RuntimeOptions): Promise<Runtime> {
  if (current) return Promise.resolve(current);
  if (options?.threads !== undefined) checkThreadCount(options.threads, 'ready');
  loading ??= (async () => {
    const threads = options?.threads ?? pendingThreads ?? (await defaultThreads());
    return createRuntime({ ...options, threads });
  })().then(
    (rt) => {
      current = rt;
      return rt;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/**
 * Runs the large kernels of the default runtime on `n` threads (the calling thread included) and
 * resolves to the count in effect (1 where threads are unavailable). Before `wg.ready()`, sets
 * the count it starts with. Results are identical for every count.
 * @throws ValueError unless n is an integer in [1, 16].
 */
export function setThreads(n: number): Promise<number> {
  checkThreadCount(n);
  if (current) return current.setThreads(n);
  pendingThreads = n;
  if (loading) return loading.then((rt) => rt.setThreads(n));
  return Promise.resolve(n);
}

/** Threads the default runtime runs kernels on (before `wg.ready()`: the count it will ask for, or 0 when not yet known). */
export function getThreads(): number {
  return current ? current.threads : (pendingThreads ?? 0);
}

/** The default runtime; throws when `await wg.ready()` has not completed. */
export function runtime(): Runtime {
  if (!current) throw new RuntimeStateError('runtime', 'the wasm runtime is not loaded: call `await wg.ready()` first');
  return current;
}

import { RuntimeStateError } from '../errors.js';
import { Allocator } from './allocator.js';
import { KERNEL_SIGNATURES, type KernelName, type RawKernels } from './kernels/signatures.js';
import { compileModule, simdSupported, type WasmSource } from './loader.js';

/** Options of {@link createRuntime} and `wg.ready()`. */
export interface RuntimeOptions {
  /** The wasm module: a URL, bytes, a Response or a compiled module. Default: the packaged one. */
  wasm?: WasmSource;
  /** Force the SIMD128 (true) or scalar (false) build. Default: SIMD128 when the engine has it. */
  simd?: boolean;
  /** Upper bound of the wasm memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
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
  private view: Float32Array;
  private viewU32: Uint32Array;

  constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, simd: boolean, maxBytes: number) {
    this.memory = memory;
    this.simd = simd;
    this.kernels = bindKernels(instance);
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

/** Loads a new, independent runtime (its own memory and heap). */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const simd = options.simd ?? simdSupported();
  const maxBytes = options.maxMemoryBytes ?? 4 * 1024 * 1024 * 1024;
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

/** Loads the default runtime once; later calls return the same one. */
export function ready(options?: RuntimeOptions): Promise<Runtime> {
  if (current) return Promise.resolve(current);
  loading ??= createRuntime(options).then(
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

/** The default runtime; throws when `await wg.ready()` has not completed. */
export function runtime(): Runtime {
  if (!current) throw new RuntimeStateError('runtime', 'the wasm runtime is not loaded: call `await wg.ready()` first');
  return current;
}

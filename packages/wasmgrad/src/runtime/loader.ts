/**
 * Finds, fetches and compiles the wasm module in any runtime: Node (file read), Deno (fetch of a
 * file URL), browsers (streaming compile), or whatever the caller or a bundler hands over.
 */
import { RuntimeStateError } from '../errors.js';
import { isNode } from './platform.js';

/** Where the wasm module comes from. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | Response | WebAssembly.Module;

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt drop ...)): validates only
// where SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this engine validates SIMD128 code. */
export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** The URL of the packaged module. Literal `new URL(..., import.meta.url)` so bundlers see it. */
export function defaultWasmUrl(simd: boolean): URL {
  return simd
    ? new URL('../../wasm/wasmgrad-simd.wasm', import.meta.url)
    : new URL('../../wasm/wasmgrad-scalar.wasm', import.meta.url);
}

/** The URL of the packaged shared-memory (threads) module. */
export function defaultThreadsWasmUrl(): URL {
  return new URL('../../wasm/wasmgrad-simd-threads.wasm', import.meta.url);
}

async function fromUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:' && isNode()) {
    // Node's fetch cannot read file URLs. The specifier is built at run time so that bundlers
    // for browsers do not try to resolve a Node built-in.
    const fsName = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsName)) as { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> };
    return WebAssembly.compile(await fs.readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new RuntimeStateError('ready', `fetching ${url.href} failed: HTTP ${response.status}`);
  return fromResponse(response);
}

async function fromResponse(response: Response): Promise<WebAssembly.Module> {
  const type = response.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Compiles the shared-memory module for threads (the packaged one unless given). */
export function compileThreadsModule(source: WasmSource | undefined): Promise<WebAssembly.Module> {
  return compileModule(source ?? defaultThreadsWasmUrl(), true);
}

/** Compiles the module from a source given by the user, or the packaged one. */
export async function compileModule(source: WasmSource | undefined, simd: boolean): Promise<WebAssembly.Module> {
  try {
    if (source === undefined) return await fromUrl(defaultWasmUrl(simd));
    if (source instanceof WebAssembly.Module) return source;
    if (typeof source === 'string')
      return await fromUrl(new URL(source, (globalThis as { location?: { href: string } }).location?.href));
    if (source instanceof URL) return await fromUrl(source);
    if (typeof Response !== 'undefined' && source instanceof Response) return await fromResponse(source);
    return await WebAssembly.compile(source as BufferSource);
  } catch (err) {
    if (err instanceof RuntimeStateError) throw err;
    throw new RuntimeStateError('ready', `could not load the wasm module: ${(err as Error).message}`);
  }
}

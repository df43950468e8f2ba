import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_SIGNATURES } from '../../packages/wasmgrad/src/index.js';

const wasmPath = (build: string) => new URL(`../../packages/wasmgrad/wasm/wasmgrad-${build}.wasm`, import.meta.url);

describe.each(['simd', 'scalar'])('the %s module', (build) => {
  const bytes = readFileSync(wasmPath(build));
  const module = new WebAssembly.Module(bytes);

  it('exports exactly the kernels the TypeScript bindings declare, with the same arities', () => {
    const memory = new WebAssembly.Memory({ initial: 32 });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const functions = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function');
    const exported = Object.fromEntries(
      functions.map((e) => [e.name, (instance.exports[e.name] as (...args: unknown[]) => unknown).length]),
    );
    const declared = Object.fromEntries(
      Object.entries(KERNEL_SIGNATURES).map(([name, params]) => [name, params.length]),
    );
    expect(exported).toEqual(declared);
  });

  it('imports nothing but its memory (the runtime owns it) and exports __heap_base', () => {
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: '__heap_base', kind: 'global' });
  });

  it(build === 'simd' ? 'contains SIMD128 instructions' : 'contains no SIMD128 instruction', () => {
    // binaryen's disassembler (installed with wasm-opt by the set-up) prints every instruction.
    const text = execFileSync('wasm-dis', [wasmPath(build).pathname], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const simdOps = text.match(/\b(f32x4|i32x4|i8x16|v128)\.[a-z_]+/g) ?? [];
    if (build === 'simd') {
      expect(simdOps.filter((op) => op === 'f32x4.mul').length).toBeGreaterThan(0);
      expect(simdOps.filter((op) => op === 'f32x4.add').length).toBeGreaterThan(0);
    } else {
      expect(simdOps).toEqual([]);
    }
  });
});

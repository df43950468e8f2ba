/**
 * Helpers of the parser fuzz tests (test/node/fuzz-*.test.ts): the run budget (WASMGRAD_FUZZ_RUNS,
 * default small for the normal run), a property wrapper that accepts only typed wasmgrad errors,
 * bounds the time per input and counts inputs, byte mutations of a valid file, and CRC-32.
 */
import fc from 'fast-check';
import * as wg from '../../packages/wasmgrad/src/index.js';

/** Runs per property: WASMGRAD_FUZZ_RUNS if set (e.g. 20000 on demand), else `normal`. */
export function fuzzRuns(normal: number): number {
  const env = Number(process.env.WASMGRAD_FUZZ_RUNS);
  return Number.isSafeInteger(env) && env > 0 ? env : normal;
}

/** Inputs tried per parser, printed by the fuzz files' afterAll. */
export const tried = new Map<string, number>();

/** Longest accepted time for one input (ms): a hang or a quadratic blow-up fails the property. */
export const MAX_MS_PER_INPUT = 500;

const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).join(',');

/**
 * Calls `parse(input)` and fails unless it returns or throws a WasmgradError (FormatError etc.),
 * within MAX_MS_PER_INPUT, leaving Object.prototype unchanged. Counts the input under `name`.
 */
export async function survives<T>(name: string, input: T, parse: (v: T) => unknown): Promise<void> {
  tried.set(name, (tried.get(name) ?? 0) + 1);
  const keys = protoKeys();
  const t0 = performance.now();
  try {
    await parse(input);
  } catch (err) {
    if (!(err instanceof wg.WasmgradError)) {
      throw new Error(`${name}: untyped ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    }
  }
  const ms = performance.now() - t0;
  if (ms > MAX_MS_PER_INPUT) throw new Error(`${name}: one input took ${ms.toFixed(0)} ms`);
  if (protoKeys() !== keys || ({} as Record<string, unknown>).polluted !== undefined) {
    throw new Error(`${name}: Object.prototype changed`);
  }
}

/** One edit of a byte string. */
export type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number };

/** Arbitrary edit lists (positions are fractions of the length, so they fit any input). */
export const edits: fc.Arbitrary<Edit[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x22, 0x7b, 0x7d, 0x5b, 0x3a, 0x2c, 0x30),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  ),
  { minLength: 1, maxLength: 4 },
);

/** Applies `es` to a copy of `bytes` (positions modulo the current length). */
export function mutate(bytes: Uint8Array, es: readonly Edit[]): Uint8Array {
  let b = Array.from(bytes);
  for (const e of es) {
    const at = b.length === 0 ? 0 : e.at % (b.length + (e.kind === 'insert' || e.kind === 'truncate' ? 1 : 0));
    if (e.kind === 'flip' && b.length) b[at] = (b[at] as number) ^ (1 << e.bit);
    else if (e.kind === 'set' && b.length) b[at] = e.value;
    else if (e.kind === 'truncate') b = b.slice(0, at);
    else if (e.kind === 'insert') b.splice(at, 0, ...e.bytes);
    else if (e.kind === 'delete') b.splice(at, e.count);
  }
  return Uint8Array.from(b);
}

let table: Uint32Array | undefined;
/** CRC-32 (IEEE), to re-seal mutated checkpoint payloads so the parser behind the CRC is reached. */
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const v of bytes) c = (table[(c ^ v) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** JSON-ish values including hostile keys and numbers (for topology and header fuzzing). */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 53, 2 ** 32, '', 'F32', 'Dense', '__proto__'),
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          '__proto__',
          'constructor',
          'prototype',
          'dtype',
          'shape',
          'data_offsets',
          'className',
          'config',
          'name',
        ),
        fc.string({ maxLength: 6 }),
      ),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

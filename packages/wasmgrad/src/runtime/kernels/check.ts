import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import type { MatrixRef } from './gemm.js';

/**
 * Checks that every element of a rows×cols strided matrix at `ref` lies inside the wasm heap,
 * so that no argument can make a kernel read or write outside memory the runtime owns.
 */
export function checkSpan(rt: Runtime, op: string, name: string, ref: MatrixRef, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return;
  const { ptr, rowStride, colStride } = ref;
  if (!Number.isSafeInteger(rowStride) || !Number.isSafeInteger(colStride)) {
    throw new ValueError(op, `${name} strides must be integers, got ${rowStride} and ${colStride}`);
  }
  const lo = ptr + 4 * (Math.min(0, (rows - 1) * rowStride) + Math.min(0, (cols - 1) * colStride));
  const hi = ptr + 4 * (Math.max(0, (rows - 1) * rowStride) + Math.max(0, (cols - 1) * colStride) + 1);
  checkBytes(rt, op, name, lo, hi - lo);
}

/** Checks that bytes [ptr, ptr + bytes) lie in the heap and that ptr is f32-aligned. */
export function checkBytes(rt: Runtime, op: string, name: string, ptr: number, bytes: number): void {
  if (!Number.isSafeInteger(ptr) || ptr % 4 !== 0 || ptr < rt.heapBase || ptr + bytes > rt.memory.buffer.byteLength) {
    throw new ValueError(
      op,
      `${name} spans bytes [${ptr}, ${ptr + bytes}), outside the heap [${rt.heapBase}, ${rt.memory.buffer.byteLength}) or misaligned`,
    );
  }
}

import { ValueError } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { checkBytes } from './check.js';

export const GATHER_SIGNATURES = {
  f32_gather_rows: ['count', 'indices', 'rowLen', 'src', 'dst'],
} as const;

/**
 * dst[r] ← src[indices[r]] for `count` rows of `rowLen` 4-byte elements; `srcRows` is the number
 * of rows in src. Every index is checked against srcRows (in JS, before the call).
 */
export function gatherRows(
  rt: Runtime,
  count: number,
  indices: number,
  rowLen: number,
  src: number,
  srcRows: number,
  dst: number,
  op = 'gatherRows',
): void {
  for (const [name, v] of [
    ['count', count],
    ['rowLen', rowLen],
    ['srcRows', srcRows],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(op, `${name} must be a non-negative integer, got ${v}`);
  }
  checkBytes(rt, op, 'indices', indices, 4 * count);
  checkBytes(rt, op, 'src', src, 4 * srcRows * rowLen);
  checkBytes(rt, op, 'dst', dst, 4 * count * rowLen);
  const u32 = rt.u32;
  const first = indices >>> 2;
  for (let r = 0; r < count; r++) {
    const i = u32[first + r] as number;
    if (i >= srcRows) throw new ValueError(op, `index ${i} at ${r} is outside [0, ${srcRows})`);
  }
  rt.kernels.f32_gather_rows(count, indices, rowLen, src, dst);
}

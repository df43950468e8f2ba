import { fmtShape, ShapeError, ValueError } from '../errors.js';

// Option parsing and shape checks shared by the convolution and pooling layers: window sizes,
// the padding mode and the per-sample image shape. The cell-level padding arithmetic ('same'
// split, output sides) lives with the kernels in runtime/kernels/conv.ts.

/** A size given for both spatial axes at once, or per axis as [height, width]. */
export type Size2 = number | readonly [number, number] | number[];

/** [a, b] from a number or a pair of positive integers; ValueError naming the option otherwise. */
export function size2(op: string, name: string, v: unknown, fallback: number): [number, number] {
  const pair = v === undefined || v === null ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    pair.some((d) => !Number.isSafeInteger(d) || (d as number) < 1 || (d as number) > 2 ** 31 - 1)
  ) {
    throw new ValueError(op, `${name} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [pair[0] as number, pair[1] as number];
}

/** 'valid' or 'same' (the layers' padding option); ValueError otherwise. */
export function layerPadding(op: string, v: unknown): 'valid' | 'same' {
  const p = v ?? 'valid';
  if (p !== 'valid' && p !== 'same')
    throw new ValueError(op, `padding must be 'valid' or 'same', got ${JSON.stringify(v)}`);
  return p;
}

/** Checks that a per-sample input shape is [height, width, channels]. */
export function checkImageShape(op: string, inputShape: readonly number[]): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new ShapeError(
      op,
      `expects inputs of shape [batch, height, width, channels] (rank 4), got per-sample shape ${fmtShape(inputShape)} (rank ${inputShape.length + 1} with the batch)`,
    );
  }
  return inputShape as [number, number, number];
}

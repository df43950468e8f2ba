import { ValueError } from '../errors.js';

/**
 * A weight penalty λ1·Σ|w| + λ2·Σw² added to the loss (Keras semantics: `l2(λ)` adds λ·Σw², whose
 * gradient is 2λw). Applied by the training step with fused kernels.
 */
export interface Regularizer {
  readonly className: 'L1L2';
  readonly l1: number;
  readonly l2: number;
}

function make(l1: number, l2: number): Regularizer {
  for (const [n, v] of [
    ['l1', l1],
    ['l2', l2],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new ValueError('regularizer', `${n} must be a finite number ≥ 0, got ${v}`);
  }
  return Object.freeze({ className: 'L1L2', l1, l2 });
}

/** Regularizer factories, named as in tfjs/Keras. */
export const regularizers = {
  /** λ·Σ|w| (default λ = 0.01). */
  l1: (l1: number | { l1?: number } = 0.01) => make(typeof l1 === 'number' ? l1 : (l1.l1 ?? 0.01), 0),
  /** λ·Σw² (default λ = 0.01). */
  l2: (l2: number | { l2?: number } = 0.01) => make(0, typeof l2 === 'number' ? l2 : (l2.l2 ?? 0.01)),
  /** λ1·Σ|w| + λ2·Σw² (defaults 0.01 each). */
  l1l2: (o: { l1?: number; l2?: number } = {}) => make(o.l1 ?? 0.01, o.l2 ?? 0.01),
};

/** Accepts a Regularizer or its serialized `{ className: 'L1L2', config: { l1, l2 } }`. */
export function getRegularizer(
  id: Regularizer | { className: string; config?: { l1?: number; l2?: number } } | undefined | null,
): Regularizer | undefined {
  if (!id) return undefined;
  if (typeof id !== 'object') {
    throw new ValueError(
      'regularizer',
      `expected a Regularizer or { className, config }, got ${typeof id} ${String(id)}`,
    );
  }
  if ('l1' in id && 'l2' in id) return make(id.l1, id.l2);
  const cfg = (id as { config?: { l1?: number; l2?: number } }).config ?? {};
  return make(cfg.l1 ?? 0, cfg.l2 ?? 0);
}

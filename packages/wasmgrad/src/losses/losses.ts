import { ValueError } from '../errors.js';
import {
  crossEntropyProbs,
  huber,
  mae,
  mse,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  sparseSoftmaxCrossEntropy,
} from '../runtime/kernels/loss.js';
import type { Runtime } from '../runtime/runtime.js';

/** Loss names, as in tfjs/Keras (snake_case aliases accepted). */
export const LOSS_NAMES = [
  'meanSquaredError',
  'meanAbsoluteError',
  'huber',
  'binaryCrossentropy',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
] as const;

export type LossName = (typeof LOSS_NAMES)[number];

/** A loss by name or with options: `{ name: 'categoricalCrossentropy', fromLogits: true }`. */
export type LossIdentifier = LossName | { name: LossName; fromLogits?: boolean; delta?: number };

/** A resolved loss. */
export interface Loss {
  readonly name: LossName;
  /** Predictions are logits (no final softmax/sigmoid applied by the model). */
  readonly fromLogits: boolean;
  /** Huber's δ. */
  readonly delta: number;
  /** Targets are integer class labels rather than one value per output. */
  readonly sparse: boolean;
}

const ALIASES: Record<string, LossName> = {
  mse: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mae: 'meanAbsoluteError',
  mean_absolute_error: 'meanAbsoluteError',
  huber_loss: 'huber',
  binary_crossentropy: 'binaryCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
};

/** Resolves a loss identifier; unknown names throw a ValueError listing the known ones. */
export function getLoss(id: LossIdentifier | undefined, op = 'compile'): Loss {
  if (id === undefined) throw new ValueError(op, `a loss is required; known: ${LOSS_NAMES.join(', ')}`);
  const raw = typeof id === 'string' ? id : id?.name;
  const name = (LOSS_NAMES as readonly string[]).includes(raw)
    ? (raw as LossName)
    : Object.hasOwn(ALIASES, raw)
      ? ALIASES[raw]
      : undefined;
  if (!name) throw new ValueError(op, `unknown loss '${raw}'; known: ${LOSS_NAMES.join(', ')}`);
  const opts: { fromLogits?: boolean; delta?: number } = typeof id === 'object' ? id : {};
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(op, `huber delta must be positive, got ${delta}`);
  return { name, fromLogits: opts.fromLogits ?? false, delta, sparse: name === 'sparseCategoricalCrossentropy' };
}

/** The loss kernels: which one evaluates a loss given the model's last activation. */
export type LossKernelKind = 'softmaxCe' | 'softmaxCeSparse' | 'ceProbs' | 'bceLogits' | 'mse' | 'mae' | 'huber';

/**
 * How the training step evaluates a loss: which kernel, and whether that kernel applies the
 * model's final softmax/sigmoid itself (then the last layer skips it while training, and its
 * gradient comes straight from the fused kernel).
 */
export interface LossPlan {
  kind: LossKernelKind;
  /** The loss kernel takes logits and applies the last layer's activation itself. */
  fusesActivation: boolean;
}

/**
 * Chooses the kernel for a loss given the model's last activation ('softmax', 'sigmoid', …).
 * Cross-entropies fuse a final softmax/sigmoid into the loss (computed from logits: stable, and
 * the gradient is one subtraction), as Keras recommends with `fromLogits`.
 */
export function planLoss(loss: Loss, lastActivation: string, op = 'compile'): LossPlan {
  switch (loss.name) {
    case 'categoricalCrossentropy':
    case 'sparseCategoricalCrossentropy': {
      const fused = !loss.fromLogits && lastActivation === 'softmax';
      if (loss.fromLogits || fused)
        return { kind: loss.sparse ? 'softmaxCeSparse' : 'softmaxCe', fusesActivation: fused };
      if (loss.sparse) {
        throw new ValueError(
          op,
          `sparseCategoricalCrossentropy needs a final softmax or fromLogits: true (the last activation is ${lastActivation})`,
        );
      }
      return { kind: 'ceProbs', fusesActivation: false };
    }
    case 'binaryCrossentropy': {
      const fused = !loss.fromLogits && lastActivation === 'sigmoid';
      if (loss.fromLogits || fused) return { kind: 'bceLogits', fusesActivation: fused };
      throw new ValueError(
        op,
        `binaryCrossentropy needs a final sigmoid or fromLogits: true (the last activation is ${lastActivation})`,
      );
    }
    case 'meanSquaredError':
      return { kind: 'mse', fusesActivation: false };
    case 'meanAbsoluteError':
      return { kind: 'mae', fusesActivation: false };
    case 'huber':
      return { kind: 'huber', fusesActivation: false };
  }
}

/**
 * Mean loss over `rows` samples of `cols` outputs; writes d(mean loss)/d(pred) into `dpred`
 * unless it is 0. Targets are f32 rows, or i32 labels for sparse kinds.
 */
export function computeLoss(
  rt: Runtime,
  plan: LossPlan,
  loss: Loss,
  rows: number,
  cols: number,
  pred: number,
  target: number,
  dpred: number,
): number {
  const d = dpred === 0 ? null : dpred;
  const scale = 1 / rows;
  switch (plan.kind) {
    case 'softmaxCe':
      return softmaxCrossEntropy(rt, rows, cols, pred, target, d, scale, loss.name);
    case 'softmaxCeSparse':
      return sparseSoftmaxCrossEntropy(rt, rows, cols, pred, target, d, scale, loss.name);
    case 'ceProbs':
      return crossEntropyProbs(rt, rows, cols, pred, target, d, scale, 1e-7, loss.name);
    case 'bceLogits':
      return sigmoidCrossEntropy(rt, rows, cols, pred, target, d, scale, loss.name);
    case 'mse':
      return mse(rt, rows, cols, pred, target, d, scale, loss.name);
    case 'mae':
      return mae(rt, rows, cols, pred, target, d, scale, loss.name);
    case 'huber':
      return huber(rt, rows, cols, pred, target, d, scale, loss.delta, loss.name);
  }
}

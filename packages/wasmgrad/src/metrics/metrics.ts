import { ValueError } from '../errors.js';
import type { Loss } from '../losses/losses.js';

/** Metric names, as in tfjs/Keras. 'accuracy'/'acc' resolve by the loss, like Keras does. */
export const METRIC_NAMES = [
  'accuracy',
  'binaryAccuracy',
  'categoricalAccuracy',
  'sparseCategoricalAccuracy',
  'mse',
  'mae',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

/** How a metric is computed: from class indices, a 0.5 threshold, or an error. */
export type MetricKind = 'argmaxMatch' | 'threshold' | 'squaredError' | 'absoluteError';

/** A resolved metric: the key it is logged under and how it is computed. */
export interface Metric {
  readonly key: string;
  readonly kind: MetricKind;
}

const ALIASES: Record<string, MetricName> = {
  acc: 'accuracy',
  binary_accuracy: 'binaryAccuracy',
  categorical_accuracy: 'categoricalAccuracy',
  sparse_categorical_accuracy: 'sparseCategoricalAccuracy',
  meanSquaredError: 'mse',
  mean_squared_error: 'mse',
  meanAbsoluteError: 'mae',
  mean_absolute_error: 'mae',
};

/** Resolves metric names against the loss (Keras: 'accuracy' means the loss's kind of accuracy). */
export function getMetrics(ids: readonly string[] | string | undefined, loss: Loss, op = 'compile'): Metric[] {
  const list = ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids;
  return list.map((raw): Metric => {
    const name = (METRIC_NAMES as readonly string[]).includes(raw)
      ? (raw as MetricName)
      : Object.hasOwn(ALIASES, raw)
        ? ALIASES[raw]
        : undefined;
    if (!name) throw new ValueError(op, `unknown metric '${raw}'; known: ${METRIC_NAMES.join(', ')}`);
    const key = raw === 'acc' ? 'acc' : name;
    switch (name) {
      case 'accuracy':
        return { key, kind: loss.name === 'binaryCrossentropy' ? 'threshold' : 'argmaxMatch' };
      case 'binaryAccuracy':
        return { key, kind: 'threshold' };
      case 'categoricalAccuracy':
      case 'sparseCategoricalAccuracy':
        return { key, kind: 'argmaxMatch' };
      case 'mse':
        return { key, kind: 'squaredError' };
      // 'mae'
      default:
        return { key, kind: 'absoluteError' };
    }
  });
}

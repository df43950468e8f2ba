import type { Metric } from '../metrics/metrics.js';
import { countArgmaxEqual, countArgmaxMatch } from '../runtime/kernels/reduce.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Adds one batch's metric sums into `sums[1 + i]` for metric i: matches for accuracies, squared or
 * absolute errors for regression metrics (divided by the output length), read from the model
 * output `out` (logits when `logits`: the loss applies the final activation) and the targets.
 */
export function accumulateMetrics(
  rt: Runtime,
  metrics: Metric[],
  sums: Float64Array,
  out: number,
  target: number,
  sparse: boolean,
  rows: number,
  outLen: number,
  logits: boolean,
): void {
  if (metrics.length === 0) return;
  const f32 = rt.f32;
  metrics.forEach((m, i) => {
    let add = 0;
    if (m.kind === 'argmaxMatch') {
      add = sparse ? countArgmaxEqual(rt, rows, outLen, out, target) : countArgmaxMatch(rt, rows, outLen, out, target);
    } else {
      const o = out >>> 2;
      const t = target >>> 2;
      const threshold = logits ? 0 : 0.5;
      let s = 0;
      for (let j = 0; j < rows * outLen; j++) {
        const p = f32[o + j] as number;
        const q = f32[t + j] as number;
        if (m.kind === 'threshold') s += (p > threshold ? 1 : 0) === (q > 0.5 ? 1 : 0) ? 1 : 0;
        else if (m.kind === 'squaredError') s += (p - q) ** 2;
        else s += Math.abs(p - q);
      }
      add = s / outLen;
    }
    sums[i + 1] = (sums[i + 1] as number) + add;
  });
}

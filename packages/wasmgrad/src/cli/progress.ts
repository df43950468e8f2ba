/**
 * Training progress for the CLI: a redrawn bar per epoch (samples/s, ETA, loss, accuracy) when
 * attached to a terminal, plain lines at each quarter of an epoch otherwise (CI logs stay readable).
 * @module
 */
import type { Callback, Logs } from '../callbacks/callback.js';

/** Where progress goes: a stream-like sink and whether it is a terminal. */
export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
  /** Terminal width (default 80). */
  columns?: number;
}

const fmtTime = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
};

/** Formats the logged values of an epoch: `loss 0.4123 accuracy 0.8512 val_loss …`. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');
}

/**
 * A fit callback drawing progress. `samples` is the number of training samples per epoch and
 * `batchSize` the batch size (to count samples per batch).
 */
export function progressCallback(
  sink: ProgressSink,
  epochs: number,
  samples: number,
  batchSize: number,
  now: () => number = () => performance.now(),
): Callback {
  const batches = Math.ceil(samples / batchSize);
  let t0 = 0;
  let seen = 0;
  let lossSum = 0;
  let epochIndex = 0;
  let lastDraw = 0;
  let nextQuarter = 1;
  const rate = () => seen / Math.max((now() - t0) / 1000, 1e-9);
  const line = (batch: number) => {
    const r = rate();
    const eta = (samples - seen) / r;
    return `${batch}/${batches}  ${Math.round(r)} samples/s  ETA ${fmtTime(eta)}  loss ${(lossSum / Math.max(seen, 1)).toFixed(4)}`;
  };
  return {
    onEpochBegin: (epoch) => {
      t0 = now();
      seen = 0;
      lossSum = 0;
      epochIndex = epoch;
      nextQuarter = 1;
      lastDraw = 0;
    },
    onBatchEnd: (batch, logs) => {
      const rows = logs?.size ?? batchSize;
      seen += rows;
      lossSum += (logs?.loss ?? 0) * rows;
      const head = `epoch ${epochIndex + 1}/${epochs}`;
      if (sink.isTTY) {
        const t = now();
        if (t - lastDraw < 100 && batch + 1 < batches) return;
        lastDraw = t;
        const tail = line(batch + 1);
        const width = Math.max(10, Math.min(30, (sink.columns ?? 80) - head.length - tail.length - 6));
        const done = Math.round((width * (batch + 1)) / batches);
        const bar = `${'='.repeat(Math.max(done - 1, 0))}${done > 0 ? '>' : ''}${' '.repeat(width - done)}`;
        sink.write(`\r\x1b[2K${head} [${bar}] ${tail}`);
      } else if ((batch + 1) * 4 >= nextQuarter * batches && nextQuarter < 4) {
        while ((batch + 1) * 4 >= nextQuarter * batches && nextQuarter < 4) nextQuarter++;
        sink.write(`${head}  ${line(batch + 1)}\n`);
      }
    },
    onEpochEnd: (epoch, logs) => {
      const seconds = (now() - t0) / 1000;
      const summary = `epoch ${epoch + 1}/${epochs}  ${Math.round(samples / Math.max(seconds, 1e-9))} samples/s  ${fmtTime(seconds)}  ${logs ? formatLogs(logs) : ''}`;
      sink.write(`${sink.isTTY ? '\r\x1b[2K' : ''}${summary.trimEnd()}\n`);
    },
  };
}

/** Values reported to callbacks: loss, metrics, and their `val_` counterparts. */
export type Logs = Record<string, number>;

/**
 * A training callback, as in tfjs/Keras: any subset of the hooks. Hooks may be async; fit awaits
 * them. Setting `model.stopTraining = true` from a hook ends fit after the current batch.
 */
export interface Callback {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
  /** Set by fit before training: the model being trained. */
  setModel?(model: unknown): void;
  /**
   * When true, a batch whose loss is NaN or infinite does not make fit throw NonFiniteLossError:
   * fit skips that batch's update, reports its loss to onBatchEnd and ends the epoch; the callback
   * is expected to set `model.stopTraining` (as terminateOnNaN does).
   */
  readonly stopsOnNonFiniteLoss?: boolean;
}

/** What fit returns: the per-epoch values of every logged quantity. */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};

  /** Records one epoch's logs. */
  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      this.history[k] ??= [];
      this.history[k].push(v);
    }
  }
}

/** Runs hooks of several callbacks in order; hooks nobody implements cost nothing per batch. */
export class CallbackList {
  readonly wantsBatchBegin: boolean;
  readonly wantsBatchEnd: boolean;
  /** Some callback handles a non-finite loss itself (see Callback.stopsOnNonFiniteLoss). */
  readonly stopsOnNonFiniteLoss: boolean;
  constructor(private readonly callbacks: Callback[]) {
    this.wantsBatchBegin = callbacks.some((c) => c.onBatchBegin);
    this.wantsBatchEnd = callbacks.some((c) => c.onBatchEnd);
    this.stopsOnNonFiniteLoss = callbacks.some((c) => c.stopsOnNonFiniteLoss === true);
  }
  setModel(model: unknown): void {
    for (const c of this.callbacks) c.setModel?.(model);
  }
  async trainBegin(logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(logs);
  }
  async trainEnd(logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(logs);
  }
  async epochBegin(epoch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch, logs);
  }
  async epochEnd(epoch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs);
  }
  async batchBegin(batch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin?.(batch, logs);
  }
  async batchEnd(batch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
  }
}

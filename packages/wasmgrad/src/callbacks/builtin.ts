import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Callback, Logs } from './callback.js';

/** What the built-in callbacks use of the model fit hands them through setModel. */
export interface CallbackModel {
  stopTraining: boolean;
  readonly optimizer: { learningRate: number; readonly schedule?: { readonly className: string } };
  getWeights(): Tensor[];
  setWeights(weights: Tensor[]): void;
}

export type Mode = 'auto' | 'min' | 'max';

/** 'auto' means 'max' for accuracy-like quantities and 'min' for everything else (Keras). */
export function resolveMode(op: string, mode: unknown, monitor: string): 'min' | 'max' {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') {
    throw new ValueError(op, `mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  }
  if (mode !== 'auto') return mode;
  return /(^|_)(acc|accuracy|auc)$/.test(monitor) ? 'max' : 'min';
}

function checkNumber(op: string, name: string, v: unknown, ok: (v: number) => boolean, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) {
    throw new ValueError(op, `${name} must be ${what}, got ${String(v)}`);
  }
  return v;
}

/**
 * Callbacks that set the learning rate cannot work with an optimizer whose rate follows a schedule
 * (Keras refuses the assignment too); they say so when training begins rather than epochs later.
 */
function refuseSchedule(op: string, model: CallbackModel): void {
  const schedule = model.optimizer.schedule;
  if (schedule) {
    throw new ValueError(
      op,
      `the optimizer's learning rate follows a ${schedule.className} schedule, which ${op} cannot change; ` +
        'use a number as learningRate with this callback, or the schedule alone',
    );
  }
}

const nonNegativeInteger = (v: number) => Number.isSafeInteger(v) && v >= 0;

export function checkMonitor(op: string, monitor: unknown): string {
  if (typeof monitor !== 'string' || monitor === '') {
    throw new ValueError(op, `monitor must be a non-empty string, got ${String(monitor)}`);
  }
  return monitor;
}

/** Base of the built-in callbacks: keeps the model and fails clearly when fit has not set it. */
abstract class ModelCallback implements Callback {
  private current: CallbackModel | undefined;
  constructor(protected readonly op: string) {}
  setModel(model: unknown): void {
    this.current = model as CallbackModel;
  }
  protected get model(): CallbackModel {
    if (!this.current) throw new ValueError(this.op, 'no model: the callback must be passed to fit');
    return this.current;
  }
}

/** Options of {@link earlyStopping}, as in Keras. */
export interface EarlyStoppingArgs {
  /** Logged quantity to watch (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0; its sign is ignored). */
  minDelta?: number;
  /** Epochs without improvement after which training stops (default 0). */
  patience?: number;
  /** Whether the quantity should decrease ('min') or increase ('max'); 'auto' from its name. */
  mode?: Mode;
  /** The patience counter only resets on epochs that also beat this value. */
  baseline?: number;
  /** At the end of training, restore the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs (Keras `EarlyStopping`):
 * an epoch improves when it beats the best so far by more than `minDelta`; training stops at the
 * end of the epoch where the count of epochs since the last improvement reaches `patience`
 * (never on the first epoch). Epochs whose logs lack `monitor` are skipped with a warning.
 */
export class EarlyStopping extends ModelCallback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  /** Epoch at which training was stopped, or 0 if it was not. */
  stoppedEpoch = 0;
  /** Epoch of the best value seen, and that value. */
  bestEpoch = 0;
  best = Number.POSITIVE_INFINITY;
  private wait = 0;
  private bestWeights: Tensor[] | undefined;
  private warned = false;

  constructor(args: EarlyStoppingArgs = {}) {
    super('earlyStopping');
    const a = args ?? {};
    this.monitor = checkMonitor(this.op, a.monitor ?? 'val_loss');
    this.minDelta = Math.abs(checkNumber(this.op, 'minDelta', a.minDelta ?? 0, Number.isFinite, 'a finite number'));
    this.patience = checkNumber(this.op, 'patience', a.patience ?? 0, nonNegativeInteger, 'an integer ≥ 0');
    this.mode = resolveMode(this.op, a.mode ?? 'auto', this.monitor);
    if (a.baseline !== undefined) checkNumber(this.op, 'baseline', a.baseline, Number.isFinite, 'a finite number');
    this.baseline = a.baseline;
    this.restoreBestWeights = a.restoreBestWeights ?? false;
  }

  private improves(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.disposeBest();
  }

  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      if (!this.warned) {
        console.warn(`earlyStopping: '${this.monitor}' is not logged; available: ${Object.keys(logs).join(', ')}`);
        this.warned = true;
      }
      return;
    }
    // Until an epoch improves, the weights before any improvement count as the best.
    if (this.restoreBestWeights && !this.bestWeights) this.keepWeights(epoch);
    this.wait++;
    if (this.improves(value, this.best)) {
      this.best = value;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.keepWeights(epoch);
      if (this.baseline === undefined || this.improves(value, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights) {
      this.model.setWeights(this.bestWeights);
      this.disposeBest();
    }
  }

  private keepWeights(epoch: number): void {
    this.disposeBest();
    this.bestWeights = this.model.getWeights();
    this.bestEpoch = epoch;
  }

  private disposeBest(): void {
    for (const t of this.bestWeights ?? []) t.dispose();
    this.bestWeights = undefined;
  }
}

/**
 * Stops training cleanly at the first batch whose loss is NaN or infinite (Keras `TerminateOnNaN`).
 * Without it, fit throws NonFiniteLossError there; with it, fit ends that epoch early (the batch's
 * update is not applied, so the weights keep their last finite values), runs the end-of-epoch and
 * end-of-training hooks and resolves with the History so far.
 */
export class TerminateOnNaN extends ModelCallback {
  /** Tells fit to report a non-finite loss to onBatchEnd instead of throwing. */
  readonly stopsOnNonFiniteLoss = true;
  /** The batch whose loss was not finite, if any. */
  terminatedAt: { epoch: number; batch: number } | undefined;
  private epoch = 0;

  constructor() {
    super('terminateOnNaN');
  }

  onTrainBegin(): void {
    this.terminatedAt = undefined;
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  onBatchEnd(batch: number, logs: Logs = {}): void {
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.terminatedAt = { epoch: this.epoch, batch };
      this.model.stopTraining = true;
    }
  }
}

/** Options of {@link reduceLROnPlateau}, as in Keras. */
export interface ReduceLROnPlateauArgs {
  /** Default 'val_loss'. */
  monitor?: string;
  /** new lr = lr · factor, with 0 < factor < 1 (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** Default 'auto'. */
  mode?: Mode;
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the learning rate (default 0). */
  minLr?: number;
}

/**
 * Multiplies the optimizer's learning rate by `factor` when `monitor` has not improved by more than
 * `minDelta` for `patience` epochs, then waits `cooldown` epochs (Keras `ReduceLROnPlateau`).
 */
export class ReduceLROnPlateau extends ModelCallback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private best = Number.POSITIVE_INFINITY;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super('reduceLROnPlateau');
    const a = args ?? {};
    this.monitor = checkMonitor(this.op, a.monitor ?? 'val_loss');
    this.factor = checkNumber(this.op, 'factor', a.factor ?? 0.1, (v) => v > 0 && v < 1, 'in (0, 1)');
    this.patience = checkNumber(this.op, 'patience', a.patience ?? 10, nonNegativeInteger, 'an integer ≥ 0');
    this.mode = resolveMode(this.op, a.mode ?? 'auto', this.monitor);
    this.minDelta = Math.abs(checkNumber(this.op, 'minDelta', a.minDelta ?? 1e-4, Number.isFinite, 'a finite number'));
    this.cooldown = checkNumber(this.op, 'cooldown', a.cooldown ?? 0, nonNegativeInteger, 'an integer ≥ 0');
    this.minLr = checkNumber(this.op, 'minLr', a.minLr ?? 0, (v) => v >= 0 && Number.isFinite(v), 'finite and ≥ 0');
  }

  private improves(value: number): boolean {
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  onTrainBegin(): void {
    refuseSchedule(this.op, this.model);
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  onEpochEnd(_epoch: number, logs: Logs = {}): void {
    const value = logs[this.monitor];
    if (value === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.improves(value)) {
      this.best = value;
      this.wait = 0;
      return;
    }
    if (this.cooldownCounter > 0) return;
    this.wait++;
    if (this.wait < this.patience) return;
    const optimizer = this.model.optimizer;
    // Compare in f32, as the kernels see the rate (Keras compares with np.float32(min_lr)).
    if (Math.fround(optimizer.learningRate) > Math.fround(this.minLr)) {
      optimizer.learningRate = Math.max(optimizer.learningRate * this.factor, this.minLr);
      this.cooldownCounter = this.cooldown;
      this.wait = 0;
    }
  }
}

/**
 * Sets the optimizer's learning rate at the start of every epoch to `schedule(epoch, lr)`, the
 * epoch index and the current rate (Keras `LearningRateScheduler`).
 */
export class LearningRateScheduler extends ModelCallback {
  constructor(readonly schedule: (epoch: number, lr: number) => number) {
    super('learningRateScheduler');
    if (typeof schedule !== 'function') {
      throw new ValueError(this.op, `schedule must be a function (epoch, lr) => lr, got ${typeof schedule}`);
    }
  }

  onTrainBegin(): void {
    refuseSchedule(this.op, this.model);
  }

  onEpochBegin(epoch: number): void {
    const optimizer = this.model.optimizer;
    const lr = this.schedule(epoch, optimizer.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ValueError(
        this.op,
        `schedule(${epoch}, ${optimizer.learningRate}) must return a finite rate ≥ 0, got ${lr}`,
      );
    }
    optimizer.learningRate = lr;
  }
}

/** Options of {@link progressLogger}. */
export interface ProgressLoggerArgs {
  /** Where lines go (default console.log). */
  printFn?: (line: string) => void;
  /** Also print the batch loss every this many batches (default 0: only at epoch ends). */
  batchInterval?: number;
  /** Digits after the decimal point (default 4). */
  digits?: number;
}

/**
 * Prints one line per epoch — `epoch 3: loss=0.1234 acc=0.9500 val_loss=0.2000 (41 ms)` — and,
 * with `batchInterval`, the batch loss every that many batches.
 */
export class ProgressLogger implements Callback {
  readonly batchInterval: number;
  readonly digits: number;
  private readonly printFn: (line: string) => void;
  private started = 0;
  private epoch = 0;

  constructor(args: ProgressLoggerArgs = {}) {
    const op = 'progressLogger';
    const a = args ?? {};
    this.printFn = a.printFn ?? ((line) => console.log(line));
    if (typeof this.printFn !== 'function') throw new ValueError(op, 'printFn must be a function');
    this.batchInterval = checkNumber(op, 'batchInterval', a.batchInterval ?? 0, nonNegativeInteger, 'an integer ≥ 0');
    this.digits = checkNumber(op, 'digits', a.digits ?? 4, (v) => nonNegativeInteger(v) && v <= 20, 'in 0..20');
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.started = performance.now();
  }

  onBatchEnd(batch: number, logs: Logs = {}): void {
    if (this.batchInterval > 0 && (batch + 1) % this.batchInterval === 0 && logs.loss !== undefined) {
      this.printFn(`epoch ${this.epoch + 1} batch ${batch + 1}: loss=${logs.loss.toFixed(this.digits)}`);
    }
  }

  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const values = Object.entries(logs)
      .map(([k, v]) => `${k}=${v.toFixed(this.digits)}`)
      .join(' ');
    this.printFn(`epoch ${epoch + 1}: ${values} (${Math.round(performance.now() - this.started)} ms)`);
  }
}

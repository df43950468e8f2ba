/**
 * Checkpointing callbacks with Keras semantics: {@link ModelCheckpoint} saves the model during
 * training (every epoch or every N batches, optionally only when a monitored value improves), and
 * {@link BackupAndRestore} keeps one backup that a restarted fit resumes from exactly — same
 * weights, optimizer state, epoch, batch, step counter and seed, hence the same shuffles and dropout
 * masks: the finished run's weights equal an uninterrupted run's bit for bit.
 */
import { ValueError } from '../errors.js';
import {
  type CheckpointModel,
  type CheckpointStore,
  captureCheckpoint,
  checkpointStore,
  checkRestorable,
  checkResumable,
  decodeCheckpoint,
  encodeCheckpoint,
  FileCheckpointStore,
  type FitCursor,
  restoreCheckpoint,
} from '../io/checkpoint.js';
import { checkMonitor, type Mode, resolveMode } from './builtin.js';
import type { Callback, Logs } from './callback.js';

/**
 * What these callbacks use of the model: its checkpointable parts, and fit's position. fit keeps
 * `fitCursor` at the batch it will run next (epoch, batches of it applied, step, seed; after an
 * epoch's last batch: the next epoch at batch 0) and, when `resumeFrom` is set by a callback's
 * onTrainBegin, continues from that cursor instead of its own start.
 */
export interface ResumableModel extends CheckpointModel {
  stopTraining: boolean;
  readonly fitCursor?: Readonly<FitCursor>;
  resumeFrom: FitCursor | undefined;
}

/** 'epoch', or a positive integer number of batches. */
export type SaveFreq = 'epoch' | number;

function checkSaveFreq(op: string, v: unknown): SaveFreq {
  if (v === 'epoch' || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0)) return v;
  throw new ValueError(op, `saveFreq must be 'epoch' or an integer > 0 (batches), got ${JSON.stringify(v)}`);
}

abstract class CheckpointCallback implements Callback {
  private current: ResumableModel | undefined;
  /** Batches since the last save (integer saveFreq counts across epochs, as Keras does). */
  protected batchesSinceSave = 0;
  protected epoch = 0;
  constructor(
    protected readonly op: string,
    readonly saveFreq: SaveFreq,
  ) {}
  setModel(model: unknown): void {
    this.current = model as ResumableModel;
  }
  protected get model(): ResumableModel {
    const m = this.current;
    if (!m) throw new ValueError(this.op, 'no model: the callback must be passed to fit');
    return m;
  }
  /** Where fit would continue now; undefined for a model whose fit does not report it. */
  protected cursor(): FitCursor | undefined {
    const c = this.model.fitCursor;
    return c ? { ...c } : undefined;
  }
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  /** Counts a batch; true when an integer saveFreq says to save now. */
  protected batchDue(): boolean {
    if (this.saveFreq === 'epoch') return false;
    this.batchesSinceSave++;
    if (this.batchesSinceSave < this.saveFreq) return false;
    this.batchesSinceSave = 0;
    return true;
  }
}

/** Options of {@link backupAndRestore}, as in Keras. */
export interface BackupAndRestoreArgs {
  /** Directory of the backup file (Node/Deno), `indexeddb://name` (browsers), or a store. */
  backupDir: string | CheckpointStore;
  /** 'epoch' (default) or every this many batches. */
  saveFreq?: SaveFreq;
  /** Delete the backup when training ends normally, including by stopTraining (default true). */
  deleteCheckpoint?: boolean;
}

/** The backup's file name inside backupDir. */
export const BACKUP_FILE = 'backup.wgckpt';

/**
 * Keras `BackupAndRestore`: writes a backup at the end of every epoch (and, with an integer
 * `saveFreq`, also every that many batches); when fit starts and a backup exists, restores weights
 * and optimizer state and resumes at the backup's epoch and batch with its step counter and seed
 * (the seed passed to the resumed fit is ignored; its other arguments must be the interrupted
 * fit's, and the model must be built with the same dropout seeds, e.g. after the same setSeed). An interrupted fit (a thrown error, a killed process) keeps the backup; a fit that ends
 * normally deletes it unless `deleteCheckpoint` is false. Callback state (earlyStopping's patience)
 * and the partial epoch's logs are not part of the backup: the resumed epoch's loss averages the
 * resumed batches only.
 */
export class BackupAndRestore extends CheckpointCallback {
  readonly store: CheckpointStore;
  readonly deleteCheckpoint: boolean;
  /** The cursor restored at the last train begin, if a backup was found. */
  restoredFrom: FitCursor | undefined;

  constructor(args: BackupAndRestoreArgs) {
    const op = 'backupAndRestore';
    if (!args || typeof args !== 'object')
      throw new ValueError(op, 'expects { backupDir, saveFreq, deleteCheckpoint }');
    super(op, checkSaveFreq(op, args.saveFreq ?? 'epoch'));
    const dir = args.backupDir;
    if (typeof dir === 'string') {
      if (dir === '') throw new ValueError(op, 'backupDir must be a non-empty path');
      // indexeddb://name keeps the backup under that name; a directory gets the backup file.
      this.store = dir.startsWith('indexeddb://')
        ? checkpointStore(dir, op)
        : new FileCheckpointStore(`${dir.replace(/\/+$/, '')}/${BACKUP_FILE}`);
    } else {
      this.store = checkpointStore(dir, op);
    }
    this.deleteCheckpoint = args.deleteCheckpoint ?? true;
  }

  async onTrainBegin(): Promise<void> {
    const model = this.model;
    if (!model.fitCursor) throw new ValueError(this.op, 'this model does not report its fit position to resume it');
    this.batchesSinceSave = 0;
    this.restoredFrom = undefined;
    const found = await this.store.read();
    if (!found) return;
    const ckpt = decodeCheckpoint(found.bytes, found.file);
    if (!ckpt.cursor || !ckpt.optimizer) {
      throw new ValueError(this.op, `${found.file} is a weights-only checkpoint; a backup needs the training state`);
    }
    // Refused before anything is restored: the model keeps its weights.
    checkRestorable(model, ckpt, this.op);
    checkResumable(this.op, ckpt.cursor, model.fitCursor);
    restoreCheckpoint(model, ckpt, this.op);
    model.resumeFrom = ckpt.cursor;
    this.restoredFrom = ckpt.cursor;
  }

  async onBatchEnd(): Promise<void> {
    if (this.batchDue()) await this.save();
  }

  async onEpochEnd(): Promise<void> {
    // Also with an integer saveFreq: the epoch's end (validation, other callbacks) then is not redone.
    // An epoch cut short by stopTraining is saved at its real position, so resuming finishes it.
    await this.save();
    this.batchesSinceSave = 0;
  }

  async onTrainEnd(): Promise<void> {
    if (this.deleteCheckpoint) await this.store.remove();
  }

  private async save(): Promise<void> {
    const ckpt = captureCheckpoint(this.model, { cursor: this.cursor() });
    await this.store.write(encodeCheckpoint(ckpt));
  }
}

/** Options of {@link modelCheckpoint}, as in Keras. */
export interface ModelCheckpointArgs {
  /**
   * File path (Node/Deno) or `indexeddb://name` (browsers), formatted at each save with `{epoch}` (1-based; `{epoch:02d}` pads),
   * `{batch}` and logged values (`{val_loss:.4f}`); or a store. Each path keeps its previous
   * generation as `<path>.prev`.
   */
  filepath: string | CheckpointStore;
  /** Default 'val_loss'. */
  monitor?: string;
  /** Save only when `monitor` improves on the best so far (default false). */
  saveBestOnly?: boolean;
  /** Weights only, without optimizer state and fit position (default false). */
  saveWeightsOnly?: boolean;
  /** Default 'auto'. */
  mode?: Mode;
  /** 'epoch' (default) or every this many batches (monitoring the batch logs). */
  saveFreq?: SaveFreq;
  /** With saveBestOnly, a value to beat before the first save. */
  initialValueThreshold?: number;
}

/** Formats `{key}`, `{key:02d}`, `{key:.4f}` placeholders (Python format mini-language subset). */
export function formatCheckpointPath(template: string, values: Record<string, number>, op = 'modelCheckpoint'): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_m, key: string, spec: string | undefined) => {
    if (!Object.hasOwn(values, key)) {
      throw new ValueError(
        op,
        `filepath names {${key}}, which is not logged; available: ${Object.keys(values).join(', ')}`,
      );
    }
    const v = values[key] as number;
    if (!spec) return String(v);
    const fixed = /^\.(\d+)f$/.exec(spec);
    if (fixed) return v.toFixed(Number(fixed[1]));
    const int = /^(0?)(\d+)d$/.exec(spec);
    if (int) return String(Math.trunc(v)).padStart(Number(int[2]), int[1] ? '0' : ' ');
    throw new ValueError(op, `unsupported format '{${key}:${spec}}' (use d, 0Nd or .Nf)`);
  });
}

/**
 * Keras `ModelCheckpoint`: saves a checkpoint (see `wg.loadCheckpoint`/`wg.restoreCheckpoint`)
 * at the end of every epoch or every `saveFreq` batches; with `saveBestOnly`, only when `monitor`
 * improves (saves whose logs lack `monitor` are skipped with a warning). Full checkpoints hold the
 * optimizer state and fit position too, so `backupAndRestore` can resume from a copy of one.
 */
export class ModelCheckpoint extends CheckpointCallback {
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly mode: 'min' | 'max';
  /** The best monitored value saved so far. */
  best: number;
  /** Paths (or the store name) written, in order. */
  readonly saved: string[] = [];
  private readonly target: string | CheckpointStore;
  private readonly stores = new Map<string, CheckpointStore>();
  private warned = false;

  constructor(args: ModelCheckpointArgs) {
    const op = 'modelCheckpoint';
    if (!args || typeof args !== 'object') throw new ValueError(op, 'expects { filepath, monitor, ... }');
    super(op, checkSaveFreq(op, args.saveFreq ?? 'epoch'));
    if (typeof args.filepath === 'string') {
      if (args.filepath === '') throw new ValueError(op, 'filepath must be a non-empty path');
      this.target = args.filepath;
    } else {
      this.target = checkpointStore(args.filepath, op);
    }
    this.monitor = checkMonitor(op, args.monitor ?? 'val_loss');
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.saveWeightsOnly = args.saveWeightsOnly ?? false;
    this.mode = resolveMode(op, args.mode ?? 'auto', this.monitor);
    const t = args.initialValueThreshold;
    if (t !== undefined && (typeof t !== 'number' || Number.isNaN(t))) {
      throw new ValueError(op, `initialValueThreshold must be a number, got ${String(t)}`);
    }
    this.best = t ?? (this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
  }

  async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.batchDue()) await this.maybeSave(batch, logs);
  }

  async onEpochEnd(_epoch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') await this.maybeSave(0, logs);
  }

  private async maybeSave(batch: number, logs: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const value = logs[this.monitor];
      if (value === undefined) {
        if (!this.warned) {
          console.warn(`modelCheckpoint: '${this.monitor}' is not logged; available: ${Object.keys(logs).join(', ')}`);
          this.warned = true;
        }
        return;
      }
      if (!(this.mode === 'min' ? value < this.best : value > this.best)) return;
      this.best = value;
    }
    const store = this.storeFor(batch, logs);
    const ckpt = captureCheckpoint(this.model, {
      cursor: this.cursor(),
      logs,
      weightsOnly: this.saveWeightsOnly,
    });
    await store.write(encodeCheckpoint(ckpt));
    this.saved.push(store.name);
  }

  private storeFor(batch: number, logs: Logs): CheckpointStore {
    if (typeof this.target !== 'string') return this.target;
    const path = formatCheckpointPath(this.target, { ...logs, epoch: this.epoch + 1, batch }, this.op);
    let store = this.stores.get(path);
    if (!store) {
      store = checkpointStore(path, this.op);
      this.stores.set(path, store);
    }
    return store;
  }
}

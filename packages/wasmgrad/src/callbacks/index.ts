/**
 * Built-in training callbacks, named as in tfjs/Keras: `wg.callbacks.earlyStopping({ patience: 3 })`.
 * Pass them to fit: `model.fit(x, y, { callbacks: [wg.callbacks.terminateOnNaN()] })`.
 * @module
 */
import {
  EarlyStopping,
  type EarlyStoppingArgs,
  LearningRateScheduler,
  ProgressLogger,
  type ProgressLoggerArgs,
  ReduceLROnPlateau,
  type ReduceLROnPlateauArgs,
  TerminateOnNaN,
} from './builtin.js';
import {
  BackupAndRestore,
  type BackupAndRestoreArgs,
  ModelCheckpoint,
  type ModelCheckpointArgs,
} from './checkpoint.js';

export {
  type CallbackModel,
  EarlyStopping,
  type EarlyStoppingArgs,
  LearningRateScheduler,
  ProgressLogger,
  type ProgressLoggerArgs,
  ReduceLROnPlateau,
  type ReduceLROnPlateauArgs,
  TerminateOnNaN,
} from './builtin.js';
export type { Callback, Logs } from './callback.js';
export {
  BackupAndRestore,
  type BackupAndRestoreArgs,
  formatCheckpointPath,
  ModelCheckpoint,
  type ModelCheckpointArgs,
  type ResumableModel,
  type SaveFreq,
} from './checkpoint.js';

/** Stops training when a monitored quantity stops improving; can restore the best weights. */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}

/** Ends fit cleanly (no NonFiniteLossError) at the first batch whose loss is NaN or infinite. */
export function terminateOnNaN(): TerminateOnNaN {
  return new TerminateOnNaN();
}

/** Lowers the learning rate by `factor` when a monitored quantity has stopped improving. */
export function reduceLROnPlateau(args: ReduceLROnPlateauArgs = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

/** Sets the learning rate at the start of each epoch to `schedule(epoch, lr)`. */
export function learningRateScheduler(schedule: (epoch: number, lr: number) => number): LearningRateScheduler {
  return new LearningRateScheduler(schedule);
}

/** Prints a line per epoch (loss, metrics, time) and optionally the loss every N batches. */
export function progressLogger(args: ProgressLoggerArgs = {}): ProgressLogger {
  return new ProgressLogger(args);
}

/** Saves checkpoints every epoch or N batches, optionally only the best by a monitored value. */
export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}

/** Keeps a backup that a restarted fit resumes from exactly (weights, optimizer, position, seed). */
export function backupAndRestore(args: BackupAndRestoreArgs): BackupAndRestore {
  return new BackupAndRestore(args);
}

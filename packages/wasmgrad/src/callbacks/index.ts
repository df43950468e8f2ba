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

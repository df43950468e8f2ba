/**
 * Training in workers: `wg.worker.spawn(model, { compile })` → a {@link Trainer}.
 * @module
 */
export type { ProgressEvent, TensorData, WorkerHistory } from './entry.js';
export { type SpawnOptions, spawn, type TensorInput, type Trainer, type TrainerFitArgs } from './spawn.js';

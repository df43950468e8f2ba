/**
 * Training in workers: `wg.worker.spawn(model, { compile })` → a {@link Trainer}.
 * @module
 */
export type { ProgressEvent, TensorData, WorkerHistory } from './entry.js';
export {
  type SpawnOptions,
  type StopResult,
  spawn,
  type TensorInput,
  type Trainer,
  type TrainerFitArgs,
  type TrainerInput,
  WorkerTensor,
} from './spawn.js';

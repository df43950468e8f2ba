/**
 * Hyperparameter search (`wg.tune`): `optimize` runs any async objective over a search space with
 * random, grid or Bayesian (Gaussian process + expected improvement) proposals, several trials at a
 * time, with median early stopping; `search` tunes a model, each trial training in its own worker.
 * A study saves as JSON and resumes.
 *
 * ```ts
 * const study = await wg.tune.optimize({
 *   space: { x: wg.tune.uniform(-5, 10), lr: wg.tune.logUniform(1e-4, 1e-1), act: wg.tune.choice(['relu', 'tanh']) },
 *   objective: async (hp) => score(hp),
 *   direction: 'minimize', maxTrials: 30, parallel: 2, method: 'bayesian', seed: 1,
 * });
 * console.log(study.format(), study.bestParams);
 * ```
 * @module
 */
export { erfc, expectedImprovement, normalCdf } from './acquisition.js';
export {
  covariance,
  fitHyperparameters,
  GaussianProcess,
  logMarginalLikelihood,
  matern52,
  matern52Grad,
} from './gp.js';
export {
  type MedianStopping,
  type Objective,
  type OptimizeArgs,
  optimize,
  type TrialContext,
} from './optimize.js';
export type { Method, SamplerOptions } from './sampler.js';
export { type SearchArgs, type SearchData, search } from './search.js';
export {
  type ChoiceParam,
  type Condition,
  choice,
  type IntParam,
  int,
  type LogUniformParam,
  logUniform,
  type Param,
  type ParamOptions,
  type Params,
  type Scalar,
  Space,
  type SpaceSpec,
  type UniformParam,
  uniform,
} from './space.js';
export {
  type Direction,
  Study,
  type StudyJSON,
  type StudyOptions,
  type Trial,
  type TrialRow,
  type TrialState,
} from './study.js';

/**
 * Former home of the Sequential base class. Every model's weight block, getWeights and summary now
 * live in {@link ModelBase} (base.ts), training in {@link LayersModel} and Sequential itself in
 * model.ts; these re-exports keep existing importers working.
 * @module
 */
export type { ModelJSON, WeightBlock } from './base.js';
/** The base class of every model (Sequential and Functional), under its former name. */
export { ModelBase as SequentialBase } from './base.js';
export { Sequential, type SequentialArgs, sequential } from './model.js';

/**
 * Layer factories, named as in tfjs-layers: `wg.layers.dense({ units: 10, activation: 'relu' })`.
 * @module
 */
import type { ActivationIdentifier } from './activations.js';
import { ActivationLayer, Dense, type DenseArgs } from './dense.js';
import type { LayerArgs } from './layer.js';

export { ACTIVATION_NAMES, type ActivationIdentifier, type ActivationName } from './activations.js';
export { ActivationLayer as Activation, Dense, type DenseArgs } from './dense.js';
export { Layer, type LayerArgs, type LayerWeight } from './layer.js';

/** A densely connected layer: activation(x·W + b). */
export function dense(args: DenseArgs): Dense {
  return new Dense(args);
}

/** Applies an activation function (by name) to its input. */
export function activation(args: LayerArgs & { activation: ActivationIdentifier }): ActivationLayer {
  return new ActivationLayer(args);
}

/**
 * Layer factories, named as in tfjs-layers: `wg.layers.dense({ units: 10, activation: 'relu' })`.
 * @module
 */
import type { ActivationIdentifier } from './activations.js';
import {
  Conv2D,
  type Conv2DArgs,
  DepthwiseConv2D,
  type DepthwiseConv2DArgs,
  SeparableConv2D,
  type SeparableConv2DArgs,
} from './conv.js';
import { Dropout, type DropoutArgs, Flatten, Reshape } from './core.js';
import { Cross, type CrossArgs } from './cross.js';
import { ActivationLayer, Dense, type DenseArgs } from './dense.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';
import type { LayerArgs } from './layer.js';
import { Add, Average, Concatenate, type ConcatenateArgs, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import {
  BatchNormalization,
  type BatchNormalizationArgs,
  LayerNormalization,
  type LayerNormalizationArgs,
} from './normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, type Pooling2DArgs } from './pooling.js';
import type { RNNArgs } from './recurrent.js';
import { GRU, type GRUArgs, LSTM, type LSTMArgs, SimpleRNN } from './recurrent-cells.js';

export { ACTIVATION_NAMES, type ActivationIdentifier, type ActivationName } from './activations.js';
export {
  Conv2D,
  type Conv2DArgs,
  DepthwiseConv2D,
  type DepthwiseConv2DArgs,
  SeparableConv2D,
  type SeparableConv2DArgs,
  type Size2,
} from './conv.js';
export { Dropout, type DropoutArgs, Flatten, Reshape } from './core.js';
export { Cross, type CrossArgs } from './cross.js';
export { ActivationLayer as Activation, Dense, type DenseArgs } from './dense.js';
export { Embedding, type EmbeddingArgs } from './embedding.js';
export { type InputArgs, InputLayer } from './input.js';
export { Layer, type LayerArgs, type LayerWeight } from './layer.js';
export {
  Add,
  Average,
  Concatenate,
  type ConcatenateArgs,
  Maximum,
  Merge,
  Minimum,
  Multiply,
  Subtract,
} from './merge.js';
export {
  BatchNormalization,
  type BatchNormalizationArgs,
  LayerNormalization,
  type LayerNormalizationArgs,
} from './normalization.js';
export { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D, type Pooling2DArgs } from './pooling.js';
export { RNN, type RNNArgs } from './recurrent.js';
export { GRU, type GRUArgs, LSTM, type LSTMArgs, SimpleRNN } from './recurrent-cells.js';

/** A densely connected layer: activation(x·W + b). */
export function dense(args: DenseArgs): Dense {
  return new Dense(args);
}

/** Applies an activation function (by name) to its input. */
export function activation(args: LayerArgs & { activation: ActivationIdentifier }): ActivationLayer {
  return new ActivationLayer(args);
}

/** 2-D convolution over NHWC images with an HWIO kernel: activation(conv2d(x, W) + b). */
export function conv2d(args: Conv2DArgs): Conv2D {
  return new Conv2D(args);
}

/** Depthwise 2-D convolution: each input channel with its own depthMultiplier filters. */
export function depthwiseConv2d(args: DepthwiseConv2DArgs): DepthwiseConv2D {
  return new DepthwiseConv2D(args);
}

/** Depthwise convolution followed by a pointwise 1×1 convolution to `filters` channels. */
export function separableConv2d(args: SeparableConv2DArgs): SeparableConv2D {
  return new SeparableConv2D(args);
}

/** Max over each poolSize window of NHWC images. */
export function maxPooling2d(args: Pooling2DArgs = {}): MaxPooling2D {
  return new MaxPooling2D(args);
}

/** Mean over each poolSize window of NHWC images (cells inside the image). */
export function averagePooling2d(args: Pooling2DArgs = {}): AveragePooling2D {
  return new AveragePooling2D(args);
}

/** Mean over all pixels per channel: [h, w, c] → [c]. */
export function globalAveragePooling2d(args: LayerArgs = {}): GlobalAveragePooling2D {
  return new GlobalAveragePooling2D(args);
}

/** Flattens each sample to one axis. */
export function flatten(args: LayerArgs = {}): Flatten {
  return new Flatten(args);
}

/** Reshapes each sample to targetShape (one entry may be -1). */
export function reshape(args: LayerArgs & { targetShape: number[] }): Reshape {
  return new Reshape(args);
}

/** Inverted dropout, active only in training; masks reproducible from the seeds and the step. */
export function dropout(args: DropoutArgs): Dropout {
  return new Dropout(args);
}

/** Batch normalization over the last axis: batch statistics in training, moving statistics in inference. */
export function batchNormalization(args: BatchNormalizationArgs = {}): BatchNormalization {
  return new BatchNormalization(args);
}

/** Layer normalization over the last axis of each sample. */
export function layerNormalization(args: LayerNormalizationArgs = {}): LayerNormalization {
  return new LayerNormalization(args);
}

/** Maps integer indices (held as f32) to rows of a trainable [inputDim, outputDim] table. */
export function embedding(args: EmbeddingArgs): Embedding {
  return new Embedding(args);
}

/** Fully connected recurrent layer: h_t = activation(x_t·W + h_{t−1}·U + b). */
export function simpleRNN(args: RNNArgs): SimpleRNN {
  return new SimpleRNN(args);
}

/** Long short-term memory layer (Keras equations and weight layout, gates i, f, c, o). */
export function lstm(args: LSTMArgs): LSTM {
  return new LSTM(args);
}

/** Gated recurrent unit layer (Keras resetAfter form, gates z, r, h). */
export function gru(args: GRUArgs): GRU {
  return new GRU(args);
}

/** Joins its inputs along `axis` (default -1, the last; the batch axis is 0). */
export function concatenate(args: ConcatenateArgs = {}): Concatenate {
  return new Concatenate(args);
}

/** Elementwise sum of its inputs (one shape). */
export function add(args: LayerArgs = {}): Add {
  return new Add(args);
}

/** Elementwise difference of its two inputs. */
export function subtract(args: LayerArgs = {}): Subtract {
  return new Subtract(args);
}

/** Elementwise product of its inputs. */
export function multiply(args: LayerArgs = {}): Multiply {
  return new Multiply(args);
}

/** Elementwise mean of its inputs. */
export function average(args: LayerArgs = {}): Average {
  return new Average(args);
}

/** Elementwise maximum of its inputs. */
export function maximum(args: LayerArgs = {}): Maximum {
  return new Maximum(args);
}

/** Elementwise minimum of its inputs. */
export function minimum(args: LayerArgs = {}): Minimum {
  return new Minimum(args);
}

/** Deep & Cross Network cross layer: x₀ ⊙ (x_l·W + b) + x_l, applied as `apply([x0, xl])` or `apply(x0)`. */
export function cross(args: CrossArgs = {}): Cross {
  return new Cross(args);
}

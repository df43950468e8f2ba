import { ValueError } from '../errors.js';
import { Conv2D, DepthwiseConv2D, SeparableConv2D } from '../layers/conv.js';
import { Dropout, Flatten, Reshape } from '../layers/core.js';
import { ActivationLayer, Dense } from '../layers/dense.js';
import { Embedding } from '../layers/embedding.js';
import type { Layer } from '../layers/layer.js';
import { BatchNormalization, LayerNormalization } from '../layers/normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D } from '../layers/pooling.js';
import { GRU, LSTM, SimpleRNN } from '../layers/recurrent-cells.js';
import type { ModelJSON } from './base.js';
import { Sequential } from './model.js';

/**
 * The closed registry of layer classes a topology may name. Nothing outside it is constructed,
 * and nothing in a topology is ever executed.
 */
const LAYER_CLASSES: Record<string, (config: Record<string, unknown>) => Layer> = {
  Dense: (c) => new Dense(c as never),
  Activation: (c) => new ActivationLayer(c as never),
  Conv2D: (c) => new Conv2D(c as never),
  DepthwiseConv2D: (c) => new DepthwiseConv2D(c as never),
  SeparableConv2D: (c) => new SeparableConv2D(c as never),
  MaxPooling2D: (c) => new MaxPooling2D(c as never),
  AveragePooling2D: (c) => new AveragePooling2D(c as never),
  GlobalAveragePooling2D: (c) => new GlobalAveragePooling2D(c as never),
  Flatten: (c) => new Flatten(c as never),
  Reshape: (c) => new Reshape(c as never),
  Dropout: (c) => new Dropout(c as never),
  BatchNormalization: (c) => new BatchNormalization(c as never),
  LayerNormalization: (c) => new LayerNormalization(c as never),
  Embedding: (c) => new Embedding(c as never),
  SimpleRNN: (c) => new SimpleRNN(c as never),
  LSTM: (c) => new LSTM(c as never),
  GRU: (c) => new GRU(c as never),
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Rebuilds a model from its toJSON output (a JSON string or the parsed object). */
export function modelFromJSON(json: ModelJSON | string): Sequential {
  const op = 'modelFromJSON';
  let parsed: unknown = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new ValueError(op, `invalid JSON: ${(err as Error).message}`);
    }
  }
  if (!isPlainObject(parsed) || parsed.className !== 'Sequential' || !isPlainObject(parsed.config)) {
    throw new ValueError(op, `expected { className: 'Sequential', config: { layers: [...] } }`);
  }
  const { name, layers } = parsed.config;
  if (!Array.isArray(layers) || layers.length === 0)
    throw new ValueError(op, 'config.layers must be a non-empty array');
  const built = layers.map((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.className !== 'string' || !isPlainObject(entry.config)) {
      throw new ValueError(op, `layer ${i} must be { className, config }`);
    }
    if (!Object.hasOwn(LAYER_CLASSES, entry.className)) {
      throw new ValueError(
        op,
        `layer ${i} has unknown class '${entry.className}'; known: ${Object.keys(LAYER_CLASSES).join(', ')}`,
      );
    }
    return (LAYER_CLASSES[entry.className] as (c: Record<string, unknown>) => Layer)(entry.config);
  });
  return new Sequential({ name: typeof name === 'string' ? name : undefined, layers: built });
}

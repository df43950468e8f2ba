import { ValueError, WasmgradError } from '../errors.js';
import { Conv2D, DepthwiseConv2D, SeparableConv2D } from '../layers/conv.js';
import { Dropout, Flatten, Reshape } from '../layers/core.js';
import { Cross } from '../layers/cross.js';
import { ActivationLayer, Dense } from '../layers/dense.js';
import { Embedding } from '../layers/embedding.js';
import { InputLayer } from '../layers/input.js';
import type { Layer } from '../layers/layer.js';
import { Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract } from '../layers/merge.js';
import { BatchNormalization, LayerNormalization } from '../layers/normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D } from '../layers/pooling.js';
import { GRU, LSTM, SimpleRNN } from '../layers/recurrent-cells.js';
import type { FunctionalJSON, ModelJSON } from './base.js';
import { Functional } from './functional.js';
import { type LayersModel, Sequential } from './model.js';
import { GraphError, inputNode, type SymbolicTensor } from './symbolic.js';

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
  InputLayer: (c) => new InputLayer(c as never),
  Concatenate: (c) => new Concatenate(c as never),
  Add: (c) => new Add(c as never),
  Subtract: (c) => new Subtract(c as never),
  Multiply: (c) => new Multiply(c as never),
  Average: (c) => new Average(c as never),
  Maximum: (c) => new Maximum(c as never),
  Minimum: (c) => new Minimum(c as never),
  Cross: (c) => new Cross(c as never),
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Rebuilds a model from its toJSON output (a JSON string or the parsed object): a Sequential, or a
 * Functional for a graph topology (className 'Functional', or Keras' older 'Model'). Only classes
 * of the closed registry are constructed and nothing in the topology is executed; a graph is
 * validated (unknown layer references, cycles, duplicate names, layers called more than once)
 * before any layer is built, with a {@link GraphError} naming the layer.
 */
export function modelFromJSON(json: ModelJSON): Sequential;
export function modelFromJSON(json: FunctionalJSON): Functional;
// A string may hold either topology (check `instanceof wg.Functional` or `wg.Sequential`). Kept
// last: io/ derives its types from this signature.
export function modelFromJSON(json: ModelJSON | FunctionalJSON | string): LayersModel;
export function modelFromJSON(json: ModelJSON | FunctionalJSON | string): Sequential | Functional {
  const op = 'modelFromJSON';
  let parsed: unknown = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new ValueError(op, `invalid JSON: ${(err as Error).message}`);
    }
  }
  if (isPlainObject(parsed) && (parsed.className === 'Functional' || parsed.className === 'Model')) {
    if (!isPlainObject(parsed.config)) throw new ValueError(op, 'a Functional topology needs a config object');
    return functionalFromConfig(parsed.config, op);
  }
  if (!isPlainObject(parsed) || parsed.className !== 'Sequential' || !isPlainObject(parsed.config)) {
    throw new ValueError(op, `expected { className: 'Sequential' or 'Functional', config: { layers: [...] } }`);
  }
  const { name, layers } = parsed.config;
  if (!Array.isArray(layers) || layers.length === 0)
    throw new ValueError(op, 'config.layers must be a non-empty array');
  const built = layers.map((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.className !== 'string' || !isPlainObject(entry.config)) {
      throw new ValueError(op, `layer ${i} must be { className, config }`);
    }
    return createLayer(op, i, entry.className, entry.config);
  });
  return new Sequential({ name: typeof name === 'string' ? name : undefined, layers: built });
}

function createLayer(op: string, i: number, className: string, config: Record<string, unknown>): Layer {
  if (!Object.hasOwn(LAYER_CLASSES, className)) {
    throw new ValueError(
      op,
      `layer ${i} has unknown class '${className}'; known: ${Object.keys(LAYER_CLASSES).join(', ')}`,
    );
  }
  try {
    return (LAYER_CLASSES[className] as (c: Record<string, unknown>) => Layer)(config);
  } catch (err) {
    // A layer's own checks throw typed errors; anything else (e.g. a value that cannot even be
    // printed in a message) still means a bad file, never a crash of the loader.
    if (err instanceof WasmgradError) throw err;
    throw new ValueError(op, `layer ${i} (${className}) has an invalid config: ${(err as Error)?.message ?? err}`);
  }
}

/** A validated [layerName, nodeIndex, tensorIndex(, kwargs)] reference. */
interface TensorRef {
  layer: string;
  tensor: number;
}

function parseRef(op: string, where: string, v: unknown): TensorRef {
  if (
    !Array.isArray(v) ||
    v.length < 3 ||
    v.length > 4 ||
    typeof v[0] !== 'string' ||
    !Number.isSafeInteger(v[1]) ||
    !Number.isSafeInteger(v[2]) ||
    (v[2] as number) < 0 ||
    (v.length === 4 && !isPlainObject(v[3]))
  ) {
    throw new GraphError(op, `${where} must be [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(v)}`);
  }
  if (v[1] !== 0) {
    throw new GraphError(op, `${where} refers to call ${v[1]} of layer '${v[0]}'; layers are called once here`);
  }
  return { layer: v[0], tensor: v[2] as number };
}

interface GraphEntry {
  className: string;
  name: string;
  config: Record<string, unknown>;
  inbound: TensorRef[];
}

/**
 * Builds a Functional model from its config: validates every entry and reference, orders the
 * layers so that each comes after the layers feeding it (rejecting cycles), then creates and
 * applies them in that order.
 */
function functionalFromConfig(config: Record<string, unknown>, op: string): Functional {
  const { name, layers, inputLayers, outputLayers } = config;
  if (!Array.isArray(layers) || layers.length === 0)
    throw new GraphError(op, 'config.layers must be a non-empty array');
  if (
    !Array.isArray(inputLayers) ||
    inputLayers.length === 0 ||
    !Array.isArray(outputLayers) ||
    outputLayers.length === 0
  ) {
    throw new GraphError(op, 'config.inputLayers and config.outputLayers must be non-empty arrays');
  }
  const entries = new Map<string, GraphEntry>();
  layers.forEach((e, i) => {
    if (
      !isPlainObject(e) ||
      typeof e.className !== 'string' ||
      !isPlainObject(e.config) ||
      !Array.isArray(e.inboundNodes)
    ) {
      throw new GraphError(op, `layer ${i} must be { className, name, config, inboundNodes }`);
    }
    const layerName = e.name ?? e.config.name;
    if (typeof layerName !== 'string' || (e.config.name !== undefined && e.config.name !== layerName)) {
      throw new GraphError(op, `layer ${i} needs one name (name and config.name differ or are missing)`);
    }
    if (entries.has(layerName)) throw new GraphError(op, `duplicate layer name '${layerName}'`);
    const isInput = e.className === 'InputLayer';
    if (isInput && e.inboundNodes.length !== 0)
      throw new GraphError(op, `InputLayer '${layerName}' cannot have inbound nodes`);
    if (!isInput && e.inboundNodes.length !== 1) {
      throw new GraphError(
        op,
        e.inboundNodes.length === 0
          ? `layer '${layerName}' has no inbound node (only InputLayers may)`
          : `layer '${layerName}' is called ${e.inboundNodes.length} times; calling a layer twice (weight sharing) is not supported`,
      );
    }
    const node = isInput ? [] : (e.inboundNodes[0] as unknown);
    if (!Array.isArray(node) || (!isInput && node.length === 0)) {
      throw new GraphError(op, `the inbound node of layer '${layerName}' must be a non-empty array of references`);
    }
    const inbound = node.map((r, j) => parseRef(op, `inbound reference ${j} of layer '${layerName}'`, r));
    entries.set(layerName, {
      className: e.className,
      name: layerName,
      config: { ...e.config, name: layerName },
      inbound,
    });
  });
  for (const e of entries.values()) {
    for (const r of e.inbound) {
      if (!entries.has(r.layer)) throw new GraphError(op, `layer '${e.name}' refers to unknown layer '${r.layer}'`);
    }
  }
  const order = graphOrder(op, entries);
  const tensors = new Map<string, SymbolicTensor[]>();
  const resolve = (r: TensorRef, where: string): SymbolicTensor => {
    const outs = tensors.get(r.layer) as SymbolicTensor[];
    const t = outs[r.tensor];
    if (!t)
      throw new GraphError(op, `${where} asks for output ${r.tensor} of layer '${r.layer}', which has ${outs.length}`);
    return t;
  };
  order.forEach((e, i) => {
    const layer = createLayer(op, i, e.className, e.config);
    if (layer instanceof InputLayer) tensors.set(e.name, [inputNode(layer, layer.inputShape as number[])]);
    else {
      const inputs = e.inbound.map((r) => resolve(r, `layer '${e.name}'`));
      const out = layer.apply(inputs.length === 1 ? (inputs[0] as SymbolicTensor) : inputs);
      tensors.set(e.name, Array.isArray(out) ? out : [out]);
    }
  });
  const refs = (list: unknown[], what: string) =>
    list.map((v, i) => {
      const r = parseRef(op, `${what}[${i}]`, v);
      if (!tensors.has(r.layer)) throw new GraphError(op, `${what}[${i}] refers to unknown layer '${r.layer}'`);
      return resolve(r, `${what}[${i}]`);
    });
  return new Functional({
    name: typeof name === 'string' ? name : undefined,
    inputs: refs(inputLayers, 'inputLayers'),
    outputs: refs(outputLayers, 'outputLayers'),
  });
}

/** The entries in an order where every layer follows the layers it refers to; a cycle is a GraphError. */
function graphOrder(op: string, entries: Map<string, GraphEntry>): GraphEntry[] {
  const order: GraphEntry[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of entries.values()) {
    if (state.has(start.name)) continue;
    const stack: { e: GraphEntry; next: number }[] = [{ e: start, next: 0 }];
    state.set(start.name, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { e: GraphEntry; next: number };
      if (top.next < top.e.inbound.length) {
        const dep = entries.get((top.e.inbound[top.next++] as TensorRef).layer) as GraphEntry;
        const s = state.get(dep.name);
        if (s === 'visiting') {
          const path = [...stack.map((f) => f.e.name).slice(stack.findIndex((f) => f.e === dep)), dep.name];
          throw new GraphError(op, `the graph has a cycle: ${path.join(' → ')}`);
        }
        if (s === undefined) {
          state.set(dep.name, 'visiting');
          stack.push({ e: dep, next: 0 });
        }
      } else {
        stack.pop();
        state.set(top.e.name, 'done');
        order.push(top.e);
      }
    }
  }
  return order;
}

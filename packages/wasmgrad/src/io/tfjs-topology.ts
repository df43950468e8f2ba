/**
 * Keras/tfjs-layers topology JSON (snake_case configs, `class_name`) → wasmgrad topology JSON, for
 * the layer classes both share. Sequential models become wasmgrad Sequential topologies; functional
 * models (`Model`/`Functional`, layers with `inbound_nodes`) become wasmgrad Functional ones.
 * Anything else is a FormatError naming the class. Initializers are dropped (imported weights
 * replace them); regularizers are kept.
 */
import { FormatError } from '../errors.js';
import { isPlainObject } from './artifacts.js';

type Config = Record<string, unknown>;
type Translate = (c: Config, at: string) => { className: string; config: Config };

const pick = (c: Config, map: Record<string, string>): Config => {
  const out: Config = {};
  for (const [from, to] of Object.entries(map)) if (c[from] !== undefined && c[from] !== null) out[to] = c[from];
  return out;
};

/** A Keras/tfjs regularizer config → wasmgrad's (`L1L2` only; `l1`/`l2` shorthands map onto it). */
function regularizer(r: unknown, at: string): unknown {
  if (r === null || r === undefined) return undefined;
  if (isPlainObject(r) && isPlainObject(r.config) && ['L1L2', 'L1', 'L2', 'l1_l2'].includes(String(r.class_name))) {
    return { className: 'L1L2', config: { l1: r.config.l1 ?? 0, l2: r.config.l2 ?? 0 } };
  }
  throw new FormatError(at, `unsupported regularizer ${JSON.stringify(r)}`);
}

function channelsLast(c: Config, at: string): void {
  if (c.data_format !== undefined && c.data_format !== null && c.data_format !== 'channels_last') {
    throw new FormatError(at, `data_format '${c.data_format}' is not supported; wasmgrad uses channels_last (NHWC)`);
  }
}

const conv: Translate = (c, at) => {
  channelsLast(c, at);
  if (c.groups !== undefined && c.groups !== 1) throw new FormatError(at, `grouped convolution (groups ${c.groups})`);
  return {
    className: 'Conv2D',
    config: {
      ...pick(c, {
        filters: 'filters',
        kernel_size: 'kernelSize',
        strides: 'strides',
        padding: 'padding',
        dilation_rate: 'dilationRate',
        activation: 'activation',
        use_bias: 'useBias',
      }),
      kernelRegularizer: regularizer(c.kernel_regularizer, at),
      biasRegularizer: regularizer(c.bias_regularizer, at),
    },
  };
};

const pooling =
  (className: string): Translate =>
  (c, at) => {
    channelsLast(c, at);
    return { className, config: pick(c, { pool_size: 'poolSize', strides: 'strides', padding: 'padding' }) };
  };

const normalization =
  (className: string, extra: Record<string, string>): Translate =>
  (c, at) => ({
    className,
    config: {
      ...pick(c, { axis: 'axis', epsilon: 'epsilon', center: 'center', scale: 'scale', ...extra }),
      betaRegularizer: regularizer(c.beta_regularizer, at),
      gammaRegularizer: regularizer(c.gamma_regularizer, at),
    },
  });

/** Refuses a Keras option whose value wasmgrad cannot honour (`ok` lists the accepted values). */
function only(c: Config, key: string, ok: unknown[], at: string, why: string): void {
  const v = c[key];
  if (v !== undefined && v !== null && !ok.includes(v)) {
    throw new FormatError(at, `${key} ${JSON.stringify(v)} is not supported (${why})`);
  }
}

/**
 * SimpleRNN/LSTM/GRU: the options all three share. The weights keep Keras' layout (kernel
 * [features, k·units], recurrent_kernel [units, k·units], bias; gates i,f,c,o and z,r,h), which is
 * wasmgrad's. The gate activation defaults to tfjs' hard_sigmoid when the file does not name one.
 */
const recurrent =
  (className: string, gated: boolean, extra: (c: Config, at: string) => Config = () => ({})): Translate =>
  (c, at) => {
    only(c, 'dropout', [0], at, 'input dropout must be 0');
    only(c, 'recurrent_dropout', [0], at, 'recurrent dropout must be 0');
    only(c, 'stateful', [false], at, 'stateful recurrent layers are not implemented');
    only(c, 'time_major', [false], at, 'inputs must be [batch, time, features]');
    return {
      className,
      config: {
        ...pick(c, {
          units: 'units',
          activation: 'activation',
          use_bias: 'useBias',
          return_sequences: 'returnSequences',
          return_state: 'returnState',
          go_backwards: 'goBackwards',
        }),
        ...(gated ? { recurrentActivation: gateActivation(c.recurrent_activation ?? 'hard_sigmoid') } : {}),
        kernelRegularizer: regularizer(c.kernel_regularizer, at),
        recurrentRegularizer: regularizer(c.recurrent_regularizer, at),
        biasRegularizer: regularizer(c.bias_regularizer, at),
        ...extra(c, at),
      },
    };
  };

/** Keras' snake_case gate activation names → wasmgrad's. */
function gateActivation(a: unknown): unknown {
  return a === 'hard_sigmoid' ? 'hardSigmoid' : a;
}

/** Keras class name → translation into a wasmgrad layer. */
const TRANSLATIONS: Record<string, Translate> = {
  Dense: (c, at) => ({
    className: 'Dense',
    config: {
      ...pick(c, { units: 'units', activation: 'activation', use_bias: 'useBias' }),
      kernelRegularizer: regularizer(c.kernel_regularizer, at),
      biasRegularizer: regularizer(c.bias_regularizer, at),
    },
  }),
  Conv2D: conv,
  Convolution2D: conv,
  MaxPooling2D: pooling('MaxPooling2D'),
  MaxPool2D: pooling('MaxPooling2D'),
  AveragePooling2D: pooling('AveragePooling2D'),
  AvgPool2D: pooling('AveragePooling2D'),
  GlobalAveragePooling2D: (c, at) => {
    channelsLast(c, at);
    if (c.keepdims === true) throw new FormatError(at, 'GlobalAveragePooling2D with keepdims is not supported');
    return { className: 'GlobalAveragePooling2D', config: {} };
  },
  GlobalAvgPool2D: (c, at) => (TRANSLATIONS.GlobalAveragePooling2D as Translate)(c, at),
  Flatten: (c, at) => {
    channelsLast(c, at);
    return { className: 'Flatten', config: {} };
  },
  Reshape: (c) => ({ className: 'Reshape', config: pick(c, { target_shape: 'targetShape' }) }),
  Dropout: (c) => ({ className: 'Dropout', config: pick(c, { rate: 'rate', seed: 'seed' }) }),
  BatchNormalization: normalization('BatchNormalization', { momentum: 'momentum' }),
  LayerNormalization: normalization('LayerNormalization', {}),
  Activation: (c) => ({ className: 'Activation', config: pick(c, { activation: 'activation' }) }),
  ReLU: (c, at) => {
    if ((c.max_value ?? null) !== null || (c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) {
      throw new FormatError(at, 'ReLU with max_value, negative_slope or threshold is not supported');
    }
    return { className: 'Activation', config: { activation: 'relu' } };
  },
  LeakyReLU: (c) => ({
    className: 'Activation',
    config: { activation: { name: 'leakyRelu', alpha: c.alpha ?? c.negative_slope ?? 0.3 } },
  }),
  Embedding: (c, at) => {
    only(c, 'mask_zero', [false], at, 'masking is not implemented; mask_zero must be false');
    // tfjs allows input_length as a one-element list.
    const raw = Array.isArray(c.input_length) && c.input_length.length === 1 ? c.input_length[0] : c.input_length;
    const length = raw === null ? undefined : raw;
    return {
      className: 'Embedding',
      config: {
        ...pick(c, { input_dim: 'inputDim', output_dim: 'outputDim' }),
        ...(length !== undefined ? { inputLength: length } : {}),
        // Without batch_input_shape, input_length alone gives the model its input shape.
        ...(length !== undefined && inputShapeOf(c, at) === undefined ? { inputShape: [length] } : {}),
        embeddingsRegularizer: regularizer(c.embeddings_regularizer, at),
      },
    };
  },
  SimpleRNN: recurrent('SimpleRNN', false),
  LSTM: recurrent('LSTM', true, (c) => pick(c, { unit_forget_bias: 'unitForgetBias' })),
  // tfjs GRU has only reset_after false and does not write the key; Keras files name it.
  GRU: recurrent('GRU', true, (c) => ({ resetAfter: c.reset_after ?? false })),
  Add: () => ({ className: 'Add', config: {} }),
  Subtract: () => ({ className: 'Subtract', config: {} }),
  Multiply: () => ({ className: 'Multiply', config: {} }),
  Average: () => ({ className: 'Average', config: {} }),
  Maximum: () => ({ className: 'Maximum', config: {} }),
  Minimum: () => ({ className: 'Minimum', config: {} }),
  Concatenate: (c) => ({ className: 'Concatenate', config: pick(c, { axis: 'axis' }) }),
  Softmax: (c, at) => {
    if (c.axis !== undefined && c.axis !== -1) throw new FormatError(at, `Softmax over axis ${c.axis}`);
    return { className: 'Activation', config: { activation: 'softmax' } };
  },
};

/** The per-sample input shape from a Keras `batch_input_shape`/`batch_shape`, or undefined. */
function inputShapeOf(c: Config, at: string): number[] | undefined {
  const shape = c.batch_input_shape ?? c.batch_shape;
  if (shape === undefined || shape === null) return undefined;
  if (!Array.isArray(shape) || shape.length < 2 || !shape.slice(1).every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new FormatError(at, `batch_input_shape ${JSON.stringify(shape)} must be [null, positive sizes...]`);
  }
  return shape.slice(1) as number[];
}

/** Translates a Keras/tfjs Sequential topology into a wasmgrad Sequential topology. */
export function translateTopology(topology: unknown, file: string): Config {
  let t = topology;
  if (isPlainObject(t) && isPlainObject(t.model_config)) t = t.model_config; // tensorflowjs_converter
  if (!isPlainObject(t) || typeof t.class_name !== 'string') {
    throw new FormatError(file, 'modelTopology must be a Keras model { class_name, config }');
  }
  if (t.class_name === 'Model' || t.class_name === 'Functional') return translateFunctional(t.config, file);
  if (t.class_name !== 'Sequential') {
    throw new FormatError(
      file,
      `model class '${t.class_name}' cannot be imported; Sequential and functional (Model) tfjs-layers models can`,
    );
  }
  const config = t.config;
  const layers = Array.isArray(config) ? config : isPlainObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) throw new FormatError(file, 'modelTopology.config.layers must be an array');
  const out: Config[] = [];
  let pendingInput: number[] | undefined;
  for (const [i, entry] of layers.entries()) {
    if (!isPlainObject(entry) || typeof entry.class_name !== 'string' || !isPlainObject(entry.config)) {
      throw new FormatError(file, `layer ${i} must be { class_name, config }`);
    }
    const c = entry.config;
    const at = `${file} layer ${i} '${String(c.name)}' (${entry.class_name})`;
    if (entry.class_name === 'InputLayer') {
      pendingInput = inputShapeOf(c, at);
      continue;
    }
    const inputShape = inputShapeOf(c, at) ?? (out.length === 0 ? pendingInput : undefined);
    out.push(translateLayer(entry.class_name, c, i, inputShape, file));
  }
  if (out.length === 0) throw new FormatError(file, 'the model has no layers');
  if (!(out[0] as { config: Config }).config.inputShape) {
    throw new FormatError(file, 'the first layer has no batch_input_shape: the input shape is unknown');
  }
  const name = isPlainObject(config) && typeof config.name === 'string' ? config.name : undefined;
  return {
    className: 'Sequential',
    config: { ...(name ? { name } : {}), layers: out },
    format: 'wasmgrad-layers',
    version: 1,
  };
}

/** One layer: its wasmgrad class and config (name, trainable, inputShape, translated options). */
function translateLayer(
  className: string,
  c: Config,
  i: number,
  inputShape: number[] | undefined,
  file: string,
): { className: string; config: Config } {
  if (!Object.hasOwn(TRANSLATIONS, className)) {
    throw new FormatError(
      file,
      `layer ${i} '${String(c.name)}' has class '${className}', which wasmgrad cannot import; supported: ${Object.keys(TRANSLATIONS).join(', ')}`,
    );
  }
  const translated = (TRANSLATIONS[className] as Translate)(c, `${file} layer ${i} '${String(c.name)}' (${className})`);
  const config: Config = {};
  if (typeof c.name === 'string') config.name = c.name;
  if (typeof c.trainable === 'boolean') config.trainable = c.trainable;
  if (inputShape) config.inputShape = inputShape;
  for (const [k, v] of Object.entries(translated.config)) if (v !== undefined) config[k] = v;
  return { className: translated.className, config };
}

/** A Keras tensor reference `[layerName, nodeIndex, tensorIndex, kwargs?]`, checked. */
function tensorRef(v: unknown, at: string, file: string): [string, number, number] {
  if (
    !Array.isArray(v) ||
    v.length < 3 ||
    typeof v[0] !== 'string' ||
    !Number.isSafeInteger(v[1]) ||
    !Number.isSafeInteger(v[2])
  ) {
    throw new FormatError(file, `${at} must be [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1] as number, v[2] as number];
}

/** `input_layers`/`output_layers`: a list of references (Keras writes one bare reference for one). */
function refList(v: unknown, at: string, file: string): [string, number, number][] {
  if (Array.isArray(v) && typeof v[0] === 'string') return [tensorRef(v, at, file)];
  if (!Array.isArray(v) || v.length === 0) throw new FormatError(file, `${at} must be a non-empty list`);
  return v.map((r, j) => tensorRef(r, `${at}[${j}]`, file));
}

/** A Keras functional model config → wasmgrad's Functional topology (the same graph layout). */
function translateFunctional(config: unknown, file: string): Config {
  if (!isPlainObject(config) || !Array.isArray(config.layers)) {
    throw new FormatError(file, 'a functional modelTopology needs config.layers');
  }
  const layers = config.layers.map((entry: unknown, i: number) => {
    if (!isPlainObject(entry) || typeof entry.class_name !== 'string' || !isPlainObject(entry.config)) {
      throw new FormatError(file, `layer ${i} must be { class_name, config, inbound_nodes }`);
    }
    const c = entry.config;
    const name = typeof entry.name === 'string' ? entry.name : c.name;
    if (typeof name !== 'string') throw new FormatError(file, `layer ${i} has no name`);
    const nodes = entry.inbound_nodes ?? [];
    if (!Array.isArray(nodes) || nodes.some((n) => !Array.isArray(n))) {
      throw new FormatError(
        file,
        `layer ${i} '${name}': inbound_nodes must be lists of [layer, node, tensor] (the Keras 3 form is not supported)`,
      );
    }
    const inboundNodes = nodes.map((n: unknown[], k: number) =>
      n.map((r, j) => tensorRef(r, `layer '${name}' inbound_nodes[${k}][${j}]`, file)),
    );
    if (entry.class_name === 'InputLayer') {
      const shape = inputShapeOf(c, `${file} layer ${i} '${name}' (InputLayer)`);
      if (!shape) throw new FormatError(file, `InputLayer '${name}' has no batch_input_shape`);
      return { className: 'InputLayer', config: { name, batchInputShape: [null, ...shape] }, name, inboundNodes };
    }
    return { ...translateLayer(entry.class_name, { ...c, name }, i, undefined, file), name, inboundNodes };
  });
  return {
    className: 'Functional',
    config: {
      name: typeof config.name === 'string' ? config.name : 'model',
      layers,
      inputLayers: refList(config.input_layers, 'input_layers', file),
      outputLayers: refList(config.output_layers, 'output_layers', file),
    },
    format: 'wasmgrad-layers',
    version: 1,
  };
}

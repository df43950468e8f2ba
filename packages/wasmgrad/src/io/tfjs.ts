/**
 * Importing a tfjs-layers model: the `model.json` that `model.save` of tfjs-layers (or
 * tensorflowjs_converter from Keras) writes — `{ modelTopology, weightsManifest, format }` with
 * the topology in Keras JSON form (snake_case configs) — and its binary weight shards. The Keras
 * configs are translated into wasmgrad's layer configs for the layer classes both share; any other
 * class is a FormatError naming it. Weights are matched by name (`<layer>/<weight>`), and the
 * shards are checked to hold exactly the bytes the manifest describes before anything is allocated.
 * Initializers are not carried over (the weights replace them); regularizers are.
 */
import { FormatError } from '../errors.js';
import { assembleModel, isPlainObject, type LoadedModel } from './artifacts.js';

/** A tfjs-layers model in memory: the model.json (text or parsed) and its weight files by path. */
export interface TfjsArtifacts {
  modelJSON: string | Record<string, unknown>;
  /** The bytes of every path the weightsManifest names. */
  weightFiles: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
}

/** One entry of the weights manifest. */
interface WeightSpec {
  name: string;
  shape: number[];
}

/** True when a parsed model.json looks like tfjs-layers' (not wasmgrad's own format). */
export function isTfjsModelJSON(parsed: unknown): boolean {
  return (
    isPlainObject(parsed) &&
    (parsed.format === 'layers-model' || (isPlainObject(parsed.modelTopology) && Array.isArray(parsed.weightsManifest)))
  );
}

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
  if (t.class_name !== 'Sequential') {
    throw new FormatError(
      file,
      `model class '${t.class_name}' cannot be imported; only Sequential tfjs-layers models can`,
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
    if (!Object.hasOwn(TRANSLATIONS, entry.class_name)) {
      throw new FormatError(
        file,
        `layer ${i} '${String(c.name)}' has class '${entry.class_name}', which wasmgrad cannot import; supported: ${Object.keys(TRANSLATIONS).join(', ')}`,
      );
    }
    const translated = (TRANSLATIONS[entry.class_name] as Translate)(c, at);
    const inputShape = inputShapeOf(c, at) ?? (out.length === 0 ? pendingInput : undefined);
    const layerConfig: Config = {};
    if (typeof c.name === 'string') layerConfig.name = c.name;
    if (typeof c.trainable === 'boolean') layerConfig.trainable = c.trainable;
    if (inputShape) layerConfig.inputShape = inputShape;
    for (const [k, v] of Object.entries(translated.config)) if (v !== undefined) layerConfig[k] = v;
    out.push({ className: translated.className, config: layerConfig });
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

/** Weight paths must stay beside model.json: no absolute paths, URLs or `..` segments. */
function checkWeightPath(path: unknown, file: string): string {
  if (
    typeof path !== 'string' ||
    path === '' ||
    path.startsWith('/') ||
    path.startsWith('\\') ||
    /^[a-z][a-z0-9+.-]*:/i.test(path) ||
    path.split(/[/\\]/).includes('..')
  ) {
    throw new FormatError(file, `weight path ${JSON.stringify(path)} must be a relative path beside model.json`);
  }
  return path;
}

/** The validated manifest: groups of shard paths and the weights packed in them, in order. */
export function weightsManifestOf(parsed: Config, file: string): { paths: string[]; weights: WeightSpec[] }[] {
  const manifest = parsed.weightsManifest;
  if (!Array.isArray(manifest)) throw new FormatError(file, 'weightsManifest must be an array of { paths, weights }');
  const names = new Set<string>();
  return manifest.map((group, g) => {
    if (!isPlainObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new FormatError(file, `weightsManifest[${g}] must be { paths: [...], weights: [...] }`);
    }
    const weights = group.weights.map((w: unknown, j: number): WeightSpec => {
      const at = `weightsManifest[${g}].weights[${j}]`;
      if (!isPlainObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
        throw new FormatError(file, `${at} must be { name, shape, dtype }`);
      }
      if (!w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new FormatError(file, `${at} '${w.name}' has invalid shape ${JSON.stringify(w.shape)}`);
      }
      if ((w.dtype ?? 'float32') !== 'float32') {
        throw new FormatError(file, `${at} '${w.name}' has dtype '${w.dtype}'; only float32 weights can be imported`);
      }
      if (w.quantization !== undefined) {
        throw new FormatError(file, `${at} '${w.name}' is quantized; only float32 weights can be imported`);
      }
      if (names.has(w.name)) throw new FormatError(file, `duplicate weight name '${w.name}'`);
      names.add(w.name);
      return { name: w.name, shape: w.shape as number[] };
    });
    return { paths: group.paths.map((p: unknown) => checkWeightPath(p, file)), weights };
  });
}

/**
 * Slices the shards into named float32 weights. Every group's shards must hold exactly the bytes
 * its weights need (checked before anything is copied).
 */
export function unpackWeights(
  groups: { paths: string[]; weights: WeightSpec[] }[],
  shards: ReadonlyMap<string, Uint8Array>,
  file: string,
): Map<string, { shape: number[]; data: Float32Array }> {
  const plans = groups.map((group) => {
    let total = 0;
    for (const p of group.paths) {
      const bytes = shards.get(p);
      if (!bytes) throw new FormatError(file, `weight file '${p}' is missing`);
      total += bytes.length;
    }
    let need = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (!Number.isSafeInteger(count * 4) || count * 4 > total) {
        throw new FormatError(
          file,
          `weight '${w.name}' of shape [${w.shape}] needs more than the ${total} bytes of ${group.paths.join(', ')}`,
        );
      }
      need += count * 4;
    }
    if (need !== total) {
      throw new FormatError(
        file,
        `weight files ${group.paths.join(', ')} hold ${total} bytes, the manifest describes ${need}`,
      );
    }
    return { group, total };
  });
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { group, total } of plans) {
    const joined = new Uint8Array(total);
    let at = 0;
    for (const p of group.paths) {
      const bytes = shards.get(p) as Uint8Array;
      joined.set(bytes, at);
      at += bytes.length;
    }
    const view = new DataView(joined.buffer);
    let offset = 0;
    for (const w of group.weights) {
      const data = new Float32Array(w.shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * data.length;
      out.set(w.name, { shape: w.shape, data });
    }
  }
  return out;
}

/**
 * tfjs names weights `<layer>/<weight>`, as wasmgrad does; Keras-converted files may add scopes in
 * front (`sequential/dense/kernel`): those are cut back to the segment naming a layer.
 */
function renameToLayers(
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  layerNames: ReadonlySet<string>,
  file: string,
): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, w] of weights) {
    const parts = name.split('/');
    const at = parts.findIndex((p, i) => i < parts.length - 1 && layerNames.has(p));
    const renamed = at > 0 ? parts.slice(at).join('/') : name;
    if (out.has(renamed)) throw new FormatError(file, `weights '${name}' and another both map to '${renamed}'`);
    out.set(renamed, w);
  }
  return out;
}

/** Imports parsed tfjs model.json content with its shards (by path) into a wasmgrad model. */
export function importTfjs(parsed: unknown, shards: ReadonlyMap<string, Uint8Array>, file = 'model.json'): LoadedModel {
  if (!isTfjsModelJSON(parsed)) {
    throw new FormatError(file, 'not a tfjs-layers model.json (modelTopology + weightsManifest)');
  }
  const p = parsed as Config;
  const topology = translateTopology(p.modelTopology, file);
  const weights = unpackWeights(weightsManifestOf(p, file), shards, file);
  const layers = (topology.config as { layers: { config: { name?: unknown } }[] }).layers;
  const names = new Set(layers.flatMap((l) => (typeof l.config.name === 'string' ? [l.config.name] : [])));
  return assembleModel(topology, renameToLayers(weights, names, file), file);
}

/** Accepts the shard map in either form. */
export function shardMap(files: TfjsArtifacts['weightFiles']): Map<string, Uint8Array> {
  if (files instanceof Map) return new Map(files);
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(files)) out.set(k, v);
  return out;
}

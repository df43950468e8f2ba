/**
 * A saved model's two artifacts and the single-file bundle, independent of where they are stored.
 *
 * - `model.json`: `{ format: 'wasmgrad-model', version: 1, modelTopology, weightsManifest }` — the
 *   topology from `model.toJSON()` and the size, CRC-32, names and shapes of the weights file.
 * - `weights.safetensors`: the weights (float32, named `<layer>/<weight>`), whose `__metadata__`
 *   also carries the topology under {@link TOPOLOGY_KEY}. That makes the weights file on its own a
 *   complete single-file model (the *bundle*): `wg.loadModel(bytes)` or `wg.loadModel('m.safetensors')`.
 *   Safetensors readers that know nothing of wasmgrad (PyTorch, `safetensors`) ignore the metadata.
 *
 * Loading validates everything — the safetensors layout, JSON, the closed layer registry, and each
 * weight's name and shape against the rebuilt model — before any weight is written.
 */
import { FormatError, fmtShape, ValueError, WasmgradError } from '../errors.js';
import { modelFromJSON } from '../model/serialize.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from './safetensors.js';

/** A saved model in memory: the `model.json` text and the `weights.safetensors` bytes (a bundle). */
export interface ModelArtifacts {
  modelJSON: string;
  weights: Uint8Array;
}

/** The content of `model.json`. */
export interface SavedModelJSON {
  format: 'wasmgrad-model';
  version: 1;
  modelTopology: Topology;
  weightsManifest: {
    file: 'weights.safetensors';
    /** Byte length and CRC-32 of the weights file: a model.json never pairs with other weights. */
    bytes: number;
    crc32: number;
    weights: { name: string; shape: number[]; dtype: 'float32' }[];
  };
}

/** A model topology as modelFromJSON accepts it (Sequential, or a graph model's). */
export type Topology = Exclude<Parameters<typeof modelFromJSON>[0], string>;

/** What saving needs of a model (Sequential, or any model with the same three members). */
export interface SaveableModel {
  toJSON(): unknown;
  readonly weights: readonly { name: string; shape: readonly number[] }[];
  getWeights(): Tensor[];
}

/** The model class loading returns (whatever the topology registry builds). */
export type LoadedModel = ReturnType<typeof modelFromJSON>;

/** Tensors by name, as decoded from a weights file. */
export type NamedWeights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';
/** The `__metadata__` key of weights.safetensors that holds the topology JSON. */
export const TOPOLOGY_KEY = 'wasmgrad.topology';

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, as zlib/PNG). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (crcTable[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const isSaveable = (m: unknown): m is SaveableModel =>
  typeof m === 'object' &&
  m !== null &&
  typeof (m as SaveableModel).toJSON === 'function' &&
  typeof (m as SaveableModel).getWeights === 'function' &&
  Array.isArray((m as SaveableModel).weights);

/** Serializes a model to its two artifacts (in memory; nothing is written). */
export function serializeModel(model: SaveableModel): ModelArtifacts {
  if (!isSaveable(model)) throw new ValueError('saveModel', `expected a model, got ${typeof model}`);
  const tensors = model.getWeights();
  try {
    const named = model.weights.map((w, i) => ({
      name: w.name,
      shape: [...w.shape],
      data: (tensors[i] as Tensor).dataSync(),
    }));
    const modelTopology = model.toJSON() as Topology;
    const weights = encodeSafetensors(named, {
      format: 'pt',
      producer: 'wasmgrad',
      [TOPOLOGY_KEY]: JSON.stringify(modelTopology),
    });
    const saved: SavedModelJSON = {
      format: 'wasmgrad-model',
      version: 1,
      modelTopology,
      weightsManifest: {
        file: WEIGHTS_FILE,
        bytes: weights.length,
        crc32: crc32(weights),
        weights: named.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' })),
      },
    };
    return { modelJSON: JSON.stringify(saved, null, 1), weights };
  } finally {
    for (const t of tensors) t.dispose();
  }
}

/** The single-file form of a model: safetensors bytes with the topology in their metadata. */
export function serializeBundle(model: SaveableModel): Uint8Array {
  return serializeModel(model).weights;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Validates a parsed model.json far enough to trust its fields (the topology is checked by modelFromJSON). */
function checkSavedModel(parsed: unknown, file: string): SavedModelJSON {
  if (!isPlainObject(parsed) || parsed.format !== 'wasmgrad-model' || parsed.version !== 1) {
    throw new FormatError(file, `expected { format: 'wasmgrad-model', version: 1, ... }`);
  }
  const manifest = parsed.weightsManifest;
  if (
    !isPlainObject(manifest) ||
    !Number.isSafeInteger(manifest.bytes) ||
    !Number.isSafeInteger(manifest.crc32) ||
    !Array.isArray(manifest.weights)
  ) {
    throw new FormatError(file, 'weightsManifest must be { file, bytes, crc32, weights: [...] }');
  }
  for (const [i, w] of (manifest.weights as unknown[]).entries()) {
    if (!isPlainObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || w.dtype !== 'float32') {
      throw new FormatError(file, `weightsManifest.weights[${i}] must be { name, shape, dtype: 'float32' }`);
    }
  }
  return parsed as unknown as SavedModelJSON;
}

/** Parses JSON text, naming `file` on failure. */
export function parseJSON(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `invalid JSON: ${(err as Error).message}`);
  }
}

/** Decodes UTF-8 strictly, naming `file` on failure. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(file, 'not valid UTF-8');
  }
}

/**
 * Builds the model a topology describes and sets its weights from `weights`, after checking that
 * every weight of the model is present with its exact shape and that nothing else is. A failure
 * frees the model and throws a FormatError naming `file` and the weight.
 */
export function assembleModel(topology: unknown, weights: NamedWeights, file: string): LoadedModel {
  let model: LoadedModel;
  try {
    model = modelFromJSON(topology as Topology);
  } catch (err) {
    // Layer constructors validate their options, but a hostile file can reach helpers that assume
    // well-formed values (a TypeError): at this boundary every failure is a typed error.
    if (err instanceof WasmgradError) throw err;
    throw new FormatError(file, `invalid topology: ${(err as Error)?.message ?? err}`);
  }
  try {
    model.build();
    const wanted = model.weights;
    for (const w of wanted) {
      const t = weights.get(w.name);
      if (!t) throw new FormatError(file, `weight '${w.name}' of the model is missing`);
      if (fmtShape(t.shape) !== fmtShape(w.shape)) {
        throw new FormatError(
          file,
          `weight '${w.name}' has shape ${fmtShape(t.shape)}, the model needs ${fmtShape(w.shape)}`,
        );
      }
    }
    if (weights.size !== wanted.length) {
      const known = new Set(wanted.map((w) => w.name));
      const extra = [...weights.keys()].filter((n) => !known.has(n));
      throw new FormatError(file, `tensor '${extra[0]}' is not a weight of the model`);
    }
    const tensors = wanted.map((w) => {
      const t = weights.get(w.name) as { shape: readonly number[]; data: Float32Array };
      return tensor(t.data, [...t.shape], 'loadModel');
    });
    try {
      model.setWeights(tensors);
    } finally {
      for (const t of tensors) t.dispose();
    }
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Loads the pair of artifacts: model.json and the weights it names (size and CRC must match). */
export function loadArtifacts(
  artifacts: ModelArtifacts,
  jsonName = MODEL_FILE,
  weightsName = WEIGHTS_FILE,
): LoadedModel {
  const saved = checkSavedModel(parseJSON(artifacts.modelJSON, jsonName), jsonName);
  const { bytes, crc32: crc } = saved.weightsManifest;
  if (artifacts.weights.length !== bytes || crc32(artifacts.weights) !== crc) {
    throw new FormatError(
      weightsName,
      `does not match ${jsonName} (${artifacts.weights.length} bytes, CRC ${crc32(artifacts.weights)}; expected ${bytes} bytes, CRC ${crc})`,
    );
  }
  const file = decodeSafetensors(artifacts.weights, weightsName);
  return assembleModel(saved.modelTopology, file.tensors, weightsName);
}

/** The topology stored in a decoded bundle's metadata; a FormatError if it has none. */
export function bundleTopology(file: SafetensorsFile, name: string): unknown {
  const text = file.metadata.get(TOPOLOGY_KEY);
  if (text === undefined) {
    throw new FormatError(
      name,
      `has no '${TOPOLOGY_KEY}' metadata: it holds weights only, not a wasmgrad model (load its weights into a model built in code)`,
    );
  }
  return parseJSON(text, `${name} metadata '${TOPOLOGY_KEY}'`);
}

/** Loads a single-file bundle (safetensors bytes with the topology in `__metadata__`). */
export function loadBundle(bytes: Uint8Array, name = 'bundle'): LoadedModel {
  const file = decodeSafetensors(bytes, name);
  return assembleModel(bundleTopology(file, name), file.tensors, name);
}

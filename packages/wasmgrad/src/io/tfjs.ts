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
import { translateTopology } from './tfjs-topology.js';

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
 * front (`sequential/dense/kernel`): those are cut back to the segment naming a layer, and a
 * recurrent cell's scope after it (`lstm/lstm_cell/kernel`) is dropped.
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
    let kept = at > 0 ? parts.slice(at) : parts;
    // Keras recurrent layers scope their weights by cell: `lstm/lstm_cell/kernel` is `lstm/kernel`.
    if (at >= 0 && kept.length === 3 && /cell(_\d+)?$/.test(kept[1] as string)) kept = [kept[0], kept[2]] as string[];
    const renamed = kept.join('/');
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

/**
 * `saveModel`/`model.save(target)` and `loadModel(source)`, with tfjs-style targets:
 *
 * | target / source                  | save                                     | load                         |
 * | -------------------------------- | ---------------------------------------- | ---------------------------- |
 * | `'memory'` (default)             | returns the artifacts only               | —                            |
 * | a directory path (Node, Deno)    | model.json + weights.safetensors, atomic | same; tfjs-layers dirs too   |
 * | `…/x.safetensors` path           | the single-file bundle, atomic           | the bundle                   |
 * | `…/model.json` path or URL       | —                                        | wasmgrad's or tfjs-layers'   |
 * | `http(s)://…` URL (fetch)        | —                                        | a directory, .json or bundle |
 * | `indexeddb://name` (browsers)    | one transaction, keeps the previous save | current or previous save     |
 * | `downloads://name` (browsers)    | downloads `name.safetensors` (bundle)    | —                            |
 * | bytes (Uint8Array, ArrayBuffer, Blob) | —                                   | the bundle                   |
 * | `{ modelJSON, weights }`         | (what every save returns)                | the two artifacts            |
 * | `{ modelJSON, weightFiles }`     | —                                        | a tfjs-layers model          |
 *
 * Every load validates the whole input (layout, JSON, layer registry, names and shapes) before any
 * weight is written, and fails with a FormatError or ValueError naming the file and the value.
 */
import { readBytes } from '../data/read.js';
import { ValueError } from '../errors.js';
import { ready } from '../runtime/runtime.js';
import {
  decodeUtf8,
  isPlainObject,
  type LoadedModel,
  loadArtifacts,
  loadBundle,
  MODEL_FILE,
  type ModelArtifacts,
  parseJSON,
  type SaveableModel,
  serializeModel,
  WEIGHTS_FILE,
} from './artifacts.js';
import { downloadBundle } from './download.js';
import { joinPath, writeArtifacts, writeFileAtomic } from './files.js';
import { idbLoad, idbSave } from './indexeddb.js';
import { importTfjs, isTfjsModelJSON, shardMap, type TfjsArtifacts, weightsManifestOf } from './tfjs.js';

export {
  crc32,
  MODEL_FILE,
  type ModelArtifacts,
  type SavedModelJSON,
  serializeModel,
  WEIGHTS_FILE,
} from './artifacts.js';
export { type FileOps, nodeFileOps, writeArtifacts } from './files.js';

/** Options of {@link loadModel}. */
export interface LoadOptions {
  /** For `indexeddb://`: load the save before the last one instead of the last one. */
  generation?: 'current' | 'previous';
}

/** Anything {@link loadModel} accepts. */
export type ModelSource = string | URL | ModelArtifacts | TfjsArtifacts | Uint8Array | ArrayBuffer | Blob;

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The scheme of a URL-like string (`indexeddb`, `https`, …) and the rest, or undefined for a path. */
function splitScheme(target: string): { scheme: string; rest: string } | undefined {
  const m = SCHEME.exec(target);
  return m ? { scheme: (m[1] as string).toLowerCase(), rest: target.slice(m[0].length) } : undefined;
}

/** A file: URL → a path; other strings unchanged. */
const localPath = (target: string): string =>
  target.startsWith('file://') ? decodeURIComponent(new URL(target).pathname) : target;

/**
 * Saves a model (tfjs `model.save`): see the table above for targets. Resolves, for every target,
 * to the artifacts in memory (`weights` is the single-file bundle).
 */
export async function saveModel(model: SaveableModel, target: string | URL = 'memory'): Promise<ModelArtifacts> {
  const where = String(target);
  if ((typeof target !== 'string' && !(target instanceof URL)) || where === '') {
    throw new ValueError(
      'saveModel',
      `target must be a directory path, a .safetensors path, 'indexeddb://name', 'downloads://name' or 'memory', got ${String(target)}`,
    );
  }
  const url = splitScheme(where);
  if (url && url.scheme !== 'file' && url.scheme !== 'indexeddb' && url.scheme !== 'downloads') {
    throw new ValueError(
      `saveModel ${where}`,
      `cannot save to '${url.scheme}://' (saving supports paths, file://, indexeddb:// and downloads://)`,
    );
  }
  if ((url?.scheme === 'indexeddb' || url?.scheme === 'downloads') && url.rest === '') {
    throw new ValueError(`saveModel ${where}`, 'a name is needed after the scheme');
  }
  const artifacts = serializeModel(model);
  if (where === 'memory') return artifacts;
  if (url?.scheme === 'indexeddb') await idbSave(url.rest, artifacts.weights);
  else if (url?.scheme === 'downloads') await downloadBundle(url.rest, artifacts.weights);
  else {
    const path = localPath(where);
    if (path.endsWith('.safetensors')) await writeFileAtomic(path, artifacts.weights);
    else await writeArtifacts(path, artifacts);
  }
  return artifacts;
}

/** The location of `file` beside `jsonLocation` (a path or URL of a model.json). */
function sibling(jsonLocation: string, file: string): string {
  if (splitScheme(jsonLocation)) return new URL(file, jsonLocation).href;
  const cut = jsonLocation.lastIndexOf('/');
  return cut < 0 ? file : joinPath(jsonLocation.slice(0, cut), file);
}

/** Loads from a model.json path/URL: wasmgrad's (with its weights file) or tfjs-layers' (with its shards). */
async function loadFromJSONFile(jsonLocation: string): Promise<LoadedModel> {
  const text = decodeUtf8(await readBytes(jsonLocation), jsonLocation);
  const parsed = parseJSON(text, jsonLocation);
  if (isTfjsModelJSON(parsed)) {
    const groups = weightsManifestOf(parsed as Record<string, unknown>, jsonLocation);
    const paths = [...new Set(groups.flatMap((g) => g.paths))];
    const shards = new Map<string, Uint8Array>();
    await Promise.all(paths.map(async (p) => shards.set(p, await readBytes(sibling(jsonLocation, p)))));
    return importTfjs(parsed, shards, jsonLocation);
  }
  const weightsLocation = sibling(jsonLocation, WEIGHTS_FILE);
  return loadArtifacts({ modelJSON: text, weights: await readBytes(weightsLocation) }, jsonLocation, weightsLocation);
}

/**
 * Loads a model (tfjs `tf.loadLayersModel`) from any source in the table above: saved by
 * {@link saveModel} or by tfjs-layers. Loads the wasm module if needed (like `wg.ready()`); nothing
 * is allocated in it before the input is validated.
 */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  await ready(); // the wasm module, loaded once (as fit does), so a page can load a model first
  if (source instanceof Uint8Array) return loadBundle(source);
  if (source instanceof ArrayBuffer) return loadBundle(new Uint8Array(source));
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as { name?: string }).name || 'blob';
    return loadBundle(new Uint8Array(await source.arrayBuffer()), name);
  }
  if (isPlainObject(source) && typeof source.modelJSON === 'string' && source.weights instanceof Uint8Array) {
    return loadArtifacts(source as unknown as ModelArtifacts);
  }
  if (isPlainObject(source) && (isPlainObject(source.weightFiles) || source.weightFiles instanceof Map)) {
    const tfjs = source as unknown as TfjsArtifacts;
    const parsed = typeof tfjs.modelJSON === 'string' ? parseJSON(tfjs.modelJSON, MODEL_FILE) : tfjs.modelJSON;
    return importTfjs(parsed, shardMap(tfjs.weightFiles), MODEL_FILE);
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new ValueError(
      'loadModel',
      'source must be a path or URL, bytes of a .safetensors bundle, { modelJSON, weights } or { modelJSON, weightFiles }',
    );
  }
  const where = String(source);
  const url = splitScheme(where);
  if (url?.scheme === 'indexeddb') {
    const stored = await idbLoad(url.rest, options.generation ?? 'current');
    return loadBundle(stored.bytes, options.generation === 'previous' ? `${where} (previous)` : where);
  }
  if (url?.scheme === 'downloads') {
    throw new ValueError(`loadModel ${where}`, 'cannot load from downloads://; pass the downloaded File or its bytes');
  }
  const location = url?.scheme === 'file' ? where : localPath(where);
  const bare = location.replace(/[?#].*$/, '');
  if (bare.endsWith('.safetensors')) return loadBundle(await readBytes(location), location);
  if (bare.endsWith('.json')) return loadFromJSONFile(location);
  return loadFromJSONFile(url ? `${location.replace(/\/+$/, '')}/${MODEL_FILE}` : joinPath(location, MODEL_FILE));
}

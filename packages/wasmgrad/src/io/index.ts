/**
 * `wg.io`: model files and storage. `wg.saveModel`/`wg.loadModel` (also exported at the top level)
 * cover every target; the rest is for users who need one piece: the single-file bundle, the
 * tfjs-layers import, the safetensors codec, and the IndexedDB model store.
 */
import { ValueError } from '../errors.js';
import { idbRemove } from './indexeddb.js';
import { loadModel } from './model-io.js';
import type { TfjsArtifacts } from './tfjs.js';

export {
  type LoadedModel,
  loadBundle,
  type ModelArtifacts,
  type SaveableModel,
  type SavedModelJSON,
  serializeBundle,
  serializeModel,
  TOPOLOGY_KEY,
} from './artifacts.js';
export { downloadFileName } from './download.js';
export { idbList as listModels, type StoredInfo } from './indexeddb.js';
export { type LoadOptions, loadModel, type ModelSource, saveModel } from './model-io.js';
export { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsFile } from './safetensors.js';
export type { TfjsArtifacts } from './tfjs.js';

/** Deletes a model stored under `indexeddb://name` (both generations), like tfjs `tf.io.removeModel`. */
export async function removeModel(url: string): Promise<void> {
  const m = /^indexeddb:\/\/(.+)$/i.exec(url);
  if (!m) throw new ValueError('removeModel', `expected 'indexeddb://name', got '${url}'`);
  await idbRemove(m[1] as string);
}

/**
 * Imports a tfjs-layers model (tfjs `model.save` output or tensorflowjs_converter's): a model.json
 * path/URL (its weight files are read beside it) or `{ modelJSON, weightFiles }` in memory.
 * Same as {@link loadModel}, which recognises tfjs files by their content.
 */
export function fromTfjs(source: string | URL | TfjsArtifacts): ReturnType<typeof loadModel> {
  return loadModel(source);
}

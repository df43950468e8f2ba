/**
 * Saving and loading whole models: `model.json` (the topology from toJSON plus a manifest of weight
 * names and shapes) and `weights.safetensors` (the weights, float32). Loading validates everything
 * — JSON, the closed layer registry, the safetensors file, names and shapes against the rebuilt
 * model — before any weight is written.
 */
import { readBytes } from '../data/read.js';
import { FormatError, fmtShape, ValueError } from '../errors.js';
import type { Sequential } from '../model/model.js';
import { type ModelJSON, SequentialBase } from '../model/sequential.js';
import { modelFromJSON } from '../model/serialize.js';
import { tensor } from '../tensor/creation.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** A saved model in memory: the `model.json` text and the `weights.safetensors` bytes. */
export interface ModelArtifacts {
  modelJSON: string;
  weights: Uint8Array;
}

/** The content of `model.json`. */
export interface SavedModelJSON {
  format: 'wasmgrad-model';
  version: 1;
  modelTopology: ModelJSON;
  weightsManifest: {
    file: 'weights.safetensors';
    /** Byte length and CRC-32 of the weights file: a model.json never pairs with other weights. */
    bytes: number;
    crc32: number;
    weights: { name: string; shape: number[]; dtype: 'float32' }[];
  };
}

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

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

/** Serializes a model to its two artifacts (in memory; nothing is written). */
export function serializeModel(model: SequentialBase): ModelArtifacts {
  if (!(model instanceof SequentialBase))
    throw new ValueError('saveModel', `expected a Sequential model, got ${typeof model}`);
  const tensors = model.getWeights();
  try {
    const named = model.weights.map((w, i) => ({
      name: w.name,
      shape: [...w.shape],
      data: (tensors[i] as (typeof tensors)[number]).dataSync(),
    }));
    const weights = encodeSafetensors(named, { format: 'pt', producer: 'wasmgrad' });
    const saved: SavedModelJSON = {
      format: 'wasmgrad-model',
      version: 1,
      modelTopology: model.toJSON(),
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

/** The few file operations saving needs; replaceable in tests to inject failures. */
export interface FileOps {
  mkdir(dir: string): Promise<void>;
  /** Writes a new file and flushes it to disk. */
  write(path: string, bytes: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Flushes a directory's entries (the renames) to disk; a no-op where unsupported. */
  syncDir(dir: string): Promise<void>;
}

interface NodeFs {
  mkdir(p: string, o: { recursive: boolean }): Promise<unknown>;
  open(
    p: string,
    flags: string,
  ): Promise<{ writeFile(b: Uint8Array): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(a: string, b: string): Promise<void>;
  rm(p: string, o: { force: boolean }): Promise<void>;
}

/** File operations through `node:fs/promises` (Node, and Deno's Node compatibility). */
export async function nodeFileOps(): Promise<FileOps> {
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as NodeFs;
  return {
    mkdir: async (dir) => {
      await fs.mkdir(dir, { recursive: true });
    },
    write: async (path, bytes) => {
      const handle = await fs.open(path, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    rename: (from, to) => fs.rename(from, to),
    remove: (path) => fs.rm(path, { force: true }),
    syncDir: async (dir) => {
      // Directories cannot be opened for fsync on Windows; durability there rests on the OS.
      const handle = await fs.open(dir, 'r').catch(() => undefined);
      if (!handle) return;
      try {
        await handle.sync().catch(() => undefined);
      } finally {
        await handle.close();
      }
    },
  };
}

const joinPath = (dir: string, file: string) => `${dir.replace(/\/+$/, '')}/${file}`;

/**
 * Writes the artifacts into `dir` atomically per file: each goes to a temporary file in the same
 * directory (flushed), then is renamed over the old one; the weights are renamed first and
 * model.json last. A failure before the renames leaves the previous save untouched (temporary files
 * are removed); model.json records the weights' size and CRC, so the pair left by a crash between
 * the two renames is refused rather than loaded mixed.
 */
export async function writeArtifacts(dir: string, artifacts: ModelArtifacts, ops?: FileOps): Promise<void> {
  const fs = ops ?? (await nodeFileOps());
  const op = `saveModel ${dir}`;
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const files = [
    {
      final: joinPath(dir, WEIGHTS_FILE),
      temp: joinPath(dir, `.${WEIGHTS_FILE}.${tag}.tmp`),
      bytes: artifacts.weights,
    },
    {
      final: joinPath(dir, MODEL_FILE),
      temp: joinPath(dir, `.${MODEL_FILE}.${tag}.tmp`),
      bytes: new TextEncoder().encode(artifacts.modelJSON),
    },
  ];
  try {
    await fs.mkdir(dir);
    for (const f of files) await fs.write(f.temp, f.bytes);
    for (const f of files) await fs.rename(f.temp, f.final);
    await fs.syncDir(dir);
  } catch (err) {
    for (const f of files) await fs.remove(f.temp).catch(() => undefined);
    throw new ValueError(op, `could not save: ${(err as Error).message}`);
  }
}

/**
 * Saves a model (tfjs `model.save`). `target`: a directory path (Node, Deno), written atomically
 * as `model.json` + `weights.safetensors`; or `'memory'`/omitted to only return the artifacts.
 * Always resolves to the artifacts.
 */
export async function saveModel(model: SequentialBase, target: string = 'memory'): Promise<ModelArtifacts> {
  if (typeof target !== 'string' || target === '') {
    throw new ValueError('saveModel', `target must be a directory path or 'memory', got ${String(target)}`);
  }
  const artifacts = serializeModel(model);
  if (target !== 'memory') await writeArtifacts(target, artifacts);
  return artifacts;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
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

/**
 * Loads a model saved by {@link saveModel}: from a directory path or URL (`model.json` and
 * `weights.safetensors` inside it), or from in-memory artifacts. Topology, weights file and the
 * match of every weight's name and shape are validated before any weight is set.
 */
export async function loadModel(source: string | URL | ModelArtifacts): Promise<Sequential> {
  let artifacts: ModelArtifacts;
  let jsonName = MODEL_FILE;
  let weightsName = WEIGHTS_FILE;
  if (typeof source === 'string' || source instanceof URL) {
    const dir = String(source);
    jsonName = joinPath(dir, MODEL_FILE);
    weightsName = joinPath(dir, WEIGHTS_FILE);
    const [json, weights] = await Promise.all([readBytes(jsonName), readBytes(weightsName)]);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    } catch {
      throw new FormatError(jsonName, 'not valid UTF-8');
    }
    artifacts = { modelJSON: text, weights };
  } else if (isPlainObject(source) && typeof source.modelJSON === 'string' && source.weights instanceof Uint8Array) {
    artifacts = source;
  } else {
    throw new ValueError(
      'loadModel',
      'source must be a directory path, a URL or { modelJSON: string, weights: Uint8Array }',
    );
  }
  return loadArtifacts(artifacts, jsonName, weightsName);
}

function loadArtifacts(artifacts: ModelArtifacts, jsonName: string, weightsName: string): Sequential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(artifacts.modelJSON);
  } catch (err) {
    throw new FormatError(jsonName, `invalid JSON: ${(err as Error).message}`);
  }
  const saved = checkSavedModel(parsed, jsonName);
  const { bytes, crc32: crc } = saved.weightsManifest;
  if (artifacts.weights.length !== bytes || crc32(artifacts.weights) !== crc) {
    throw new FormatError(
      weightsName,
      `does not match ${jsonName} (${artifacts.weights.length} bytes, CRC ${crc32(artifacts.weights)}; expected ${bytes} bytes, CRC ${crc})`,
    );
  }
  const file = decodeSafetensors(artifacts.weights, weightsName);
  const model = modelFromJSON(saved.modelTopology);
  try {
    model.build();
    const weights = model.weights;
    for (const w of weights) {
      const t = file.tensors.get(w.name);
      if (!t) throw new FormatError(weightsName, `weight '${w.name}' of the model is missing`);
      if (fmtShape(t.shape) !== fmtShape(w.shape)) {
        throw new FormatError(
          weightsName,
          `weight '${w.name}' has shape ${fmtShape(t.shape)}, the model needs ${fmtShape(w.shape)}`,
        );
      }
    }
    if (file.tensors.size !== weights.length) {
      const known = new Set(weights.map((w) => w.name));
      const extra = [...file.tensors.keys()].filter((n) => !known.has(n));
      throw new FormatError(weightsName, `tensor '${extra[0]}' is not a weight of the model`);
    }
    const tensors = weights.map((w) => {
      const t = file.tensors.get(w.name) as { shape: number[]; data: Float32Array };
      return tensor(t.data, t.shape, 'loadModel');
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

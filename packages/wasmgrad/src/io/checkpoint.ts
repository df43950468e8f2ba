/**
 * Training checkpoints: weights, optimizer state (iteration count, slot buffers, options with any
 * schedule) and the fit cursor (epoch, batch, step, seed) in one file, so that a resumed run
 * continues exactly where the checkpoint was taken.
 *
 * File layout: the 8 bytes `WGCKPT01`, the CRC-32 and byte length of the payload (u32 LE each), then
 * the payload, a safetensors file whose tensors are `weights/<name>` and `optimizer/<i>` and whose
 * metadata key `wasmgrad.checkpoint` holds the JSON description. Every byte is covered by the CRC,
 * so a damaged or truncated file is a {@link FormatError}, never a silently wrong resume.
 *
 * Where checkpoints are kept (memory, files with generations): ./checkpoint-store.ts.
 */
import { FormatError, fmtShape, ValueError } from '../errors.js';
import type { Optimizer, OptimizerState } from '../optimizers/optimizers.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CheckpointStore, checkpointStore } from './checkpoint-store.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export {
  type CheckpointFileOps,
  type CheckpointStore,
  checkpointStore,
  FileCheckpointStore,
  type IndexedDbApi,
  IndexedDbCheckpointStore,
  MemoryCheckpointStore,
  nodeCheckpointFileOps,
} from './checkpoint-store.js';

/** Where fit resumes: in `epoch`, after `batch` applied batches, at optimizer step `step`, with `seed`. */
export interface FitCursor {
  /** The epoch to continue (0-based). */
  epoch: number;
  /** Batches of that epoch already applied (0: the epoch starts afresh). */
  batch: number;
  /** Updates applied since the model was created (Adam's t and dropout's step counter). */
  step: number;
  /** The fit seed: shuffling of every epoch and dropout masks derive from it. */
  seed: number;
  /** The fit's batch size and training sample count (absent in older checkpoints): a resumed fit must match them. */
  batchSize?: number;
  samples?: number;
}

/**
 * Throws the ValueError {@link restoreCheckpoint} would, without changing anything: the weights
 * must match the model's in count and shapes (by position, as Keras loads weights: generated
 * layer names such as dense_3 differ between two models of one architecture), and optimizer
 * state must be for the model's optimizer class.
 */
export function checkRestorable(model: CheckpointModel, ckpt: Checkpoint, op = 'restoreCheckpoint'): void {
  const wanted = model.weights;
  if (ckpt.weights.length !== wanted.length) {
    throw new ValueError(op, `the checkpoint has ${ckpt.weights.length} weights, the model ${wanted.length}`);
  }
  wanted.forEach((w, i) => {
    const got = ckpt.weights[i] as Checkpoint['weights'][number];
    if (fmtShape(got.shape) !== fmtShape(w.shape)) {
      throw new ValueError(
        op,
        `weight ${i} is '${got.name}' ${fmtShape(got.shape)} in the checkpoint, '${w.name}' ${fmtShape(w.shape)} in the model`,
      );
    }
  });
  if (ckpt.optimizer && ckpt.optimizer.className !== model.optimizer.className) {
    throw new ValueError(
      op,
      `the checkpoint holds ${ckpt.optimizer.className} state, the model uses ${model.optimizer.className}`,
    );
  }
}

/**
 * A checkpoint's cursor continues a fit only with the batch size and training sample count it
 * was written with (batch positions and shuffles depend on both): a ValueError from `op` naming
 * both values otherwise. Cursors written before they were recorded pass.
 */
export function checkResumable(
  op: string,
  resume: FitCursor,
  current: { readonly batchSize?: number; readonly samples?: number },
): void {
  if (resume.batchSize !== undefined && resume.batchSize !== current.batchSize) {
    throw new ValueError(
      op,
      `the checkpoint to resume was written by a fit with batchSize ${resume.batchSize}, this fit has batchSize ${current.batchSize}: resume with the same batch size`,
    );
  }
  if (resume.samples !== undefined && resume.samples !== current.samples) {
    throw new ValueError(
      op,
      `the checkpoint to resume was written by a fit over ${resume.samples} training samples, this fit has ${current.samples}: resume on the same data (and validationSplit)`,
    );
  }
}

/** A checkpoint in memory. */
export interface Checkpoint {
  /** Every weight of the model (trainable and not), by name, in model order. */
  weights: { name: string; shape: number[]; data: Float32Array }[];
  /** Absent in weights-only checkpoints. */
  optimizer?: { className: string; config: Record<string, unknown>; state: OptimizerState };
  /** Absent in weights-only checkpoints. */
  cursor?: FitCursor;
  /** The logs of the epoch or batch at which it was written. */
  logs?: Record<string, number>;
}

/** What a checkpoint needs of a model (Sequential and functional models have it). */
export interface CheckpointModel {
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  getWeights(): Tensor[];
  setWeights(weights: Tensor[]): void;
  readonly optimizer: Optimizer;
}

const MAGIC = 'WGCKPT01';
const META_KEY = 'wasmgrad.checkpoint';
const HEAD = 16;

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, as zlib). */
function crc32(bytes: Uint8Array): number {
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

/** Captures a model's weights and, unless `weightsOnly`, its optimizer state and the fit cursor. */
export function captureCheckpoint(
  model: CheckpointModel,
  options: { cursor?: FitCursor; logs?: Record<string, number>; weightsOnly?: boolean } = {},
): Checkpoint {
  const tensors = model.getWeights();
  try {
    const weights = model.weights.map((w, i) => ({
      name: w.name,
      shape: [...w.shape],
      data: (tensors[i] as Tensor).dataSync().slice(),
    }));
    const ckpt: Checkpoint = { weights };
    if (options.logs) ckpt.logs = { ...options.logs };
    if (!options.weightsOnly) {
      const opt = model.optimizer;
      ckpt.optimizer = { className: opt.className, config: opt.getConfig(), state: opt.getState() };
      if (options.cursor) ckpt.cursor = { ...options.cursor };
    }
    return ckpt;
  } finally {
    for (const t of tensors) t.dispose();
  }
}

/**
 * Puts a checkpoint's weights (and optimizer state, when it has one) into a compiled model. Names,
 * shapes, the optimizer class and state sizes are all checked before anything is written.
 */
export function restoreCheckpoint(model: CheckpointModel, ckpt: Checkpoint, op = 'restoreCheckpoint'): void {
  checkRestorable(model, ckpt, op);
  if (ckpt.optimizer) model.optimizer.setState(ckpt.optimizer.state);
  const tensors = ckpt.weights.map((w) => tensor(w.data, w.shape, op));
  try {
    model.setWeights(tensors);
  } finally {
    for (const t of tensors) t.dispose();
  }
}

interface Meta {
  format: 'wasmgrad-checkpoint';
  version: 1;
  weights: string[];
  optimizer: { className: string; config: Record<string, unknown>; iterations: number; slots: number } | null;
  cursor: FitCursor | null;
  logs: Record<string, number> | null;
}

/** Encodes a checkpoint as the bytes of one file. */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const slots = ckpt.optimizer?.state.slots ?? [];
  const meta: Meta = {
    format: 'wasmgrad-checkpoint',
    version: 1,
    weights: ckpt.weights.map((w) => w.name),
    optimizer: ckpt.optimizer
      ? {
          className: ckpt.optimizer.className,
          config: ckpt.optimizer.config,
          iterations: ckpt.optimizer.state.iterations,
          slots: slots.length,
        }
      : null,
    cursor: ckpt.cursor ?? null,
    logs: ckpt.logs ?? null,
  };
  const payload = encodeSafetensors(
    [
      ...ckpt.weights.map((w) => ({ name: `weights/${w.name}`, shape: w.shape, data: w.data })),
      ...slots.map((s, i) => ({ name: `optimizer/${i}`, shape: [s.length], data: s })),
    ],
    { [META_KEY]: JSON.stringify(meta) },
  );
  const out = new Uint8Array(HEAD + payload.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, crc32(payload), true);
  view.setUint32(12, payload.length, true);
  out.set(payload, HEAD);
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkCursor(file: string, c: unknown): FitCursor | undefined {
  if (c === null) return undefined;
  if (!isPlainObject(c) || !isCount(c.epoch) || !isCount(c.batch) || !isCount(c.step) || !isCount(c.seed)) {
    throw new FormatError(
      file,
      `cursor must be { epoch, batch, step, seed } of integers ≥ 0, got ${JSON.stringify(c)}`,
    );
  }
  const cursor: FitCursor = { epoch: c.epoch, batch: c.batch, step: c.step, seed: c.seed };
  for (const key of ['batchSize', 'samples'] as const) {
    const v = c[key];
    if (v === undefined) continue;
    if (!isCount(v) || v === 0) {
      throw new FormatError(file, `cursor ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    cursor[key] = v;
  }
  return cursor;
}

function checkLogs(file: string, logs: unknown): Record<string, number> | undefined {
  if (logs === null) return undefined;
  if (!isPlainObject(logs) || !Object.values(logs).every((v) => typeof v === 'number' || v === null)) {
    throw new FormatError(file, 'logs must be an object of numbers');
  }
  // JSON turns NaN into null; give it back as NaN.
  return Object.fromEntries(Object.entries(logs).map(([k, v]) => [k, v === null ? Number.NaN : (v as number)]));
}

/** Decodes and validates checkpoint bytes; every inconsistency is a FormatError naming `file`. */
export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(file, 'expected the bytes of a checkpoint file');
  if (bytes.length < HEAD || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new FormatError(file, `not a wasmgrad checkpoint (${bytes.length} bytes, no '${MAGIC}' header)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = view.getUint32(8, true);
  const length = view.getUint32(12, true);
  if (length !== bytes.length - HEAD) {
    throw new FormatError(file, `payload of ${bytes.length - HEAD} bytes, the header says ${length} (truncated?)`);
  }
  const payload = bytes.subarray(HEAD);
  const actual = crc32(payload);
  if (actual !== crc) throw new FormatError(file, `CRC-32 ${actual} does not match the recorded ${crc} (damaged file)`);
  const st = decodeSafetensors(payload, file);
  let meta: unknown;
  try {
    meta = JSON.parse(st.metadata.get(META_KEY) ?? '');
  } catch {
    throw new FormatError(file, `metadata '${META_KEY}' is missing or not JSON`);
  }
  if (!isPlainObject(meta) || meta.format !== 'wasmgrad-checkpoint' || meta.version !== 1) {
    throw new FormatError(file, `expected { format: 'wasmgrad-checkpoint', version: 1 } metadata`);
  }
  if (!Array.isArray(meta.weights) || !meta.weights.every((n) => typeof n === 'string')) {
    throw new FormatError(file, 'metadata weights must be a list of names');
  }
  const tensorAt = (name: string) => {
    const t = st.tensors.get(name);
    if (!t) throw new FormatError(file, `tensor '${name}' is missing`);
    return t;
  };
  const weights = (meta.weights as string[]).map((name) => {
    const t = tensorAt(`weights/${name}`);
    return { name, shape: t.shape, data: t.data };
  });
  const ckpt: Checkpoint = { weights };
  let expected = weights.length;
  const o = meta.optimizer;
  if (o !== null) {
    if (
      !isPlainObject(o) ||
      typeof o.className !== 'string' ||
      !isPlainObject(o.config) ||
      !isCount(o.iterations) ||
      !isCount(o.slots)
    ) {
      throw new FormatError(file, 'metadata optimizer must be { className, config, iterations, slots }');
    }
    const slots: Float32Array[] = [];
    for (let i = 0; i < o.slots; i++) {
      const t = tensorAt(`optimizer/${i}`);
      if (t.shape.length !== 1) throw new FormatError(file, `optimizer/${i} must be 1-D, got ${fmtShape(t.shape)}`);
      slots.push(t.data);
    }
    expected += o.slots;
    ckpt.optimizer = {
      className: o.className,
      config: o.config,
      state: { className: o.className, iterations: o.iterations, slots },
    };
  }
  if (st.tensors.size !== expected) throw new FormatError(file, `${st.tensors.size - expected} unexpected tensors`);
  const cursor = checkCursor(file, meta.cursor ?? null);
  if (cursor) ckpt.cursor = cursor;
  const logs = checkLogs(file, meta.logs ?? null);
  if (logs) ckpt.logs = logs;
  return ckpt;
}

/** Reads and validates the latest checkpoint in a file (or store); undefined when there is none. */
export async function loadCheckpoint(source: string | CheckpointStore): Promise<Checkpoint | undefined> {
  const found = await checkpointStore(source, 'loadCheckpoint').read();
  return found ? decodeCheckpoint(found.bytes, found.file) : undefined;
}

/** Encodes a checkpoint and writes it to a file (or store) atomically, keeping the previous generation. */
export async function saveCheckpoint(target: string | CheckpointStore, ckpt: Checkpoint): Promise<void> {
  await checkpointStore(target, 'saveCheckpoint').write(encodeCheckpoint(ckpt));
}

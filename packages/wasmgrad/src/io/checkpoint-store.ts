/**
 * Where checkpoints are kept: in memory, or in a file (Node/Deno) with its previous generation.
 *
 * Stores write a new generation atomically and keep the previous one: the file goes to a temporary
 * name (flushed), the current file is renamed to `<path>.prev`, the temporary file is renamed to
 * `<path>`, and the directory is flushed. A crash at any point leaves either the new file or the
 * previous generation in place (reading falls back to `<path>.prev` when `<path>` is missing).
 */
import { ValueError } from '../errors.js';
import { type FileOps, nodeFileOps } from './files.js';
import { idbList, idbLoad, idbRemove, idbSave } from './indexeddb.js';

/** Somewhere to keep the latest checkpoint and the generation before it. */
export interface CheckpointStore {
  /** Names the store in messages (the file path, or 'memory'). */
  readonly name: string;
  /** Writes a new generation atomically; the previous one is kept until the next write succeeds. */
  write(bytes: Uint8Array): Promise<void>;
  /** The latest complete generation and where it came from, or undefined when there is none. */
  read(): Promise<{ bytes: Uint8Array; file: string } | undefined>;
  /** Deletes every generation. */
  remove(): Promise<void>;
}

/** A store in memory (tests, browsers without storage); `current`/`previous` are inspectable. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly name = 'memory';
  current: Uint8Array | undefined;
  previous: Uint8Array | undefined;
  async write(bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice();
    this.previous = this.current;
    this.current = copy;
  }
  async read() {
    if (this.current) return { bytes: this.current, file: 'memory' };
    if (this.previous) return { bytes: this.previous, file: 'memory (previous)' };
    return undefined;
  }
  async remove(): Promise<void> {
    this.current = undefined;
    this.previous = undefined;
  }
}

/**
 * The file operations a file store uses: those of atomic model saves (files.ts) plus reading;
 * replaceable in tests to inject crashes.
 */
export interface CheckpointFileOps extends FileOps {
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  exists(path: string): Promise<boolean>;
}

interface NodeReadFs {
  readFile(p: string): Promise<Uint8Array>;
  stat(p: string): Promise<unknown>;
}

const notFound = (err: unknown) => (err as { code?: string })?.code === 'ENOENT';

/** File operations through `node:fs/promises` (Node, and Deno's Node compatibility). */
export async function nodeCheckpointFileOps(): Promise<CheckpointFileOps> {
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as NodeReadFs;
  return {
    ...(await nodeFileOps()),
    read: async (path) => {
      try {
        const b = await fs.readFile(path);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    exists: async (path) =>
      fs.stat(path).then(
        () => true,
        (err) => {
          if (notFound(err)) return false;
          throw err;
        },
      ),
  };
}

/** A checkpoint file at `path` (Node/Deno), with the previous generation at `<path>.prev`. */
export class FileCheckpointStore implements CheckpointStore {
  readonly previousPath: string;
  private readonly dir: string;
  private readonly base: string;
  constructor(
    readonly name: string,
    private readonly opsOverride?: CheckpointFileOps,
  ) {
    if (typeof name !== 'string' || name === '' || name.endsWith('/')) {
      throw new ValueError('checkpoint', `path must name a file, got ${JSON.stringify(name)}`);
    }
    this.previousPath = `${name}.prev`;
    const slash = name.lastIndexOf('/');
    this.dir = slash < 0 ? '.' : slash === 0 ? '/' : name.slice(0, slash);
    this.base = name.slice(slash + 1);
  }

  private ops(): Promise<CheckpointFileOps> {
    return this.opsOverride ? Promise.resolve(this.opsOverride) : nodeCheckpointFileOps();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const fs = await this.ops();
    const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const temp = `${this.dir}/.${this.base}.${tag}.tmp`;
    try {
      await fs.mkdir(this.dir);
      await fs.write(temp, bytes);
      if (await fs.exists(this.name)) await fs.rename(this.name, this.previousPath);
      await fs.rename(temp, this.name);
      await fs.syncDir(this.dir);
    } catch (err) {
      await fs.remove(temp).catch(() => undefined);
      throw new ValueError(`checkpoint ${this.name}`, `could not write: ${(err as Error).message}`);
    }
  }

  async read() {
    const fs = await this.ops();
    const current = await fs.read(this.name);
    if (current) return { bytes: current, file: this.name };
    // Only a crash between the two renames of a write leaves the previous generation alone.
    const previous = await fs.read(this.previousPath);
    return previous ? { bytes: previous, file: this.previousPath } : undefined;
  }

  async remove(): Promise<void> {
    const fs = await this.ops();
    await fs.remove(this.name);
    await fs.remove(this.previousPath);
    await fs.syncDir(this.dir);
  }
}

/** The IndexedDB functions a browser store uses (io/indexeddb.ts; replaceable in tests). */
export interface IndexedDbApi {
  save(name: string, bytes: Uint8Array, store: string): Promise<unknown>;
  load(name: string, generation: 'current' | 'previous', store: string): Promise<{ bytes: Uint8Array }>;
  list(store: string): Promise<{ name: string; previous?: unknown }[]>;
  remove(name: string, store: string): Promise<void>;
}

const IDB_CHECKPOINT_STORE = 'checkpoints';
const idbApi: IndexedDbApi = { save: idbSave, load: idbLoad, list: idbList, remove: idbRemove };

/**
 * A checkpoint under `name` in IndexedDB (browsers and their workers; `indexeddb://name`): each
 * write replaces the current generation and keeps the old one as the previous, in one transaction.
 */
export class IndexedDbCheckpointStore implements CheckpointStore {
  readonly name: string;
  constructor(
    readonly key: string,
    private readonly api: IndexedDbApi = idbApi,
  ) {
    if (typeof key !== 'string' || key === '')
      throw new ValueError('checkpoint', 'an IndexedDB name must be non-empty');
    this.name = `indexeddb://${key}`;
  }
  async write(bytes: Uint8Array): Promise<void> {
    await this.api.save(this.key, bytes, IDB_CHECKPOINT_STORE);
  }
  async read() {
    const found = (await this.api.list(IDB_CHECKPOINT_STORE)).find((r) => r.name === this.key);
    if (!found) return undefined;
    return { bytes: (await this.api.load(this.key, 'current', IDB_CHECKPOINT_STORE)).bytes, file: this.name };
  }
  async remove(): Promise<void> {
    const found = (await this.api.list(IDB_CHECKPOINT_STORE)).some((r) => r.name === this.key);
    if (found) await this.api.remove(this.key, IDB_CHECKPOINT_STORE);
  }
}

const IDB_PREFIX = 'indexeddb://';

/** A store from a file path or `indexeddb://name`, or the store itself. */
export function checkpointStore(target: string | CheckpointStore, op = 'checkpoint'): CheckpointStore {
  if (typeof target === 'string' && target.startsWith(IDB_PREFIX)) {
    return new IndexedDbCheckpointStore(target.slice(IDB_PREFIX.length));
  }
  if (typeof target === 'string') return new FileCheckpointStore(target);
  if (target && typeof target === 'object' && typeof (target as CheckpointStore).write === 'function') return target;
  throw new ValueError(op, `expected a file path or a checkpoint store, got ${JSON.stringify(target)}`);
}

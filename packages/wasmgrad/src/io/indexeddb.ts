/**
 * IndexedDB storage for `indexeddb://name` (browsers, and Web Workers). One record per name holds
 * the current generation and the previous one; a save replaces both in ONE read-write transaction
 * with strict durability, so a crash or a closed tab mid-save leaves the old record intact (IndexedDB
 * transactions are all-or-nothing) and the generation before it one step away.
 *
 * The functions here store opaque bytes and are reused by checkpoints (any store name).
 */
import { ValueError } from '../errors.js';

/** The database wasmgrad uses, and its object store for models. */
export const IDB_DATABASE = 'wasmgrad';
export const IDB_MODEL_STORE = 'models';
/** Every object store the database has (created together on first open). */
const STORES = [IDB_MODEL_STORE, 'checkpoints'];
const DB_VERSION = 1;

/** One saved generation. */
export interface StoredGeneration {
  /** 1 for the first save under a name, then counting up. */
  generation: number;
  /** ISO 8601 time of the save. */
  savedAt: string;
  bytes: Uint8Array;
}

/** What a store keeps per name. */
export interface StoredRecord {
  name: string;
  current: StoredGeneration;
  previous?: StoredGeneration;
}

/** A stored name and its generations, without the bytes. */
export interface StoredInfo {
  name: string;
  generation: number;
  savedAt: string;
  bytes: number;
  previous?: { generation: number; savedAt: string; bytes: number };
}

/** The IDBFactory of this context, or a ValueError saying that there is none (Node, Deno). */
function factory(op: string): IDBFactory {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) {
    throw new ValueError(
      op,
      'IndexedDB is not available in this runtime (it exists in browser pages and workers); in Node or Deno save to a directory path',
    );
  }
  return idb;
}

const promised = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/** Opens (creating on first use) the wasmgrad database. */
async function openDatabase(op: string): Promise<IDBDatabase> {
  const req = factory(op).open(IDB_DATABASE, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    for (const s of STORES) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s, { keyPath: 'name' });
  };
  try {
    return await new Promise<IDBDatabase>((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('the database is blocked by another open connection'));
    });
  } catch (err) {
    throw new ValueError(op, `could not open IndexedDB database '${IDB_DATABASE}': ${(err as Error)?.message}`);
  }
}

/** Runs `body` in one transaction over `store` and resolves with its result once the transaction commits. */
async function inTransaction<T>(
  op: string,
  store: string,
  mode: IDBTransactionMode,
  body: (s: IDBObjectStore) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(op);
  try {
    const tx = db.transaction(store, mode, { durability: 'strict' });
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      tx.onerror = () => reject(tx.error ?? new Error('transaction failed'));
    });
    let result: T;
    try {
      result = await body(tx.objectStore(store));
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // already finished
      }
      await done.catch(() => undefined);
      throw err;
    }
    await done;
    return result;
  } catch (err) {
    if (err instanceof ValueError) throw err;
    throw new ValueError(op, `IndexedDB ${mode} of '${store}' failed: ${(err as Error)?.message ?? err}`);
  } finally {
    db.close();
  }
}

function checkName(op: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ValueError(op, `a non-empty name is needed, got '${name}'`);
  return name;
}

/**
 * Stores `bytes` as the new current generation of `name`, keeping the old current one as the
 * previous generation, in one transaction. Resolves after the transaction committed.
 */
export async function idbSave(name: string, bytes: Uint8Array, store = IDB_MODEL_STORE): Promise<StoredInfo> {
  const op = `save indexeddb://${name}`;
  checkName(op, name);
  // A view into a larger buffer would store the whole buffer: copy to an exact-size one.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  const record = await inTransaction(op, store, 'readwrite', async (s) => {
    const old = (await promised(s.get(name))) as StoredRecord | undefined;
    const next: StoredRecord = {
      name,
      current: { generation: (old?.current.generation ?? 0) + 1, savedAt: new Date().toISOString(), bytes: own },
      ...(old ? { previous: old.current } : {}),
    };
    await promised(s.put(next));
    return next;
  });
  return info(record);
}

/** The bytes of `name`'s current (or previous) generation; a ValueError when there is none. */
export async function idbLoad(
  name: string,
  generation: 'current' | 'previous' = 'current',
  store = IDB_MODEL_STORE,
): Promise<StoredGeneration> {
  const op = `load indexeddb://${name}`;
  checkName(op, name);
  const record = await inTransaction(
    op,
    store,
    'readonly',
    async (s) => (await promised(s.get(name))) as StoredRecord | undefined,
  );
  const found = generation === 'previous' ? record?.previous : record?.current;
  if (!found) {
    throw new ValueError(op, record ? `'${name}' has no previous generation` : `nothing is stored under '${name}'`);
  }
  if (!(found.bytes instanceof Uint8Array)) throw new ValueError(op, `the record of '${name}' holds no bytes`);
  return found;
}

function info(r: StoredRecord): StoredInfo {
  return {
    name: r.name,
    generation: r.current.generation,
    savedAt: r.current.savedAt,
    bytes: r.current.bytes.byteLength,
    ...(r.previous
      ? {
          previous: {
            generation: r.previous.generation,
            savedAt: r.previous.savedAt,
            bytes: r.previous.bytes.byteLength,
          },
        }
      : {}),
  };
}

/** Every stored name with its generations (tfjs `tf.io.listModels`). */
export async function idbList(store = IDB_MODEL_STORE): Promise<StoredInfo[]> {
  const records = await inTransaction(
    'list indexeddb://',
    store,
    'readonly',
    async (s) => (await promised(s.getAll())) as StoredRecord[],
  );
  return records.map(info);
}

/** Deletes `name` with both generations (tfjs `tf.io.removeModel`); a ValueError when absent. */
export async function idbRemove(name: string, store = IDB_MODEL_STORE): Promise<void> {
  const op = `remove indexeddb://${name}`;
  checkName(op, name);
  await inTransaction(op, store, 'readwrite', async (s) => {
    const n = await promised(s.count(name));
    if (n === 0) throw new ValueError(op, `nothing is stored under '${name}'`);
    await promised(s.delete(name));
  });
}

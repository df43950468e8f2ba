/**
 * Atomic directory saves in Node and Deno: each artifact goes to a temporary file (flushed), then is
 * renamed over the old one, and the directory entry is flushed.
 */
import { ValueError } from '../errors.js';
import { MODEL_FILE, type ModelArtifacts, WEIGHTS_FILE } from './artifacts.js';

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

export const joinPath = (dir: string, file: string) => `${dir.replace(/\/+$/, '')}/${file}`;

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
 * Writes one file atomically: a flushed temporary file in the same directory, renamed over `path`,
 * then the directory flushed. A failure leaves the previous file untouched and no temporary file.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, ops?: FileOps): Promise<void> {
  const fs = ops ?? (await nodeFileOps());
  const cut = path.lastIndexOf('/');
  const dir = cut < 0 ? '.' : cut === 0 ? '/' : path.slice(0, cut);
  const base = path.slice(cut + 1);
  const temp = joinPath(dir, `.${base}.${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    await fs.mkdir(dir);
    await fs.write(temp, bytes);
    await fs.rename(temp, path);
    await fs.syncDir(dir);
  } catch (err) {
    await fs.remove(temp).catch(() => undefined);
    throw new ValueError(`saveModel ${path}`, `could not save: ${(err as Error).message}`);
  }
}

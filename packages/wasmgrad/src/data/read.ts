import { ValueError } from '../errors.js';
import { isNode } from '../runtime/platform.js';

interface DenoLike {
  readFile(path: string | URL): Promise<Uint8Array>;
}

/**
 * Reads the bytes of a file path (Node, Deno) or URL (every runtime; file: URLs in Node and Deno).
 * Errors name the source.
 */
export async function readBytes(source: string | URL): Promise<Uint8Array> {
  const name = String(source);
  try {
    const deno = (globalThis as { Deno?: DenoLike }).Deno;
    const isUrl = source instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(name);
    if (!isUrl || name.startsWith('file:')) {
      if (deno) return await deno.readFile(source);
      if (isNode()) {
        const fsName = 'node:fs/promises';
        const fs = (await import(/* @vite-ignore */ fsName)) as { readFile(p: string | URL): Promise<Uint8Array> };
        return new Uint8Array(await fs.readFile(isUrl ? new URL(name) : name));
      }
    }
    const response = await fetch(source);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    throw new ValueError(`read ${name}`, `could not read: ${(err as Error).message}`);
  }
}

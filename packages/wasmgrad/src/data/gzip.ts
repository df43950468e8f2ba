import { ValueError } from '../errors.js';

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip data with the platform's DecompressionStream (browsers, Deno and Node ≥ 18),
 * stopping as soon as the output passes `maxBytes`, so a gzip bomb costs bounded memory.
 */
export async function gunzip(bytes: Uint8Array, maxBytes: number, what: string): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new ValueError(what, `gzip data inflates past the ${maxBytes}-byte cap`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ValueError) throw err;
    throw new ValueError(what, `corrupt gzip data: ${(err as Error).message}`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

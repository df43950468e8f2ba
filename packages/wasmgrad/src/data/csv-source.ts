/**
 * Where CSV text comes from, read in chunks so that files and HTTP bodies larger than memory
 * stream through: a file path or file: URL (Node, Deno), an http(s) URL (fetched), a Response,
 * a Blob, a ReadableStream of bytes, bytes, or text (`{ text }`, or a string holding a line break).
 * Byte sources starting with the gzip magic number are inflated on the fly.
 */
import { FormatError, ValueError } from '../errors.js';
import { isNode } from '../runtime/platform.js';
import { isGzip } from './gzip.js';

/** What `wg.data.csv` reads. A string without a line break is a path or URL; with one, CSV text. */
export type CsvSource =
  | string
  | URL
  | Response
  | Blob
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | { text: string };

/** A source opened for reading: `open()` starts a pass; one-shot sources (Response, stream) allow one. */
export interface TextSource {
  name: string;
  /** False for a Response or ReadableStream: their body can be read once. */
  reusable: boolean;
  open(): AsyncIterable<string>;
}

/** Default read size: 64 KiB. */
export const CSV_CHUNK_BYTES = 1 << 16;

interface DenoFile {
  readable: ReadableStream<Uint8Array>;
}
interface DenoLike {
  open(path: string | URL): Promise<DenoFile>;
}

/** Wraps a source; nothing is read until `open()`. */
export function textSource(source: CsvSource, chunkBytes = CSV_CHUNK_BYTES, name?: string): TextSource {
  if (typeof source === 'string' && /[\r\n]/.test(source)) return textOf(source, name ?? 'text');
  if (source && typeof source === 'object' && 'text' in source && typeof source.text === 'string') {
    return textOf(source.text, name ?? 'text');
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    const label = name ?? 'bytes';
    return {
      name: label,
      reusable: true,
      open: () => decode(chunksOf(bytes, chunkBytes), label),
    };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const label = name ?? 'blob';
    return { name: label, reusable: true, open: () => decode(streamChunks(source.stream(), label), label) };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return oneShot(name ?? (source.url || 'response'), () => {
      if (!source.body) throw new ValueError(`csv:${name ?? 'response'}`, 'the Response has no body');
      return source.body;
    });
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    return oneShot(name ?? 'stream', () => source);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const label = name ?? String(source);
    return { name: label, reusable: true, open: () => decode(fileOrUrlChunks(source, chunkBytes, label), label) };
  }
  throw new ValueError(
    'csv',
    `cannot read a ${Object.prototype.toString.call(source)}: pass a path, URL, Response, Blob, bytes, stream or { text }`,
  );
}

function textOf(text: string, name: string): TextSource {
  return {
    name,
    reusable: true,
    async *open() {
      // Slices keep chunk sizes like a file's, so the tokenizer's cap applies the same way.
      for (let i = 0; i < text.length; i += CSV_CHUNK_BYTES) yield text.slice(i, i + CSV_CHUNK_BYTES);
    },
  };
}

function oneShot(name: string, body: () => ReadableStream<Uint8Array>): TextSource {
  let used = false;
  return {
    name,
    reusable: false,
    open() {
      if (used) {
        throw new ValueError(
          `csv:${name}`,
          'a Response or stream body can be read only once: pass a URL or path to read it again',
        );
      }
      used = true;
      return decode(streamChunks(body(), name), name);
    },
  };
}

function* chunksOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function* streamChunks(stream: ReadableStream<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        throw new ValueError(`read ${name}`, `could not read: ${(err as Error).message}`);
      }
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function* fileOrUrlChunks(source: string | URL, chunkBytes: number, name: string): AsyncGenerator<Uint8Array> {
  const text = String(source);
  const isUrl = source instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  if (!isUrl || text.startsWith('file:')) {
    const deno = (globalThis as { Deno?: DenoLike }).Deno;
    if (deno) {
      let file: DenoFile;
      try {
        file = await deno.open(isUrl ? new URL(text) : text);
      } catch (err) {
        throw new ValueError(`read ${name}`, `could not open: ${(err as Error).message}`);
      }
      yield* streamChunks(file.readable, name);
      return;
    }
    if (isNode()) {
      yield* nodeFileChunks(isUrl ? new URL(text) : text, chunkBytes, name);
      return;
    }
  }
  let response: Response;
  try {
    response = await fetch(source);
  } catch (err) {
    throw new ValueError(`read ${name}`, `could not fetch: ${(err as Error).message}`);
  }
  if (!response.ok || !response.body) throw new ValueError(`read ${name}`, `HTTP ${response.status}`);
  yield* streamChunks(response.body, name);
}

interface NodeFileHandle {
  read(buf: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

async function* nodeFileChunks(path: string | URL, chunkBytes: number, name: string): AsyncGenerator<Uint8Array> {
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as {
    open(p: string | URL, flags: string): Promise<NodeFileHandle>;
  };
  let fh: NodeFileHandle;
  try {
    fh = await fs.open(path, 'r');
  } catch (err) {
    throw new ValueError(`read ${name}`, `could not open: ${(err as Error).message}`);
  }
  try {
    for (;;) {
      // A fresh buffer per chunk: the decoder may still hold a view of the previous one.
      const buf = new Uint8Array(chunkBytes);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, chunkBytes, null));
      } catch (err) {
        throw new ValueError(`read ${name}`, `could not read: ${(err as Error).message}`);
      }
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The bytes as they are, or inflated when they start with the gzip magic number: streamed through
 * the platform's DecompressionStream in step with the consumer, so a large (or bomb) .csv.gz costs
 * bounded memory. Corrupt gzip data is a FormatError naming the source.
 */
async function* gunzipIfGzip(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  name: string,
): AsyncGenerator<Uint8Array> {
  const it = (Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]()) as
    | AsyncIterator<Uint8Array>
    | Iterator<Uint8Array>;
  let head: Uint8Array = new Uint8Array(0);
  let done = false;
  try {
    while (head.length < 2 && !done) {
      const r = await it.next();
      if (r.done) done = true;
      else head = head.length === 0 ? r.value : concat(head, r.value);
    }
    if (!isGzip(head)) {
      if (head.length > 0) yield head;
      while (!done) {
        const r = await it.next();
        if (r.done) done = true;
        else yield r.value;
      }
      return;
    }
    const inflate = new DecompressionStream('gzip');
    const writer = inflate.writable.getWriter();
    // Feeds the compressed chunks as the decompressor asks for them (write() waits on backpressure).
    const pump = (async () => {
      try {
        await writer.write(head as Uint8Array<ArrayBuffer>);
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          await writer.write(r.value as Uint8Array<ArrayBuffer>);
        }
        done = true;
        await writer.close();
      } catch {
        // The reader side reports corrupt data; a cancelled read needs nothing more.
      }
    })();
    const reader = inflate.readable.getReader();
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          throw new FormatError(`csv:${name}`, `corrupt gzip data: ${(err as Error).message}`);
        }
        if (r.done) break;
        yield r.value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
      await pump;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** UTF-8 decoding in streaming mode (after gzip inflation); invalid bytes are a FormatError naming the source. */
async function* decode(raw: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, name: string): AsyncGenerator<string> {
  const chunks = gunzipIfGzip(raw, name);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  const run = (bytes?: Uint8Array): string => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      throw new FormatError(`csv:${name}`, `invalid UTF-8 near byte ${offset}`);
    }
  };
  for await (const bytes of chunks) {
    const text = run(bytes);
    offset += bytes.length;
    if (text.length > 0) yield text;
  }
  const tail = run();
  if (tail.length > 0) yield tail;
}

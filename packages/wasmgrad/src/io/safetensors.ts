/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, ...,
 * "__metadata__": { key: "string" } }` (padded with spaces), then the tensor bytes, packed back to
 * back. The reader validates the whole header against the file size before allocating any tensor:
 * every inconsistency is a {@link FormatError} naming the file and the offending value.
 */
import { FormatError, fmtShape } from '../errors.js';

/** One tensor to write: float32 values in row-major order. */
export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** A decoded file: tensors in data-offset order, and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>;
  metadata: Map<string, string>;
}

/** Headers above this size are refused (as the reference implementation does): 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Nesting depth accepted by the header parser (the format needs 3). */
const MAX_DEPTH = 8;
/** Byte sizes of the dtypes the format defines; only F32 is read here. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encodes float32 tensors (and optional string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const op = 'safetensors:write';
  const header: Record<string, unknown> = Object.create(null);
  const metaEntries = Object.entries(metadata);
  if (metaEntries.length > 0) header.__metadata__ = Object.fromEntries(metaEntries);
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (typeof t.name !== 'string' || t.name === '' || t.name === '__metadata__' || seen.has(t.name)) {
      throw new FormatError(op, `invalid or duplicate tensor name '${t.name}'`);
    }
    seen.add(t.name);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || size !== t.data.length) {
      throw new FormatError(op, `tensor '${t.name}' has shape ${fmtShape(t.shape)} but ${t.data.length} values`);
    }
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  for (const [k, v] of metaEntries) {
    if (typeof v !== 'string') throw new FormatError(op, `metadata '${k}' must be a string, got ${typeof v}`);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors) {
    if (littleEndian) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i] as number, true);
    at += t.data.byteLength;
  }
  return out;
}

/** A JSON value from the header parser: objects are null-prototype Maps (no prototype keys). */
type JsonValue = null | boolean | number | string | JsonValue[] | Map<string, JsonValue>;

/**
 * A strict JSON parser for the header: objects become Maps so that `__proto__`/`constructor` keys
 * are plain data, duplicate keys (which JSON.parse silently collapses) are errors, and nesting is
 * bounded (no stack overflow on `[[[[…`).
 */
function parseHeaderJson(text: string, file: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new FormatError(file, `header is not valid JSON: ${what} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const parseString = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('control character in string');
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad escape in string');
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, JsonValue>();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = parseString();
        if (obj.has(key)) throw new FormatError(file, `duplicate key '${key}' in header`);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj.set(key, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    number.lastIndex = i;
    const m = number.exec(text);
    if (!m) return fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
    i += m[0].length;
    return Number(m[0]);
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

const describe = (v: JsonValue | undefined): string =>
  v instanceof Map ? 'an object' : Array.isArray(v) ? `[${v.map((x) => describe(x)).join(',')}]` : JSON.stringify(v);

/**
 * Decodes safetensors bytes. Everything is validated (header size, UTF-8, JSON, names, dtypes,
 * shapes, offsets tiling the data exactly) before any tensor is allocated. `file` names the source
 * in errors.
 */
export function decodeSafetensors(bytes: Uint8Array, file = 'safetensors'): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(file, `expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < 8)
    throw new FormatError(file, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new FormatError(file, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLength > bytes.length - 8) {
    throw new FormatError(file, `header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new FormatError(file, 'header is not valid UTF-8');
  }
  const header = parseHeaderJson(text, file);
  if (!(header instanceof Map)) throw new FormatError(file, `header must be a JSON object, got ${describe(header)}`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const metadata = new Map<string, string>();
  const meta = header.get('__metadata__');
  if (meta !== undefined) {
    if (!(meta instanceof Map)) throw new FormatError(file, `__metadata__ must be an object, got ${describe(meta)}`);
    for (const [k, v] of meta) {
      if (typeof v !== 'string')
        throw new FormatError(file, `__metadata__ value '${k}' must be a string, got ${describe(v)}`);
      metadata.set(k, v);
    }
  }

  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of header) {
    if (name === '__metadata__') continue;
    if (!(info instanceof Map))
      throw new FormatError(file, `tensor '${name}' must be an object, got ${describe(info)}`);
    for (const key of info.keys()) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') {
        throw new FormatError(file, `tensor '${name}' has unknown field '${key}'`);
      }
    }
    const dtype = info.get('dtype');
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      throw new FormatError(file, `tensor '${name}' has unknown dtype ${describe(dtype)}`);
    }
    if (dtype !== 'F32') throw new FormatError(file, `tensor '${name}' has dtype '${dtype}'; only F32 is supported`);
    const shape = info.get('shape');
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      throw new FormatError(file, `tensor '${name}' has invalid shape ${describe(shape)}`);
    }
    // Element count without overflow: any count that needs more bytes than the file has is refused.
    const maxElements = Math.floor(dataLength / 4);
    let elements = shape.includes(0) ? 0 : 1;
    for (const d of shape as number[]) {
      if (elements === 0) break;
      if (d > maxElements / elements) {
        throw new FormatError(
          file,
          `tensor '${name}' shape ${describe(shape)} needs more than the ${dataLength} data bytes`,
        );
      }
      elements *= d;
    }
    const offsets = info.get('data_offsets');
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new FormatError(file, `tensor '${name}' has invalid data_offsets ${describe(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      throw new FormatError(
        file,
        `tensor '${name}' data_offsets [${begin},${end}] out of bounds (data is ${dataLength} bytes)`,
      );
    }
    if (end - begin !== elements * 4) {
      throw new FormatError(
        file,
        `tensor '${name}' shape ${describe(shape)} × 4 bytes = ${elements * 4} ≠ byte span ${end - begin}`,
      );
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data exactly: no gaps, no overlaps, no trailing bytes.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor)
      throw new FormatError(
        file,
        `tensor '${e.name}' at [${e.begin},${e.end}] overlaps the previous tensor (ends at ${cursor})`,
      );
    if (e.begin > cursor)
      throw new FormatError(file, `gap of ${e.begin - cursor} bytes before tensor '${e.name}' at ${e.begin}`);
    cursor = e.end;
  }
  if (cursor !== dataLength) throw new FormatError(file, `${dataLength - cursor} trailing bytes after the last tensor`);

  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const e of entries) {
    const data = new Float32Array((e.end - e.begin) / 4);
    const at = dataStart + e.begin;
    if (littleEndian) new Uint8Array(data.buffer).set(bytes.subarray(at, dataStart + e.end));
    else for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(at + 4 * i, true);
    tensors.set(e.name, { dtype: 'F32', shape: e.shape, data });
  }
  return { tensors, metadata };
}

import { ValueError } from '../errors.js';
import { gunzip, isGzip } from './gzip.js';

/** The element types an IDX file can hold, by their type byte. */
const IDX_TYPES = {
  8: { name: 'uint8', size: 1 },
  9: { name: 'int8', size: 1 },
  11: { name: 'int16', size: 2 },
  12: { name: 'int32', size: 4 },
  13: { name: 'float32', size: 4 },
  14: { name: 'float64', size: 8 },
} as const;

export type IdxDtype = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['name'];

/** A parsed IDX array: its shape, element type and values (widened to a JS typed array). */
export interface IdxArray {
  shape: number[];
  dtype: IdxDtype;
  values: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Largest decoded IDX body accepted by default (1 GiB). */
export const IDX_MAX_BYTES = 1 << 30;

/**
 * Parses an IDX file (the MNIST format: magic 00 00 <type> <rank>, big-endian u32 dimensions, then
 * big-endian values), gzip-compressed or not. Everything is validated before the values are
 * allocated: magic, type, a dimension product that fits, and a body length equal to the header's.
 * `what` names the file in errors.
 */
export async function parseIdx(data: Uint8Array, what = 'idx', maxBytes = IDX_MAX_BYTES): Promise<IdxArray> {
  const bytes = isGzip(data) ? await gunzip(data, maxBytes + 4 + 4 * 255, what) : data;
  if (bytes.length < 4) throw new ValueError(what, `file of ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new ValueError(what, `bad IDX magic ${hex(bytes[0])} ${hex(bytes[1])} (expected 00 00)`);
  }
  const typeByte = bytes[2] as number;
  const type = IDX_TYPES[typeByte as keyof typeof IDX_TYPES];
  if (!type) throw new ValueError(what, `unknown IDX element type ${hex(typeByte)}`);
  const rank = bytes[3] as number;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new ValueError(what, `header declares ${rank} dimensions but the file has only ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const bodyBytes = count * type.size;
  if (!Number.isSafeInteger(bodyBytes) || bodyBytes > maxBytes) {
    throw new ValueError(
      what,
      `dimensions [${shape.join(',')}] need ${bodyBytes} bytes, over the ${maxBytes}-byte limit`,
    );
  }
  if (bytes.length - headerBytes !== bodyBytes) {
    throw new ValueError(
      what,
      `body has ${bytes.length - headerBytes} bytes but dimensions [${shape.join(',')}] of ${type.name} need ${bodyBytes}`,
    );
  }
  return { shape, dtype: type.name, values: decode(view, headerBytes, count, type.name) };
}

function decode(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxArray['values'] {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + offset, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

const hex = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, '0');
